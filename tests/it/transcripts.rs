use std::io::Write;

use concord::projects::model::Role;
use reqwest::StatusCode;
use scraper::Selector;
use serde_json::{Value, json};
use sha2::Digest;

use crate::harness::browser::Browser;
use crate::harness::{PASSWORD, TestApp, TestProject, html, select_texts};

fn docx(paragraphs: &[(&str, &str)]) -> Vec<u8> {
    let body: String = paragraphs
        .iter()
        .map(|(speaker, text)| {
            format!(r#"<w:p><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">{speaker}: </w:t></w:r><w:r><w:t>{text}</w:t></w:r></w:p>"#)
        })
        .collect();
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
    );
    let mut buffer = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buffer);
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("[Content_Types].xml", options).unwrap();
    zip.write_all(br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#).unwrap();
    zip.start_file("word/document.xml", options).unwrap();
    zip.write_all(document.as_bytes()).unwrap();
    zip.finish().unwrap();
    buffer.into_inner()
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    bytes
}

async fn import(
    project: &TestProject<'_>,
    files: &[(&str, Vec<u8>)],
    fields: &[(&str, &str)],
) -> (StatusCode, Value) {
    let response = project
        .owner
        .upload(&project.api("/transcripts"), "files", files, fields)
        .await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn transcript(project: &TestProject<'_>, id: &Value) -> Value {
    let path = project.api(&format!("/transcripts/{}", id.as_str().unwrap()));
    project.owner.get(&path).await.json().await.unwrap()
}

#[tokio::test]
async fn a_batch_of_mixed_files_imports_the_good_ones_and_explains_the_bad_ones() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    // NFD "Zoë", CRLF line endings and an emoji before the second turn.
    let txt = "Interviewer: Tell me about Zoe\u{308} 👋\r\nP01: She calls families.\r\n"
        .as_bytes()
        .to_vec();
    let vtt = b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Interviewer>How long have you worked here?</v>\n\n00:01:05.500 --> 00:01:09.000\n<v P01>Twenty years.</v>\n".to_vec();
    let srt = b"1\n00:00:01,000 --> 00:00:03,000\nInterviewer: Hello.\n\n2\n00:00:03,500 --> 00:00:06,000\nP02: Hi there.\n".to_vec();
    let word = docx(&[("Interviewer", "What helps?"), ("P03", "A shared nurse.")]);
    let files = [
        ("P01 interview.txt", txt),
        ("teams.vtt", vtt),
        ("zoom.srt", srt),
        ("word.docx", word),
        ("utf16.txt", utf16le("Interviewer: Größe?\nP04: Ja.")),
        ("empty.txt", Vec::new()),
        ("binary.txt", vec![0, 159, 146, 150, 0, 1, 2, 3]),
        ("notes.pdf", b"%PDF-1.4".to_vec()),
        (
            "broken.vtt",
            b"WEBVTT\n\n00:00:01.000 --> 00:0x:04.000\nhello\n".to_vec(),
        ),
        ("corrupt.docx", b"PK\x03\x04 not really a zip".to_vec()),
    ];
    let (status, body) = import(&project, &files, &[]).await;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    assert_eq!(body["imported"], 5);
    assert_eq!(body["failed"], 5);
    let outcome = |name: &str| {
        body["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file_name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(outcome("empty.txt")["error"], "The file is empty.");
    assert!(
        outcome("binary.txt")["error"]
            .as_str()
            .unwrap()
            .contains("binary")
    );
    assert!(
        outcome("notes.pdf")["error"]
            .as_str()
            .unwrap()
            .contains(".pdf")
    );
    assert!(
        outcome("broken.vtt")["error"]
            .as_str()
            .unwrap()
            .contains("timestamp")
    );
    assert!(
        outcome("corrupt.docx")["error"]
            .as_str()
            .unwrap()
            .contains("damaged")
    );
    let stored: i64 = sqlx::query_scalar("select count(*) from transcripts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 5, "nothing of a bad file is stored");

    let txt = transcript(&project, &outcome("P01 interview.txt")["transcript_id"]).await;
    let text = txt["text"].as_str().unwrap();
    assert_eq!(
        text,
        "Interviewer: Tell me about Zoë 👋\nP01: She calls families."
    );
    assert_eq!(
        txt["sha256"],
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    );
    assert_eq!(txt["char_count"], text.chars().count());
    let turns = txt["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 2);
    // Code points: "Interviewer: Tell me about Zoë 👋" is 32 of them, then "\n".
    assert_eq!(turns[1]["start"], 33);
    assert_eq!(turns[1]["speaker"], "P01");
    assert_eq!(txt["lines"][1]["start"], 33);

    let vtt = transcript(&project, &outcome("teams.vtt")["transcript_id"]).await;
    assert_eq!(
        vtt["text"],
        "Interviewer: How long have you worked here?\nP01: Twenty years."
    );
    assert_eq!(vtt["turns"][1]["start_ms"], 65_500);
    let srt = transcript(&project, &outcome("zoom.srt")["transcript_id"]).await;
    assert_eq!(srt["turns"][1]["speaker"], "P02");
    let word = transcript(&project, &outcome("word.docx")["transcript_id"]).await;
    assert_eq!(
        word["text"],
        "Interviewer: What helps?\nP03: A shared nurse."
    );
    let utf16 = transcript(&project, &outcome("utf16.txt")["transcript_id"]).await;
    assert_eq!(utf16["text"], "Interviewer: Größe?\nP04: Ja.");
}

#[tokio::test]
async fn the_same_text_twice_is_refused_with_the_name_of_the_first() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let file = b"I: Hello.\nP01: Hi.".to_vec();
    let (status, _) = import(&project, &[("first.txt", file.clone())], &[]).await;
    assert_eq!(status, StatusCode::CREATED);
    // CRLF and NFC differences do not make a different text.
    let (status, body) = import(
        &project,
        &[("again.txt", b"I: Hello.\r\nP01: Hi.\r\n".to_vec())],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["files"][0]["error"]
            .as_str()
            .unwrap()
            .contains("'first'")
    );
    let stored: i64 = sqlx::query_scalar("select count(*) from transcripts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn files_over_the_size_limit_are_refused() {
    let app = TestApp::spawn_with(|c| c.max_upload_bytes = 1024).await;
    let project = app.project().await;
    let big = "word ".repeat(400).into_bytes();
    let (status, body) = import(
        &project,
        &[("big.txt", big), ("small.txt", b"fine".to_vec())],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::MULTI_STATUS);
    assert!(
        body["files"][0]["error"]
            .as_str()
            .unwrap()
            .contains("larger")
    );
    assert!(body["files"][1]["error"].is_null());
}

#[tokio::test]
async fn a_non_utf8_file_asks_for_its_encoding_and_imports_with_it() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let latin = b"P01: Caf\xe9 au lait.".to_vec();
    let (status, body) = import(&project, &[("cafe.txt", latin.clone())], &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["files"][0]["needs_encoding"], true);
    let (status, body) = import(
        &project,
        &[("cafe.txt", latin)],
        &[("encoding", "windows-1252")],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let stored = transcript(&project, &body["files"][0]["transcript_id"]).await;
    assert_eq!(stored["text"], "P01: Café au lait.");
}

#[tokio::test]
async fn participants_are_matched_by_file_name_and_the_dashboard_lists_transcripts() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    for label in ["P07", "P08"] {
        let response = project
            .owner
            .post_json(&project.api("/participants"), &json!({ "label": label }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let (_, body) = import(
        &project,
        &[
            ("P07 interview.txt", b"P07: One two three.".to_vec()),
            ("other.txt", b"Four five.".to_vec()),
        ],
        &[],
    )
    .await;
    assert_eq!(body["files"][0]["participant_label"], "P07");
    assert!(body["files"][1]["participant_label"].is_null());
    let dashboard = html(project.owner.get(&project.path("")).await).await;
    let participants = select_texts(&dashboard, "#transcripts tr.transcript td.participant");
    assert_eq!(participants, ["none", "P07"]);
    assert_eq!(
        select_texts(&dashboard, "#transcripts tr.transcript td.words"),
        ["2", "3"]
    );
}

#[tokio::test]
async fn the_transcript_page_shows_numbered_lines_turns_times_and_attributes() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let variable =
        json!({ "name": "Role", "kind": "category", "allowed_values": ["Oncologist", "Nurse"] });
    assert_eq!(
        project
            .owner
            .post_json(&project.api("/variables"), &variable)
            .await
            .status(),
        StatusCode::CREATED
    );
    let participant = json!({ "label": "P01", "values": { "Role": "oncologist" } });
    assert_eq!(
        project
            .owner
            .post_json(&project.api("/participants"), &participant)
            .await
            .status(),
        StatusCode::CREATED
    );
    let vtt = b"WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Interviewer>How long?</v>\n\n00:01:05.000 --> 00:01:09.000\n<v P01>Twenty years.</v>\n".to_vec();
    let (_, body) = import(&project, &[("P01.vtt", vtt)], &[]).await;
    let id = body["files"][0]["transcript_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let coder = project.member(Role::Coder).await;
    let response = coder
        .get(&project.path(&format!("/transcripts/{id}")))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = html(response).await;
    assert_eq!(select_texts(&page, "ol.lines li .ln"), ["1", "2"]);
    assert_eq!(
        select_texts(&page, "ol.lines li .speaker"),
        ["Interviewer:", "P01:"]
    );
    assert_eq!(
        select_texts(&page, "ol.lines li time"),
        ["00:00:01", "00:01:05"]
    );
    assert_eq!(select_texts(&page, "dl.attributes dd"), ["Oncologist"]);
    assert!(
        select_texts(&page, "#delete-form").is_empty(),
        "coders do not delete"
    );
    assert_eq!(
        coder
            .upload(
                &project.api("/transcripts"),
                "files",
                &[("x.txt", b"x".to_vec())],
                &[]
            )
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn text_edits_need_the_current_version_and_deletes_can_be_undone_by_the_owner() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let (_, body) = import(&project, &[("a.txt", b"P01: first words".to_vec())], &[]).await;
    let id = body["files"][0]["transcript_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = project.api(&format!("/transcripts/{id}"));
    let edited = project
        .owner
        .patch_json(
            &path,
            &json!({ "text": "P01: first words, corrected\r\n", "version": 1 }),
        )
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    let edited: Value = edited.json().await.unwrap();
    assert_eq!(edited["text"], "P01: first words, corrected");
    assert_eq!(edited["word_count"], 3);
    let stale = project
        .owner
        .patch_json(&path, &json!({ "title": "Old", "version": 1 }))
        .await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);

    let lead = project.member(Role::Lead).await;
    assert_eq!(lead.delete(&path).await.status(), StatusCode::NO_CONTENT);
    let dashboard = html(project.owner.get(&project.path("")).await).await;
    assert!(select_texts(&dashboard, "#transcripts tr.transcript").is_empty());
    assert_eq!(select_texts(&dashboard, "#deleted-transcripts a"), ["a"]);
    let restore = format!("{path}/restore");
    assert_eq!(
        lead.post_json(&restore, &json!({})).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        project.owner.post_json(&restore, &json!({})).await.status(),
        StatusCode::NO_CONTENT
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where entity_type = 'transcript' order by id",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "transcript.imported",
            "transcript.updated",
            "transcript.deleted",
            "transcript.restored"
        ]
    );
}

/// A folder as a researcher might pick: one good transcript, one empty file.
fn folder_with_a_bad_file() -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("concord-files-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("P01 interview.txt");
    let empty = dir.join("empty.txt");
    std::fs::write(&good, "Interviewer: Hello?\nP01: Hello, Zoë 👋.").unwrap();
    std::fs::write(&empty, "").unwrap();
    (dir, good, empty)
}

async fn titles(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("select title from transcripts")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_cli_imports_files_and_reports_the_bad_ones() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let (dir, good, empty) = folder_with_a_bad_file();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_concord"))
        .env("DATABASE_URL", &app.database_url)
        .args([
            "--log",
            "warn",
            "import",
            "--project",
            &project.id.to_string(),
        ])
        .arg(&good)
        .arg(&empty)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "one file failed: {stderr}");
    assert!(stderr.contains("empty.txt: The file is empty."), "{stderr}");
    assert!(stderr.contains("1 imported, 1 failed"), "{stderr}");
    assert_eq!(titles(&app).await, ["P01 interview"]);
}

#[tokio::test]
async fn files_are_imported_one_by_one_in_the_browser_with_a_result_for_each() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let (dir, good, empty) = folder_with_a_bad_file();

    let browser = Browser::open(&app).await;
    browser.sign_in(&project.owner.email, PASSWORD).await;
    browser.visit(&project.path("/transcripts/import")).await;
    let input = browser
        .element("#transcript-import-form input[type=file]")
        .await;
    input
        .send_keys(&format!("{}\n{}", good.display(), empty.display()))
        .await
        .expect("choosing two files");
    browser
        .element("#transcript-import-form button[type=submit]")
        .await
        .click()
        .await
        .expect("importing");
    browser
        .wait_until(
            "both results",
            "//table[@id='import-results']//tr[@class='ok' or @class='failed'][2]",
        )
        .await;
    let ok = browser.texts("#import-results tr.ok td:last-child").await;
    assert_eq!(ok.len(), 1);
    assert!(
        ok[0].starts_with("Imported as transcript, ") && ok[0].ends_with("words."),
        "{ok:?}"
    );
    assert_eq!(
        browser
            .texts("#import-results tr.failed .field-error")
            .await,
        ["The file is empty."]
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(titles(&app).await, ["P01 interview"]);
}

#[tokio::test]
async fn files_larger_than_the_general_body_limit_still_import() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    // 3 MB: over the 2 MiB limit of ordinary requests, under the 20 MB upload limit.
    let text = "P01: ".to_owned() + &"words of a long interview ".repeat(120_000);
    assert!(text.len() > 3_000_000);
    let (status, body) = import(&project, &[("long.txt", text.into_bytes())], &[]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["files"][0]["word_count"], 600_000);
}

#[tokio::test]
async fn a_frozen_transcripts_text_is_shown_read_only_with_the_reason() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let text = "Interviewer: How are you?\nP01: Tired, but fine.";
    let id = project.import_text("p01.txt", text).await;
    let edit = project.path(&format!("/transcripts/{id}/edit"));
    let textarea = Selector::parse("#edit-transcript-form textarea[name=text]").unwrap();
    let page = html(project.owner.get(&edit).await).await;
    assert_eq!(page.select(&textarea).count(), 1, "editable before coding");
    assert!(select_texts(&page, "#frozen-note").is_empty());

    let coder = project.member(Role::Coder).await;
    let assign = json!({ "transcript_ids": [id], "user_ids": [coder.id] });
    let response = project
        .owner
        .post_json(&project.api("/assignments"), &assign)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let code = uuid::Uuid::new_v4();
    let response = coder
        .post_json(
            &project.api("/codes"),
            &json!({ "id": code, "name": "fatigue" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let coding = uuid::Uuid::new_v4();
    let response = coder
        .post_json(
            &project.api(&format!("/transcripts/{id}/codings")),
            &json!({ "id": coding, "code_id": code, "start": 31, "end": 36 }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    // Coded: the text is shown as it is, with why it cannot change; even after
    // the coding is deleted (it can be undone, so it still points into the text).
    for deleted in [false, true] {
        if deleted {
            let response = coder
                .delete(&project.api(&format!("/codings/{coding}")))
                .await;
            assert!(response.status().is_success(), "{}", response.status());
        }
        let page = html(project.owner.get(&edit).await).await;
        assert_eq!(page.select(&textarea).count(), 0, "deleted: {deleted}");
        let any_text_field = Selector::parse("[name=text]").unwrap();
        assert_eq!(page.select(&any_text_field).count(), 0);
        assert_eq!(select_texts(&page, "#frozen-text"), [text]);
        let note = select_texts(&page, "#frozen-note").join(" ");
        assert!(
            note.contains("coded") && note.contains("cannot be changed"),
            "{note}"
        );
    }

    // Title and participant still save; the text stays as it was.
    let response = project
        .owner
        .post_form(
            &edit,
            &[
                ("title", "P01, first visit"),
                ("version", "1"),
                ("participant_id", "none"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let saved = transcript(&project, &json!(id)).await;
    assert_eq!(saved["title"], "P01, first visit");
    assert_eq!(saved["text"], text);
    assert_eq!(saved["version"], 2);
}
