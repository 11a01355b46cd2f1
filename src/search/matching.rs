//! Finding a query in a text: pure, in code points (DESIGN.md invariant 2).

/// The case fold used for matching: each character's first lowercase
/// character, so a text and its folded form have the same code points.
fn fold(c: char) -> char {
    if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        c.to_lowercase().next().unwrap_or(c)
    }
}

/// The folded characters of `text`.
pub fn folded(text: &str) -> Vec<char> {
    text.chars().map(fold).collect()
}

/// Every `[start, end)` (code points) where the folded `needle` occurs in
/// `haystack` (folded as it is read, so the text is read once), left to right
/// and not overlapping.
pub fn find_all(haystack: &[char], needle: &[char]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    if needle.is_empty() || needle.len() > haystack.len() {
        return out;
    }
    let mut i = 0;
    while i + needle.len() <= haystack.len() {
        if fold(haystack[i]) == needle[0]
            && haystack[i + 1..i + needle.len()]
                .iter()
                .zip(&needle[1..])
                .all(|(h, n)| fold(*h) == *n)
        {
            out.push((i, i + needle.len()));
            i += needle.len();
        } else {
            i += 1;
        }
    }
    out
}

/// The text around `[start, end)`: up to `context` code points on each side,
/// cut at a space where one is near, on one line.
pub fn snippet(
    chars: &[char],
    start: usize,
    end: usize,
    context: usize,
) -> (String, String, String) {
    let from = start.saturating_sub(context);
    let to = (end + context).min(chars.len());
    let mut before: String = chars[from..start].iter().collect();
    let mut after: String = chars[end..to].iter().collect();
    if from > 0
        && let Some(space) = before.find(' ')
    {
        before = format!("…{}", &before[space + 1..]);
    }
    if to < chars.len()
        && let Some(space) = after.rfind(' ')
    {
        after = format!("{}…", &after[..space]);
    }
    let flat = |s: String| s.replace('\n', " ⏎ ");
    (
        flat(before),
        chars[start..end]
            .iter()
            .collect::<String>()
            .replace('\n', " "),
        flat(after),
    )
}

/// The 1-based line of code point `at`, given the offsets where lines start.
pub fn line_of(line_starts: &[usize], at: usize) -> usize {
    line_starts.partition_point(|s| *s <= at)
}

/// Where each line of `chars` starts.
pub fn line_starts(chars: &[char]) -> Vec<usize> {
    std::iter::once(0)
        .chain(
            chars
                .iter()
                .enumerate()
                .filter(|(_, c)| **c == '\n')
                .map(|(i, _)| i + 1),
        )
        .collect()
}

/// `query` as an `ILIKE` pattern matching it anywhere, its wildcards escaped.
pub fn like_pattern(query: &str) -> String {
    let mut out = String::from("%");
    for c in query.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_are_found_in_code_points_whatever_the_case_and_accents() {
        let text = "Zoë 👋 said: CHEMO first,\nthen chemotherapy again.";
        let hay: Vec<char> = text.chars().collect();
        let hits = find_all(&hay, &folded("Chemo"));
        assert_eq!(hits.len(), 2);
        let chars: Vec<char> = text.chars().collect();
        let (s, e) = hits[0];
        assert_eq!(chars[s..e].iter().collect::<String>(), "CHEMO");
        assert_eq!(s, 12, "the emoji is one code point");
        let starts = line_starts(&chars);
        assert_eq!(line_of(&starts, hits[0].0), 1);
        assert_eq!(line_of(&starts, hits[1].0), 2);
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(find_all(&chars("ZOË"), &folded("zoë")), [(0, 3)]);
        assert_eq!(find_all(&chars("AaAa"), &folded("aa")), [(0, 2), (2, 4)]);
        assert!(find_all(&hay, &folded("")).is_empty());
    }

    #[test]
    fn snippets_cut_at_spaces_and_patterns_escape_wildcards() {
        let chars: Vec<char> = "one two three four five six seven".chars().collect();
        let (b, m, a) = snippet(&chars, 14, 18, 8);
        assert_eq!(
            (b.as_str(), m.as_str(), a.as_str()),
            ("…three ", "four", " five…")
        );
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
