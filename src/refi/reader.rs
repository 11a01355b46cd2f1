//! From bytes to a checked [`Project`]: the archive, the XML, every reference.

use std::borrow::Cow;
use std::collections::HashMap;

use uuid::Uuid;

use super::RefiError;
use super::archive::{Archive, ArchiveLimits};
use super::model::*;
use super::offsets::{Convention, SourceText};
use super::xml::{self, Element};

/// How to read a file.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions {
    pub limits: ArchiveLimits,
    /// Read offsets in this convention rather than detecting it.
    pub convention: Option<Convention>,
}

/// Reads a `.qdpx`, `.qde` or `.qdc`, told apart by `file_name`'s extension
/// (a zip is read as `.qdpx` whatever its name).
pub fn read(file_name: &str, bytes: &[u8], options: &ReadOptions) -> Result<Project, RefiError> {
    let lower = file_name.to_lowercase();
    if bytes.starts_with(b"PK\x03\x04") || lower.ends_with(".qdpx") {
        return read_qdpx(bytes, options);
    }
    let kind = if lower.ends_with(".qde") {
        FileKind::Qde
    } else if lower.ends_with(".qdc") {
        FileKind::Qdc
    } else {
        return Err(RefiError::UnknownExtension {
            name: file_name.into(),
        });
    };
    let base = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let text = xml::decode(bytes, base)?;
    let document = xml::parse(&text, base)?;
    Reader::new(kind, None, options).project(document.root(), base)
}

