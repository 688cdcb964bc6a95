//! The page geometry of GB/T 9704-2012 in twips (1/20 pt, 1/1440 inch), computed once and
//! checked by the tests below, so that a document opens in Word and WPS with exactly 22 lines
//! of 28 characters per page.

/// Millimetres to twips, rounded to the nearest twip.
pub const fn mm(v: i32) -> i32 {
    (v * 14_400 + 127) / 254
}

/// A4 width, 210 mm (GB/T 9704-2012 §5.1).
pub const PAGE_W: i32 = mm(210);
/// A4 height, 297 mm (§5.1).
pub const PAGE_H: i32 = mm(297);

/// 天头 (top margin), 37 mm (§5.2.1).
pub const TOP: i32 = mm(37);
/// 订口 (left margin), 28 mm (§5.2.1).
pub const LEFT: i32 = mm(28);

/// 版心 width, 156 mm (§5.2.1).
pub const AREA_W: i32 = mm(156);
/// 版心 height as the standard states it, 225 mm (§5.2.1); see [`AREA_H`] for the one used.
pub const AREA_H_NOMINAL: i32 = mm(225);

/// Lines per page, 22 (§5.2.3).
pub const LINES: i32 = 22;
/// Characters per line, 28 (§5.2.3).
pub const CHARS: i32 = 28;

/// The exact line pitch: the largest whole number of twips with which 22 lines fit the
/// 225 mm 版心 (12,756 / 22 = 579.8, so 579; 580 would need 12,760 and Word would set 21).
pub const LINE_PITCH: i32 = AREA_H_NOMINAL / LINES;

/// The 版心 height actually used: exactly 22 lines (224.7 mm, within a millimetre of the
/// nominal 225 mm), so the bottom margin is what is left of the page.
pub const AREA_H: i32 = LINES * LINE_PITCH;
/// Bottom margin: the rest of the page below the 22 lines (35.3 mm; about 35 mm per §5.2.1).
pub const BOTTOM: i32 = PAGE_H - TOP - AREA_H;
/// Right margin: the rest of the page beside the 版心 (26 mm, §5.2.1).
pub const RIGHT: i32 = PAGE_W - LEFT - AREA_W;

/// Body size, 3号 (16 pt), in half-points (§5.2.2, §7.3.3).
pub const SIZE_BODY: i32 = 32;
/// Title size, 2号 (22 pt), in half-points (§7.3.1).
pub const SIZE_TITLE: i32 = 44;
/// Page-number size, 4号 (14 pt), in half-points (§7.5).
pub const SIZE_FOOTER: i32 = 28;

/// One character of the body (3号, 16 pt), in twips: the unit of 空二字, 右空四字.
pub const BODY_CHAR: i32 = SIZE_BODY * 10;
/// One character of the page number (4号, 14 pt), in twips: its 空一字 (§7.5).
pub const FOOTER_CHAR: i32 = SIZE_FOOTER * 10;

/// The character grid's `w:charSpace`: how much narrower than 16 pt each character cell is, in
/// 1/4096 pt, so that 28 cells fit the 156 mm width (28 × 16 pt = 158 mm would leave 27).
/// Rounded down so that 28 × the pitch never exceeds the width. Word and WPS set each
/// character in its 15.79 pt cell; LibreOffice instead spreads a character wider than its cell
/// over two cells (about 14–18 characters a line there): checked by eye, a LibreOffice
/// difference rather than a fault of the file.
pub const CHAR_SPACE: i32 = AREA_W * 4096 / (CHARS * 20) - SIZE_BODY / 2 * 4096;

/// The page number's line begins 7 mm below the 版心 (§7.5). `w:footer` is the distance from
/// the page's bottom edge to the bottom of the footer, whose one line is exactly one 4号
/// character high.
pub const FOOTER: i32 = BOTTOM - mm(7) - FOOTER_CHAR;

/// 1.5 cm: no header is printed (there is no 版头 in these documents).
pub const HEADER: i32 = 851;

/// The width of `s` in half characters: ASCII (half-width digits, Latin letters) counts one,
/// everything else (汉字, full-width punctuation) two.
pub fn half_chars(s: &str) -> i32 {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

/// Where the 发文机关署名 and the 成文日期 sit: their right indents, in twips.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    /// Right indent of the 署名.
    pub signer_right: i32,
    /// Right indent of the 成文日期.
    pub date_right: i32,
}

