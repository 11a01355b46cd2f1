//! Text encodings: every one the WHATWG Encoding Standard defines (as
//! encoding_rs implements them) plus UTF-32, detection by byte-order mark,
//! and a guess (chardetng) for files that say nothing.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A text encoding, detected or chosen by the researcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding(Inner);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Inner {
    Web(&'static encoding_rs::Encoding),
    /// encoding_rs leaves UTF-32 out (the Web never uses it); Windows
    /// tools still write it, always with a byte-order mark.
    Utf32Le,
    Utf32Be,
}

/// Every encoding offered, in the order a menu lists them, with what it is for.
/// Left out: encoding_rs's `replacement` (which decodes everything to U+FFFD)
/// and `x-user-defined` (which maps bytes to private-use characters); neither
/// is ever the real encoding of a text.
const CATALOGUE: &[(Encoding, &str)] = &[
    (Encoding::UTF_8, "Unicode"),
    (Encoding::UTF_16LE, "Unicode, little-endian"),
    (Encoding::UTF_16BE, "Unicode, big-endian"),
    (Encoding::UTF_32LE, "Unicode, little-endian"),
    (Encoding::UTF_32BE, "Unicode, big-endian"),
    (
        Encoding::WINDOWS_1252,
        "Western European (Windows, also Latin-1)",
    ),
    (
        web(&encoding_rs::ISO_8859_15_INIT),
        "Western European with €",
    ),
    (web(&encoding_rs::MACINTOSH_INIT), "Western European (Mac)"),
    (
        web(&encoding_rs::WINDOWS_1250_INIT),
        "Central European (Windows)",
    ),
    (web(&encoding_rs::ISO_8859_2_INIT), "Central European (ISO)"),
    (web(&encoding_rs::ISO_8859_3_INIT), "South European"),
    (
        web(&encoding_rs::ISO_8859_16_INIT),
        "South-Eastern European",
    ),
    (web(&encoding_rs::WINDOWS_1257_INIT), "Baltic (Windows)"),
    (web(&encoding_rs::ISO_8859_4_INIT), "Baltic (ISO)"),
    (web(&encoding_rs::ISO_8859_13_INIT), "Baltic (ISO-8859-13)"),
    (web(&encoding_rs::ISO_8859_10_INIT), "Nordic"),
    (web(&encoding_rs::ISO_8859_14_INIT), "Celtic"),
    (
        web(&encoding_rs::WINDOWS_1254_INIT),
        "Turkish (also ISO-8859-9)",
    ),
    (web(&encoding_rs::WINDOWS_1253_INIT), "Greek (Windows)"),
    (web(&encoding_rs::ISO_8859_7_INIT), "Greek (ISO)"),
    (web(&encoding_rs::WINDOWS_1251_INIT), "Cyrillic (Windows)"),
    (web(&encoding_rs::ISO_8859_5_INIT), "Cyrillic (ISO)"),
    (web(&encoding_rs::KOI8_R_INIT), "Russian (KOI8-R)"),
    (web(&encoding_rs::KOI8_U_INIT), "Ukrainian (KOI8-U)"),
    (web(&encoding_rs::IBM866_INIT), "Cyrillic (DOS)"),
    (web(&encoding_rs::X_MAC_CYRILLIC_INIT), "Cyrillic (Mac)"),
    (web(&encoding_rs::WINDOWS_1255_INIT), "Hebrew (Windows)"),
    (
        web(&encoding_rs::ISO_8859_8_I_INIT),
        "Hebrew (ISO, logical order)",
    ),
    (
        web(&encoding_rs::ISO_8859_8_INIT),
        "Hebrew (ISO, visual order)",
    ),
    (web(&encoding_rs::WINDOWS_1256_INIT), "Arabic (Windows)"),
    (web(&encoding_rs::ISO_8859_6_INIT), "Arabic (ISO)"),
    (web(&encoding_rs::WINDOWS_874_INIT), "Thai"),
    (web(&encoding_rs::WINDOWS_1258_INIT), "Vietnamese"),
    (
        web(&encoding_rs::GBK_INIT),
        "Chinese, simplified (GBK, also GB2312)",
    ),
    (
        web(&encoding_rs::GB18030_INIT),
        "Chinese, simplified (GB18030)",
    ),
    (web(&encoding_rs::BIG5_INIT), "Chinese, traditional (Big5)"),
    (web(&encoding_rs::SHIFT_JIS_INIT), "Japanese (Shift_JIS)"),
    (web(&encoding_rs::EUC_JP_INIT), "Japanese (EUC-JP)"),
    (
        web(&encoding_rs::ISO_2022_JP_INIT),
        "Japanese (ISO-2022-JP)",
    ),
    (web(&encoding_rs::EUC_KR_INIT), "Korean (EUC-KR)"),
];

