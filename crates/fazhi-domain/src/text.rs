//! Text as offices paste it: the one rule for control characters at the input boundary.
//!
//! Text copied from Word, WPS or Excel carries control characters a person never typed and
//! cannot see: U+000B (Word's manual line break), U+000C (page break), U+001F, NUL … NUL makes
//! PostgreSQL refuse the whole statement (a 500, or a whole import batch lost); the others
//! end up in generated DOCX files, whose `document.xml` is then not XML 1.0 and Word / WPS
//! refuse or "repair" it. The rule, applied to every text field and parameter before any
//! use case sees it (the web layer cleans forms, JSON bodies and query strings):
//! - tab, line feed and carriage return stay;
//! - a vertical tab, form feed, or the Unicode line and paragraph separators become a line
//!   feed (they are line breaks in the document the text came from);
//! - every other C0 control (U+0000–U+001F), DEL (U+007F) and the C1 controls
//!   (U+0080–U+009F) are removed, as are U+FFFE / U+FFFF (not characters).
//!
//! Removed rather than refused: a 6,000-character letter pasted from Word is kept, without the
//! invisible marks, and the person is not asked to find them.

use std::borrow::Cow;

/// Whether `c` is removed or replaced by [`clean`].
pub fn is_unwanted(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}'..='\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' | '\u{2028}' | '\u{2029}')
}

/// `s` with the rule above applied; borrowed when nothing changes (the usual case).
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unwanted) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .filter_map(|c| match c {
                '\u{b}' | '\u{c}' | '\u{2028}' | '\u{2029}' => Some('\n'),
                c if is_unwanted(c) => None,
                c => Some(c),
            })
            .collect(),
    )
}

/// Whether `c` may appear in an XML 1.0 document (the Char production).
pub fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// The paragraphs of a text a person wrote, as documents print them: one per line, in
/// order; surrounding white space (including the full-width spaces a person types to indent,
/// since the layout indents every paragraph) trimmed and blank lines dropped. Any line break
/// counts: LF, CRLF, CR, and the vertical tab, form feed and Unicode separators Word pastes.
pub fn paragraphs(text: &str) -> Vec<&str> {
    text.split(['\n', '\r', '\u{b}', '\u{c}', '\u{2028}', '\u{2029}'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasted_controls_are_removed_and_line_breaks_kept() {
        assert!(matches!(clean("拨打12345热线"), Cow::Borrowed(_)));
        assert_eq!(clean("第一段\u{b}第二段\r\n\t第三段"), "第一段\n第二段\r\n\t第三段");
        assert_eq!(clean("a\u{0}b\u{1f}c\u{7f}d\u{85}e\u{ffff}"), "abcde");
        assert_eq!(clean("x\u{2028}y"), "x\ny");
        assert!(clean("\u{0}\u{1}\u{2}").is_empty());
    }

    #[test]
    fn paragraphs_are_lines_without_blanks_or_hand_indents() {
        assert_eq!(paragraphs("　　第一段。\r\n\r\n  第二段。\n\u{b}第三段\r"), ["第一段。", "第二段。", "第三段"]);
        assert!(paragraphs(" \n\t\n").is_empty());
        assert_eq!(paragraphs("一段"), ["一段"]);
    }

    #[test]
    fn cleaned_text_is_always_xml() {
        for c in (0u32..0x11_0000).filter_map(char::from_u32) {
            let s = c.to_string();
            assert!(clean(&s).chars().all(xml_char), "U+{:04X}", c as u32);
        }
    }
}

/// An identifier of another system (a 12345 工单 number, a 信访平台 number) in one stored
/// form: full-width letters and digits folded (NFKC), ASCII letters upper case, no spaces —
/// so `ＧＤ２０２６１１３０００１` and ` gd20261130001 ` name the same record as `GD20261130001`.
pub fn identifier(raw: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    raw.nfkc().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect()
}

#[cfg(test)]
mod identifier_tests {
    #[test]
    fn one_form_for_one_number() {
        for raw in ["GD20261130001", "ＧＤ２０２６１１３０００１", " gd20261130001 ", "GD 2026 1130 001"] {
            assert_eq!(super::identifier(raw), "GD20261130001", "{raw:?}");
        }
    }
}
