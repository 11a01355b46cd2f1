//! Agreement straight from a REFI-QDA file (`concord agreement FILE.qdpx`): the
//! codings of two or more users in the file, handed to the same pure statistics
//! as a project's report (`crate::compare::report`), with no server and no database.
//!
//! A source is compared when at least two of the chosen users coded something
//! in it: a REFI-QDA file does not say whether a user who coded nothing in a
//! source read it, so such a source would count their silence as "not present"
//! everywhere. The sources left out are listed with the reason.

use std::collections::HashMap;

use serde::Serialize;
use uuid::Uuid;

use super::model::Project;
use crate::agreement::{
    self, CodeId, CoderId, Coding, Options, Report, Span, TranscriptLayers, TranscriptUnits,
    UnitLevel,
};
use crate::compare::report::{level_name, table_csv};

/// How to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

impl Format {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "table" => Ok(Self::Table),
            "json" => Ok(Self::Json),
            "csv" => Ok(Self::Csv),
            other => Err(format!("--format {other}: choose table, json or csv")),
        }
    }
}

pub fn parse_level(text: &str) -> Result<UnitLevel, String> {
    crate::compare::report::parse_level(Some(text))
        .map_err(|_| format!("--level {text}: choose line, sentence, paragraph, turn or character"))
}

