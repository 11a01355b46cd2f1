//! REFI-QDA import: a .qdpx previewed, then confirmed into a new project with
//! every coder's submitted layer; bad archives refused with nothing stored;
//! every sample; a .qdc into a project's codebook; export → import exact.

use std::io::Write;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::{TestApp, TestUser, html, location, select_texts};

fn samples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/refi/samples")
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

const ANA: &str = "11111111-1111-4111-8111-111111111111";
const BEN: &str = "22222222-2222-4222-8222-222222222222";
const WORK: &str = "33333333-3333-4333-8333-333333333333";
const PAPERWORK: &str = "44444444-4444-4444-8444-444444444444";
const SLEEP: &str = "55555555-5555-4555-8555-555555555555";
const SOURCE: &str = "66666666-6666-4666-8666-666666666666";
const CASE: &str = "77777777-7777-4777-8777-777777777777";
const ROLE: &str = "88888888-8888-4888-8888-888888888888";
const YEARS: &str = "99999999-9999-4999-8999-999999999999";

/// The interview as the file has it: a BOM, CRLF line breaks, an emoji and
/// a decomposed accent (e + U+0301), so every convention and NFC matter.
const RAW: &str = "\u{FEFF}I: How is the ward? 😩\r\nP01: Busy. The paperwork never ends.\r\nI: And at night?\r\nP01: Cafe\u{301}, then I sleep well.";
/// The same text in canonical form.
const CANONICAL: &str = "I: How is the ward? 😩\nP01: Busy. The paperwork never ends.\nI: And at night?\nP01: Café, then I sleep well.";

/// (user, code, needle, coding number)
const CODINGS: [(&str, &str, &str); 4] = [
    (ANA, PAPERWORK, "paperwork never ends."),
    (BEN, PAPERWORK, "The paperwork never ends."),
    (ANA, SLEEP, "I sleep well."),
    (BEN, SLEEP, ", then I sleep well."),
];

/// Offsets of `needle` in RAW (without its BOM) under a convention.
fn offsets(needle: &str, utf16: bool, crlf_as_one: bool) -> (usize, usize) {
    let text = RAW.trim_start_matches('\u{FEFF}');
    let at = text.find(needle).unwrap();
    let count = |s: &str| {
        let s = if crlf_as_one {
            s.replace("\r\n", "\n")
        } else {
            s.to_owned()
        };
        if utf16 {
            s.encode_utf16().count()
        } else {
            s.chars().count()
        }
    };
    let start = count(&text[..at]);
    (start, start + count(needle))
}

/// A project in one tool's conventions: two coders, nested codes, a case
/// with two variables, and a coding memo.
fn project_qde(origin: &str, utf16: bool, crlf_as_one: bool) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Project xmlns=\"urn:QDA-XML:project:1.0\" name=\"Night shifts\" origin=\"{origin}\">\n\
         <Users><User guid=\"{ANA}\" name=\"Ana\"/><User guid=\"{BEN}\" name=\"Ben\"/></Users>\n\
         <CodeBook><Codes><Code guid=\"{WORK}\" name=\"Work\" isCodable=\"false\" color=\"#A00\">\
         <Description>Work life\n\nInclusion: shifts</Description>\
         <Code guid=\"{PAPERWORK}\" name=\"Paperwork\" isCodable=\"true\" color=\"#46AA00\"/></Code>\
         <Code guid=\"{SLEEP}\" name=\"Sleep\" isCodable=\"true\"/></Codes></CodeBook>\n\
         <Variables><Variable guid=\"{ROLE}\" name=\"Role\" typeOfVariable=\"Text\"/>\
         <Variable guid=\"{YEARS}\" name=\"Years\" typeOfVariable=\"Float\"/></Variables>\n\
         <Cases><Case guid=\"{CASE}\" name=\"P01\">\
         <VariableValue><VariableRef targetGUID=\"{ROLE}\"/><TextValue>Nurse</TextValue></VariableValue>\
         <VariableValue><VariableRef targetGUID=\"{YEARS}\"/><FloatValue>12.50</FloatValue></VariableValue>\
         <SourceRef targetGUID=\"{SOURCE}\"/></Case></Cases>\n\
         <Sources><TextSource guid=\"{SOURCE}\" name=\"P01 night\" plainTextPath=\"internal://{SOURCE}.txt\">\n"
    );
    for (n, (user, code, needle)) in CODINGS.iter().enumerate() {
        let (start, end) = offsets(needle, utf16, crlf_as_one);
        let note = if n == 0 {
            "<NoteRef targetGUID=\"aaaaaaaa-0000-4000-8000-0000000000ff\"/>"
        } else {
            ""
        };
        xml += &format!(
            "<PlainTextSelection guid=\"aaaaaaaa-0000-4000-8000-{n:012}\" name=\"{needle}\" startPosition=\"{start}\" endPosition=\"{end}\" creatingUser=\"{user}\">\
             <Coding guid=\"bbbbbbbb-0000-4000-8000-{n:012}\" creatingUser=\"{user}\"><CodeRef targetGUID=\"{code}\"/>{note}</Coding></PlainTextSelection>\n"
        );
    }
    xml += "</TextSource></Sources>\n<Notes><Note guid=\"aaaaaaaa-0000-4000-8000-0000000000ff\" name=\"Memo\"><PlainTextContent>Said twice &lt;sic&gt;</PlainTextContent></Note></Notes>\n</Project>\n";
    xml
}

fn project_qdpx(origin: &str, utf16: bool, crlf_as_one: bool) -> Vec<u8> {
    let qde = project_qde(origin, utf16, crlf_as_one);
    zip_of(&[
        ("project.qde", qde.as_bytes()),
        (&format!("Sources/{SOURCE}.txt"), RAW.as_bytes()),
    ])
}

/// Rows of every table an import writes, to show that a refused file stores nothing.
async fn counts(app: &TestApp) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for table in [
        "projects",
        "users",
        "project_members",
        "transcripts",
        "participants",
        "variables",
        "codes",
        "codings",
        "assignments",
        "refi_import_drafts",
        "audit_events",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("select count(*) from {table}"))
            .fetch_one(&app.pool)
            .await
            .unwrap();
        out.push((table, n));
    }
    out
}

async fn upload(user: &TestUser, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    user.upload("/api/v1/imports/qdpx", "file", &[(name, bytes)], &[])
        .await
}

/// Previews and confirms through the API; answers (preview, imported).
async fn import_via_api(user: &TestUser, name: &str, bytes: Vec<u8>) -> (Value, Value) {
    let response = upload(user, name, bytes).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{name}");
    let preview: Value = response.json().await.unwrap();
    let confirm = preview["confirm"].as_str().unwrap().to_owned();
    let response = user.post_json(&confirm, &json!({})).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
    (preview, body)
}

