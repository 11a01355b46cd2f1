//! REFI-QDA: `concord agreement` on files, and the codebook and project exports.

use std::io::Write;
use std::process::Command;

fn samples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/refi/samples")
}

fn concord_agreement(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_concord"))
        .arg("agreement")
        .args(args)
        .env_remove("DATABASE_URL")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("concord runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A .qdpx in NVivo for Windows' conventions (UTF-16 offsets, CRLF, a BOM):
/// two coders of two interviews.
fn nvivo_style_qdpx() -> Vec<u8> {
    let texts = [
        "I: How is the ward? 😩\r\nP01: Busy. The paperwork never ends.\r\nI: And at home?\r\nP01: Quiet, and I sleep well.",
        "I: Tell me about nights.\r\nP02: Nights are long 🌙 and the paperwork waits.\r\nI: Sleep?\r\nP02: Hardly any sleep.",
    ];
    let users = [
        ("11111111-1111-4111-8111-111111111111", "Ana"),
        ("22222222-2222-4222-8222-222222222222", "Ben"),
    ];
    let codes = [
        ("33333333-3333-4333-8333-333333333333", "Paperwork"),
        ("44444444-4444-4444-8444-444444444444", "Sleep"),
    ];
    let utf16 = |text: &str, needle: &str| {
        let at = text.find(needle).unwrap_or_else(|| panic!("{needle}"));
        let start = text[..at].encode_utf16().count();
        (start, start + needle.encode_utf16().count())
    };
    // (source, user, code, selected text)
    let codings = [
        (0, 0, 0, "paperwork never ends."),
        (0, 1, 0, "The paperwork never ends."),
        (0, 1, 1, "I sleep well."),
        (1, 0, 0, "the paperwork waits."),
        (1, 1, 0, "the paperwork waits."),
        (1, 0, 1, "Hardly any sleep."),
        (1, 1, 1, "Hardly any sleep."),
    ];
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Project xmlns=\"urn:QDA-XML:project:1.0\" name=\"Nights\" origin=\"NVivo for Windows 12.6\">\n<Users>",
    );
    for (guid, name) in users {
        xml += &format!("<User guid=\"{guid}\" name=\"{name}\"/>");
    }
    xml += "</Users>\n<CodeBook><Codes>";
    for (guid, name) in codes {
        xml += &format!("<Code guid=\"{guid}\" name=\"{name}\" isCodable=\"true\"/>");
    }
    xml += "</Codes></CodeBook>\n<Sources>\n";
    let mut n = 0;
    for (s, text) in texts.iter().enumerate() {
        let source = format!("55555555-5555-4555-8555-00000000000{s}");
        xml += &format!(
            "<TextSource guid=\"{source}\" name=\"P0{}\" plainTextPath=\"internal://{source}.txt\">\n",
            s + 1
        );
        for (cs, user, code, needle) in codings {
            if cs != s {
                continue;
            }
            let (start, end) = utf16(text, needle);
            xml += &format!(
                "<PlainTextSelection guid=\"aaaaaaaa-0000-4000-8000-{n:012}\" name=\"\" startPosition=\"{start}\" endPosition=\"{end}\" creatingUser=\"{u}\"><Coding guid=\"bbbbbbbb-0000-4000-8000-{n:012}\" creatingUser=\"{u}\"><CodeRef targetGUID=\"{c}\"/></Coding></PlainTextSelection>\n",
                u = users[user].0,
                c = codes[code].0,
            );
            n += 1;
        }
        xml += "</TextSource>\n";
    }
    xml += "</Sources>\n</Project>\n";
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    writer.start_file("project.qde", options).unwrap();
    writer.write_all(xml.as_bytes()).unwrap();
    for (s, text) in texts.iter().enumerate() {
        writer
            .start_file(
                format!("Sources/55555555-5555-4555-8555-00000000000{s}.txt"),
                options,
            )
            .unwrap();
        writer.write_all(b"\xEF\xBB\xBF").unwrap();
        writer.write_all(text.as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn agreement_of_every_sample_is_computed_or_explained() {
    for entry in std::fs::read_dir(samples()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (ok, stdout, stderr) = concord_agreement(&[path.to_str().unwrap()]);
        // None of the samples holds two users' codings of a text it carries:
        // each must say which of those is missing, naming the file.
        assert!(!ok, "{name}: {stdout}");
        assert!(stderr.contains(&name), "{name}: {stderr}");
        let explained = [
            "does not hold the texts",
            "no text sources",
            "has no codings",
            "two or more users",
        ];
        assert!(
            explained.iter().any(|e| stderr.contains(e)),
            "{name}: {stderr}"
        );
        if name.ends_with(".qde") {
            assert!(stderr.contains(".qdpx"), "{name}: {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
}

#[test]
fn agreement_of_a_two_coder_file_in_nvivo_conventions() {
    let dir = std::env::temp_dir().join(format!("concord-refi-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("nights.qdpx");
    std::fs::write(&file, nvivo_style_qdpx()).unwrap();
    let file = file.to_str().unwrap();

    let (ok, table, stderr) = concord_agreement(&[file]);
    assert!(ok, "{stderr}");
    assert!(table.contains("UTF-16 code units"), "{table}");
    assert!(
        table.contains("Coder A: Ana") && table.contains("Coder B: Ben"),
        "{table}"
    );
    assert!(table.contains("Sources compared: 2 of 2"), "{table}");
    assert!(table.contains("P01 line 2: boundary"), "{table}");
    assert!(table.contains("P01 line 4: only B"), "{table}");

    let (ok, json, stderr) = concord_agreement(&[file, "--format", "json", "--level", "character"]);
    assert!(ok, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["level"], "character");
    assert_eq!(json["offsets"]["convention"], "utf16_units");
    let p02 = &json["report"]["discrepancies"]["per_transcript"][1]["pairs"][0]["discrepancies"];
    let kinds: Vec<&str> = p02
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["agreement", "agreement"], "identical spans on P02");
    // Offsets are code points of the canonical text: "the paperwork waits." on P02
    // starts after one emoji, counted once.
    let text = "I: Tell me about nights.\nP02: Nights are long 🌙 and the paperwork waits.";
    let start = text[..text.find("the paperwork").unwrap()].chars().count();
    assert_eq!(p02[0]["a"]["start"], start);

    let (ok, csv, stderr) = concord_agreement(&[file, "--format", "csv", "--users", "ben,ANA"]);
    assert!(ok, "{stderr}");
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(&rows[0][0], "(pooled)");
    assert!(rows.iter().any(|r| &r[0] == "Paperwork"));

    let (ok, _, stderr) = concord_agreement(&[file, "--level", "word"]);
    assert!(!ok && stderr.contains("--level word"), "{stderr}");
    let (ok, _, stderr) = concord_agreement(&[file, "--users", "Ana,Zed"]);
    assert!(!ok && stderr.contains("Zed"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Validates `xml` against one of the REFI-QDA schemas with xmllint
/// (Debian's libxml2-utils), answering its message when it fails.
pub fn xmllint(xml: &[u8], schema: &str) -> Result<(), String> {
    let schema = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/refi")
        .join(schema);
    let mut child = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&schema)
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("xmllint is installed (apt-get install libxml2-utils)");
    child.stdin.take().unwrap().write_all(xml).unwrap();
    let output = child.wait_with_output().unwrap();
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn the_schema_check_fails_on_an_invalid_codebook() {
    // An empty <Codes/> is invalid, as is a colour of 8 digits (xmllint lets
    // that one pass, so the exports check colours themselves).
    let empty = b"<CodeBook xmlns=\"urn:QDA-XML:codebook:1.0\"><Codes/></CodeBook>";
    assert!(xmllint(empty, "Codebook.xsd").is_err());
    let sample = std::fs::read(samples().join("atlasti-win-23.4-codebook.qdc")).unwrap();
    assert_eq!(xmllint(&sample, "Codebook.xsd"), Ok(()));
}

mod codebook {
    use concord::projects::model::Role;
    use reqwest::StatusCode;
    use serde_json::{Value, json};
    use uuid::Uuid;

    use super::xmllint;
    use crate::harness::{TestApp, TestProject};

    async fn agreed_code(project: &TestProject<'_>, name: &str, color: &str) -> Uuid {
        let id = Uuid::new_v4();
        let response = project
            .owner
            .post_json(
                &project.api("/consensus/codes"),
                &json!({ "id": id, "name": name, "color": color, "definition": format!("{name} as the participants mean it") }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED, "{name}");
        id
    }

    /// Themes as the theme hierarchy stores them: Work → Paperwork (a
    /// subcategory) → the codes placed under it.
    async fn theme(
        project: &TestProject<'_>,
        parent: Option<Uuid>,
        name: &str,
        position: i32,
    ) -> Uuid {
        let id = Uuid::new_v4();
        sqlx::query(
            "insert into theme_nodes (id, project_id, parent_id, name, definition, memo, color, position, created_by)
             values ($1, $2, $3, $4, $5, 'A memo & a note', '#336699', $6, $7)",
        )
        .bind(id)
        .bind(project.id.0)
        .bind(parent)
        .bind(name)
        .bind(format!("The theme {name}"))
        .bind(position)
        .bind(project.owner.id.0)
        .execute(&project.app.pool)
        .await
        .unwrap();
        id
    }

    async fn place(project: &TestProject<'_>, code: Uuid, node: Uuid, position: i32) {
        sqlx::query(
            "insert into theme_placements (agreed_code_id, project_id, node_id, position, placed_by)
             values ($1, $2, $3, $4, $5)",
        )
        .bind(code)
        .bind(project.id.0)
        .bind(node)
        .bind(position)
        .bind(project.owner.id.0)
        .execute(&project.app.pool)
        .await
        .unwrap();
    }

    #[tokio::test]
    async fn the_agreed_codebook_exports_as_a_valid_qdc_with_themes_as_parent_codes() {
        let app = TestApp::spawn().await;
        let project = app.project().await;
        let forms = agreed_code(&project, "Forms <in triplicate>", "#aa0000").await;
        let rota = agreed_code(&project, "Night rota", "#00aa00").await;
        let family = agreed_code(&project, "Family calls", "#0000aa").await;
        sqlx::query(
            "update agreed_codes set inclusion = 'Any form named', exclusion = 'E-mail', example = '\"Three copies of each\"' where id = $1",
        )
        .bind(forms)
        .execute(&app.pool)
        .await
        .unwrap();
        let work = theme(&project, None, "Work", 0).await;
        let paperwork = theme(&project, Some(work), "Paperwork", 0).await;
        place(&project, rota, work, 1).await;
        place(&project, forms, paperwork, 0).await;

        let response = project
            .owner
            .get(&project.path("/exports/codebook.qdc"))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .ends_with("-codebook.qdc\"")
        );
        let bytes = response.bytes().await.unwrap();
        assert_eq!(xmllint(&bytes, "Codebook.xsd"), Ok(()));

        let read = concord::refi::read("c.qdc", &bytes, &Default::default()).unwrap();
        let names = |codes: &[concord::refi::Code]| {
            codes.iter().map(|c| c.name.clone()).collect::<Vec<_>>()
        };
        // Themes first, then the unplaced code.
        assert_eq!(names(&read.codes), ["Work", "Family calls"]);
        let work_code = &read.codes[0];
        assert_eq!(work_code.guid, work);
        assert!(!work_code.is_codable);
        assert_eq!(work_code.color.as_deref(), Some("#336699"));
        assert_eq!(
            work_code.description.as_deref(),
            Some("The theme Work\n\nMemo: A memo & a note")
        );
        // Subcategories before the codes placed directly under the theme.
        assert_eq!(names(&work_code.children), ["Paperwork", "Night rota"]);
        let forms_code = &work_code.children[0].children[0];
        assert_eq!(forms_code.guid, forms);
        assert!(forms_code.is_codable);
        assert_eq!(forms_code.name, "Forms <in triplicate>");
        assert_eq!(forms_code.color.as_deref(), Some("#aa0000"));
        assert_eq!(
            forms_code.description.as_deref(),
            Some(
                "Forms <in triplicate> as the participants mean it\n\nInclusion: Any form named\n\nExclusion: E-mail\n\nExample: \"Three copies of each\""
            )
        );
        assert_eq!(read.codes[1].guid, family);

        // The API twin gives the same file.
        let api = project
            .owner
            .get(&project.api("/exports/codebook.qdc"))
            .await;
        assert_eq!(api.bytes().await.unwrap(), bytes);

        // The project page links to it for owners and leads, not for coders.
        let link = "a[href$='/exports/codebook.qdc']";
        let page = crate::harness::html(project.owner.get(&project.path("")).await).await;
        assert_eq!(crate::harness::select_texts(&page, link).len(), 1);
        let coder = project.member(Role::Coder).await;
        let page = crate::harness::html(coder.get(&project.path("")).await).await;
        assert!(crate::harness::select_texts(&page, link).is_empty());
        assert_eq!(
            coder
                .get(&project.path("/exports/codebook.qdc"))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
    }

    #[tokio::test]
    async fn a_lead_still_coding_cannot_export_the_codebook_and_an_empty_one_is_explained() {
        let app = TestApp::spawn().await;
        let project = app.project().await;
        let empty = project
            .owner
            .get(&project.api("/exports/codebook.qdc"))
            .await;
        assert_eq!(empty.status(), StatusCode::CONFLICT);
        let problem: Value = empty.json().await.unwrap();
        assert!(
            problem["detail"].as_str().unwrap().contains("no codes yet"),
            "{problem}"
        );

        agreed_code(&project, "Secret", "#aa0000").await;
        let lead = project.member(Role::Lead).await;
        let transcript = project.import_text("P01.txt", "P01: Some words.").await;
        let assigned = project
            .owner
            .post_json(
                &project.api("/assignments"),
                &json!({ "transcript_ids": [transcript], "user_ids": [lead.id] }),
            )
            .await;
        assert_eq!(assigned.status(), StatusCode::CREATED);
        let blind = lead.get(&project.api("/exports/codebook.qdc")).await;
        assert_eq!(blind.status(), StatusCode::CONFLICT);
        assert!(!blind.text().await.unwrap().contains("Secret"));
        let owner = project
            .owner
            .get(&project.api("/exports/codebook.qdc"))
            .await;
        assert_eq!(owner.status(), StatusCode::OK);
    }
}

mod project {
    use reqwest::StatusCode;
    use serde_json::json;
    use uuid::Uuid;

    use super::xmllint;
    use crate::harness::TestApp;

    const TEXT: &str = "Interviewer: How was the night shift? 🌙\nP01: Zoë said the forms — three copies — never end.\nP01: Café at 3am keeps me going.";

    #[tokio::test]
    async fn the_project_exports_as_a_valid_qdpx_that_reads_back_field_by_field() {
        let app = TestApp::spawn().await;
        let project = app.project().await;
        let transcript: Uuid = project
            .import_text("P01 night.txt", TEXT)
            .await
            .parse()
            .unwrap();
        let participant = Uuid::new_v4();
        let (role, years) = (Uuid::new_v4(), Uuid::new_v4());
        let pool = &app.pool;
        sqlx::query("insert into participants (id, project_id, label) values ($1, $2, 'P01')")
            .bind(participant)
            .bind(project.id.0)
            .execute(pool)
            .await
            .unwrap();
        for (id, name, kind, position) in [(role, "Role", "text", 0), (years, "Years", "number", 1)]
        {
            sqlx::query("insert into variables (id, project_id, name, kind, position) values ($1, $2, $3, $4, $5)")
                .bind(id).bind(project.id.0).bind(name).bind(kind).bind(position).execute(pool).await.unwrap();
        }
        for (variable, value) in [(role, "Nurse & carer"), (years, "12.5")] {
            sqlx::query("insert into participant_values (participant_id, variable_id, value) values ($1, $2, $3)")
                .bind(participant).bind(variable).bind(value).execute(pool).await.unwrap();
        }
        sqlx::query("update transcripts set participant_id = $1 where id = $2")
            .bind(participant)
            .bind(transcript)
            .execute(pool)
            .await
            .unwrap();
        let code = Uuid::new_v4();
        let created = project
            .owner
            .post_json(
                &project.api("/consensus/codes"),
                &json!({ "id": code, "name": "Paperwork", "color": "#aa0000" }),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let chars: Vec<char> = TEXT.chars().collect();
        let find = |needle: &str| {
            let at = TEXT.find(needle).unwrap();
            let start = TEXT[..at].chars().count();
            (start as i32, (start + needle.chars().count()) as i32)
        };
        let codings = [
            (
                Uuid::new_v4(),
                find("the forms — three copies — never end."),
                "Said twice <sic>",
            ),
            (Uuid::new_v4(), find("Café at 3am"), ""),
        ];
        for (id, (start, end), memo) in &codings {
            sqlx::query(
                "insert into consensus_codings (id, project_id, transcript_id, agreed_code_id, start_offset, end_offset, memo, created_by)
                 values ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id).bind(project.id.0).bind(transcript).bind(code).bind(start).bind(end).bind(memo).bind(project.owner.id.0)
            .execute(pool).await.unwrap();
        }

        let response = project
            .owner
            .get(&project.path("/exports/project.qdpx"))
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "application/zip");
        let bytes = response.bytes().await.unwrap();

        // The archive: project.qde valid against Project.xsd, the text as UTF-8
        // without a BOM, named by the transcript's GUID.
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
        let mut qde = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("project.qde").unwrap(), &mut qde)
            .unwrap();
        assert_eq!(xmllint(qde.as_bytes(), "Project.xsd"), Ok(()));
        let mut source = Vec::new();
        std::io::Read::read_to_end(
            &mut archive
                .by_name(&format!("sources/{transcript}.txt"))
                .unwrap(),
            &mut source,
        )
        .unwrap();
        assert_eq!(source, TEXT.as_bytes());

        // Read back with Concord's own reader: the same text, GUIDs, offsets,
        // code, coder, memo, case and values.
        let read = concord::refi::read("p.qdpx", &bytes, &Default::default()).unwrap();
        assert_eq!(
            read.origin.as_deref().map(|o| o.starts_with("Concord")),
            Some(true)
        );
        assert!(read.users.iter().any(|u| u.guid == project.owner.id.0));
        assert_eq!(read.codes.len(), 1);
        assert_eq!(
            (read.codes[0].guid, read.codes[0].name.as_str()),
            (code, "Paperwork")
        );
        assert_eq!(read.sources.len(), 1);
        let src = &read.sources[0];
        assert_eq!(src.guid, transcript);
        assert_eq!(src.name.as_deref(), Some("P01 night"));
        let text = src.text.as_ref().unwrap();
        assert_eq!(text.canonical.text, TEXT);
        assert!(!text.had_bom);
        let mut got: Vec<_> = src
            .selections
            .iter()
            .map(|s| {
                (
                    s.codings[0].guid,
                    s.start as i32,
                    s.end as i32,
                    s.codings[0].code,
                    s.codings[0].user,
                )
            })
            .collect();
        let mut want: Vec<_> = codings
            .iter()
            .map(|(id, (start, end), _)| (*id, *start, *end, code, Some(project.owner.id.0)))
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
        let forms = src
            .selections
            .iter()
            .find(|s| s.codings[0].guid == codings[0].0)
            .unwrap();
        let slice: String = chars[forms.start as usize..forms.end as usize]
            .iter()
            .collect();
        assert_eq!(slice, "the forms — three copies — never end.");
        let note = &forms.codings[0].notes;
        assert_eq!(note.len(), 1);
        let memo = read.notes.iter().find(|n| n.guid == note[0]).unwrap();
        assert_eq!(memo.text, "Said twice <sic>");
        assert_eq!(read.cases.len(), 1);
        let case = &read.cases[0];
        assert_eq!(
            (case.guid, case.name.as_deref()),
            (participant, Some("P01"))
        );
        assert_eq!(case.sources, [transcript]);
        let value_of = |v: Uuid| {
            case.values
                .iter()
                .find(|x| x.variable == v)
                .map(|x| x.value.clone())
        };
        assert_eq!(value_of(role).as_deref(), Some("Nurse & carer"));
        assert_eq!(value_of(years).as_deref(), Some("12.5"));
        let years_var = read.variables.iter().find(|v| v.guid == years).unwrap();
        assert_eq!(years_var.kind, concord::refi::VariableType::Float);

        // `concord export` writes the same archive, as the project's owner.
        let dir = std::env::temp_dir().join(format!("concord-export-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("night.qdpx");
        let export = |format: &str, out: &std::path::Path| {
            std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
                .env("DATABASE_URL", &app.database_url)
                .env("RUST_BACKTRACE", "0")
                .args([
                    "--log",
                    "warn",
                    "export",
                    "--project",
                    &project.id.to_string(),
                    "--format",
                    format,
                    "--out",
                ])
                .arg(out)
                .output()
                .unwrap()
        };
        let output = export("qdpx", &file);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(std::fs::read(&file).unwrap(), bytes);
        let qdc = dir.join("night.qdc");
        let output = export("qdc", &qdc);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            xmllint(&std::fs::read(&qdc).unwrap(), "Codebook.xsd"),
            Ok(())
        );
        let output = export("xlsx", &dir.join("x.xlsx"));
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("--format xlsx"));

        // And `concord agreement` reads it: one user, so it says why there is no report.
        let (ok, _, stderr) = super::concord_agreement(&[file.to_str().unwrap()]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!ok && stderr.contains("two or more users"), "{stderr}");
    }
}