#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub index: u32,
    pub guid: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeInfo {
    pub index: u32,
    pub guid: Uuid,
    /// The code's path from its top-level parent, `Parent / Child`.
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    pub guid: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Excluded {
    pub guid: Uuid,
    pub name: String,
    pub reason: &'static str,
}

/// The report of one file.
#[derive(Debug, Serialize)]
pub struct FileReport {
    pub origin: Option<String>,
    pub level: UnitLevel,
    pub offsets: Option<super::OffsetReading>,
    pub coders: Vec<Person>,
    pub codes: Vec<CodeInfo>,
    /// In the order of the report's `per_transcript` entries.
    pub compared: Vec<SourceInfo>,
    pub excluded: Vec<Excluded>,
    /// What the reader noticed while reading the file.
    pub notices: Vec<String>,
    #[serde(skip)]
    pub report: Report,
    /// The coding GUID of each key the report points at.
    #[serde(skip)]
    pub codings: Vec<Uuid>,
    #[serde(skip)]
    line_starts: Vec<Vec<u32>>,
}

impl FileReport {
    fn code_name(&self, code: CodeId) -> &str {
        self.codes
            .get(code.0 as usize)
            .map_or("?", |c| c.name.as_str())
    }

    fn coder_name(&self, coder: CoderId) -> &str {
        self.coders
            .get(coder.0 as usize)
            .map_or("?", |c| c.name.as_str())
    }

    fn line_of(&self, source: usize, offset: u32) -> usize {
        self.line_starts
            .get(source)
            .map_or(1, |starts| starts.partition_point(|&s| s <= offset).max(1))
    }
}

/// Computes the report of `project` at `level` for `users` (names or GUIDs;
/// every user with codings when empty). The error says why there is nothing to compare.
pub fn compute(
    project: &Project,
    level: UnitLevel,
    users: &[String],
) -> Result<FileReport, String> {
    if project.kind == super::FileKind::Qdc {
        return Err("A codebook (.qdc) has no codings; agreement needs a project (.qdpx) coded by two or more users.".into());
    }
    let with_text: Vec<usize> = (0..project.sources.len())
        .filter(|&i| project.sources[i].text.is_some())
        .collect();
    if with_text.is_empty() {
        let codings = project.codings().count();
        let mut message = if project.sources.is_empty() {
            String::from("The file has no text sources, so there is nothing to compare.")
        } else {
            format!(
                "The file does not hold the texts of its {} source(s), so its {codings} coding(s) can't be compared.",
                project.sources.len()
            )
        };
        if project.kind == super::FileKind::Qde {
            message.push_str(" A .qde is only the project document: export the project as .qdpx, which holds the sources.");
        }
        return Err(message);
    }

    // Users and how many codings each has on texts.
    let mut counts: Vec<(Uuid, usize)> = Vec::new();
    for i in &with_text {
        for selection in &project.sources[*i].selections {
            for coding in &selection.codings {
                let Some(user) = coding.user else { continue };
                match counts.iter_mut().find(|(u, _)| *u == user) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((user, 1)),
                }
            }
        }
    }
    let listed = || {
        counts
            .iter()
            .map(|(u, n)| {
                let noun = if *n == 1 { "coding" } else { "codings" };
                format!("{} ({n} {noun})", project.user_name(*u))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let chosen: Vec<Uuid> = if users.is_empty() {
        let mut all: Vec<Uuid> = counts.iter().map(|(u, _)| *u).collect();
        // The file's order of users, then any others in order of appearance.
        all.sort_by_key(|u| {
            project
                .users
                .iter()
                .position(|v| v.guid == *u)
                .unwrap_or(usize::MAX)
        });
        all
    } else {
        let mut chosen = Vec::new();
        for wanted in users {
            let wanted = wanted.trim();
            let found = counts.iter().map(|(u, _)| *u).find(|u| {
                u.to_string()
                    .eq_ignore_ascii_case(wanted.trim_matches(['{', '}']))
                    || project.user_name(*u).to_lowercase() == wanted.to_lowercase()
            });
            match found {
                Some(u) if !chosen.contains(&u) => chosen.push(u),
                Some(_) => {}
                None => {
                    return Err(format!(
                        "--users: no user called {wanted:?} has codings in the file. Users with codings: {}.",
                        if counts.is_empty() {
                            "none".to_owned()
                        } else {
                            listed()
                        }
                    ));
                }
            }
        }
        chosen
    };
    if chosen.len() < 2 {
        return Err(format!(
            "Agreement needs codings by two or more users; {}.",
            if counts.is_empty() {
                "the file has no codings on its texts".to_owned()
            } else {
                format!("the file has codings by {}", listed())
            }
        ));
    }
    let coder_index: HashMap<Uuid, u32> = chosen
        .iter()
        .enumerate()
        .map(|(i, u)| (*u, i as u32))
        .collect();

    // Sources, and the codes the chosen users applied in them.
    let mut compared = Vec::new();
    let mut excluded = Vec::new();
    for (i, source) in project.sources.iter().enumerate() {
        let coded_by: std::collections::HashSet<u32> = source
            .selections
            .iter()
            .flat_map(|s| s.codings.iter())
            .filter_map(|c| c.user.and_then(|u| coder_index.get(&u).copied()))
            .collect();
        let reason = if source.text.is_none() {
            Some("its text is not in the file")
        } else if coded_by.len() < 2 {
            Some("fewer than two of the users coded it")
        } else {
            None
        };
        match reason {
            Some(reason) => excluded.push(Excluded {
                guid: source.guid,
                name: source.title(),
                reason,
            }),
            None => compared.push((i, coded_by)),
        }
    }
    let paths = code_paths(project);
    let mut codes: Vec<CodeInfo> = Vec::new();
    let mut code_index: HashMap<Uuid, u32> = HashMap::new();
    // One pass over the codings, not one per code.
    let used: std::collections::HashSet<Uuid> = compared
        .iter()
        .flat_map(|(i, _)| project.sources[*i].selections.iter())
        .flat_map(|s| s.codings.iter())
        .filter(|c| c.user.is_some_and(|u| coder_index.contains_key(&u)))
        .map(|c| c.code)
        .collect();
    for (_, code) in project.all_codes() {
        if used.contains(&code.guid) {
            code_index.insert(code.guid, codes.len() as u32);
            codes.push(CodeInfo {
                index: codes.len() as u32,
                guid: code.guid,
                name: paths
                    .get(&code.guid)
                    .cloned()
                    .unwrap_or_else(|| code.name.clone()),
            });
        }
    }

    let mut keys = Vec::new();
    let mut layers_codings = Vec::new();
    let mut units = Vec::new();
    let mut submitted = Vec::new();
    let mut line_starts = Vec::new();
    for (i, coded_by) in &compared {
        let source = &project.sources[*i];
        let Some(text) = &source.text else { continue };
        let mut codings = Vec::new();
        for selection in &source.selections {
            for coding in &selection.codings {
                let (Some(coder), Some(code)) = (
                    coding.user.and_then(|u| coder_index.get(&u)),
                    code_index.get(&coding.code),
                ) else {
                    continue;
                };
                codings.push(Coding {
                    coder: CoderId(*coder),
                    code: CodeId(*code),
                    start: selection.start,
                    end: selection.end,
                    key: keys.len() as u64,
                });
                keys.push(coding.guid);
            }
        }
        let canonical = &text.canonical.text;
        units.push(
            TranscriptUnits::new(canonical, &turns_of(canonical))
                .map_err(|e| format!("{}: {e}", source.title()))?,
        );
        let mut starts = vec![0u32];
        for (offset, c) in canonical.chars().enumerate() {
            if c == '\n' {
                starts.push(offset as u32 + 1);
            }
        }
        line_starts.push(starts);
        let mut who: Vec<CoderId> = coded_by.iter().map(|c| CoderId(*c)).collect();
        who.sort();
        submitted.push(who);
        layers_codings.push(codings);
    }
    let layers: Vec<TranscriptLayers> = (0..units.len())
        .map(|i| TranscriptLayers {
            units: &units[i],
            submitted: &submitted[i],
            codings: &layers_codings[i],
        })
        .collect();
    let all_coders: Vec<CoderId> = (0..chosen.len() as u32).map(CoderId).collect();
    let all_codes: Vec<CodeId> = (0..codes.len() as u32).map(CodeId).collect();
    let options = Options {
        level,
        ..Options::default()
    };
    let report = agreement::report(&all_coders, &all_codes, &layers, &options)
        .map_err(|e| format!("the agreement can't be computed: {e}"))?;
    Ok(FileReport {
        origin: project.origin.clone(),
        level,
        offsets: project.offsets.clone(),
        coders: chosen
            .iter()
            .enumerate()
            .map(|(i, u)| Person {
                index: i as u32,
                guid: *u,
                name: project.user_name(*u),
            })
            .collect(),
        codes,
        compared: compared
            .iter()
            .map(|(i, _)| SourceInfo {
                guid: project.sources[*i].guid,
                name: project.sources[*i].title(),
            })
            .collect(),
        excluded,
        notices: project.notices.clone(),
        report,
        codings: keys,
        line_starts,
    })
}

/// Each code's name with its parents', `Parent / Child`.
fn code_paths(project: &Project) -> HashMap<Uuid, String> {
    fn walk(code: &super::Code, prefix: &str, out: &mut HashMap<Uuid, String>) {
        let path = if prefix.is_empty() {
            code.name.clone()
        } else {
            format!("{prefix} / {}", code.name)
        };
        for child in &code.children {
            walk(child, &path, out);
        }
        out.insert(code.guid, path);
    }
    let mut out = HashMap::new();
    for code in &project.codes {
        walk(code, "", &mut out);
    }
    out
}

/// Speaker turns found in the text by the transcript importer's rules, for
/// the `turn` level (paragraphs stand in when there are none).
fn turns_of(text: &str) -> Vec<Span> {
    let Ok(parsed) =
        crate::import::parse_text(text.as_bytes(), Some(crate::import::Encoding::UTF_8))
    else {
        return Vec::new();
    };
    // The importer drops blank lines at the start; its offsets are shifted by them.
    let first_visible = text.find(|c: char| !c.is_whitespace()).unwrap_or(0);
    let line_start = text[..first_visible].rfind('\n').map_or(0, |n| n + 1);
    let shift = text[..line_start].chars().count() as u32;
    if parsed.text.chars().count() as u32 + shift > text.chars().count() as u32 {
        return Vec::new();
    }
    parsed
        .turns
        .iter()
        .map(|t| Span {
            start: t.start as u32 + shift,
            end: t.end as u32 + shift,
        })
        .collect()
}

/// The report in `format`.
pub fn render(report: &FileReport, format: Format) -> Result<String, String> {
    match format {
        Format::Json => json(report),
        Format::Csv => {
            let table = table_csv(&report.report, |c| report.code_name(c).to_owned())
                .map_err(|e| format!("{e:?}"))?;
            Ok(format!("{table}\n{}", discrepancies_csv(report)?))
        }
        Format::Table => Ok(table(report)),
    }
}

fn stat(s: agreement::Stat) -> String {
    match s {
        agreement::Stat::Value(v) => format!("{v:.3}"),
        agreement::Stat::Undefined(_) => "undefined".into(),
    }
}

fn kind_name(kind: agreement::DiscrepancyKind) -> &'static str {
    use agreement::DiscrepancyKind::*;
    match kind {
        Agreement => "agreement",
        Boundary => "boundary",
        DifferentCode => "different code",
        PartialOverlap => "partial overlap",
        OnlyA => "only A",
        OnlyB => "only B",
    }
}

fn table(report: &FileReport) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Agreement by {} ({} units), from {}",
        level_name(report.level),
        report.report.units.overall.units,
        report.origin.as_deref().unwrap_or("an unnamed tool")
    );
    if let Some(offsets) = &report.offsets {
        let _ = writeln!(
            out,
            "{}",
            crate::messages::offsets_read_as(offsets.convention.describe(), &offsets.reason)
        );
    }
    for coder in &report.coders {
        let letter = (b'A' + (coder.index as u8).min(25)) as char;
        let _ = writeln!(out, "Coder {letter}: {} ({})", coder.name, coder.guid);
    }
    let _ = writeln!(
        out,
        "Sources compared: {} of {}",
        report.compared.len(),
        report.compared.len() + report.excluded.len()
    );
    for excluded in &report.excluded {
        let _ = writeln!(out, "  left out: {} ({})", excluded.name, excluded.reason);
    }
    for notice in &report.notices {
        let _ = writeln!(out, "Note: {notice}");
    }
    let table = &report.report.units.overall;
    if let Some(warning) = table.warning {
        let _ = writeln!(
            out,
            "Warning: {} (the figures rest on few units)",
            warning.reason()
        );
    }
    let two = report.coders.len() == 2;
    let width = report
        .codes
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(8, 48);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<width$}  {:>7} {:>6} {:>6} {:>6} {:>8}  {:>9} {:>9} {:>9} {:>9}",
        "code",
        "units",
        "both",
        "only A",
        "only B",
        "% agree",
        if two { "Cohen κ" } else { "Fleiss κ" },
        "B–P κ",
        "Kripp. α",
        "uα"
    );
    let mut rows = vec![(
        "(pooled)".to_owned(),
        &table.pooled.counts,
        &table.pooled.coefficients,
        None,
    )];
    for c in &table.per_code {
        let u = report
            .report
            .unitized
            .overall
            .iter()
            .find(|u| u.code == c.code)
            .map(|u| u.binary_u_alpha);
        rows.push((
            report.code_name(c.code).to_owned(),
            &c.counts,
            &c.coefficients,
            u,
        ));
    }
    for (name, counts, co, u) in rows {
        let cell = |f: fn(&agreement::TwoByTwo) -> u64| {
            counts
                .table
                .as_ref()
                .map(|t| f(t).to_string())
                .unwrap_or_else(|| "-".into())
        };
        let name: String = if name.chars().count() > width {
            name.chars().take(width - 1).chain(['…']).collect()
        } else {
            name
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:>7} {:>6} {:>6} {:>6} {:>8}  {:>9} {:>9} {:>9} {:>9}",
            name,
            counts.units,
            cell(|t| t.both),
            cell(|t| t.only_a),
            cell(|t| t.only_b),
            stat(co.percent_agreement),
            stat(if two { co.cohen_kappa } else { co.fleiss_kappa }),
            stat(co.brennan_prediger),
            stat(co.krippendorff_alpha_nominal),
            u.map(stat).unwrap_or_else(|| "-".into()),
        );
    }
    let _ = writeln!(out);
    let found: usize = report
        .report
        .discrepancies
        .per_transcript
        .iter()
        .flat_map(|t| &t.pairs)
        .flat_map(|p| &p.discrepancies)
        .filter(|d| d.kind != agreement::DiscrepancyKind::Agreement)
        .count();
    let _ = writeln!(out, "Discrepancies: {found}");
    for (s, transcript) in report
        .report
        .discrepancies
        .per_transcript
        .iter()
        .enumerate()
    {
        for pair in &transcript.pairs {
            for d in pair
                .discrepancies
                .iter()
                .filter(|d| d.kind != agreement::DiscrepancyKind::Agreement)
            {
                let segment = |seg: &Option<agreement::Segment>, coder: CoderId| match seg {
                    Some(seg) => format!(
                        "{}: {} [{}, {})",
                        report.coder_name(coder),
                        report.code_name(seg.code),
                        seg.start,
                        seg.end
                    ),
                    None => format!("{}: -", report.coder_name(coder)),
                };
                let at = d.a.as_ref().or(d.b.as_ref()).map_or(0, |seg| seg.start);
                let _ = writeln!(
                    out,
                    "  {} line {}: {}; {}; {}{}",
                    report.compared[s].name,
                    report.line_of(s, at),
                    kind_name(d.kind),
                    segment(&d.a, pair.coder_a),
                    segment(&d.b, pair.coder_b),
                    d.overlap
                        .map(|r| format!(" (overlap {r})"))
                        .unwrap_or_default()
                );
            }
        }
    }
    out
}