/// §7.3.5.1 (加盖印章的公文, single organ): the 成文日期 右空四字; the 署名 centred over the
/// date. A 署名 so long that, centred, it would come closer than two characters to the right
/// margin stays 右空二字 (as §7.3.5.2 places it without a seal) with the date centred under
/// it: the two stay centred on each other, so the seal presses on both.
pub fn signature(signer: &str, date: &str) -> Signature {
    let date_right = 4 * BODY_CHAR;
    // Centres coincide: signer_right + w_s / 2 = date_right + w_d / 2 (a half char = 160).
    let offset = (half_chars(date) - half_chars(signer)) * BODY_CHAR / 4;
    if date_right + offset >= 2 * BODY_CHAR {
        Signature { signer_right: date_right + offset, date_right }
    } else {
        Signature { signer_right: 2 * BODY_CHAR, date_right: 2 * BODY_CHAR - offset }
    }
}

impl Signature {
    /// Whether the 署名 is the longer line that sets the place (右空二字, the date under it).
    pub fn signer_sets_place(&self) -> bool {
        self.date_right > 4 * BODY_CHAR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a4_and_the_margins() {
        assert_eq!((PAGE_W, PAGE_H), (11_906, 16_838));
        assert_eq!((TOP, LEFT, AREA_W, AREA_H_NOMINAL), (2098, 1587, 8844, 12_756));
        assert_eq!(LEFT + AREA_W + RIGHT, PAGE_W);
        assert_eq!(TOP + AREA_H + BOTTOM, PAGE_H);
        // Right and bottom margins within 1 mm of the derived 26 and 35 mm.
        assert!((RIGHT - mm(26)).abs() <= mm(1) && (BOTTOM - mm(35)).abs() <= mm(1), "{RIGHT} {BOTTOM}");
    }

    /// 22 lines fit the 版心 exactly (the issue: a 580-twip pitch needs 12,760 > 12,756).
    #[test]
    fn twenty_two_lines_fill_the_type_area() {
        assert_eq!(LINE_PITCH, 579);
        assert_eq!(AREA_H, 12_738);
        assert_eq!(AREA_H / LINE_PITCH, LINES, "Word sets floor(height / pitch) lines");
        const { assert!(LINES * 580 > AREA_H_NOMINAL, "580 would give 21 lines") };
        assert!(AREA_H_NOMINAL - AREA_H < LINE_PITCH && AREA_H_NOMINAL - AREA_H <= mm(1));
    }

    /// 28 cells of 16 pt + charSpace/4096 pt fit the 156 mm width, and 29 do not.
    #[test]
    fn twenty_eight_characters_fill_a_line() {
        assert_eq!(CHAR_SPACE, -849);
        // The cell in 1/4096 pt and the width in 1/4096 pt (1 twip = 4096 / 20).
        let cell = 16 * 4096 + CHAR_SPACE;
        let width = AREA_W * 4096 / 20;
        assert!(CHARS * cell <= width && (CHARS + 1) * cell > width, "cell {cell} width {width}");
        const { assert!(CHARS * BODY_CHAR > AREA_W, "without the grid 28 characters of 16 pt do not fit") };
    }

    #[test]
    fn the_page_number_sits_7_mm_below_the_type_area() {
        assert_eq!(FOOTER + FOOTER_CHAR, BOTTOM - mm(7));
        assert_eq!(FOOTER_CHAR, 280, "one 4号 character: 空一字");
        const { assert!(FOOTER > 0) };
    }

    #[test]
    fn the_signature_is_centred_over_the_date() {
        // "2026年11月30日": 8 half-width digits + 3 汉字 = 7 characters; 12 汉字 signer.
        assert_eq!(half_chars("2026年11月30日"), 14);
        let s = signature("万兴街道办事处", "2026年11月30日");
        assert_eq!(s.date_right, 4 * 320, "右空四字");
        // Same centre: right + width / 2, in twips.
        let centre = |right: i32, text: &str| right * 2 + half_chars(text) * 160;
        assert_eq!(centre(s.signer_right, "万兴街道办事处"), centre(s.date_right, "2026年11月30日"));
        assert!(!s.signer_sets_place());
        // 17 汉字 against 7 characters: centred on a date 右空四字 it would cross the margin.
        let long = signature("天津市南开区人民政府万兴街道办事处", "2026年11月30日");
        assert_eq!(long.signer_right, 2 * 320, "右空二字");
        assert_eq!(long.date_right, 7 * 320);
        assert!(long.signer_sets_place());
        assert_eq!(
            centre(long.signer_right, "天津市南开区人民政府万兴街道办事处"),
            centre(long.date_right, "2026年11月30日")
        );
        // Just long enough to still fit with two characters of space: the date stays.
        let fits = signature("南开区人民政府万兴街道", "2026年11月30日");
        assert_eq!((fits.signer_right, fits.date_right), (2 * 320, 4 * 320));
    }
}