const fn web(encoding: &'static encoding_rs::Encoding) -> Encoding {
    Encoding(Inner::Web(encoding))
}

/// An entry of the encoding menu.
#[derive(Debug, Clone, Serialize)]
pub struct EncodingChoice {
    /// What to send back as the `encoding` field.
    pub label: String,
    pub description: &'static str,
}

impl Encoding {
    pub const UTF_8: Encoding = web(&encoding_rs::UTF_8_INIT);
    pub const UTF_16LE: Encoding = web(&encoding_rs::UTF_16LE_INIT);
    pub const UTF_16BE: Encoding = web(&encoding_rs::UTF_16BE_INIT);
    pub const UTF_32LE: Encoding = Encoding(Inner::Utf32Le);
    pub const UTF_32BE: Encoding = Encoding(Inner::Utf32Be);
    pub const WINDOWS_1252: Encoding = web(&encoding_rs::WINDOWS_1252_INIT);

    /// The encoding a label names: the WHATWG labels (`latin1`, `gb2312`,
    /// `cp1255`, `sjis` ... in any case), plus `utf-32le`, `utf-32be` and
    /// `utf-32` (little-endian, as Windows writes it).
    pub fn for_label(label: &str) -> Option<Encoding> {
        let label = label.trim();
        match label.to_ascii_lowercase().as_str() {
            "utf-32" | "utf-32le" | "utf32" | "utf32le" => return Some(Self::UTF_32LE),
            "utf-32be" | "utf32be" => return Some(Self::UTF_32BE),
            "utf8" => return Some(Self::UTF_8),
            // What people type for the WHATWG `latin1`.
            "latin-1" => return Some(Self::WINDOWS_1252),
            _ => {}
        }
        let found = encoding_rs::Encoding::for_label(label.as_bytes())?;
        let encoding = web(found);
        Self::all().any(|e| e == encoding).then_some(encoding)
    }

    /// Every encoding Concord reads.
    pub fn all() -> impl Iterator<Item = Encoding> {
        CATALOGUE.iter().map(|(e, _)| *e)
    }

    /// The menu of encodings, in a sensible order.
    pub fn choices() -> Vec<EncodingChoice> {
        CATALOGUE
            .iter()
            .map(|(e, description)| EncodingChoice {
                label: e.name().to_owned(),
                description,
            })
            .collect()
    }