fn discrepancies_csv(report: &FileReport) -> Result<String, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let error = |e: csv::Error| e.to_string();
    writer
        .write_record([
            "source",
            "line",
            "kind",
            "coder_a",
            "code_a",
            "start_a",
            "end_a",
            "codings_a",
            "coder_b",
            "code_b",
            "start_b",
            "end_b",
            "codings_b",
            "overlap",
        ])
        .map_err(error)?;
    for (s, transcript) in report
        .report
        .discrepancies
        .per_transcript
        .iter()
        .enumerate()
    {
        for pair in &transcript.pairs {
            for d in &pair.discrepancies {
                let at = d.a.as_ref().or(d.b.as_ref()).map_or(0, |seg| seg.start);
                let mut record = vec![
                    report.compared[s].name.clone(),
                    report.line_of(s, at).to_string(),
                    kind_name(d.kind).to_owned(),
                ];
                for (seg, coder) in [(&d.a, pair.coder_a), (&d.b, pair.coder_b)] {
                    record.push(report.coder_name(coder).to_owned());
                    match seg {
                        Some(seg) => record.extend([
                            report.code_name(seg.code).to_owned(),
                            seg.start.to_string(),
                            seg.end.to_string(),
                            coding_guids(report, &seg.codings).join(" "),
                        ]),
                        None => record.extend([
                            String::new(),
                            String::new(),
                            String::new(),
                            String::new(),
                        ]),
                    }
                }
                record.push(d.overlap.map(|r| r.to_string()).unwrap_or_default());
                writer.write_record(&record).map_err(error)?;
            }
        }
    }
    let bytes = writer.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