async fn coded_slices(app: &TestApp, project: &str) -> Vec<(String, String, String, String)> {
    let rows: Vec<(String, String, String, i32, i32, String)> = sqlx::query_as(
        "select u.display_name, c.name, t.text, g.start_offset, g.end_offset, g.memo
           from codings g join users u on u.id = g.coder_id join codes c on c.id = g.code_id
           join transcripts t on t.id = g.transcript_id
          where g.project_id = $1::uuid order by u.display_name, c.name",
    )
    .bind(project)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(user, code, text, start, end, memo)| {
            let slice: String = text
                .chars()
                .skip(start as usize)
                .take((end - start) as usize)
                .collect();
            (user, code, slice, memo)
        })
        .collect()
}

#[tokio::test]
async fn a_qdpx_in_each_tools_conventions_imports_with_every_coders_submitted_layer() {
    let app = TestApp::spawn().await;
    let owner = app.signed_in("owner@example.org", false).await;
    for (origin, utf16, crlf_as_one, convention) in [
        ("NVivo for Windows 12.6", true, false, "utf16_units"),
        ("ATLAS.ti 23.2", false, false, "code_points"),
        ("QualCoder 3.5", false, true, "crlf_as_one"),
    ] {
        let bytes = project_qdpx(origin, utf16, crlf_as_one);
        let (preview, imported) = import_via_api(&owner, "night.qdpx", bytes).await;
        let p = &preview["preview"];
        assert_eq!(p["convention"]["convention"], convention, "{origin}: {p}");
        assert_eq!(p["project_name"], "Night shifts");
        assert_eq!(p["coding_count"], 4);
        let users: Vec<(&str, u64)> = p["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| (u["name"].as_str().unwrap(), u["codings"].as_u64().unwrap()))
            .collect();
        assert_eq!(users, [("Ana", 2), ("Ben", 2)]);
        let paths: Vec<String> = p["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                c["path"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| s.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .collect();
        assert_eq!(paths, ["Work", "Work/Paperwork", "Sleep"]);

        let project = imported["project_id"].as_str().unwrap().to_owned();
        let (text, sha, kind): (String, String, String) = sqlx::query_as(
            "select text, sha256, source_kind from transcripts where project_id = $1::uuid",
        )
        .bind(&project)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        assert_eq!(text, CANONICAL, "{origin}");
        assert_eq!(kind, "qdpx");
        assert_eq!(sha, concord::import::canonicalize(CANONICAL).sha256);
        let slices = coded_slices(&app, &project).await;
        assert_eq!(
            slices,
            [
                (
                    "Ana".into(),
                    "Paperwork".into(),
                    "paperwork never ends.".into(),
                    "Said twice <sic>".into()
                ),
                (
                    "Ana".into(),
                    "Sleep".into(),
                    "I sleep well.".into(),
                    String::new()
                ),
                (
                    "Ben".into(),
                    "Paperwork".into(),
                    "The paperwork never ends.".into(),
                    String::new()
                ),
                (
                    "Ben".into(),
                    "Sleep".into(),
                    ", then I sleep well.".into(),
                    String::new()
                ),
            ],
            "{origin}"
        );
        // Shared codebook, nesting kept, colours as #rrggbb, criteria split back.
        let codes: Vec<(String, Option<String>, String, String, String)> = sqlx::query_as(
            "select c.name, p.name, c.color, c.definition, c.inclusion from codes c
               left join codes p on p.id = c.parent_id
              where c.project_id = $1::uuid and c.owner_id is null order by c.name",
        )
        .bind(&project)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        assert_eq!(codes[0].0, "Paperwork");
        assert_eq!(codes[0].1.as_deref(), Some("Work"));
        assert_eq!(codes[0].2, "#46aa00");
        assert_eq!(
            (
                codes[2].2.as_str(),
                codes[2].3.as_str(),
                codes[2].4.as_str()
            ),
            ("#aa0000", "Work life", "shifts")
        );
        let mode: String =
            sqlx::query_scalar("select codebook_mode from projects where id = $1::uuid")
                .bind(&project)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert_eq!(mode, "shared");
        // Members: the owner, and each coder with their layer submitted.
        let members: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "select u.display_name, m.role, a.state from project_members m join users u on u.id = m.user_id
               left join assignments a on a.user_id = m.user_id and a.project_id = m.project_id
              where m.project_id = $1::uuid order by u.display_name",
        )
        .bind(&project)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        assert_eq!(
            members,
            [
                ("Ana".into(), "coder".into(), Some("submitted".into())),
                ("Ben".into(), "coder".into(), Some("submitted".into())),
                ("owner".into(), "owner".into(), None),
            ]
        );
        // The participant with its values.
        let values: Vec<(String, String, String)> = sqlx::query_as(
            "select p.label, v.name, x.value from participant_values x join participants p on p.id = x.participant_id
               join variables v on v.id = x.variable_id where p.project_id = $1::uuid order by v.name",
        )
        .bind(&project)
        .fetch_all(&app.pool)
        .await
        .unwrap();
        assert_eq!(
            values,
            [
                ("P01".into(), "Role".into(), "Nurse".into()),
                ("P01".into(), "Years".into(), "12.5".into())
            ]
        );
        // The layers can be compared at once: the agreement report answers.
        let report = owner
            .get(&format!("/api/v1/projects/{project}/agreement"))
            .await;
        assert_eq!(report.status(), StatusCode::OK, "{origin}");
    }
    // The imported coders cannot sign in: they have no password.
    let email: String =
        sqlx::query_scalar("select email from users where display_name = 'Ana' limit 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let client = app.client();
    for password in ["", crate::harness::PASSWORD, "!imported"] {
        let response = client.sign_in(&email, password).await;
        assert_ne!(response.status(), StatusCode::SEE_OTHER);
    }
    // The import is on the record.
    let imports: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'project.imported'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(imports, 3);
}

#[tokio::test]
async fn the_upload_page_previews_and_confirm_creates_the_project_once() {
    let app = TestApp::spawn().await;
    let owner = app.signed_in("owner@example.org", false).await;
    let page = html(owner.get("/imports/qdpx").await).await;
    assert_eq!(select_texts(&page, "#qdpx-import-form button"), ["Preview"]);
    let before = counts(&app).await;
    let response = owner
        .upload(
            "/imports/qdpx",
            "file",
            &[(
                "night.qdpx",
                project_qdpx("NVivo for Windows 12.6", true, false),
            )],
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let preview_url = location(&response);
    assert!(preview_url.starts_with("/imports/qdpx/"), "{preview_url}");
    // Previewing stored the file only.
    let after_preview = counts(&app).await;
    for ((table, a), (_, b)) in before.iter().zip(&after_preview) {
        let expected = if *table == "refi_import_drafts" {
            a + 1
        } else {
            *a
        };
        assert_eq!(*b, expected, "{table}");
    }
    let page = html(owner.get(&preview_url).await).await;
    assert_eq!(select_texts(&page, "#project-name"), ["Night shifts"]);
    assert_eq!(
        select_texts(&page, "#users tbody tr td:first-child"),
        ["Ana", "Ben"]
    );
    assert_eq!(
        select_texts(&page, "#codes tbody tr td:first-child"),
        ["Work", "Work › Paperwork", "Sleep"]
    );
    assert!(
        select_texts(&page, "#convention")[0].contains("UTF-16 code units"),
        "{:?}",
        select_texts(&page, "#convention")
    );
    // Someone else cannot see or confirm that draft.
    let other = app.signed_in("other@example.org", false).await;
    assert_eq!(
        other.get(&preview_url).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other.post_form(&preview_url, &[]).await.status(),
        StatusCode::NOT_FOUND
    );
    // Each user becomes a new account unless the owner takes one as themself;
    // an account not offered is refused on the page and nothing is stored.
    assert_eq!(
        select_texts(&page, &format!("select[name='user.{ANA}'] option")),
        ["a new account", "owner (owner@example.org): you"]
    );
    let field = format!("user.{ANA}");
    let other_id = other.id.to_string();
    let before_refused = counts(&app).await;
    let response = owner
        .post_form(&preview_url, &[(field.as_str(), other_id.as_str())])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = html(response).await;
    assert_eq!(
        select_texts(&refused, "#users .field-error"),
        ["Choose a new account or one of the accounts offered for Ana."]
    );
    assert_eq!(counts(&app).await, before_refused);
    let owner_id = owner.id.to_string();
    let response = owner
        .post_form(&preview_url, &[(field.as_str(), owner_id.as_str())])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/projects/"));
    let mine: i64 = sqlx::query_scalar("select count(*) from codings where coder_id = $1")
        .bind(owner.id.0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(mine, 2, "Ana's codings are the owner's");
    let projects: i64 =
        sqlx::query_scalar("select count(*) from projects where name = 'Night shifts'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(projects, 1);
    // The draft is gone: confirming twice does not make a second project.
    let response = owner.post_form(&preview_url, &[]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let drafts: i64 = sqlx::query_scalar("select count(*) from refi_import_drafts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(drafts, 0);
    // A signed-out visitor is sent to sign in.
    let response = app.client().get("/imports/qdpx").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

/// A project document with `selection` as its one selection's attributes and
/// `extra` inside `<Project>` after the sources.
fn qde_with(selection: &str, code: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Project xmlns=\"urn:QDA-XML:project:1.0\" name=\"Bad\" origin=\"Test\">\
         <Users><User guid=\"{ANA}\" name=\"Ana\"/></Users>\
         <CodeBook><Codes><Code guid=\"{SLEEP}\" name=\"Sleep\" isCodable=\"true\"/></Codes></CodeBook>\
         <Sources><TextSource guid=\"{SOURCE}\" name=\"P01\" plainTextPath=\"internal://{SOURCE}.txt\">\
         <PlainTextSelection guid=\"aaaaaaaa-0000-4000-8000-000000000001\" {selection} creatingUser=\"{ANA}\">\
         <Coding guid=\"bbbbbbbb-0000-4000-8000-000000000001\"><CodeRef targetGUID=\"{code}\"/></Coding></PlainTextSelection>\
         </TextSource></Sources></Project>"
    )
}

fn with_source(qde: &str) -> Vec<u8> {
    zip_of(&[
        ("project.qde", qde.as_bytes()),
        (&format!("sources/{SOURCE}.txt"), b"Short text."),
    ])
}

#[tokio::test]
async fn every_bad_archive_is_refused_with_its_reason_and_stores_nothing() {
    let app = TestApp::spawn_with(|c| c.max_upload_bytes = 2_000_000).await;
    let owner = app.signed_in("owner@example.org", false).await;
    let good = qde_with("startPosition=\"0\" endPosition=\"5\"", SLEEP);
    let bomb = vec![b' '; 1_900_000];
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not a zip",
            b"plain text, not a zip".to_vec(),
            "not a zip archive",
        ),
        (
            "zip bomb",
            zip_of(&[
                ("project.qde", good.as_bytes()),
                (&format!("sources/{SOURCE}.txt"), &bomb),
            ]),
            "zip bomb",
        ),
        (
            "parent path",
            zip_of(&[
                ("project.qde", good.as_bytes()),
                ("sources/../../x.txt", b"x"),
            ]),
            "refused",
        ),
        (
            "absolute path",
            zip_of(&[("project.qde", good.as_bytes()), ("/etc/x.txt", b"x")]),
            "refused",
        ),
        (
            "dtd",
            with_source(&good.replace(
                "<Project ",
                "<!DOCTYPE Project [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><Project ",
            )),
            "document type declaration",
        ),
        (
            "entity",
            with_source(&good.replace("name=\"Bad\"", "name=\"&xxe;\"")),
            "&xxe;",
        ),
        (
            "invalid xml",
            with_source(&good.replace("</Sources>", "")),
            "not well-formed XML",
        ),
        (
            "schema: a code without its name",
            with_source(&good.replace(" name=\"Sleep\"", "")),
            "<Code> has no name attribute",
        ),
        (
            "schema: an offset that is no number",
            with_source(&qde_with("startPosition=\"zero\" endPosition=\"5\"", SLEEP)),
            "<PlainTextSelection> has startPosition=\"zero\"",
        ),
        (
            "selection outside its source",
            with_source(&qde_with("startPosition=\"0\" endPosition=\"500\"", SLEEP)),
            "outside the text",
        ),
        (
            "start after end",
            with_source(&qde_with("startPosition=\"6\" endPosition=\"2\"", SLEEP)),
            "after its end",
        ),
        (
            "missing source file",
            zip_of(&[("project.qde", good.as_bytes())]),
            "which is not in the archive",
        ),
        (
            "duplicate guids",
            with_source(&good.replace(
                "bbbbbbbb-0000-4000-8000-000000000001",
                "aaaaaaaa-0000-4000-8000-000000000001",
            )),
            "is used twice",
        ),
        (
            "unknown code",
            with_source(&qde_with(
                "startPosition=\"0\" endPosition=\"5\"",
                "cccccccc-0000-4000-8000-000000000000",
            )),
            "not in the codebook",
        ),
        (
            "over --max-upload-bytes",
            vec![b'x'; 2_030_000],
            "larger than the 1 MB",
        ),
    ];
    // The good file itself imports, so each refusal is the case's doing.
    let response = upload(&owner, "good.qdpx", with_source(&good)).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    for (case, bytes, message) in cases {
        let before = counts(&app).await;
        let response = upload(&owner, "bad.qdpx", bytes.clone()).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{case}: {body}");
        let errors: Vec<&str> = body["errors"]["file"]
            .as_array()
            .unwrap_or_else(|| panic!("{case}: {body}"))
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        let errors = errors.join(" ");
        assert!(errors.contains(message), "{case}: {errors}");
        // The page says the same, next to the field.
        let response = owner
            .upload("/imports/qdpx", "file", &[("bad.qdpx", bytes)], &[])
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{case}"
        );
        let page = html(response).await;
        let shown = select_texts(&page, ".field-error").join(" ");
        assert!(shown.contains(message), "{case}: {shown}");
        assert_eq!(counts(&app).await, before, "{case}: something was stored");
    }
}

#[tokio::test]
async fn every_sample_imports_and_those_without_sources_say_so() {
    let app = TestApp::spawn().await;
    let owner = app.signed_in("owner@example.org", false).await;
    let mut seen = 0;
    for entry in std::fs::read_dir(samples()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".qdc") {
            continue;
        }
        seen += 1;
        let bytes = std::fs::read(&path).unwrap();
        let read = concord::refi::read(&name, &bytes, &Default::default()).unwrap();
        let (preview, imported) = import_via_api(&owner, &name, bytes).await;
        let p = &preview["preview"];
        let project = imported["project_id"].as_str().unwrap();
        let codes: i64 =
            sqlx::query_scalar("select count(*) from codes where project_id = $1::uuid")
                .bind(project)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert_eq!(codes as usize, read.all_codes().len(), "{name}");
        let with_text = read.sources.iter().filter(|s| s.text.is_some()).count();
        let transcripts: i64 =
            sqlx::query_scalar("select count(*) from transcripts where project_id = $1::uuid")
                .bind(project)
                .fetch_one(&app.pool)
                .await
                .unwrap();
        assert_eq!(transcripts as usize, with_text, "{name}");
        let without: Vec<&Value> = p["sources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["imported"] == false)
            .collect();
        assert_eq!(without.len(), read.sources.len() - with_text, "{name}");
        for s in without {
            assert!(
                s["note"].as_str().unwrap().contains("not imported"),
                "{name}: {s}"
            );
        }
        if name.ends_with(".qde") {
            let notes = p["not_mapped"].to_string();
            assert!(notes.contains(".qdpx"), "{name}: {notes}");
        }
    }
    assert_eq!(seen, 5);
}

#[tokio::test]
async fn a_codebook_file_adds_its_codes_once_with_nesting_and_colours() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let lead = project.member(concord::projects::model::Role::Lead).await;
    let coder = project.member(concord::projects::model::Role::Coder).await;
    let qdc = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\" origin=\"Test\"><Codes>\
         <Code guid=\"{WORK}\" name=\"Work\" isCodable=\"false\" color=\"#ABC\"><Description>Work life\n\nExample: forms</Description>\
         <Code guid=\"{PAPERWORK}\" name=\"Paperwork\" isCodable=\"true\"/></Code>\
         <Code guid=\"{SLEEP}\" name=\"Sleep\" isCodable=\"true\"/></Codes></CodeBook>"
    );
    let response = coder
        .upload(
            &project.api("/codebook/import"),
            "file",
            &[("c.qdc", qdc.clone().into_bytes())],
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = lead
        .upload(
            &project.api("/codebook/import"),
            "file",
            &[("c.qdc", qdc.clone().into_bytes())],
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["added"], json!(["Work", "Paperwork", "Sleep"]));
    assert_eq!(body["switched_to_shared"], true);
    let codes: Vec<(String, Option<String>, String, String, String)> = sqlx::query_as(
        "select c.name, p.name, c.color, c.definition, c.example from codes c left join codes p on p.id = c.parent_id
          where c.project_id = $1 and c.owner_id is null order by c.name",
    )
    .bind(project.id.0)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(codes[0].1.as_deref(), Some("Work"));
    assert_eq!(
        (
            codes[2].2.as_str(),
            codes[2].3.as_str(),
            codes[2].4.as_str()
        ),
        ("#aabbcc", "Work life", "forms")
    );
    // Again, through the page: every name is reported, nothing is duplicated.
    let response = lead
        .upload(
            &project.path("/codebook/import"),
            "file",
            &[("c.qdc", qdc.into_bytes())],
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = html(response).await;
    assert_eq!(
        select_texts(&page, "#duplicates li"),
        ["Work", "Paperwork", "Sleep"]
    );
    let n: i64 = sqlx::query_scalar("select count(*) from codes where project_id = $1")
        .bind(project.id.0)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(n, 3);
    // The ATLAS.ti sample codebook imports too.
    let sample = std::fs::read(samples().join("atlasti-win-23.4-codebook.qdc")).unwrap();
    let response = lead
        .upload(
            &project.api("/codebook/import"),
            "file",
            &[("atlasti-win-23.4-codebook.qdc", sample)],
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["added"], json!(["code1"]));
    // A project file is not a codebook.
    let response = lead
        .upload(
            &project.api("/codebook/import"),
            "file",
            &[("p.qdpx", project_qdpx("Test", false, false))],
            &[],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn concord_import_qdpx_prints_the_preview_then_imports() {
    let app = TestApp::spawn().await;
    app.create_user("admin@example.org", "Admin", true).await;
    let owner = app.create_user("owner@example.org", "Owner", false).await;
    let dir = std::env::temp_dir().join(format!("concord-import-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("night.qdpx");
    std::fs::write(&file, project_qdpx("NVivo for Windows 12.6", true, false)).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
            .env("DATABASE_URL", &app.database_url)
            .env("RUST_BACKTRACE", "0")
            .args(["--log", "warn"])
            .args(args)
            .output()
            .unwrap()
    };
    let output = run(&[
        "import-qdpx",
        file.to_str().unwrap(),
        "--owner",
        "owner@example.org",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("UTF-16 code units"), "{stdout}");
    assert!(
        stdout.contains("Ana · 2 coding(s) in 1 transcript(s)"),
        "{stdout}"
    );
    assert!(stdout.contains("Imported as project"), "{stdout}");
    let owners: i64 = sqlx::query_scalar(
        "select count(*) from project_members m join projects p on p.id = m.project_id
          where m.user_id = $1 and m.role = 'owner' and p.name = 'Night shifts'",
    )
    .bind(owner.0)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(owners, 1);
    // A bad file: the reason, and nothing stored.
    let before = counts(&app).await;
    let bad = dir.join("bad.qdpx");
    std::fs::write(&bad, b"not a zip").unwrap();
    let output = run(&["import-qdpx", bad.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a zip archive"));
    let output = run(&[
        "--max-upload-bytes",
        "100",
        "import-qdpx",
        file.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--max-upload-bytes"));
    assert_eq!(counts(&app).await, before);
}

/// (variable, kind, value) of one participant.
type Values = Vec<(String, String, String)>;
/// (id, name, parent, colour, definition, inclusion, exclusion, example).
type CodeRow = (
    Uuid,
    String,
    Option<Uuid>,
    String,
    String,
    String,
    String,
    String,
);

/// Everything of a project that an export → import must keep, by id.
#[derive(Debug, PartialEq)]
struct Snapshot {
    transcripts: Vec<(Uuid, String, String, Option<String>)>,
    participants: Vec<(Uuid, String, Values)>,
    codes: Vec<CodeRow>,
    codings: Vec<(Uuid, Uuid, Uuid, Uuid, i32, i32, String)>,
    coders: Vec<(Uuid, String)>,
}

async fn snapshot(app: &TestApp, project: Uuid) -> Snapshot {
    let pool = &app.pool;
    let transcripts = sqlx::query_as(
        "select t.id, t.title, t.sha256, p.label from transcripts t left join participants p on p.id = t.participant_id
          where t.project_id = $1 order by t.id",
    )
    .bind(project)
    .fetch_all(pool)
    .await
    .unwrap();
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as("select id, label from participants where project_id = $1 order by id")
            .bind(project)
            .fetch_all(pool)
            .await
            .unwrap();
    let mut participants = Vec::new();
    for (id, label) in rows {
        let values: Vec<(String, String, String)> = sqlx::query_as(
            "select v.name, v.kind, x.value from participant_values x join variables v on v.id = x.variable_id
              where x.participant_id = $1 order by v.name",
        )
        .bind(id)
        .fetch_all(pool)
        .await
        .unwrap();
        participants.push((id, label, values));
    }
    let codes = sqlx::query_as(
        "select id, name, parent_id, color, definition, inclusion, exclusion, example from codes
          where project_id = $1 order by id",
    )
    .bind(project)
    .fetch_all(pool)
    .await
    .unwrap();
    let codings = sqlx::query_as(
        "select id, transcript_id, coder_id, code_id, start_offset, end_offset, memo from codings
          where project_id = $1 order by id",
    )
    .bind(project)
    .fetch_all(pool)
    .await
    .unwrap();
    let coders = sqlx::query_as(
        "select u.id, u.display_name from project_members m join users u on u.id = m.user_id
          where m.project_id = $1 and m.role = 'coder' order by u.id",
    )
    .bind(project)
    .fetch_all(pool)
    .await
    .unwrap();
    Snapshot {
        transcripts,
        participants,
        codes,
        codings,
        coders,
    }
}

#[tokio::test]
async fn export_then_import_keeps_every_transcript_participant_code_coding_and_memo() {
    // Site A: a project double-coded elsewhere, imported.
    let a = TestApp::spawn().await;
    let owner_a = a.signed_in("owner@example.org", false).await;
    let (_, imported) = import_via_api(
        &owner_a,
        "night.qdpx",
        project_qdpx("NVivo for Windows 12.6", true, false),
    )
    .await;
    let project_a: Uuid = imported["project_id"].as_str().unwrap().parse().unwrap();
    let before = snapshot(&a, project_a).await;
    assert_eq!(before.codings.len(), 4);
    assert!(before.codings.iter().any(|c| c.6 == "Said twice <sic>"));

    // Its export with every coder's layer validates against Project.xsd...
    let response = owner_a
        .get(&format!(
            "/projects/{project_a}/exports/project.qdpx?coders=1"
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.bytes().await.unwrap().to_vec();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).unwrap();
    let mut qde = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("project.qde").unwrap(), &mut qde).unwrap();
    assert_eq!(crate::refi::xmllint(qde.as_bytes(), "Project.xsd"), Ok(()));
    // ...and without the option holds no coder's coding.
    let plain = owner_a
        .get(&format!("/projects/{project_a}/exports/project.qdpx"))
        .await
        .bytes()
        .await
        .unwrap();
    let read = concord::refi::read("p.qdpx", &plain, &Default::default()).unwrap();
    assert_eq!(read.codings().count(), 0);

    // Site B: the export imported gives the same project, id for id.
    let b = TestApp::spawn().await;
    let owner_b = b.signed_in("owner@example.org", false).await;
    let (preview, imported) = import_via_api(&owner_b, "export.qdpx", bytes.clone()).await;
    assert_eq!(
        preview["preview"]["origin"]
            .as_str()
            .map(|o| o.starts_with("Concord")),
        Some(true)
    );
    let project_b: Uuid = imported["project_id"].as_str().unwrap().parse().unwrap();
    let after = snapshot(&b, project_b).await;
    assert_eq!(after.transcripts, before.transcripts);
    assert_eq!(after.participants, before.participants);
    assert_eq!(after.codes, before.codes);
    assert_eq!(after.codings, before.codings);
    assert_eq!(after.coders, before.coders);
    assert_eq!(imported["new_ids"], 0);

    // On the same site every GUID is taken: new ids, the same content.
    let (_, again) = import_via_api(&owner_a, "export.qdpx", bytes).await;
    assert!(again["new_ids"].as_u64().unwrap() > 0);
    let project_c: Uuid = again["project_id"].as_str().unwrap().parse().unwrap();
    let copy = snapshot(&a, project_c).await;
    let shas = |s: &Snapshot| {
        s.transcripts
            .iter()
            .map(|t| t.2.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(shas(&copy), shas(&before));
    assert_eq!(copy.codings.len(), before.codings.len());
}

#[tokio::test]
async fn the_demo_study_exports_its_layers_decisions_and_themes_and_imports_back() {
    let a = TestApp::spawn().await;
    let state = concord::state::AppState::new(a.pool.clone(), a.config.clone());
    let summary = concord::demo::create(&state).await.expect("demo study");
    let owner = a.client();
    let response = owner
        .sign_in("owner@demo.concord", concord::demo::PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = owner
        .get(&format!(
            "/projects/{}/exports/project.qdpx?coders=1",
            summary.project_id
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.bytes().await.unwrap().to_vec();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).unwrap();
    let mut qde = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("project.qde").unwrap(), &mut qde).unwrap();
    assert_eq!(crate::refi::xmllint(qde.as_bytes(), "Project.xsd"), Ok(()));
    let read = concord::refi::read("demo.qdpx", &bytes, &Default::default()).unwrap();
    // Every submitted coder coding and every consensus coding is in it.
    let counts: (i64, i64) = sqlx::query_as(
        "select (select count(*) from codings c join assignments a on a.transcript_id = c.transcript_id
                   and a.user_id = c.coder_id and a.state = 'submitted'
                  where c.project_id = $1 and c.deleted_at is null),
                (select count(*) from consensus_codings where project_id = $1 and deleted_at is null)",
    )
    .bind(summary.project_id.0)
    .fetch_one(&a.pool)
    .await
    .unwrap();
    assert_eq!(read.codings().count() as i64, counts.0 + counts.1);
    // Decisions and their rationales are notes on the selections they made.
    let decisions = read
        .notes
        .iter()
        .filter(|n| n.name.as_deref() == Some("Decision"))
        .count();
    assert!(decisions > 0);
    let linked = read
        .sources
        .iter()
        .flat_map(|s| &s.selections)
        .filter(|s| {
            s.notes.iter().any(|n| {
                read.notes
                    .iter()
                    .any(|x| x.guid == *n && x.name.as_deref() == Some("Decision"))
            })
        })
        .count();
    assert!(linked >= decisions);
    // Each theme's codes are a set.
    let placed: i64 = sqlx::query_scalar(
        "select count(distinct node_id) from theme_placements where project_id = $1",
    )
    .bind(summary.project_id.0)
    .fetch_one(&a.pool)
    .await
    .unwrap();
    assert_eq!(read.sets.len() as i64, placed);
    assert!(read.sets.iter().all(|s| !s.codes.is_empty()));

    // Analytic memos are notes, each named for what it is on; a memo on a
    // code or a theme is linked from that code. Journals stay out.
    type MemoRow = (Uuid, String, Option<Uuid>, Option<String>, String);
    let memos: Vec<MemoRow> = sqlx::query_as(
        "select m.id, m.kind, coalesce(m.agreed_code_id, m.node_id), coalesce(a.name, n.name), m.body
           from memos m left join agreed_codes a on a.id = m.agreed_code_id
           left join theme_nodes n on n.id = m.node_id
          where m.project_id = $1 and m.deleted_at is null and m.kind <> 'journal' order by m.id",
    )
    .bind(summary.project_id.0)
    .fetch_all(&a.pool)
    .await
    .unwrap();
    for kind in ["project", "code", "node"] {
        assert!(
            memos.iter().any(|m| m.1 == kind),
            "the demo has a {kind} memo"
        );
    }
    for (id, kind, target, name, body) in &memos {
        let note = read
            .notes
            .iter()
            .find(|n| n.guid == *id)
            .expect("the memo as a note");
        assert_eq!(note.text, *body);
        let on = match kind.as_str() {
            "code" => format!("Memo on the code {}", name.as_deref().unwrap()),
            "node" => format!("Memo on the theme {}", name.as_deref().unwrap()),
            _ => "Memo on the project".to_owned(),
        };
        assert!(note.name.as_deref().unwrap().starts_with(&on), "{note:?}");
        assert!(note.created_on.is_some());
        if let Some(target) = target {
            let at = qde
                .find(&format!("<Code guid=\"{target}\""))
                .expect("the memo's code");
            let element = &qde[at..];
            let end = element[1..].find("<Code ").map_or(element.len(), |e| e + 1);
            let end = end.min(element.find("</Code>").unwrap_or(element.len()));
            assert!(
                element[..end].contains(&format!("<NoteRef targetGUID=\"{id}\"/>")),
                "{}",
                &element[..end]
            );
        }
    }
    let journals: Vec<String> =
        sqlx::query_scalar("select body from memos where project_id = $1 and kind = 'journal'")
            .bind(summary.project_id.0)
            .fetch_all(&a.pool)
            .await
            .unwrap();
    assert!(!journals.is_empty());
    assert!(read.notes.iter().all(|n| !journals.contains(&n.text)));

    // Imported on another site: every coding, by every coder. The upload
    // reads 100,000-odd selections; a loaded test machine needs more than
    // the test server's usual request timeout for it.
    let b = TestApp::spawn_with(|c| c.request_timeout_secs = 600).await;
    let owner_b = b.signed_in("owner@example.org", false).await;
    let (_, imported) = import_via_api(&owner_b, "demo.qdpx", bytes).await;
    assert_eq!(
        imported["codings"].as_u64().unwrap() as i64,
        counts.0 + counts.1
    );
    assert_eq!(
        imported["transcripts"].as_u64().unwrap() as usize,
        summary.transcripts.len()
    );
    // The memos come back as memos on the project, named for what they were on.
    assert_eq!(imported["memos"].as_u64().unwrap() as usize, memos.len());
    let back: Vec<(Uuid, String, String, String)> =
        sqlx::query_as("select id, kind, title, body from memos where project_id = $1 order by id")
            .bind(
                imported["project_id"]
                    .as_str()
                    .unwrap()
                    .parse::<Uuid>()
                    .unwrap(),
            )
            .fetch_all(&b.pool)
            .await
            .unwrap();
    assert_eq!(back.len(), memos.len());
    for ((id, kind, title, body), m) in back.iter().zip(&memos) {
        assert_eq!((id, kind.as_str(), body), (&m.0, "project", &m.4));
        assert!(title.starts_with("Memo on the"), "{title}");
    }
}

/// Codings per coder account of an imported project.
async fn codings_by_coder(app: &TestApp, project: &str) -> Vec<(Uuid, i64)> {
    sqlx::query_as(
        "select coder_id, count(*) from codings where project_id = $1::uuid group by coder_id order by coder_id",
    )
    .bind(project)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_files_user_may_be_taken_as_an_account_whoever_imports_may_choose() {
    let app = TestApp::spawn().await;
    let owner = app.signed_in("owner@example.org", false).await;
    let other = app.signed_in("ben@example.org", false).await;
    let file = || project_qdpx("NVivo for Windows 12.6", true, false);

    // Someone who is no admin may take a user as themself, and only that.
    let response = upload(&owner, "night.qdpx", file()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let preview: Value = response.json().await.unwrap();
    let users = preview["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    for u in users {
        let offered: Vec<&str> = u["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["reason"].as_str().unwrap())
            .collect();
        assert_eq!(offered, ["you"], "{u}");
        assert_eq!(u["default"], Value::Null);
    }
    let confirm = preview["confirm"].as_str().unwrap().to_owned();
    let before = counts(&app).await;
    for body in [
        json!({ "users": { ANA: other.id } }),
        json!({ "users": { ANA: owner.id, BEN: owner.id } }),
        json!({ "users": { Uuid::new_v4().to_string(): "new" } }),
        json!({ "users": { ANA: "someone" } }),
    ] {
        let response = owner.post_json(&confirm, &body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let problem: Value = response.json().await.unwrap();
        assert!(
            problem["errors"]
                .as_object()
                .unwrap()
                .keys()
                .all(|k| k.starts_with("user.")),
            "{problem}"
        );
        assert_eq!(counts(&app).await, before, "{body}: nothing stored");
    }
    let response = owner
        .post_json(&confirm, &json!({ "users": { ANA: owner.id, BEN: "new" } }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let imported: Value = response.json().await.unwrap();
    assert_eq!(imported["existing_accounts"], 1);
    let project = imported["project_id"].as_str().unwrap().to_owned();
    let by_coder = codings_by_coder(&app, &project).await;
    assert!(by_coder.contains(&(owner.id.0, 2)), "{by_coder:?}");
    assert_eq!(by_coder.len(), 2);
    // The owner's layer is submitted like any imported coder's; Ben is a
    // placeholder coder, and no account was made for Ana.
    let states: Vec<(Uuid, String)> = sqlx::query_as(
        "select user_id, state::text from assignments where project_id = $1::uuid order by user_id",
    )
    .bind(&project)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(states.iter().all(|(_, s)| s == "submitted"));
    assert!(states.iter().any(|(u, _)| *u == owner.id.0));
    let anas: i64 = sqlx::query_scalar("select count(*) from users where display_name = 'Ana'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(anas, 0);

    // A site admin is offered the accounts with a user's name or GUID; an
    // export of this site takes its users as the accounts with their GUIDs
    // unless told otherwise.
    let admin = app.admin().await;
    let (preview, first) = import_via_api(&admin, "night.qdpx", file()).await;
    let ben = preview["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["name"] == "Ben")
        .unwrap()
        .clone();
    let same_name: Vec<&Value> = ben["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["reason"] == "the same name")
        .collect();
    assert_eq!(same_name.len(), 1);
    assert_eq!(same_name[0]["id"], json!(other.id));
    // Ben's GUID is the placeholder account the owner's import made, so the
    // admin's import took him as that account; Ana got one under her GUID.
    assert_eq!(ben["default"], json!(BEN));
    assert_eq!(first["existing_accounts"], 1);
    let response = upload(&admin, "night.qdpx", file()).await;
    let preview: Value = response.json().await.unwrap();
    let defaults: Vec<Value> = preview["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["default"].clone())
        .collect();
    assert!(
        defaults.contains(&json!(ANA)),
        "Ana's GUID is an account now: {defaults:?}"
    );
    let confirm = preview["confirm"].as_str().unwrap().to_owned();
    let response = admin
        .post_json(&confirm, &json!({ "users": { BEN: other.id } }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let imported: Value = response.json().await.unwrap();
    assert_eq!(imported["existing_accounts"], 2);
    let by_coder = codings_by_coder(&app, imported["project_id"].as_str().unwrap()).await;
    let ana: Uuid = ANA.parse().unwrap();
    assert_eq!(by_coder.len(), 2);
    assert!(by_coder.contains(&(ana, 2)), "{by_coder:?}");
    assert!(by_coder.contains(&(other.id.0, 2)), "{by_coder:?}");
}

/// An imported project keeps the file's codes until the lead's first
/// decision on a transcript, which files its agreements and may name a
/// shared code as the side's code (a page opened before the agreed codes
/// were made offers those).
#[tokio::test]
async fn the_first_decision_on_an_imported_transcript_files_its_agreements() {
    let app = TestApp::spawn().await;
    let owner = app.signed_in("owner@example.org", false).await;
    // Ben's "paperwork" coding is Ana's exactly: an agreement. Their
    // "sleep" codings differ in their boundaries.
    let (ana_start, ana_end) = offsets("paperwork never ends.", false, false);
    let (ben_start, ben_end) = offsets("The paperwork never ends.", false, false);
    let qde = project_qde("ATLAS.ti 23.2", false, false).replace(
        &format!(
            "name=\"The paperwork never ends.\" startPosition=\"{ben_start}\" endPosition=\"{ben_end}\""
        ),
        &format!(
            "name=\"The paperwork never ends.\" startPosition=\"{ana_start}\" endPosition=\"{ana_end}\""
        ),
    );
    let bytes = zip_of(&[
        ("project.qde", qde.as_bytes()),
        (&format!("Sources/{SOURCE}.txt"), RAW.as_bytes()),
    ]);
    let (_, imported) = import_via_api(&owner, "night.qdpx", bytes).await;
    let project = imported["project_id"].as_str().unwrap().to_owned();
    let count = |sql: &'static str| {
        let pool = app.pool.clone();
        let project = project.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(project)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let agreed = "select count(*) from agreed_codes where project_id = $1::uuid";
    let decisions = "select count(*) from decisions where project_id = $1::uuid";
    assert_eq!(count(agreed).await, 0);
    assert_eq!(count(decisions).await, 0);

    let transcript: Uuid =
        sqlx::query_scalar("select id from transcripts where project_id = $1::uuid")
            .bind(&project)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let path = format!("/api/v1/projects/{project}/transcripts/{transcript}/reconciliation");
    let response = owner.get(&path).await;
    assert_eq!(response.status(), StatusCode::OK);
    let rec: Value = response.json().await.unwrap();
    assert_eq!(count(agreed).await, 0, "reading made nothing");
    let items = rec["items"].as_array().unwrap();
    let agreement = items
        .iter()
        .find(|i| i["discrepancy"]["kind"] == "agreement")
        .expect("an agreement");
    assert_eq!(agreement["resolved"], true);
    assert_eq!(agreement["history"], json!([]));
    let boundary = items
        .iter()
        .find(|i| i["discrepancy"]["kind"] == "boundary")
        .expect("a boundary");
    assert_eq!(boundary["discrepancy"]["a"]["code_id"], SLEEP);
    let decision = json!({
        "key": boundary["key"],
        "kind": "union",
        "code_id": boundary["discrepancy"]["a"]["code_id"],
        "supersedes": null,
    });
    let decide = format!("/api/v1/projects/{project}/transcripts/{transcript}/decisions");
    let response = owner.post_json(&decide, &decision).await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The shared codes have agreed codes now (Work, Paperwork, Sleep); the
    // union is Sleep's, and the agreement was accepted with it.
    assert_eq!(count(agreed).await, 3);
    assert_eq!(count(decisions).await, 2);
    let names: Vec<(String, bool)> = sqlx::query_as(
        "select a.name, d.auto from decisions d join consensus_codings c on c.decision_id = d.id
           join agreed_codes a on a.id = c.agreed_code_id
          where d.project_id = $1::uuid order by a.name",
    )
    .bind(&project)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        names,
        [("Paperwork".to_owned(), true), ("Sleep".to_owned(), false)]
    );
}

/// The content of an imported project, without its ids: two imports of one
/// file compare equal.
async fn content(
    app: &TestApp,
    project: Uuid,
) -> (Snapshot, Vec<(String, String, i32, i32, String)>) {
    let mut s = snapshot(app, project).await;
    let codings = sqlx::query_as(
        "select t.title, k.name, c.start_offset, c.end_offset, c.memo
           from codings c join transcripts t on t.id = c.transcript_id join codes k on k.id = c.code_id
          where c.project_id = $1 order by 1, 2, 3, 4, 5",
    )
    .bind(project)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    for t in &mut s.transcripts {
        t.0 = Uuid::nil();
    }
    s.transcripts.sort();
    s.participants.clear();
    s.codes.clear();
    s.codings.clear();
    s.coders.clear();
    (s, codings)
}

#[tokio::test]
async fn a_role_that_may_not_turn_row_checks_off_imports_the_same_project_checked_per_row() {
    let app = TestApp::spawn().await;
    let owner = app.signed_in("owner@example.org", false).await;
    let bytes = project_qdpx("NVivo for Windows 12.6", true, false);
    let plan = concord::refi::import::plan(
        &concord::refi::read("night.qdpx", &bytes, &Default::default()).unwrap(),
        "night.qdpx",
    );

    // The test's own role may (a superuser): its codings' keys are checked per batch.
    let mut tx = app.pool.begin().await.unwrap();
    let bulk = concord::refi::import::store_plan(&mut tx, owner.id, &plan)
        .await
        .unwrap();
    // Later writes in the same transaction are checked per row again: a
    // coding on a layer nobody is assigned to is refused by its key.
    let (transcript, code): (Uuid, Uuid) =
        sqlx::query_as("select transcript_id, code_id from codings where project_id = $1 limit 1")
            .bind(bulk.project_id.0)
            .fetch_one(&mut *tx)
            .await
            .unwrap();
    let mut inner = sqlx::Acquire::begin(&mut *tx).await.unwrap();
    let orphan = sqlx::query(
        "insert into codings (id, project_id, transcript_id, coder_id, code_id, start_offset, end_offset)
         values (gen_random_uuid(), $1, $2, $3, $4, 0, 1)",
    )
    .bind(bulk.project_id.0)
    .bind(transcript)
    .bind(owner.id.0)
    .bind(code)
    .execute(&mut *inner)
    .await
    .unwrap_err();
    assert!(
        orphan.to_string().contains("codings_layer_assigned"),
        "{orphan}"
    );
    inner.rollback().await.unwrap();
    tx.commit().await.unwrap();

    // A role without the right to set session_replication_role: per row.
    let role = format!("importer_{}", Uuid::new_v4().simple());
    for sql in [
        format!("create role {role} nosuperuser"),
        format!("grant all on all tables in schema public to {role}"),
        format!("grant all on all sequences in schema public to {role}"),
    ] {
        sqlx::query(&sql).execute(&app.pool).await.unwrap();
    }
    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query(&format!("set local role {role}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    let refused = sqlx::query("set local session_replication_role = replica")
        .execute(&mut *tx)
        .await;
    assert!(refused.is_err(), "the role may not turn the triggers off");
    tx.rollback().await.unwrap();

    let mut tx = app.pool.begin().await.unwrap();
    sqlx::query(&format!("set local role {role}"))
        .execute(&mut *tx)
        .await
        .unwrap();
    let per_row = concord::refi::import::store_plan(&mut tx, owner.id, &plan)
        .await
        .unwrap();
    // The transaction went on after the refusal, as it was.
    let setting: String = sqlx::query_scalar("show session_replication_role")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(setting, "origin");
    tx.commit().await.unwrap();

    assert_eq!(bulk.codings, 4);
    assert_eq!(per_row.codings, bulk.codings);
    let (a, b) = (
        content(&app, bulk.project_id.0).await,
        content(&app, per_row.project_id.0).await,
    );
    assert_eq!(a, b);
    assert_eq!(a.1.len(), 4);
    for sql in [format!("drop owned by {role}"), format!("drop role {role}")] {
        sqlx::query(&sql).execute(&app.pool).await.unwrap();
    }
}

#[tokio::test]
async fn a_shared_codebook_project_with_agreed_codes_exports_and_imports_its_codes_as_they_were() {
    // Site A: a shared codebook (Paperwork nested under Work) and a first
    // decision, which gives every shared code its agreed code.
    let a = TestApp::spawn().await;
    let owner_a = a.signed_in("owner@example.org", false).await;
    let (_, imported) = import_via_api(
        &owner_a,
        "night.qdpx",
        project_qdpx("ATLAS.ti 23.2", false, false),
    )
    .await;
    let project: Uuid = imported["project_id"].as_str().unwrap().parse().unwrap();
    let transcript: Uuid = sqlx::query_scalar("select id from transcripts where project_id = $1")
        .bind(project)
        .fetch_one(&a.pool)
        .await
        .unwrap();
    let rec: Value = owner_a
        .get(&format!(
            "/api/v1/projects/{project}/transcripts/{transcript}/reconciliation"
        ))
        .await
        .json()
        .await
        .unwrap();
    let open = rec["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["resolved"] == false)
        .expect("an open discrepancy");
    let response = owner_a
        .post_json(
            &format!("/api/v1/projects/{project}/transcripts/{transcript}/decisions"),
            &json!({ "key": open["key"], "kind": open["offered"][0], "rationale": "agreed" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    // Each agreed code stands for its shared code under the shared code's id.
    let mirrors: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "select m.code_id, m.agreed_code_id from code_alignments m where m.project_id = $1 order by 1",
    )
    .bind(project)
    .fetch_all(&a.pool)
    .await
    .unwrap();
    assert_eq!(mirrors.len(), 3);
    assert!(
        mirrors.iter().all(|(code, agreed)| code == agreed),
        "{mirrors:?}"
    );
    let before = snapshot(&a, project).await;

    // Its export with every coder's layer keeps the shared nesting where no
    // theme places a code, and validates.
    let bytes = owner_a
        .get(&format!(
            "/projects/{project}/exports/project.qdpx?coders=1"
        ))
        .await
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).unwrap();
    let mut qde = String::new();
    std::io::Read::read_to_string(&mut archive.by_name("project.qde").unwrap(), &mut qde).unwrap();
    assert_eq!(crate::refi::xmllint(qde.as_bytes(), "Project.xsd"), Ok(()));

    // Site B: the same codes with the same ids and nesting, and every coder
    // coding under the code it was made with.
    let b = TestApp::spawn().await;
    let owner_b = b.signed_in("owner@example.org", false).await;
    let (_, imported) = import_via_api(&owner_b, "export.qdpx", bytes).await;
    let project_b: Uuid = imported["project_id"].as_str().unwrap().parse().unwrap();
    let after = snapshot(&b, project_b).await;
    let tree = |s: &Snapshot| {
        s.codes
            .iter()
            .map(|c| (c.0, c.1.clone(), c.2))
            .collect::<Vec<_>>()
    };
    assert_eq!(tree(&after), tree(&before));
    let (coders, lead): (Vec<_>, Vec<_>) = after
        .codings
        .iter()
        .cloned()
        .partition(|c| before.codings.iter().any(|b| b.2 == c.2));
    assert_eq!(coders, before.codings);
    // The consensus layer comes as the lead's codings, under the same codes.
    assert_eq!(lead.len(), 1);
    assert_eq!(lead[0].3.to_string(), PAPERWORK);
}