    /// The canonical name, as the WHATWG standard spells it (`UTF-8`,
    /// `windows-1255`, `GBK`), and `UTF-32LE`/`UTF-32BE`.
    pub fn name(self) -> &'static str {
        match self.0 {
            Inner::Web(encoding) => encoding.name(),
            Inner::Utf32Le => "UTF-32LE",
            Inner::Utf32Be => "UTF-32BE",
        }
    }

    /// UTF-16 and UTF-32 are the ones where zero bytes are ordinary text.
    pub(crate) fn is_wide(self) -> bool {
        self == Self::UTF_16LE
            || self == Self::UTF_16BE
            || self == Self::UTF_32LE
            || self == Self::UTF_32BE
    }

    fn bom(self) -> &'static [u8] {
        match self.0 {
            Inner::Utf32Le => UTF32_LE_BOM,
            Inner::Utf32Be => UTF32_BE_BOM,
            _ if self == Self::UTF_16LE => UTF16_LE_BOM,
            _ if self == Self::UTF_16BE => UTF16_BE_BOM,
            // A UTF-8 mark on a file said to be in a legacy encoding would
            // otherwise become "ï»¿" at the start of the transcript.
            _ => UTF8_BOM,
        }
    }

    /// Decodes `bytes` strictly, without a leading byte-order mark of this
    /// encoding; on malformed input, the text before the first bad sequence.
    pub(crate) fn decode(self, bytes: &[u8]) -> Result<String, String> {
        let body = bytes.strip_prefix(self.bom()).unwrap_or(bytes);
        match self.0 {
            Inner::Web(encoding) => {
                match encoding.decode_without_bom_handling_and_without_replacement(body) {
                    Some(text) => Ok(text.into_owned()),
                    None => {
                        let (lossy, _) = encoding.decode_without_bom_handling(body);
                        let before = lossy.find('\u{FFFD}').unwrap_or(lossy.len());
                        Err(lossy[..before].to_owned())
                    }
                }
            }
            Inner::Utf32Le | Inner::Utf32Be => {
                let mut text = String::with_capacity(body.len() / 4);
                for unit in body.chunks(4) {
                    let Ok(unit) = <[u8; 4]>::try_from(unit) else {
                        return Err(text);
                    };
                    let value = if self.0 == Inner::Utf32Le {
                        u32::from_le_bytes(unit)
                    } else {
                        u32::from_be_bytes(unit)
                    };
                    match char::from_u32(value) {
                        Some(c) => text.push(c),
                        None => return Err(text),
                    }
                }
                Ok(text)
            }
        }
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Encoding {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Encoding {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let label = String::deserialize(deserializer)?;
        Encoding::for_label(&label)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown encoding '{label}'")))
    }
}

pub(crate) const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
const UTF16_LE_BOM: &[u8] = &[0xFF, 0xFE];
const UTF16_BE_BOM: &[u8] = &[0xFE, 0xFF];
const UTF32_LE_BOM: &[u8] = &[0xFF, 0xFE, 0x00, 0x00];
const UTF32_BE_BOM: &[u8] = &[0x00, 0x00, 0xFE, 0xFF];

/// The encoding a byte-order mark names. UTF-32 LE is tested before
/// UTF-16 LE, whose mark is its first half.
pub(crate) fn from_bom(bytes: &[u8]) -> Option<Encoding> {
    [
        (UTF32_LE_BOM, Encoding::UTF_32LE),
        (UTF32_BE_BOM, Encoding::UTF_32BE),
        (UTF8_BOM, Encoding::UTF_8),
        (UTF16_LE_BOM, Encoding::UTF_16LE),
        (UTF16_BE_BOM, Encoding::UTF_16BE),
    ]
    .into_iter()
    .find(|(bom, _)| bytes.starts_with(bom))
    .map(|(_, encoding)| encoding)
}

/// The likeliest legacy encoding of bytes that are not UTF-8, by chardetng's
/// statistics (the detector Firefox uses for unlabelled pages).
pub(crate) fn guess_legacy(bytes: &[u8]) -> Encoding {
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Allow);
    detector.feed(bytes, true);
    let guess = web(detector.guess(None, Utf8Detection::Deny));
    if Encoding::all().any(|e| e == guess) {
        guess
    } else {
        Encoding::WINDOWS_1252
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_every_offered_encoding_and_round_trip() {
        for encoding in Encoding::all() {
            assert_eq!(Encoding::for_label(encoding.name()), Some(encoding));
        }
        assert_eq!(Encoding::all().count(), 40);
        assert_eq!(Encoding::for_label("latin-1"), Some(Encoding::WINDOWS_1252));
        assert_eq!(
            Encoding::for_label("GB2312").map(Encoding::name),
            Some("GBK")
        );
        assert_eq!(
            Encoding::for_label("cp1255").map(Encoding::name),
            Some("windows-1255")
        );
        assert_eq!(Encoding::for_label("UTF-32"), Some(Encoding::UTF_32LE));
        assert_eq!(Encoding::for_label("replacement"), None);
        assert_eq!(Encoding::for_label("x-user-defined"), None);
        assert_eq!(Encoding::for_label("klingon"), None);
    }

    #[test]
    fn utf32_decodes_in_both_byte_orders_and_refuses_bad_units() {
        let le: Vec<u8> = "Zoë 👋"
            .chars()
            .flat_map(|c| (c as u32).to_le_bytes())
            .collect();
        let be: Vec<u8> = "Zoë 👋"
            .chars()
            .flat_map(|c| (c as u32).to_be_bytes())
            .collect();
        assert_eq!(Encoding::UTF_32LE.decode(&le).as_deref(), Ok("Zoë 👋"));
        assert_eq!(Encoding::UTF_32BE.decode(&be).as_deref(), Ok("Zoë 👋"));
        assert_eq!(
            Encoding::UTF_32LE.decode(&[0x41, 0, 0, 0, 0x00, 0xD8, 0, 0]),
            Err("A".to_owned())
        );
        assert_eq!(Encoding::UTF_32LE.decode(&[0x41, 0, 0]), Err(String::new()));
    }

    #[test]
    fn byte_order_marks_tell_utf32_from_utf16() {
        assert_eq!(
            from_bom(&[0xFF, 0xFE, 0, 0, 0x41, 0, 0, 0]),
            Some(Encoding::UTF_32LE)
        );
        assert_eq!(from_bom(&[0xFF, 0xFE, 0x41, 0]), Some(Encoding::UTF_16LE));
        assert_eq!(from_bom(&[0, 0, 0xFE, 0xFF]), Some(Encoding::UTF_32BE));
        assert_eq!(from_bom(b"abc"), None);
    }
}