fn coding_guids(report: &FileReport, keys: &[u64]) -> Vec<String> {
    keys.iter()
        .filter_map(|k| report.codings.get(*k as usize))
        .map(Uuid::to_string)
        .collect()
}

/// The JSON report, written as it is serialized rather than built as a
/// `serde_json::Value` first (38 MB for the benchmark project's two coders).
/// Every object's keys come in the sorted order a `Value` would give them,
/// and every small part still goes through a `Value`, so the text is the same.
fn json(report: &FileReport) -> Result<String, String> {
    let mut out = Vec::with_capacity(1 << 20);
    serde_json::to_writer_pretty(&mut out, &JsonReport(report)).map_err(|e| e.to_string())?;
    String::from_utf8(out).map_err(|e| e.to_string())
}

fn value<T: Serialize, E: serde::ser::Error>(v: &T) -> Result<serde_json::Value, E> {
    serde_json::to_value(v).map_err(E::custom)
}

struct JsonReport<'r>(&'r FileReport);

impl Serialize for JsonReport<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.0;
        let mut map = s.serialize_map(Some(9))?;
        map.serialize_entry("coders", &value::<_, S::Error>(&r.coders)?)?;
        map.serialize_entry("codes", &value::<_, S::Error>(&r.codes)?)?;
        map.serialize_entry("compared", &value::<_, S::Error>(&r.compared)?)?;
        map.serialize_entry("excluded", &value::<_, S::Error>(&r.excluded)?)?;
        map.serialize_entry("level", &value::<_, S::Error>(&r.level)?)?;
        map.serialize_entry("notices", &value::<_, S::Error>(&r.notices)?)?;
        map.serialize_entry("offsets", &value::<_, S::Error>(&r.offsets)?)?;
        map.serialize_entry("origin", &value::<_, S::Error>(&r.origin)?)?;
        map.serialize_entry("report", &JsonInner(r))?;
        map.end()
    }
}

