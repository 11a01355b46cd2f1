//! The reader against the sample files of `tests/fixtures/refi/samples` (from
//! ATLAS.ti, NVivo for Mac and Windows and MAXQDA) and against generated files
//! in each producer's conventions, good and bad.

use super::archive::tests::zip_of;
use super::*;

const USER_A: &str = "11111111-1111-4111-8111-111111111111";
const USER_B: &str = "22222222-2222-4222-8222-222222222222";
const CODE_X: &str = "33333333-3333-4333-8333-333333333333";
const CODE_Y: &str = "44444444-4444-4444-8444-444444444444";
const SOURCE: &str = "55555555-5555-4555-8555-555555555555";

fn sample(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/refi/samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn read_sample(name: &str) -> Project {
    read(name, &sample(name), &ReadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Occurrences of `<tag ` or `<tag>` or `<tag/>` in the file's text, counted
/// independently of the parser.
fn count_tags(name: &str, tag: &str) -> usize {
    let bytes = sample(name);
    let text = if name.ends_with(".qdpx") {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut qde = archive.by_name("project.qde").unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut qde, &mut text).unwrap();
        text
    } else {
        String::from_utf8(bytes).unwrap()
    };
    // Selections inside picture, PDF, audio and video sources are not text selections.
    let mut text = text;
    for kind in ["PictureSource", "PDFSource", "AudioSource", "VideoSource"] {
        while let Some(start) = text.find(&format!("<{kind} ")) {
            let close = format!("</{kind}>");
            let tag_end = start + text[start..].find('>').unwrap();
            let end = if text[..tag_end].ends_with('/') {
                tag_end + 1
            } else {
                start + text[start..].find(&close).unwrap() + close.len()
            };
            text.replace_range(start..end, "");
        }
    }
    [" ", ">", "/"]
        .iter()
        .map(|end| text.matches(&format!("<{tag}{end}")).count())
        .sum()
}

#[test]
fn every_sample_reads_with_every_code_user_and_selection() {
    for name in [
        "atlasti-8.4-refi-spec-example.qde",
        "atlasti-win-23.2-project.qdpx",
        "maxqda-24.7-project.qde",
        "nvivo-mac-15.0-project.qdpx",
        "nvivo-win-12.6-project.qde",
    ] {
        let project = read_sample(name);
        assert_eq!(
            project.all_codes().len(),
            count_tags(name, "Code"),
            "{name} codes"
        );
        assert_eq!(
            project.users.len(),
            count_tags(name, "User"),
            "{name} users"
        );
        let selections: usize = project.sources.iter().map(|s| s.selections.len()).sum();
        assert_eq!(
            selections,
            count_tags(name, "PlainTextSelection"),
            "{name} selections"
        );
        assert_eq!(
            project.sources.len(),
            count_tags(name, "TextSource"),
            "{name} text sources"
        );
        let codings = project.codings().count();
        // Whole-source codings are not read, and said so.
        let whole: usize = count_tags(name, "Coding") - codings;
        if whole > 0 {
            assert!(
                project.notices.iter().any(|n| n.contains("whole sources")),
                "{name}: {:?}",
                project.notices
            );
        }
    }
}

#[test]
fn a_qde_without_its_sources_reads_with_a_clear_note() {
    for name in [
        "nvivo-win-12.6-project.qde",
        "atlasti-8.4-refi-spec-example.qde",
    ] {
        let project = read_sample(name);
        assert_eq!(project.kind, FileKind::Qde);
        assert!(project.sources.iter().all(|s| s.text.is_none()));
        assert!(project.offsets.is_none());
        let note = project
            .notices
            .iter()
            .find(|n| n.contains("no source texts"))
            .unwrap_or_else(|| panic!("{name}: {:?}", project.notices));
        assert!(note.contains(".qdpx"), "{note}");
    }
}

#[test]
fn the_nvivo_for_windows_sample_keeps_every_coder_and_code() {
    let project = read_sample("nvivo-win-12.6-project.qde");
    assert_eq!(project.origin.as_deref(), Some("NVivo for Windows 12.6"));
    let coders: std::collections::BTreeSet<_> =
        project.codings().filter_map(|(_, _, c)| c.user).collect();
    assert!(!coders.is_empty());
    assert!(
        coders
            .iter()
            .all(|u| project.users.iter().any(|v| v.guid == *u))
    );
    for (_, _, coding) in project.codings() {
        assert!(project.code(coding.code).is_some());
    }
}

#[test]
fn the_nvivo_for_mac_archive_finds_its_lowercase_sources() {
    let project = read_sample("nvivo-mac-15.0-project.qdpx");
    assert_eq!(project.kind, FileKind::Qdpx);
    assert_eq!(project.sources.len(), 2);
    for source in &project.sources {
        let text = source.text.as_ref().expect("text from sources/");
        assert_eq!(text.canonical.text, "\n");
    }
    // Deeply nested codes keep their nesting.
    assert!(project.all_codes().iter().any(|(depth, _)| *depth >= 2));
}

#[test]
fn the_atlas_codebook_reads_codes_colours_and_sets() {
    let project = read_sample("atlasti-win-23.4-codebook.qdc");
    assert_eq!(project.kind, FileKind::Qdc);
    assert_eq!(project.codes.len(), 1);
    let code = &project.codes[0];
    assert_eq!(code.name, "code1");
    assert_eq!(code.color.as_deref(), Some("#46AA00"));
    assert_eq!(code.description.as_deref(), Some("description"));
    assert_eq!(project.sets.len(), 1);
    assert_eq!(project.sets[0].codes, vec![code.guid]);
}

#[test]
fn maxqda_colours_and_descriptions_are_kept() {
    let project = read_sample("maxqda-24.7-project.qde");
    let codes = project.all_codes();
    assert!(codes.iter().all(|(_, c)| c.color.is_some()));
    assert!(
        codes
            .iter()
            .filter(|(_, c)| c.description.is_some())
            .count()
            > 100
    );
}

/// One text source with `selections` (start, end, name, code, user).
fn qde(origin: &str, source_path: &str, selections: &[(i64, i64, &str, &str, &str)]) -> String {
    let mut out = format!(
        r##"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Generated" origin="{origin}">
  <Users><User guid="{USER_A}" name="Ana"/><User guid="{USER_B}" name="Ben"/></Users>
  <CodeBook><Codes>
    <Code guid="{CODE_X}" name="Workload" isCodable="true" color="#ff0000"><Code guid="{CODE_Y}" name="Paperwork" isCodable="true"/></Code>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="{SOURCE}" name="P01" plainTextPath="{source_path}">
"##
    );
    for (i, (start, end, name, code, user)) in selections.iter().enumerate() {
        out += &format!(
            r#"      <PlainTextSelection guid="aaaaaaaa-0000-4000-8000-{i:012}" name="{name}" startPosition="{start}" endPosition="{end}" creatingUser="{user}">
        <Coding guid="bbbbbbbb-0000-4000-8000-{i:012}" creatingUser="{user}"><CodeRef targetGUID="{code}"/></Coding>
      </PlainTextSelection>
"#
        );
    }
    out + "    </TextSource>\n  </Sources>\n</Project>\n"
}

fn qdpx(qde: &str, text: &[u8]) -> Vec<u8> {
    zip_of(&[
        ("project.qde", qde.as_bytes()),
        (&format!("Sources/{SOURCE}.txt"), text),
    ])
}

fn slices(project: &Project) -> Vec<String> {
    let source = &project.sources[0];
    let text: Vec<char> = source
        .text
        .as_ref()
        .unwrap()
        .canonical
        .text
        .chars()
        .collect();
    source
        .selections
        .iter()
        .map(|s| text[s.start as usize..s.end as usize].iter().collect())
        .collect()
}

fn utf16_len(text: &str) -> i64 {
    text.encode_utf16().count() as i64
}

#[test]
fn nvivo_for_windows_offsets_are_utf16_units_with_crlf_as_two() {
    // A BOM (not counted), CRLF line breaks and an emoji before the coded words.
    let body = "I: How is work? 😩\r\nP01: The paperwork never ends.\r\nI: And the ward?\r\nP01: Busy 👋 busy.";
    let mut file = b"\xEF\xBB\xBF".to_vec();
    file.extend(body.as_bytes());
    let paperwork = body.find("The paperwork").unwrap();
    let start = utf16_len(&body[..paperwork]);
    let end = start + utf16_len("The paperwork never ends.");
    let busy = body.rfind("Busy").unwrap();
    let busy_start = utf16_len(&body[..busy]);
    let busy_end = busy_start + utf16_len("Busy 👋 busy.");
    let xml = qde(
        "NVivo for Windows 12.6",
        &format!("internal://{SOURCE}.txt"),
        &[
            (start, end, "", CODE_Y, USER_A),
            (busy_start, busy_end, "", CODE_X, USER_B),
        ],
    );
    let project = read("p.qdpx", &qdpx(&xml, &file), &ReadOptions::default()).unwrap();
    let reading = project.offsets.as_ref().unwrap();
    assert_eq!(
        reading.convention,
        Convention::Utf16Units,
        "{}",
        reading.reason
    );
    assert_eq!(
        slices(&project),
        ["The paperwork never ends.", "Busy 👋 busy."]
    );
    let text = project.sources[0].text.as_ref().unwrap();
    assert!(text.had_bom);
    assert!(!text.canonical.text.contains('\r'));
}

#[test]
fn offsets_with_crlf_as_one_are_detected_from_the_selected_text() {
    let body = "Line one is here.\r\nLine two is here.\r\nLine three is the last.";
    let crlf_as_one = |s: &str| s.replace("\r\n", "\n").chars().count() as i64;
    let three = body.find("Line three").unwrap();
    let two = body.find("Line two").unwrap();
    let spans = [
        (
            crlf_as_one(&body[..two]),
            crlf_as_one(&body[..two]) + 17,
            "Line two is here.",
        ),
        (
            crlf_as_one(&body[..three]),
            crlf_as_one(&body[..three]) + 23,
            "Line three is the last.",
        ),
    ];
    let selections: Vec<_> = spans
        .iter()
        .map(|(s, e, name)| (*s, *e, *name, CODE_X, USER_A))
        .collect();
    let xml = qde(
        "ATLAS.ti 9",
        &format!("internal://{SOURCE}.txt"),
        &selections,
    );
    let project = read(
        "p.qdpx",
        &qdpx(&xml, body.as_bytes()),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        project.offsets.as_ref().unwrap().convention,
        Convention::CrlfAsOne
    );
    assert_eq!(
        slices(&project),
        ["Line two is here.", "Line three is the last."]
    );
    // The same file in the standard reading (CRLF as 2), when told so.
    let options = ReadOptions {
        convention: Some(Convention::CodePoints),
        ..ReadOptions::default()
    };
    let forced = read("p.qdpx", &qdpx(&xml, body.as_bytes()), &options).unwrap();
    assert_ne!(slices(&forced), slices(&project));
}

#[test]
fn standard_offsets_of_decomposed_text_land_on_the_composed_text() {
    // NFD "é" (e + combining acute) before the selection: 2 code points in the
    // file, 1 in Concord's canonical text.
    let body = "Caf\u{65}\u{301} talk. Coded words.";
    let coded = body.find("Coded").unwrap();
    let coded_start = body[..coded].chars().count() as i64;
    let xml = qde(
        "MAXQDA 24",
        &format!("internal://{SOURCE}.txt"),
        &[
            (
                coded_start,
                coded_start + 12,
                "Coded words.",
                CODE_X,
                USER_A,
            ),
            (0, 5, "", CODE_Y, USER_B),
        ],
    );
    let project = read(
        "p.qdpx",
        &qdpx(&xml, body.as_bytes()),
        &ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(slices(&project), ["Coded words.", "Café"]);
}

#[test]
fn inline_plain_text_content_needs_no_archive() {
    let xml = qde("QualCoder 3.5", "", &[(0, 5, "Hello", CODE_X, USER_A)]).replace(
        " plainTextPath=\"\">",
        "><PlainTextContent>Hello world</PlainTextContent>",
    );
    let project = read("p.qde", xml.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(slices(&project), ["Hello"]);
}

fn error_of(name: &str, bytes: &[u8]) -> RefiError {
    read(name, bytes, &ReadOptions::default()).expect_err("refused")
}

#[test]
fn a_selection_outside_its_source_is_refused_with_its_guid() {
    let xml = qde(
        "Concord",
        &format!("internal://{SOURCE}.txt"),
        &[(3, 40, "", CODE_X, USER_A)],
    );
    let error = error_of("p.qdpx", &qdpx(&xml, b"Short text."));
    assert!(
        matches!(error, RefiError::SelectionOutside { length: 11, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("aaaaaaaa-0000-4000-8000-000000000000") && message.contains("P01"),
        "{message}"
    );
}

#[test]
fn a_reversed_selection_is_refused() {
    let xml = qde(
        "Concord",
        &format!("internal://{SOURCE}.txt"),
        &[(5, 2, "", CODE_X, USER_A)],
    );
    let error = error_of("p.qdpx", &qdpx(&xml, b"Short text."));
    assert!(
        matches!(
            error,
            RefiError::SelectionReversed {
                start: 5,
                end: 2,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn a_missing_source_file_is_refused() {
    let xml = qde("Concord", "internal://missing.txt", &[]);
    let error = error_of("p.qdpx", &zip_of(&[("project.qde", xml.as_bytes())]));
    assert_eq!(
        error,
        RefiError::MissingSource {
            source_name: "P01".into(),
            path: "internal://missing.txt".into()
        }
    );
}

#[test]
fn a_guid_used_twice_is_refused_naming_both_elements() {
    let xml = qde("Concord", &format!("internal://{SOURCE}.txt"), &[]).replace(
        &format!("guid=\"{CODE_Y}\""),
        &format!("guid=\"{{{}}}\"", CODE_X.to_uppercase()),
    );
    let error = error_of("p.qdpx", &qdpx(&xml, b"text"));
    let RefiError::DuplicateGuid { first, second, .. } = &error else {
        panic!("{error:?}")
    };
    assert!(
        first.contains("Workload") && second.contains("Paperwork"),
        "{error}"
    );
}

#[test]
fn a_coding_with_an_unknown_code_is_refused() {
    let unknown = "99999999-9999-4999-8999-999999999999";
    let xml = qde(
        "Concord",
        &format!("internal://{SOURCE}.txt"),
        &[(0, 4, "", unknown, USER_A)],
    );
    let error = error_of("p.qdpx", &qdpx(&xml, b"text"));
    assert!(
        matches!(error, RefiError::UnknownCode { ref code, .. } if code == unknown),
        "{error:?}"
    );
}

#[test]
fn a_dtd_or_an_entity_is_refused_in_the_project_document() {
    let xml = qde("Concord", &format!("internal://{SOURCE}.txt"), &[]);
    let with_dtd = xml.replacen(
        "<Project",
        "<!DOCTYPE Project [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<Project",
        1,
    );
    assert!(matches!(
        error_of("p.qdpx", &qdpx(&with_dtd, b"text")),
        RefiError::Doctype { .. }
    ));
    let with_entity = xml.replace("name=\"Generated\"", "name=\"&xxe;\"");
    let error = error_of("p.qde", with_entity.as_bytes());
    assert!(error.to_string().contains("&xxe;"), "{error}");
}

#[test]
fn invalid_xml_and_wrong_roots_are_refused() {
    let error = error_of("p.qde", b"<Project name=\"x\"><Users></Project>");
    assert!(matches!(error, RefiError::InvalidXml { .. }), "{error:?}");
    let error = error_of("p.qdc", b"<Project name=\"x\"/>");
    assert!(matches!(error, RefiError::WrongRoot { .. }), "{error:?}");
    let error = error_of("p.txt", b"<Project/>");
    assert!(
        matches!(error, RefiError::UnknownExtension { .. }),
        "{error:?}"
    );
    let error = error_of("p.qdpx", b"not a zip at all");
    assert!(matches!(error, RefiError::NotZip { .. }), "{error:?}");
    let error = error_of("p.qdpx", &zip_of(&[("readme.txt", b"x")]));
    assert_eq!(error, RefiError::MissingProjectDocument);
}

#[test]
fn bad_guids_and_offsets_name_their_line() {
    let xml = qde("Concord", "", &[]).replace(USER_A, "not-a-guid");
    let error = error_of("p.qde", xml.as_bytes());
    assert!(
        matches!(
            error,
            RefiError::BadAttribute {
                line: 3,
                attribute: "guid",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn archive_safety_is_checked_before_the_project_is_read() {
    let xml = qde("Concord", &format!("internal://{SOURCE}.txt"), &[]);
    let error = error_of(
        "p.qdpx",
        &zip_of(&[
            ("project.qde", xml.as_bytes()),
            ("sources/../../x.txt", b"x"),
        ]),
    );
    assert!(
        matches!(error, RefiError::UnsafeEntryName { .. }),
        "{error:?}"
    );
    let bomb = vec![b' '; 20_000_000];
    let error = error_of("p.qdpx", &zip_of(&[("project.qde", &bomb)]));
    assert!(
        matches!(error, RefiError::CompressionRatio { .. }),
        "{error:?}"
    );
}

#[test]
fn any_single_qde_at_the_top_is_the_project() {
    let xml = qde(
        "ATLAS.ti 26",
        &format!("internal://{SOURCE}.txt"),
        &[(0, 4, "text", CODE_X, USER_A)],
    );
    let bytes = zip_of(&[
        ("Trial.qde", xml.as_bytes()),
        (&format!("sources/{SOURCE}.txt"), b"text"),
    ]);
    let project = read("Trial.qdpx", &bytes, &ReadOptions::default()).unwrap();
    assert_eq!(slices(&project), ["text"]);
}