fn read_qdpx(bytes: &[u8], options: &ReadOptions) -> Result<Project, RefiError> {
    let mut archive = Archive::open(bytes, options.limits)?;
    let document = match archive.find("project.qde") {
        Some(name) => name.to_owned(),
        None => {
            let top: Vec<&String> = archive
                .names()
                .iter()
                .filter(|n| !n.contains('/') && n.to_lowercase().ends_with(".qde"))
                .collect();
            match top.as_slice() {
                [] => return Err(RefiError::MissingProjectDocument),
                [one] => (*one).clone(),
                several => {
                    return Err(RefiError::SeveralProjectDocuments {
                        names: several
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
            }
        }
    };
    let started = std::time::Instant::now();
    let bytes = archive.read(&document)?;
    let unzipped = started.elapsed();
    let text = xml::decode(&bytes, &document)?;
    let decoded = started.elapsed();
    let tree = xml::parse(&text, &document)?;
    let parsed = started.elapsed();
    let project =
        Reader::new(FileKind::Qdpx, Some(&mut archive), options).project(tree.root(), &document);
    let checked = started.elapsed();
    drop(tree);
    tracing::debug!(
        bytes = bytes.len(),
        unzip_ms = unzipped.as_millis() as u64,
        decode_ms = (decoded - unzipped).as_millis() as u64,
        parse_ms = (parsed - decoded).as_millis() as u64,
        check_ms = (checked - parsed).as_millis() as u64,
        free_ms = (started.elapsed() - checked).as_millis() as u64,
        "read {document}"
    );
    project
}

/// A selection as the file has it, before its offsets are mapped.
struct RawSelection {
    source: usize,
    selection: Selection,
    start: i64,
    end: i64,
}

struct Reader<'r, 'a> {
    kind: FileKind,
    archive: Option<&'r mut Archive<'a>>,
    options: ReadOptions,
    /// Every GUID read so far, with the element that has it.
    seen: HashMap<Uuid, u32>,
    notices: Vec<String>,
}

impl<'r, 'a> Reader<'r, 'a> {
    fn new(kind: FileKind, archive: Option<&'r mut Archive<'a>>, options: &ReadOptions) -> Self {
        Reader {
            kind,
            archive,
            options: *options,
            seen: HashMap::new(),
            notices: Vec::new(),
        }
    }

    fn project(mut self, root: Element<'_>, file: &str) -> Result<Project, RefiError> {
        let (expected, wanted) = match self.kind {
            FileKind::Qdc => ("REFI-QDA codebook (.qdc)", "CodeBook"),
            _ => ("REFI-QDA project (.qde)", "Project"),
        };
        if root.name() != wanted {
            return Err(RefiError::WrongRoot {
                file: file.into(),
                found: root.name().to_owned(),
                expected,
                wanted,
            });
        }
        let origin = root.attr("origin").map(str::to_owned);
        if self.kind == FileKind::Qdc {
            let codes = self.codes(root.child("Codes"))?;
            let sets = self.sets(root, &codes)?;
            return Ok(Project {
                kind: self.kind,
                name: None,
                origin,
                users: Vec::new(),
                codes,
                variables: Vec::new(),
                cases: Vec::new(),
                sources: Vec::new(),
                notes: Vec::new(),
                sets,
                offsets: None,
                notices: self.notices,
            });
        }
        let users = self.users(root)?;
        let codes = self.codes(root.child("CodeBook").and_then(|c| c.child("Codes")))?;
        let variables = self.variables(root)?;
        let cases = self.cases(root, &variables)?;
        let notes = self.notes(root)?;
        let (mut sources, raw) = self.sources(root)?;
        let offsets = self.map_selections(&mut sources, raw, origin.as_deref())?;
        let mut project = Project {
            kind: self.kind,
            name: root.attr("name").map(str::to_owned),
            origin,
            users,
            codes,
            variables,
            cases,
            sources,
            notes,
            sets: Vec::new(),
            offsets,
            notices: Vec::new(),
        };
        self.check_codings(&project)?;
        project.sets = self.sets(root, &project.codes)?;
        project.notices = self.notices;
        Ok(project)
    }

    /// The GUID in `attribute`, recorded so that a second use is refused.
    fn guid(&mut self, element: Element<'_>, attribute: &'static str) -> Result<Uuid, RefiError> {
        let guid = reference(element, attribute)?;
        // Described only when the GUID turns out to be reused.
        if let Some(first) = self.seen.insert(guid, element.index()) {
            return Err(RefiError::DuplicateGuid {
                guid: element.attr(attribute).unwrap_or_default().to_owned(),
                first: describe(element.at(first)),
                second: describe(element),
            });
        }
        Ok(guid)
    }

    fn users(&mut self, root: Element<'_>) -> Result<Vec<User>, RefiError> {
        let mut users = Vec::new();
        for user in root
            .child("Users")
            .iter()
            .flat_map(|u| u.children_named("User"))
        {
            users.push(User {
                guid: self.guid(user, "guid")?,
                name: user.attr("name").map(str::to_owned),
                id: user.attr("id").map(str::to_owned),
            });
        }
        Ok(users)
    }

    fn codes(&mut self, codes: Option<Element<'_>>) -> Result<Vec<Code>, RefiError> {
        let mut out = Vec::new();
        for code in codes.iter().flat_map(|c| c.children_named("Code")) {
            out.push(self.code(code)?);
        }
        Ok(out)
    }

    fn code(&mut self, element: Element<'_>) -> Result<Code, RefiError> {
        let guid = self.guid(element, "guid")?;
        let name = required(element, "name")?.to_owned();
        let color = match element.attr("color").map(str::trim) {
            Some(color) if is_rgb(color) => Some(color.to_owned()),
            Some(color) => {
                self.notices.push(format!(
                    "The code {name:?} has the colour {color:?}, which is not #RGB or #RRGGBB; it was left out."
                ));
                None
            }
            None => None,
        };
        let mut children = Vec::new();
        for child in element.children_named("Code") {
            children.push(self.code(child)?);
        }
        Ok(Code {
            guid,
            name,
            is_codable: element
                .attr("isCodable")
                .map(|v| matches!(v.trim(), "true" | "1"))
                .unwrap_or(true),
            color,
            description: element.child_text("Description").map(Cow::into_owned),
            children,
        })
    }

    fn variables(&mut self, root: Element<'_>) -> Result<Vec<Variable>, RefiError> {
        let mut out = Vec::new();
        for variable in root
            .child("Variables")
            .iter()
            .flat_map(|v| v.children_named("Variable"))
        {
            let guid = self.guid(variable, "guid")?;
            let raw_kind = required(variable, "typeOfVariable")?;
            let kind = VariableType::parse(raw_kind).ok_or_else(|| RefiError::BadAttribute {
                element: "Variable".into(),
                line: variable.line(),
                attribute: "typeOfVariable",
                value: raw_kind.into(),
                expected: "Text, Boolean, Integer, Float, Date or DateTime",
            })?;
            out.push(Variable {
                guid,
                name: required(variable, "name")?.to_owned(),
                kind,
                description: variable.child_text("Description").map(Cow::into_owned),
            });
        }
        Ok(out)
    }

    fn cases(&mut self, root: Element<'_>, variables: &[Variable]) -> Result<Vec<Case>, RefiError> {
        let mut out = Vec::new();
        for case in root
            .child("Cases")
            .iter()
            .flat_map(|c| c.children_named("Case"))
        {
            let guid = self.guid(case, "guid")?;
            let mut values = Vec::new();
            for value in case.children_named("VariableValue") {
                let Some(variable_ref) = value.child("VariableRef") else {
                    return Err(RefiError::MissingAttribute {
                        element: "VariableValue".into(),
                        line: value.line(),
                        attribute: "VariableRef",
                    });
                };
                let variable = reference(variable_ref, "targetGUID")?;
                if !variables.iter().any(|v| v.guid == variable) {
                    return Err(RefiError::UnknownVariable {
                        line: value.line(),
                        variable: variable.to_string(),
                    });
                }
                let text = value
                    .children()
                    .find(|c| c.name().ends_with("Value"))
                    .map(|c| c.text().into_owned())
                    .unwrap_or_default();
                values.push(VariableValue {
                    variable,
                    value: text,
                });
            }
            let mut sources = Vec::new();
            for source in case.children_named("SourceRef") {
                sources.push(reference(source, "targetGUID")?);
            }
            let skipped = case.children_named("CodeRef").count()
                + case.children_named("SelectionRef").count();
            if skipped > 0 {
                self.notices.push(format!(
                    "The case {} links to {skipped} code(s) or selection(s); Concord ties a case to whole sources only, so those links were not read.",
                    case.attr("name").unwrap_or("(unnamed)")
                ));
            }
            out.push(Case {
                guid,
                name: case.attr("name").map(str::to_owned),
                description: case.child_text("Description").map(Cow::into_owned),
                values,
                sources,
            });
        }
        Ok(out)
    }

    fn notes(&mut self, root: Element<'_>) -> Result<Vec<Note>, RefiError> {
        let mut out = Vec::new();
        for note in root
            .child("Notes")
            .iter()
            .flat_map(|n| n.children_named("Note"))
        {
            let guid = self.guid(note, "guid")?;
            let name = note.attr("name").map(str::to_owned);
            let text = match note.child("PlainTextContent") {
                Some(content) => Some(content.text().into_owned()),
                None => match note.attr("plainTextPath") {
                    Some(path) => {
                        self.internal_text(path, &name.clone().unwrap_or_default(), false)?
                    }
                    None => None,
                },
            };
            out.push(Note {
                guid,
                name,
                text: text.unwrap_or_default(),
                creating_user: optional_reference(note, "creatingUser")?,
                created_on: note
                    .attr("creationDateTime")
                    .and_then(|d| d.trim().get(..10))
                    .filter(|d| crate::debriefings::service::parse_date(d).is_some())
                    .map(str::to_owned),
            });
        }
        Ok(out)
    }

    /// The decoded text of an `internal://` file, `None` when it is not in
    /// this file (a bare `.qde`, a path outside the archive). `required`: a
    /// missing entry is an error rather than a notice.
    fn internal_text(
        &mut self,
        path: &str,
        owner: &str,
        required: bool,
    ) -> Result<Option<String>, RefiError> {
        let Some(name) = path.strip_prefix("internal://") else {
            self.notices.push(format!(
                "{owner} refers to {path}, outside the archive; Concord reads only files inside it."
            ));
            return Ok(None);
        };
        let Some(archive) = self.archive.as_deref_mut() else {
            return Ok(None);
        };
        let Some(entry) = archive.find(&format!("sources/{name}")).map(str::to_owned) else {
            if required {
                return Err(RefiError::MissingSource {
                    source_name: owner.into(),
                    path: path.into(),
                });
            }
            self.notices.push(format!(
                "{owner} refers to {path}, which is not in the archive."
            ));
            return Ok(None);
        };
        let bytes = archive.read(&entry)?;
        let (encoding, bom) =
            encoding_rs::Encoding::for_bom(&bytes).unwrap_or((encoding_rs::UTF_8, 0));
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom..]);
        if had_errors {
            return Err(RefiError::NotUtf8 { file: entry });
        }
        let mut text = text.into_owned();
        if bom > 0 {
            text.insert(0, '\u{FEFF}');
        }
        Ok(Some(text))
    }

    fn sources(
        &mut self,
        root: Element<'_>,
    ) -> Result<(Vec<Source>, Vec<RawSelection>), RefiError> {
        let mut sources = Vec::new();
        let mut raw = Vec::new();
        let mut other_kinds: Vec<(String, usize)> = Vec::new();
        let mut whole_source_codings = 0;
        let mut without_text = 0;
        for element in root.child("Sources").into_iter().flat_map(|s| s.children()) {
            if element.name() != "TextSource" {
                // Registered all the same, so a GUID they reuse is caught.
                self.guid(element, "guid")?;
                match other_kinds.iter_mut().find(|(k, _)| *k == element.name()) {
                    Some((_, n)) => *n += 1,
                    None => other_kinds.push((element.name().to_owned(), 1)),
                }
                continue;
            }
            let guid = self.guid(element, "guid")?;
            let name = element.attr("name").map(str::to_owned);
            let title = name.clone().unwrap_or_else(|| guid.to_string());
            let text = match element.child("PlainTextContent") {
                Some(content) => Some(content.text().into_owned()),
                None => match element.attr("plainTextPath") {
                    Some(path) => self.internal_text(path, &title, true)?,
                    None => None,
                },
            };
            if text.is_none() {
                without_text += 1;
            }
            whole_source_codings += element.children_named("Coding").count();
            let index = sources.len();
            for selection in element.children_named("PlainTextSelection") {
                let selection_guid = self.guid(selection, "guid")?;
                let start = integer(selection, "startPosition")?;
                let end = integer(selection, "endPosition")?;
                if start > end {
                    return Err(RefiError::SelectionReversed {
                        source_name: title,
                        selection: selection_guid.to_string(),
                        start,
                        end,
                    });
                }
                if start < 0 {
                    return Err(RefiError::BadAttribute {
                        element: "PlainTextSelection".into(),
                        line: selection.line(),
                        attribute: "startPosition",
                        value: start.to_string(),
                        expected: "zero or more",
                    });
                }
                let creating_user = optional_reference(selection, "creatingUser")?;
                let mut codings = Vec::new();
                for coding in selection.children_named("Coding") {
                    let coding_guid = self.guid(coding, "guid")?;
                    let Some(code_ref) = coding.child("CodeRef") else {
                        return Err(RefiError::MissingAttribute {
                            element: "Coding".into(),
                            line: coding.line(),
                            attribute: "CodeRef",
                        });
                    };
                    codings.push(Coding {
                        guid: coding_guid,
                        code: reference(code_ref, "targetGUID")?,
                        user: optional_reference(coding, "creatingUser")?.or(creating_user),
                        notes: note_refs(coding)?,
                    });
                }
                raw.push(RawSelection {
                    source: index,
                    start,
                    end,
                    selection: Selection {
                        guid: selection_guid,
                        name: selection.attr("name").map(str::to_owned),
                        start: 0,
                        end: 0,
                        description: selection.child_text("Description").map(Cow::into_owned),
                        creating_user,
                        codings,
                        notes: note_refs(selection)?,
                    },
                });
            }
            sources.push(Source {
                guid,
                name,
                description: element.child_text("Description").map(Cow::into_owned),
                text: text.map(|t| SourceText::new(&t)),
                selections: Vec::new(),
                notes: note_refs(element)?,
            });
        }
        for (kind, count) in other_kinds {
            self.notices.push(format!(
                "{count} {} not read: Concord codes text only.",
                match kind.as_str() {
                    "PictureSource" => "picture source(s)",
                    "PDFSource" => "PDF source(s)",
                    "AudioSource" => "audio source(s)",
                    "VideoSource" => "video source(s)",
                    _ => "other source(s)",
                }
            ));
        }
        if whole_source_codings > 0 {
            self.notices.push(format!(
                "{whole_source_codings} coding(s) of whole sources not read: Concord codes spans of text."
            ));
        }
        if without_text > 0 {
            let selections = raw
                .iter()
                .filter(|r| sources[r.source].text.is_none())
                .count();
            self.notices.push(match self.kind {
                FileKind::Qde => format!(
                    "This .qde has no source texts with it ({without_text} source(s), {selections} selection(s)): a .qde is only the project document, so its selections can't be checked against their text or compared. Read the .qdpx archive instead, which holds the sources."
                ),
                _ => format!(
                    "{without_text} source(s) have no text in the file, so their {selections} selection(s) can't be checked or compared."
                ),
            });
        }
        Ok((sources, raw))
    }

    /// Picks the convention the offsets are in and maps every selection onto
    /// the canonical text; selections of sources without text keep the file's numbers.
    fn map_selections(
        &mut self,
        sources: &mut [Source],
        raw: Vec<RawSelection>,
        origin: Option<&str>,
    ) -> Result<Option<OffsetReading>, RefiError> {
        let with_text: Vec<&RawSelection> = raw
            .iter()
            .filter(|r| sources[r.source].text.is_some())
            .collect();
        let reading = if with_text.is_empty() {
            None
        } else {
            Some(self.choose_convention(sources, &with_text, origin))
        };
        let mut empty = 0;
        let maps: Vec<Option<Vec<Option<u32>>>> = sources
            .iter()
            .map(|s| {
                s.text
                    .as_ref()
                    .zip(reading.as_ref())
                    .map(|(t, r)| t.offset_map(r.convention))
            })
            .collect();
        for item in raw {
            let source = &mut sources[item.source];
            let mut selection = item.selection;
            match (&maps[item.source], &reading) {
                (Some(map), Some(reading)) => {
                    let convention = reading.convention.describe();
                    let length = map.len() - 1;
                    if item.end as usize > length {
                        return Err(RefiError::SelectionOutside {
                            source_name: source.title(),
                            selection: selection.guid.to_string(),
                            start: item.start,
                            end: item.end,
                            length,
                            convention,
                        });
                    }
                    let (Some(start), Some(end)) =
                        (map[item.start as usize], map[item.end as usize])
                    else {
                        return Err(RefiError::SelectionSplitsCharacter {
                            source_name: source.title(),
                            selection: selection.guid.to_string(),
                            convention,
                        });
                    };
                    if start >= end {
                        empty += 1;
                        continue;
                    }
                    selection.start = start;
                    selection.end = end;
                }
                _ => {
                    selection.start = u32::try_from(item.start).unwrap_or(u32::MAX);
                    selection.end = u32::try_from(item.end).unwrap_or(u32::MAX);
                }
            }
            source.selections.push(selection);
        }
        if empty > 0 {
            self.notices.push(format!(
                "{empty} empty selection(s) (no characters of the text) were left out."
            ));
        }
        Ok(reading)
    }

    fn choose_convention(
        &self,
        sources: &[Source],
        selections: &[&RawSelection],
        origin: Option<&str>,
    ) -> OffsetReading {
        let known = Convention::for_origin(origin);
        let origin_name = origin.unwrap_or("an unnamed tool");
        if let Some(convention) = self.options.convention {
            return OffsetReading {
                convention,
                reason: "chosen on the command line".into(),
            };
        }
        if !sources
            .iter()
            .filter_map(|s| s.text.as_ref())
            .any(SourceText::is_ambiguous)
        {
            return OffsetReading {
                convention: known,
                reason: "the texts have no CRLF line breaks and no characters outside the Basic Multilingual Plane, so every convention gives the same offsets".into(),
            };
        }
        let texts: Vec<Option<Vec<char>>> = sources
            .iter()
            .map(|s| s.text.as_ref().map(|t| t.canonical.text.chars().collect()))
            .collect();
        let mut scores = Vec::new();
        for convention in Convention::ALL {
            let maps: Vec<Option<Vec<Option<u32>>>> = sources
                .iter()
                .map(|s| s.text.as_ref().map(|t| t.offset_map(convention)))
                .collect();
            let (mut fits, mut named, mut on_breaks) = (0usize, 0usize, 0usize);
            for r in selections {
                let (Some(map), Some(chars)) = (&maps[r.source], &texts[r.source]) else {
                    continue;
                };
                let (Some(Some(start)), Some(Some(end))) =
                    (map.get(r.start as usize), map.get(r.end as usize))
                else {
                    continue;
                };
                fits += 1;
                let (start, end) = (*start as usize, *end as usize);
                if start == 0 || chars.get(start - 1) == Some(&'\n') {
                    on_breaks += 1;
                }
                if end == chars.len() || chars.get(end) == Some(&'\n') {
                    on_breaks += 1;
                }
                if let Some(name) = r.selection.name.as_deref() {
                    let wanted = squash(name.trim_end_matches('…'));
                    if wanted.chars().count() >= 3 {
                        let got = squash(&chars[start..end].iter().collect::<String>());
                        if got.starts_with(&wanted) {
                            named += 1;
                        }
                    }
                }
            }
            scores.push((convention, fits, named, on_breaks));
        }
        let best = scores
            .iter()
            .max_by_key(|(c, fits, named, breaks)| (*fits, *named, *breaks, *c == known))
            .copied()
            .unwrap_or((known, 0, 0, 0));
        let (convention, fits, named, breaks) = best;
        OffsetReading {
            convention,
            reason: format!(
                "{fits} of {} selections fit the text under it, {named} match their names and {breaks} boundaries fall on line breaks (the file is from {origin_name}, which {} this convention)",
                selections.len(),
                if convention == known {
                    "is known to write"
                } else {
                    "is usually read in another, but the offsets say"
                }
            ),
        }
    }

    fn check_codings(&mut self, project: &Project) -> Result<(), RefiError> {
        let codes: std::collections::HashSet<Uuid> =
            project.all_codes().iter().map(|(_, c)| c.guid).collect();
        let users: std::collections::HashSet<Uuid> = project.users.iter().map(|u| u.guid).collect();
        let mut unknown_users = std::collections::BTreeSet::new();
        for (source, _, coding) in project.codings() {
            if !codes.contains(&coding.code) {
                return Err(RefiError::UnknownCode {
                    coding: coding.guid.to_string(),
                    code: coding.code.to_string(),
                    source_name: source.title(),
                });
            }
            if let Some(user) = coding.user.filter(|u| !users.contains(u)) {
                unknown_users.insert(user);
            }
        }
        if !unknown_users.is_empty() {
            self.notices.push(format!(
                "Codings name {} user GUID(s) not listed under <Users>; they are kept under those GUIDs.",
                unknown_users.len()
            ));
        }
        Ok(())
    }

    fn sets(&mut self, root: Element<'_>, codes: &[Code]) -> Result<Vec<Set>, RefiError> {
        let member_attribute = if self.kind == FileKind::Qdc {
            "guid"
        } else {
            "targetGUID"
        };
        let known: std::collections::HashSet<Uuid> = codes
            .iter()
            .flat_map(Code::walk)
            .map(|(_, c)| c.guid)
            .collect();
        let mut out = Vec::new();
        for set in root
            .child("Sets")
            .iter()
            .flat_map(|s| s.children_named("Set"))
        {
            let guid = self.guid(set, "guid")?;
            let mut members = Vec::new();
            for member in set.children_named("MemberCode") {
                let code = reference(member, member_attribute)?;
                if !known.contains(&code) {
                    self.notices.push(format!(
                        "The set {:?} names the code {code}, which is not in the codebook; it was left out of the set.",
                        set.attr("name").unwrap_or_default()
                    ));
                    continue;
                }
                members.push(code);
            }
            let mut sources = Vec::new();
            for member in set.children_named("MemberSource") {
                sources.push(reference(member, "targetGUID")?);
            }
            out.push(Set {
                guid,
                name: required(set, "name")?.to_owned(),
                description: set.child_text("Description").map(Cow::into_owned),
                codes: members,
                sources,
            });
        }
        Ok(out)
    }
}

fn describe(element: Element<'_>) -> String {
    match element.attr("name").filter(|n| !n.trim().is_empty()) {
        Some(name) => format!(
            "<{} name={name:?}> on line {}",
            element.name(),
            element.line()
        ),
        None => format!("<{}> on line {}", element.name(), element.line()),
    }
}

fn required<'e>(element: Element<'e>, attribute: &'static str) -> Result<&'e str, RefiError> {
    element
        .attr(attribute)
        .ok_or_else(|| RefiError::MissingAttribute {
            element: element.name().to_owned(),
            line: element.line(),
            attribute,
        })
}

/// A GUID attribute, upper or lower case, with or without braces.
fn reference(element: Element<'_>, attribute: &'static str) -> Result<Uuid, RefiError> {
    parse_guid(element, attribute, required(element, attribute)?)
}

fn optional_reference(
    element: Element<'_>,
    attribute: &'static str,
) -> Result<Option<Uuid>, RefiError> {
    match element.attr(attribute) {
        None => Ok(None),
        Some(value) if value.trim().is_empty() => Ok(None),
        Some(value) => parse_guid(element, attribute, value).map(Some),
    }
}

fn parse_guid(
    element: Element<'_>,
    attribute: &'static str,
    value: &str,
) -> Result<Uuid, RefiError> {
    let trimmed = value.trim();
    let bare = trimmed
        .strip_prefix('{')
        .and_then(|v| v.strip_suffix('}'))
        .unwrap_or(trimmed);
    let well_formed = bare.len() == 36
        && bare.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    well_formed
        .then(|| Uuid::parse_str(bare).ok())
        .flatten()
        .ok_or_else(|| RefiError::BadAttribute {
            element: element.name().to_owned(),
            line: element.line(),
            attribute,
            value: value.into(),
            expected: "a GUID (8-4-4-4-12 hexadecimal digits)",
        })
}

fn integer(element: Element<'_>, attribute: &'static str) -> Result<i64, RefiError> {
    let value = required(element, attribute)?;
    value
        .trim()
        .parse::<i64>()
        .map_err(|_| RefiError::BadAttribute {
            element: element.name().to_owned(),
            line: element.line(),
            attribute,
            value: value.into(),
            expected: "a whole number",
        })
}

fn note_refs(element: Element<'_>) -> Result<Vec<Uuid>, RefiError> {
    element
        .children_named("NoteRef")
        .map(|n| reference(n, "targetGUID"))
        .collect()
}

pub(crate) fn is_rgb(color: &str) -> bool {
    color
        .strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Text with its whitespace runs made single spaces, for comparing a
/// selection's name with its text.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