struct JsonInner<'r>(&'r FileReport);

impl Serialize for JsonInner<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.0;
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("discrepancies", &JsonDiscrepancies(r))?;
        map.serialize_entry("unitized", &value::<_, S::Error>(&r.report.unitized)?)?;
        map.serialize_entry("units", &value::<_, S::Error>(&r.report.units)?)?;
        map.end()
    }
}

struct JsonDiscrepancies<'r>(&'r FileReport);

impl Serialize for JsonDiscrepancies<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.0;
        let found = &r.report.discrepancies;
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry(
            "match_threshold",
            &value::<_, S::Error>(&found.match_threshold)?,
        )?;
        map.serialize_entry("overall", &value::<_, S::Error>(&found.overall)?)?;
        map.serialize_entry(
            "per_transcript",
            &Seq(found.per_transcript.iter().map(|t| JsonTranscript(r, t))),
        )?;
        map.end()
    }
}

/// A sequence serialized from an iterator it clones.
struct Seq<I>(I);

impl<I> Serialize for Seq<I>
where
    I: Iterator + Clone,
    I::Item: Serialize,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.clone())
    }
}

struct JsonTranscript<'r>(&'r FileReport, &'r agreement::TranscriptDiscrepancies);

impl Serialize for JsonTranscript<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.0;
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("pairs", &Seq(self.1.pairs.iter().map(|p| JsonPair(r, p))))?;
        map.end()
    }
}

