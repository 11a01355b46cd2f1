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
        .expect("previewing");
    browser
        .wait_until(
            "both previews",
            "//table[@id='import-results']//tr[contains(@class,'preview') or @class='failed'][2]",
        )
        .await;
    // The good file shows its first lines and its speakers before import.
    assert_eq!(
        browser
            .texts("#import-results tr.preview pre.first-lines")
            .await,
        ["Interviewer: Hello?\nP01: Hello, Zoë 👋."]
    );
    assert_eq!(
        browser
            .texts("#import-results tr.preview ul.speakers li")
            .await,
        ["Interviewer (1 turn)", "P01 (1 turn)"]
    );
    assert!(titles(&app).await.is_empty(), "a preview stores nothing");
    browser
        .element("#import-all")
        .await
        .click()
        .await
        .expect("importing");
    browser
        .wait_until(
            "the import",
            "//table[@id='import-results']//tr[@class='ok']",
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

/// A file from tests/fixtures/import (SOURCES.md says where each comes from).
fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

async fn preview(
    project: &TestProject<'_>,
    files: &[(&str, Vec<u8>)],
    fields: &[(&str, &str)],
) -> Value {
    let response = project
        .owner
        .upload(&project.api("/transcripts/preview"), "files", files, fields)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn stored_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from transcripts")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_preview_decodes_legacy_encodings_by_a_guess_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let body = preview(
        &project,
        &[
            ("gb2312.srt", fixture("gb2312.srt")),
            ("P03.txt", fixture("hebrew-windows-1255.txt")),
            ("utf32.srt", fixture("bom-utf-32-le.srt")),
        ],
        &[],
    )
    .await;
    let files = body["files"].as_array().unwrap();
    assert_eq!(files[0]["encoding"], "GBK");
    assert_eq!(files[0]["encoding_guessed"], true);
    assert_eq!(files[0]["first_lines"][0], "宇宙守护神 保护我们远离邪恶");
    assert!(
        files[0]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("looks like GBK")
    );
    assert_eq!(files[1]["encoding"], "windows-1255");
    assert_eq!(
        files[1]["first_lines"][0],
        "מראיינת: איך התחלת לעבוד במחלקה?"
    );
    assert_eq!(files[1]["speakers"][1]["name"], "משתתף 3");
    assert_eq!(files[2]["encoding"], "UTF-32LE");
    assert_eq!(files[2]["encoding_guessed"], false);
    assert_eq!(stored_count(&app).await, 0, "a preview stores nothing");

    // Imported without a choice, a guess is never stored: the file asks.
    let (status, body) = import(&project, &[("gb2312.srt", fixture("gb2312.srt"))], &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["files"][0]["needs_encoding"], true);
    assert_eq!(body["files"][0]["suggested_encoding"], "GBK");
    assert_eq!(stored_count(&app).await, 0);
    let (status, body) = import(
        &project,
        &[("gb2312.srt", fixture("gb2312.srt"))],
        &[("encoding", "gb2312")],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let stored = transcript(&project, &body["files"][0]["transcript_id"]).await;
    assert!(stored["text"].as_str().unwrap().starts_with("宇宙守护神"));
    assert_eq!(stored["encoding"], "GBK");

    let (status, body) = import(
        &project,
        &[("utf32.srt", fixture("bom-utf-32-le.srt"))],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let stored = transcript(&project, &body["files"][0]["transcript_id"]).await;
    assert_eq!(stored["encoding"], "UTF-32LE");

    let (status, body) = import(
        &project,
        &[("x.txt", b"hi".to_vec())],
        &[("encoding", "klingon")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["errors"]["encoding"][0]
            .as_str()
            .unwrap()
            .contains("klingon")
    );
}

#[tokio::test]
async fn youtube_captions_import_with_each_cues_times_and_without_settings() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let body = preview(&project, &[("talk.vtt", fixture("youtube_dl.vtt"))], &[]).await;
    let not_kept = body["files"][0]["not_kept"].as_array().unwrap();
    assert!(
        not_kept
            .iter()
            .any(|n| n.as_str().unwrap().contains("cue settings")),
        "{not_kept:?}"
    );
    let (status, body) = import(&project, &[("talk.vtt", fixture("youtube_dl.vtt"))], &[]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let stored = transcript(&project, &body["files"][0]["transcript_id"]).await;
    assert_eq!(
        stored["text"],
        "yeah\nwhat\nthis will happen is I'm telling"
    );
    let last = &stored["turns"][2];
    assert_eq!(last["start_ms"], 304_080);
    assert_eq!(last["end_ms"], 305_400);
    assert_eq!(last["cues"][0]["start"], 10);
    // The repeat that followed it (00:05:05.069 to .400) lengthens it.
    assert_eq!(last["cues"][0]["end_ms"], 305_400);
}

#[tokio::test]
async fn the_speakers_found_are_previewed_and_a_dropped_one_stays_text() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let vtt = b"WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nAna: How did it start?\n\n00:00:03.000 --> 00:00:05.000\nDigo: que no.\n\n00:00:05.000 --> 00:00:07.000\nAna: Go on.\n\n00:00:07.000 --> 00:00:09.000\nDigo: que si.\n".to_vec();
    let body = preview(&project, &[("P01.vtt", vtt.clone())], &[]).await;
    assert_eq!(
        body["files"][0]["speakers"],
        json!([{ "name": "Ana", "turns": 2 }, { "name": "Digo", "turns": 2 }])
    );
    let body = preview(
        &project,
        &[("P01.vtt", vtt.clone())],
        &[("not_speaker", "Digo")],
    )
    .await;
    assert_eq!(
        body["files"][0]["speakers"],
        json!([{ "name": "Ana", "turns": 2 }])
    );
    assert_eq!(body["files"][0]["not_speakers"], json!(["Digo"]));
    assert_eq!(body["files"][0]["first_lines"][1], "Digo: que no.");

    let (status, body) = import(&project, &[("P01.vtt", vtt)], &[("not_speaker", "Digo")]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let stored = transcript(&project, &body["files"][0]["transcript_id"]).await;
    let speakers: Vec<&Value> = stored["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["speaker"])
        .collect();
    assert_eq!(
        speakers,
        [&json!("Ana"), &Value::Null, &json!("Ana"), &Value::Null]
    );

    // Spanish subtitles where "Digo:" opens one sentence: no speaker at all.
    let body = preview(
        &project,
        &[("cable.vtt", fixture("netflix_chicas_del_cable.vtt"))],
        &[],
    )
    .await;
    assert_eq!(body["files"][0]["speakers"], json!([]));
    assert!(
        body["files"][0]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("'Digo:'")
    );
}

#[tokio::test]
async fn word_documents_keep_lists_tables_notes_comments_headers_and_footers() {
    let app = TestApp::spawn().await;
    let project = app.project().await;
    let files = [
        ("list.docx", fixture("mammoth-simple-list.docx")),
        ("table.docx", fixture("mammoth-tables.docx")),
        ("notes.docx", fixture("mammoth-footnotes.docx")),
        ("comments.docx", fixture("mammoth-comments.docx")),
        (
            "headers.docx",
            fixture("python-docx-hdr-header-footer.docx"),
        ),
        ("picture.docx", fixture("mammoth-tiny-picture.docx")),
    ];
    let body = preview(&project, &files, &[]).await;
    let previews = body["files"].as_array().unwrap();
    assert_eq!(previews[4]["headers"], json!(["Header for section-1"]));
    assert_eq!(previews[4]["footers"], json!(["Footer for section 1"]));
    assert_eq!(
        previews[3]["comments"][0],
        json!({ "author": "Michael Williamson", "text": "A tachyon walks into a bar.", "quote": "Ouch", "line": 1 })
    );
    assert!(
        previews[0]["not_kept"][0]
            .as_str()
            .unwrap()
            .starts_with("formatting")
    );
    let picture = previews[5]["error"].as_str().unwrap();
    assert!(picture.contains("only 1 picture"), "{picture}");

    let (status, body) = import(&project, &files, &[]).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    assert_eq!(body["files"][5]["error"], json!(picture));
    let mut stored = Vec::new();
    for file in &body["files"].as_array().unwrap()[..5] {
        stored.push(transcript(&project, &file["transcript_id"]).await);
    }
    assert_eq!(stored[0]["text"], "• Apple\n• Banana");
    assert_eq!(
        stored[1]["text"],
        "Above\nTop left | Top right\nBottom left | Bottom right\nBelow"
    );
    assert_eq!(
        stored[2]["text"],
        "Ouch[1].[2]\n\nFootnotes\n[1] A tachyon walks into a bar.\n[2] Fin."
    );
    assert_eq!(
        stored[3]["metadata"]["comments"][0]["span"],
        json!({ "start": 0, "end": 4 })
    );
    assert_eq!(
        stored[4]["metadata"]["headers"],
        json!(["Header for section-1"])
    );

    // The transcript page shows them beside the text.
    let page = html(
        project
            .owner
            .get(&project.path(&format!(
                "/transcripts/{}",
                body["files"][4]["transcript_id"].as_str().unwrap()
            )))
            .await,
    )
    .await;
    assert_eq!(
        select_texts(&page, "#headers-footers dd"),
        ["Header for section-1", "Footer for section 1"]
    );
    let page = html(
        project
            .owner
            .get(&project.path(&format!(
                "/transcripts/{}",
                body["files"][3]["transcript_id"].as_str().unwrap()
            )))
            .await,
    )
    .await;
    let listed = select_texts(&page, "#document-comments li");
    assert_eq!(listed.len(), 2);
    assert!(
        listed[0].starts_with("line 1 “Ouch”: A tachyon walks into a bar."),
        "{listed:?}"
    );
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
