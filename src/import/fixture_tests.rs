//! The importers against real files from other projects' test suites, and
//! a reproduction where a file's licence forbids keeping it
//! (tests/fixtures/import/SOURCES.md says where each comes from).

use std::io::{Cursor, Read, Write};

use super::*;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/import/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse_bytes(
    name: &str,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ParsedTranscript, ImportError> {
    let kind = detect_kind(name).unwrap();
    let parsed = parse_transcript(bytes, kind, options);
    if let Ok(parsed) = &parsed {
        tests::assert_well_formed(parsed);
    }
    parsed
}

fn parse(name: &str, options: &ImportOptions) -> Result<ParsedTranscript, ImportError> {
    parse_bytes(name, &fixture(name), options)
}

fn with_encoding(encoding: Encoding) -> ImportOptions {
    ImportOptions {
        encoding: Some(encoding),
        ..ImportOptions::default()
    }
}

fn lines(parsed: &ParsedTranscript) -> Vec<&str> {
    parsed.text.split('\n').collect()
}

fn slice(text: &str, start: usize, end: usize) -> String {
    text.chars().skip(start).take(end - start).collect()
}

/// The same package with one part's text replaced.
fn rewrite_part(docx: &[u8], part: &str, from: &str, to: &str) -> Vec<u8> {
    let mut archive = zip::ZipArchive::new(Cursor::new(docx)).unwrap();
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).unwrap();
        let name = file.name().unwrap().into_owned();
        let mut contents = Vec::new();
        file.read_to_end(&mut contents).unwrap();
        if name == part {
            let text = String::from_utf8(contents).unwrap();
            assert!(text.contains(from), "{part} has {from:?}");
            contents = text.replace(from, to).into_bytes();
        }
        writer
            .start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        writer.write_all(&contents).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn gb2312_subtitles_are_refused_with_gbk_suggested_and_read_in_it() {
    let error = parse("gb2312.srt", &ImportOptions::default()).unwrap_err();
    assert_eq!(
        error,
        ImportError::EncodingChoiceNeeded {
            line: 3,
            suggestion: Encoding::for_label("gb2312").unwrap()
        }
    );
    assert!(error.to_string().contains("It looks like GBK"), "{error}");
    let parsed = parse(
        "gb2312.srt",
        &with_encoding(Encoding::for_label("GBK").unwrap()),
    )
    .unwrap();
    assert_eq!(
        lines(&parsed),
        [
            "宇宙守护神 保护我们远离邪恶",
            "他能徒手抓住子弹 拦住疾速的火车",
            "轻轻一跳就能飞跃高楼"
        ]
    );
    assert_eq!(parsed.turns[0].start_ms, Some(27_000));
    assert_eq!(parsed.turns[0].end_ms, Some(30_730));
    // Read as Windows-1252 the same bytes are mojibake, which is why the
    // guess is shown before anything is stored rather than used.
    let wrong = parse("gb2312.srt", &with_encoding(Encoding::WINDOWS_1252)).unwrap();
    assert!(!wrong.text.contains('宇'));
}

#[test]
fn windows_1255_hebrew_is_guessed_and_keeps_its_speakers() {
    // A reproduction: chardet's Hebrew samples are copyright their sites.
    let name = "hebrew-windows-1255.txt";
    let Err(ImportError::EncodingChoiceNeeded { suggestion, .. }) =
        parse(name, &ImportOptions::default())
    else {
        panic!("a Windows-1255 file is not UTF-8");
    };
    assert_eq!(suggestion.name(), "windows-1255");
    let (preview, encoding, guessed) = decode_for_preview(&fixture(name)).unwrap();
    assert_eq!((encoding, guessed), (suggestion, true));
    assert!(preview.starts_with("מראיינת: איך התחלת לעבוד במחלקה?"));
    let parsed = parse(name, &with_encoding(suggestion)).unwrap();
    assert_eq!(
        parsed.speakers(),
        [("מראיינת".to_owned(), 3), ("משתתף 3".to_owned(), 3)]
    );
    assert_eq!(parsed.encoding, Some(suggestion));
}

#[test]
fn utf32_with_a_byte_order_mark_is_read() {
    let parsed = parse("bom-utf-32-le.srt", &ImportOptions::default()).unwrap();
    assert_eq!(parsed.encoding, Some(Encoding::UTF_32LE));
    assert_eq!(
        lines(&parsed)[0],
        "About 2 months ago I found myself on the comment section of YouTube"
    );
    assert_eq!(parsed.turns.len(), 7);
    assert_eq!(parsed.turns[1].start_ms, Some(11_000));
    assert_eq!(parsed.turns[1].end_ms, Some(17_000));
}

#[test]
fn youtube_captions_keep_their_times_not_their_settings_or_repeats() {
    // Cues with `align:start position:0%`, one with no blank line before
    // its timing, karaoke timestamps, and rolling lines shown twice.
    let parsed = parse("youtube_dl.vtt", &ImportOptions::default()).unwrap();
    assert_eq!(parsed.text, "yeah\nwhat\nthis will happen is I'm telling");
    let times: Vec<_> = parsed
        .turns
        .iter()
        .map(|t| (t.start_ms, t.end_ms))
        .collect();
    assert_eq!(
        times,
        [
            (Some(286_070), Some(286_470)),
            (Some(286_470), Some(304_080)),
            // The last cue only repeats its line, and lengthens this one.
            (Some(304_080), Some(305_400)),
        ]
    );
    assert!(
        parsed
            .not_kept
            .iter()
            .any(|n| n.contains("cue settings") && n.contains("4 caption")),
        "{:?}",
        parsed.not_kept
    );
    assert!(
        parsed
            .not_kept
            .iter()
            .any(|n| n.starts_with("2 caption line(s) that repeat")),
        "{:?}",
        parsed.not_kept
    );
}

#[test]
fn a_phrase_ending_in_a_colon_once_in_spanish_subtitles_is_not_a_speaker() {
    let parsed = parse("netflix_chicas_del_cable.vtt", &ImportOptions::default()).unwrap();
    assert!(parsed.speakers().is_empty(), "{:?}", parsed.speakers());
    assert!(
        parsed
            .text
            .contains("\nDigo: \"Le doy un abrazo al estirado\".\n")
    );
    assert!(
        parsed.warnings[0].contains("'Digo:'"),
        "{:?}",
        parsed.warnings
    );
    assert_eq!(parsed.turns[0].start_ms, Some(7_960));
    assert_eq!(slice(&parsed.text, 0, 15), "[Alba] En 1928,");
    assert!(!parsed.text.contains("-->") && !parsed.text.contains("position:"));
}

#[test]
fn word_bullets_and_list_style_numbers_are_kept() {
    let bullets = parse("mammoth-simple-list.docx", &ImportOptions::default()).unwrap();
    assert_eq!(bullets.text, "• Apple\n• Banana");
    let numbered = parse(
        "python-docx-num-having-numbering-part.docx",
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(numbered.text, "1. Paragraph having List Number style.");
}

#[test]
fn each_table_row_is_one_line_with_its_cells_separated() {
    let parsed = parse("mammoth-tables.docx", &ImportOptions::default()).unwrap();
    assert_eq!(
        parsed.text,
        "Above\nTop left | Top right\nBottom left | Bottom right\nBelow"
    );
    assert_eq!(parsed.turns.len(), 4);
}

#[test]
fn footnotes_and_endnotes_follow_the_text_with_their_marks_in_place() {
    let footnotes = parse("mammoth-footnotes.docx", &ImportOptions::default()).unwrap();
    assert_eq!(
        footnotes.text,
        "Ouch[1].[2]\n\nFootnotes\n[1] A tachyon walks into a bar.\n[2] Fin."
    );
    // Each note is a turn of its own, not the last speaker's words.
    let turns: Vec<String> = footnotes
        .turns
        .iter()
        .map(|t| slice(&footnotes.text, t.start, t.end))
        .collect();
    assert_eq!(
        turns,
        [
            "Ouch[1].[2]",
            "Footnotes",
            "[1] A tachyon walks into a bar.",
            "[2] Fin."
        ]
    );
    let endnotes = parse("mammoth-endnotes.docx", &ImportOptions::default()).unwrap();
    assert_eq!(
        endnotes.text,
        "Ouch[i].[ii]\n\nEndnotes\n[i] A tachyon walks into a bar.\n[ii] Fin."
    );
    // Two documents that differ only in a note are two texts.
    let other = rewrite_part(
        &fixture("mammoth-footnotes.docx"),
        "word/footnotes.xml",
        "A tachyon walks into a bar.",
        "A neutrino walks into a bar.",
    );
    let other = parse_bytes("other.docx", &other, &ImportOptions::default()).unwrap();
    assert_ne!(other.sha256, footnotes.sha256);
}

#[test]
fn word_comments_are_kept_with_the_span_they_mark() {
    let parsed = parse("mammoth-comments.docx", &ImportOptions::default()).unwrap();
    assert_eq!(parsed.text, "Ouch.");
    let comments = &parsed.metadata.comments;
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0].text, "A tachyon walks into a bar.");
    assert_eq!(comments[0].author.as_deref(), Some("Michael Williamson"));
    assert_eq!(comments[0].span, Some(Span { start: 0, end: 4 }));
    // The second comment is on a point, not on text.
    assert_eq!(comments[1].text, "Fin.");
    assert_eq!(comments[1].span, None);
    assert!(
        parsed.warnings.iter().any(|w| w.contains("2 comment(s)")),
        "{:?}",
        parsed.warnings
    );
}

#[test]
fn headers_and_footers_are_metadata_not_text() {
    let parsed = parse(
        "python-docx-hdr-header-footer.docx",
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(
        parsed.text,
        "section with header\n\nsection without header of its own."
    );
    assert_eq!(parsed.metadata.headers, ["Header for section-1"]);
    assert_eq!(parsed.metadata.footers, ["Footer for section 1"]);
}

#[test]
fn a_picture_only_document_says_so() {
    let error = parse("mammoth-tiny-picture.docx", &ImportOptions::default()).unwrap_err();
    assert_eq!(error, ImportError::DocxOnlyPictures { pictures: 1 });
    let message = error.to_string();
    assert!(message.contains("only 1 picture(s)"), "{message}");
    assert!(!message.contains("empty"));
}