struct JsonPair<'r>(&'r FileReport, &'r agreement::PairDiscrepancies);

impl Serialize for JsonPair<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (r, p) = (self.0, self.1);
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("coder_a", &value::<_, S::Error>(&p.coder_a)?)?;
        map.serialize_entry("coder_b", &value::<_, S::Error>(&p.coder_b)?)?;
        map.serialize_entry(
            "discrepancies",
            &Seq(p.discrepancies.iter().map(|d| JsonDiscrepancy(r, d))),
        )?;
        map.serialize_entry(
            "segment_agreement",
            &value::<_, S::Error>(&p.segment_agreement)?,
        )?;
        map.end()
    }
}

struct JsonDiscrepancy<'r>(&'r FileReport, &'r agreement::Discrepancy);

impl Serialize for JsonDiscrepancy<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (r, d) = (self.0, self.1);
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("a", &d.a.as_ref().map(|seg| JsonSegment(r, seg)))?;
        map.serialize_entry("b", &d.b.as_ref().map(|seg| JsonSegment(r, seg)))?;
        map.serialize_entry("kind", &value::<_, S::Error>(&d.kind)?)?;
        map.serialize_entry("overlap", &value::<_, S::Error>(&d.overlap)?)?;
        map.end()
    }
}

struct JsonSegment<'r>(&'r FileReport, &'r agreement::Segment);

impl Serialize for JsonSegment<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let (r, seg) = (self.0, self.1);
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("code", &value::<_, S::Error>(&seg.code)?)?;
        map.serialize_entry(
            "codings",
            &Seq(seg
                .codings
                .iter()
                .filter_map(|k| r.codings.get(*k as usize))
                .map(Uuid::to_string)),
        )?;
        map.serialize_entry("end", &seg.end)?;
        map.serialize_entry("start", &seg.start)?;
        map.end()
    }
}

