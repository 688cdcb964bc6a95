//! Highlighting: terms marked in titles and snippets cut from the stored original text (not
//! the segmented text, whose overlapping sub-words read as garbage), between [`MARK_START`]
//! and [`MARK_END`]; [`marked_parts`] splits them for rendering.

use super::{MARK_END, MARK_START, SNIPPET_CHARS, SNIPPET_LEAD};

/// Text as stored for display: no highlight markers, no control characters except that
/// line breaks and tabs become spaces.
pub(super) fn plain(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            MARK_START | MARK_END => None,
            '\n' | '\r' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

/// Where `terms` occur in `chars`: non-overlapping `[start, end)` ranges, longest term first
/// at each position, case-insensitive. The text is folded once and each position checks only
/// the terms that start with its character (the search page marks 50 bodies of up to 2,000
/// characters per request: folding per comparison was a quarter of the page's CPU).
fn hit_ranges(chars: &[char], terms: &[Vec<char>]) -> Vec<(usize, usize)> {
    let folded: Vec<char> = chars.iter().map(|c| fold(*c)).collect();
    let terms: Vec<Vec<char>> =
        terms.iter().filter(|t| !t.is_empty()).map(|t| t.iter().map(|c| fold(*c)).collect()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < folded.len() {
        let here = folded[i];
        let found = terms.iter().filter(|t| t[0] == here && folded[i..].starts_with(t)).map(Vec::len).max();
        match found {
            Some(n) => {
                out.push((i, i + n));
                i += n;
            }
            None => i += 1,
        }
    }
    out
}

fn fold(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    // Full-width ASCII forms (U+FF01–U+FF5E) are their ASCII letter, as in the index
    // (`segment::normalize`): one character for one, so positions stay aligned.
    let c = match u32::from(c) {
        n @ 0xFF01..=0xFF5E => char::from_u32(n - 0xFEE0).unwrap_or(c),
        0x3000 => ' ',
        _ => c,
    };
    c.to_lowercase().next().unwrap_or(c)
}

fn term_chars(terms: &[String]) -> Vec<Vec<char>> {
    terms.iter().map(|t| t.chars().collect()).collect()
}

/// `text` with every occurrence of a term between the markers.
pub fn mark_terms(text: &str, terms: &[String]) -> String {
    let chars: Vec<char> = plain(text).chars().collect();
    render_marked(&chars, &hit_ranges(&chars, &term_chars(terms)), 0, chars.len())
}

fn render_marked(chars: &[char], hits: &[(usize, usize)], from: usize, to: usize) -> String {
    let mut out = String::new();
    let mut i = from;
    for &(s, e) in hits.iter().filter(|(s, e)| *s >= from && *e <= to) {
        out.extend(&chars[i..s]);
        out.push(MARK_START);
        out.extend(&chars[s..e]);
        out.push(MARK_END);
        i = e;
    }
    out.extend(&chars[i..to]);
    out
}

/// About [`SNIPPET_CHARS`] characters of `body` starting a little before the first hit,
/// with hits marked and `…` where text was cut.
pub fn snippet(body: &str, terms: &[String]) -> String {
    let chars: Vec<char> = plain(body).chars().collect();
    let hits = hit_ranges(&chars, &term_chars(terms));
    let first = hits.first().map_or(0, |h| h.0);
    let mut start = first.saturating_sub(SNIPPET_LEAD);
    let end = (start + SNIPPET_CHARS).min(chars.len()).max(hits.first().map_or(0, |h| h.1).min(chars.len()));
    if end.saturating_sub(start) < SNIPPET_CHARS {
        start = end.saturating_sub(SNIPPET_CHARS);
    }
    // A hit cut by the window edge is not marked.
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.push_str(&render_marked(&chars, &hits, start, end));
    if end < chars.len() {
        out.push('…');
    }
    out
}

/// `s` without highlight markers.
pub fn strip_marks(s: &str) -> String {
    s.chars().filter(|c| *c != MARK_START && *c != MARK_END).collect()
}

/// Splits a marked string into `(highlighted, text)` parts for rendering.
pub fn marked_parts(s: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        match rest.find(MARK_START) {
            Some(0) => {
                let inner = &rest[MARK_START.len_utf8()..];
                let end = inner.find(MARK_END).unwrap_or(inner.len());
                if end > 0 {
                    out.push((true, &inner[..end]));
                }
                rest = inner.get(end + MARK_END.len_utf8()..).unwrap_or("");
            }
            Some(i) => {
                out.push((false, &rest[..i]));
                rest = &rest[i..];
            }
            None => {
                out.push((false, rest));
                rest = "";
            }
        }
    }
    out.retain(|(_, t)| !t.is_empty());
    out
}
