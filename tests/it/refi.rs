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