/// `concord agreement`: reads `path` and renders its report.
pub fn run(
    path: &std::path::Path,
    level: &str,
    users: Option<&str>,
    format: &str,
    options: &super::ReadOptions,
) -> Result<String, String> {
    let level = parse_level(level)?;
    let format = Format::parse(format)?;
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let started = std::time::Instant::now();
    let project = super::read(&name, &bytes, options).map_err(|e| format!("{name}: {e}"))?;
    let read = started.elapsed();
    let users: Vec<String> = users
        .map(|u| {
            u.split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let report = compute(&project, level, &users).map_err(|e| format!("{name}: {e}"))?;
    let computed = started.elapsed();
    let out = render(&report, format);
    tracing::debug!(
        read_ms = read.as_millis() as u64,
        compute_ms = (computed - read).as_millis() as u64,
        render_ms = (started.elapsed() - computed).as_millis() as u64,
        "concord agreement"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::refi::archive::tests::zip_of;
    use crate::refi::{ReadOptions, read};

    const TEXT: &str = "I: How is the ward?\nP01: Busy. The paperwork never ends.\nI: And at home?\nP01: Quiet, and I sleep well.";

    /// Two coders of one source: both code the paperwork (Ana a little less of it),
    /// and only Ben codes sleep.
    pub(crate) fn two_coder_qdpx() -> Vec<u8> {
        let at = |needle: &str| TEXT[..TEXT.find(needle).unwrap()].chars().count();
        let paperwork = at("The paperwork");
        let line_end = at("\nI: And at home?");
        let sleep = at("I sleep");
        let codings = [
            ("000000000a01", "Ana", "c1", paperwork + 4, line_end),
            ("000000000b01", "Ben", "c1", paperwork, line_end),
            ("000000000b02", "Ben", "c2", sleep, TEXT.chars().count()),
        ];
        let guid = |s: &str| match s {
            "Ana" => "11111111-1111-4111-8111-111111111111".to_owned(),
            "Ben" => "22222222-2222-4222-8222-222222222222".to_owned(),
            "c1" => "33333333-3333-4333-8333-333333333333".to_owned(),
            "c2" => "44444444-4444-4444-8444-444444444444".to_owned(),
            other => panic!("{other}"),
        };
        let mut xml = format!(
            r#"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Two coders" origin="Concord test">
<Users><User guid="{}" name="Ana"/><User guid="{}" name="Ben"/></Users>
<CodeBook><Codes><Code guid="{}" name="Workload" isCodable="true"><Code guid="{}" name="Sleep" isCodable="true"/></Code></Codes></CodeBook>
<Sources><TextSource guid="55555555-5555-4555-8555-555555555555" name="P01" plainTextPath="internal://55555555-5555-4555-8555-555555555555.txt">
"#,
            guid("Ana"),
            guid("Ben"),
            guid("c1"),
            guid("c2")
        );
        for (i, (id, user, code, start, end)) in codings.iter().enumerate() {
            xml += &format!(
                r#"<PlainTextSelection guid="aaaaaaaa-0000-4000-8000-00000000000{i}" startPosition="{start}" endPosition="{end}" creatingUser="{u}"><Coding guid="bbbbbbbb-0000-4000-8000-{id}" creatingUser="{u}"><CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>
"#,
                u = guid(user),
                code = guid(code),
            );
        }
        xml += "</TextSource></Sources></Project>";
        zip_of(&[
            ("project.qde", xml.as_bytes()),
            (
                "sources/55555555-5555-4555-8555-555555555555.txt",
                TEXT.as_bytes(),
            ),
        ])
    }

    fn project() -> Project {
        read("two.qdpx", &two_coder_qdpx(), &ReadOptions::default()).unwrap()
    }

    #[test]
    fn a_two_coder_file_gives_the_report_by_line() {
        let report = compute(&project(), UnitLevel::Line, &[]).unwrap();
        assert_eq!(
            report
                .coders
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["Ana", "Ben"]
        );
        assert_eq!(
            report
                .codes
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["Workload", "Workload / Sleep"]
        );
        let table = &report.report.units.overall;
        assert_eq!(table.units, 4);
        // Workload: both coders flag line 2 only, so agreement is perfect by line.
        let workload = &table.per_code[0];
        assert_eq!(workload.counts.table.unwrap().both, 1);
        assert_eq!(workload.coefficients.cohen_kappa.value(), Some(1.0));
        // Sleep: Ben alone flags line 4 of 4: p_o = 3/4, p_e = 3/4, so κ = 0.
        let sleep = &table.per_code[1];
        assert_eq!(sleep.counts.table.unwrap().only_b, 1);
        assert_eq!(sleep.coefficients.percent_agreement.value(), Some(0.75));
        assert_eq!(sleep.coefficients.cohen_kappa.value(), Some(0.0));
        let kinds: Vec<_> = report.report.discrepancies.per_transcript[0].pairs[0]
            .discrepancies
            .iter()
            .map(|d| d.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                agreement::DiscrepancyKind::Boundary,
                agreement::DiscrepancyKind::OnlyB
            ]
        );
    }

    /// The report as it was built before it was streamed: one `Value`.
    fn value_json(report: &FileReport) -> serde_json::Value {
        let segment = |seg: &Option<agreement::Segment>| {
            seg.as_ref().map(|seg| {
                serde_json::json!({
                    "code": seg.code,
                    "start": seg.start,
                    "end": seg.end,
                    "codings": coding_guids(report, &seg.codings),
                })
            })
        };
        let found = &report.report.discrepancies;
        serde_json::json!({
            "origin": report.origin,
            "level": report.level,
            "offsets": report.offsets,
            "coders": report.coders,
            "codes": report.codes,
            "compared": report.compared,
            "excluded": report.excluded,
            "notices": report.notices,
            "report": {
                "units": report.report.units,
                "unitized": report.report.unitized,
                "discrepancies": {
                    "match_threshold": found.match_threshold,
                    "overall": found.overall,
                    "per_transcript": found.per_transcript.iter().map(|t| serde_json::json!({
                        "pairs": t.pairs.iter().map(|p| serde_json::json!({
                            "coder_a": p.coder_a,
                            "coder_b": p.coder_b,
                            "segment_agreement": p.segment_agreement,
                            "discrepancies": p.discrepancies.iter().map(|d| serde_json::json!({
                                "kind": d.kind,
                                "a": segment(&d.a),
                                "b": segment(&d.b),
                                "overlap": d.overlap,
                            })).collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                },
            },
        })
    }

    #[test]
    fn the_streamed_json_is_the_text_of_the_value() {
        for users in [vec![], vec!["Ana".to_owned(), "Ben".to_owned()]] {
            let report = compute(&project(), UnitLevel::Line, &users).unwrap();
            assert_eq!(
                json(&report).unwrap(),
                serde_json::to_string_pretty(&value_json(&report)).unwrap()
            );
        }
    }

    #[test]
    fn every_format_names_codes_coders_and_codings() {
        let report = compute(&project(), UnitLevel::Line, &[]).unwrap();
        let table = render(&report, Format::Table).unwrap();
        assert!(
            table.contains("Coder A: Ana") && table.contains("Workload / Sleep"),
            "{table}"
        );
        assert!(table.contains("P01 line 2: boundary"), "{table}");
        assert!(table.contains("P01 line 4: only B"), "{table}");
        let json: serde_json::Value =
            serde_json::from_str(&render(&report, Format::Json).unwrap()).unwrap();
        let found =
            &json["report"]["discrepancies"]["per_transcript"][0]["pairs"][0]["discrepancies"];
        assert_eq!(found[1]["kind"], "only_b");
        assert_eq!(
            found[1]["b"]["codings"][0],
            "bbbbbbbb-0000-4000-8000-000000000b02"
        );
        let csv = render(&report, Format::Csv).unwrap();
        assert!(csv.starts_with("code,units,"), "{csv}");
        assert!(csv.contains("\nsource,line,kind,"), "{csv}");
    }

    #[test]
    fn users_are_chosen_by_name_or_guid_and_unknown_ones_named() {
        let project = project();
        let by_guid = compute(
            &project,
            UnitLevel::Character,
            &[
                "BEN".into(),
                "{11111111-1111-4111-8111-111111111111}".into(),
            ],
        )
        .unwrap();
        assert_eq!(by_guid.coders[0].name, "Ben");
        let error = compute(&project, UnitLevel::Line, &["Cleo".into()]).unwrap_err();
        assert!(
            error.contains("Cleo") && error.contains("Ana (1 coding)"),
            "{error}"
        );
        let error = compute(&project, UnitLevel::Line, &["Ana".into()]).unwrap_err();
        assert!(error.contains("two or more users"), "{error}");
    }

    #[test]
    fn speaker_turns_are_found_for_the_turn_level() {
        let turns = turns_of(&format!("\n\n{TEXT}"));
        assert_eq!(turns.len(), 4);
        assert_eq!(turns[0].start, 2);
        let report = compute(&project(), UnitLevel::SpeakerTurn, &[]).unwrap();
        assert_eq!(report.report.units.overall.units, 4);
    }
}
