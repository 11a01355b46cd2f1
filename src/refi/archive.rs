//! Reading a `.qdpx` (a zip) within limits: a zip bomb, a path that climbs out
//! of the archive or an absurd number of entries is refused before any of it
//! is unpacked.

use std::io::{Cursor, Read};

use zip::ZipArchive;

use super::RefiError;

/// What an archive may unpack to. Declared sizes in a zip can lie, so every
/// limit is checked on the bytes actually read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    pub max_total_bytes: u64,
    pub max_entries: usize,
    /// Largest uncompressed/compressed ratio of one entry. Text compresses
    /// about 3 to 10 times; a bomb a thousand times or more.
    pub max_ratio: u64,
    /// Entries smaller than this are not held to the ratio (a few zero bytes
    /// compress very well and harm nobody).
    pub ratio_exempt_bytes: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_total_bytes: 500 * 1_000_000,
            max_entries: 20_000,
            max_ratio: 200,
            ratio_exempt_bytes: 1_000_000,
        }
    }
}

pub(crate) struct Archive<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    names: Vec<String>,
    remaining: u64,
    limits: ArchiveLimits,
}

impl<'a> Archive<'a> {
    pub fn open(bytes: &'a [u8], limits: ArchiveLimits) -> Result<Self, RefiError> {
        let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(|e| RefiError::NotZip {
            detail: e.to_string(),
        })?;
        if zip.len() > limits.max_entries {
            return Err(RefiError::TooManyEntries {
                entries: zip.len(),
                limit: limits.max_entries,
            });
        }
        let mut names = Vec::with_capacity(zip.len());
        for index in 0..zip.len() {
            let entry = zip.by_index_raw(index).map_err(|e| RefiError::NotZip {
                detail: e.to_string(),
            })?;
            let name = entry
                .name()
                .map_err(|e| RefiError::NotZip {
                    detail: e.to_string(),
                })?
                .into_owned();
            if let Some(reason) = unsafe_name(&name) {
                return Err(RefiError::UnsafeEntryName { name, reason });
            }
            names.push(name);
        }
        Ok(Archive {
            zip,
            names,
            remaining: limits.max_total_bytes,
            limits,
        })
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The name of the entry matching `wanted` without regard to case, as
    /// producers differ (`sources/`, `Sources/`).
    pub fn find(&self, wanted: &str) -> Option<&str> {
        let wanted = wanted.to_lowercase();
        self.names
            .iter()
            .find(|n| n.to_lowercase() == wanted)
            .map(String::as_str)
    }

    /// Unpacks one entry, counting it against the limits.
    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, RefiError> {
        let too_large = RefiError::TooLarge {
            limit_mb: self.limits.max_total_bytes.div_ceil(1_000_000),
        };
        let mut entry = self.zip.by_name(name).map_err(|e| RefiError::NotZip {
            detail: format!("{name}: {e}"),
        })?;
        if entry.encrypted() {
            return Err(RefiError::Encrypted { name: name.into() });
        }
        let ratio_cap = entry
            .compressed_size()
            .saturating_mul(self.limits.max_ratio)
            .max(self.limits.ratio_exempt_bytes);
        let cap = self.remaining.min(ratio_cap);
        let mut out = Vec::new();
        // One byte past the cap tells that it was passed.
        let read = (&mut entry)
            .take(cap.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| RefiError::NotZip {
                detail: format!("{name}: {e}"),
            })? as u64;
        if read > cap {
            return Err(if cap == ratio_cap && ratio_cap < self.remaining {
                RefiError::CompressionRatio {
                    name: name.into(),
                    limit: self.limits.max_ratio,
                }
            } else {
                too_large
            });
        }
        self.remaining -= read;
        Ok(out)
    }
}

/// Why an entry name may not be unpacked, if it may not.
fn unsafe_name(name: &str) -> Option<&'static str> {
    let unified = name.replace('\\', "/");
    if unified.starts_with('/') {
        return Some("it is an absolute path");
    }
    let bytes = unified.as_bytes();
    if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        return Some("it starts with a drive letter");
    }
    if unified.split('/').any(|part| part == "..") {
        return Some("it climbs out of the archive with ..");
    }
    if name.contains('\0') {
        return Some("it contains a NUL character");
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use super::*;

    /// A zip of `entries`, deflated.
    pub(crate) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn entries_are_found_without_regard_to_case() {
        let bytes = zip_of(&[("project.qde", b"<Project/>"), ("Sources/A.txt", b"hi")]);
        let mut archive = Archive::open(&bytes, ArchiveLimits::default()).unwrap();
        let name = archive.find("sources/a.TXT").unwrap().to_owned();
        assert_eq!(archive.read(&name).unwrap(), b"hi");
    }

    #[test]
    fn climbing_and_absolute_names_are_refused() {
        for name in [
            "../evil.txt",
            "sources/../../evil",
            "/etc/passwd",
            "C:\\x.txt",
            "a\\..\\..\\b",
        ] {
            let bytes = zip_of(&[(name, b"x")]);
            let error = Archive::open(&bytes, ArchiveLimits::default())
                .err()
                .unwrap_or_else(|| panic!("{name} accepted"));
            assert!(
                matches!(error, RefiError::UnsafeEntryName { .. }),
                "{name}: {error:?}"
            );
            assert!(error.to_string().contains(&format!("{name:?}")), "{error}");
        }
    }

    #[test]
    fn a_highly_compressed_entry_is_a_bomb() {
        let zeros = vec![0u8; 5_000_000];
        let bytes = zip_of(&[("project.qde", &zeros)]);
        let mut archive = Archive::open(&bytes, ArchiveLimits::default()).unwrap();
        let error = archive.read("project.qde").unwrap_err();
        assert!(
            matches!(error, RefiError::CompressionRatio { .. }),
            "{error:?}"
        );
    }

    #[test]
    fn the_total_is_bounded_by_what_is_read() {
        let text = b"some words ".repeat(20_000);
        let bytes = zip_of(&[("a.txt", &text), ("b.txt", &text)]);
        let limits = ArchiveLimits {
            max_total_bytes: 300_000,
            ..ArchiveLimits::default()
        };
        let mut archive = Archive::open(&bytes, limits).unwrap();
        archive.read("a.txt").unwrap();
        let error = archive.read("b.txt").unwrap_err();
        assert_eq!(error, RefiError::TooLarge { limit_mb: 1 });
    }

    #[test]
    fn too_many_entries_and_not_a_zip_are_refused() {
        let names: Vec<String> = (0..11).map(|i| format!("{i}.txt")).collect();
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let bytes = zip_of(&entries);
        let limits = ArchiveLimits {
            max_entries: 10,
            ..ArchiveLimits::default()
        };
        assert!(matches!(
            Archive::open(&bytes, limits).err(),
            Some(RefiError::TooManyEntries {
                entries: 11,
                limit: 10
            })
        ));
        assert!(matches!(
            Archive::open(b"<Project/>", ArchiveLimits::default()).err(),
            Some(RefiError::NotZip { .. })
        ));
    }
}
