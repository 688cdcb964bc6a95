//! Output documents. An [`OfficialDoc`] is a 公文-style document (a 信访处理意见书, a
//! notice, …) laid out per GB/T 9704-2012 《党政机关公文格式》 (DOMAIN.md §11):
//!
//! - A4 paper; 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm (so bottom 35 mm, right 26 mm);
//! - 22 lines per page (exact line pitch 225 mm / 22);
//! - title 2号小标宋 (22 pt) centred; body 3号仿宋 (16 pt), first lines indented 2 characters;
//!   first-level headings 黑体, second-level 楷体;
//! - signature 右空二字 and the date below it, Arabic numerals without leading zeros (§7.3.5,
//!   the "without seal" form: the seal is applied on paper);
//! - page numbers 4号 (14 pt) 宋体 "— 1 —", odd pages right and even pages left (§7.5).
//!
//! Every document carries its ledger reference (`log-seq`) so a reader can verify it on the
//! public portal. Pure: bytes in memory, no IO.

use docx_rs::{
    AlignmentType, Docx, Footer, LineSpacing, LineSpacingType, PageMargin, PageNum, Paragraph, Run, RunFonts,
};

/// Twentieths of a point per millimetre.
const TWIPS_PER_MM: f64 = 56.692_913;

fn mm(v: f64) -> i32 {
    (v * TWIPS_PER_MM).round() as i32
}

/// Font sizes in half-points: 2号 22 pt, 3号 16 pt, 4号 14 pt.
const SIZE_TITLE: usize = 44;
const SIZE_BODY: usize = 32;
const SIZE_FOOTER: usize = 28;

const FANGSONG: &str = "仿宋_GB2312";
const XIAOBIAOSONG: &str = "方正小标宋简体";
const HEITI: &str = "黑体";
const KAITI: &str = "楷体_GB2312";
const SONGTI: &str = "宋体";

/// A block of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// 一级标题 ("一、…"), 黑体.
    Heading1(String),
    /// 二级标题 ("（一）…"), 楷体.
    Heading2(String),
    /// A body paragraph, first line indented two characters.
    Para(String),
    /// A paragraph flush left, no indent (e.g. the addressee "王某某：").
    Plain(String),
}

/// A document: title, optional reference number, body, signature and date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialDoc {
    pub title: String,
    /// 发文字号, e.g. `万兴信复〔2026〕12号`; empty for none.
    pub number: String,
    pub body: Vec<Block>,
    /// 发文机关署名.
    pub signer: String,
    /// 成文日期 (`year`, `month`, `day`).
    pub date: (i32, u32, u32),
    /// Ledger reference printed at the foot of the last page (`log-seq`).
    pub reference: String,
}

#[derive(Debug, thiserror::Error)]
#[error("生成 DOCX 失败：{0}")]
pub struct DocError(String);

/// `2026年4月3日`: full year, no leading zeros (GB/T 9704 §7.3.5).
pub fn chinese_date((y, m, d): (i32, u32, u32)) -> String {
    format!("{y}年{m}月{d}日")
}

fn run(text: &str, font: &str, size: usize) -> Run {
    Run::new().add_text(xml_text(text)).size(size).fonts(RunFonts::new().east_asia(font).ascii(font).hi_ansi(font))
}

/// `text` without the characters XML 1.0 forbids (C0 controls other than tab and line
/// breaks, U+FFFE, U+FFFF): one of them in `word/document.xml` makes Word and WPS refuse the
/// file or "repair" it. Input is cleaned at the boundary already; records stored before that
/// rule, or text from elsewhere, must still make a valid document.
fn xml_text(text: &str) -> String {
    text.chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..))
        .collect()
}

/// Exact line pitch so that 22 lines fill the 225 mm 版心.
fn line() -> LineSpacing {
    LineSpacing::new().line_rule(LineSpacingType::Exact).line(mm(225.0 / 22.0))
}

fn page_footer(align: AlignmentType) -> Footer {
    let p = Paragraph::new()
        .align(align)
        .add_run(run("— ", SONGTI, SIZE_FOOTER))
        .add_page_num(PageNum::new())
        .add_run(run(" —", SONGTI, SIZE_FOOTER));
    Footer::new().add_paragraph(p)
}

impl OfficialDoc {
    /// The document as DOCX bytes.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn to_docx(&self) -> Result<Vec<u8>, DocError> {
        let margins = PageMargin::new()
            .top(mm(37.0))
            .left(mm(28.0))
            .bottom(mm(35.0))
            .right(mm(26.0))
            .header(mm(15.0))
            // The page-number line sits 7 mm below the 版心 (§7.5).
            .footer(mm(28.0));
        let mut doc = Docx::new()
            .page_size(mm(210.0) as u32, mm(297.0) as u32)
            .page_margin(margins)
            .default_fonts(RunFonts::new().east_asia(FANGSONG).ascii(FANGSONG).hi_ansi(FANGSONG))
            .default_size(SIZE_BODY)
            .footer(page_footer(AlignmentType::Right))
            .even_footer(page_footer(AlignmentType::Left));
        // Title two lines below the top of the 版心 area, centred.
        doc = doc.add_paragraph(Paragraph::new().line_spacing(line()));
        doc = doc.add_paragraph(Paragraph::new().align(AlignmentType::Center).add_run(run(
            &self.title,
            XIAOBIAOSONG,
            SIZE_TITLE,
        )));
        if !self.number.is_empty() {
            doc = doc.add_paragraph(Paragraph::new().align(AlignmentType::Center).line_spacing(line()).add_run(run(
                &self.number,
                FANGSONG,
                SIZE_BODY,
            )));
        }
        doc = doc.add_paragraph(Paragraph::new().line_spacing(line()));
        for b in &self.body {
            let p = match b {
                Block::Heading1(t) => Paragraph::new().first_line_chars(200).add_run(run(t, HEITI, SIZE_BODY)),
                Block::Heading2(t) => Paragraph::new().first_line_chars(200).add_run(run(t, KAITI, SIZE_BODY)),
                Block::Para(t) => Paragraph::new().first_line_chars(200).add_run(run(t, FANGSONG, SIZE_BODY)),
                Block::Plain(t) => Paragraph::new().add_run(run(t, FANGSONG, SIZE_BODY)),
            };
            doc = doc.add_paragraph(p.align(AlignmentType::Both).line_spacing(line()));
        }
        // Without a printed seal: one blank line, signer 右空二字, date below (§7.3.5).
        doc = doc.add_paragraph(Paragraph::new().line_spacing(line()));
        let right_two = |t: &str| {
            Paragraph::new()
                .align(AlignmentType::Right)
                .indent(None, None, Some(mm(0.0)), None)
                .line_spacing(line())
                .add_run(run(&format!("{t}\u{3000}\u{3000}"), FANGSONG, SIZE_BODY))
        };
        doc = doc.add_paragraph(right_two(&self.signer));
        doc = doc.add_paragraph(right_two(&chinese_date(self.date)));
        if !self.reference.is_empty() {
            doc = doc.add_paragraph(Paragraph::new().line_spacing(line()));
            doc = doc.add_paragraph(Paragraph::new().add_run(run(
                &format!("核验编号：{}（可在政务公开网站“记录核验”页面核验本文书）", self.reference),
                SONGTI,
                20,
            )));
        }
        let mut out = std::io::Cursor::new(Vec::new());
        doc.build().pack(&mut out).map_err(|e| DocError(e.to_string()))?;
        Ok(out.into_inner())
    }

    /// The body as plain text paragraphs (for the HTML print view and tests).
    pub fn paragraphs(&self) -> Vec<(&'static str, &str)> {
        self.body
            .iter()
            .map(|b| match b {
                Block::Heading1(t) => ("h1", t.as_str()),
                Block::Heading2(t) => ("h2", t.as_str()),
                Block::Para(t) => ("p", t.as_str()),
                Block::Plain(t) => ("plain", t.as_str()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> OfficialDoc {
        OfficialDoc {
            title: "信访处理意见书".into(),
            number: "万兴信复〔2026〕12号".into(),
            body: vec![
                Block::Plain("王某某：".into()),
                Block::Para("您于2026年3月2日反映的小区电梯停运问题，本机关已依法受理。".into()),
                Block::Heading1("一、信访人的请求".into()),
                Block::Para("请求维修电梯。".into()),
            ],
            signer: "万兴街道办事处".into(),
            date: (2026, 4, 3),
            reference: "12-345".into(),
        }
    }

    #[test]
    fn a_docx_in_the_gbt_9704_layout() {
        let bytes = sample().to_docx().unwrap();
        assert_eq!(&bytes[..2], b"PK", "a DOCX is a zip package");
        let mut zip = zip_entries(&bytes);
        let document = zip.remove("word/document.xml").expect("document.xml");
        assert!(document.contains("信访处理意见书"));
        assert!(document.contains("核验编号：12-345"));
        assert!(document.contains("2026年4月3日"), "date without leading zeros");
        // A4 and the 37/28/35/26 mm margins, in twips.
        assert!(document.contains(r#"w:w="11906""#) && document.contains(r#"w:h="16838""#), "A4");
        assert!(document.contains(r#"w:top="2098""#) && document.contains(r#"w:left="1587""#), "margins");
        assert!(document.contains(r#"w:sz w:val="44""#), "2号 title: {}", &document[..document.len().min(3000)]);
        assert!(document.contains(FANGSONG) && document.contains(HEITI));
        assert!(zip.keys().any(|k| k.starts_with("word/footer")), "page numbers in footers");
    }

    /// Text pasted from Word keeps controls XML forbids; the document must still be XML.
    #[test]
    fn control_characters_never_reach_the_xml() {
        let mut doc = sample();
        doc.body.push(Block::Para("第一行\u{b}第二行\u{0}\u{1f}完\u{ffff}".into()));
        doc.title = "意见书\u{c}".into();
        let document = zip_entries(&doc.to_docx().unwrap()).remove("word/document.xml").unwrap();
        let bad: Vec<u32> = document
            .chars()
            .filter(
                |&c| !matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..),
            )
            .map(u32::from)
            .collect();
        assert!(bad.is_empty(), "characters XML 1.0 forbids: {bad:x?}");
        assert!(document.contains("第二行") && document.contains("完"));
    }

    #[test]
    fn dates_have_no_leading_zeros() {
        assert_eq!(chinese_date((2026, 1, 5)), "2026年1月5日");
    }

    /// The text entries of the package.
    fn zip_entries(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
        let mut out = std::collections::BTreeMap::new();
        let reader = std::io::Cursor::new(bytes);
        let mut z = zip::ZipArchive::new(reader).unwrap();
        for i in 0..z.len() {
            let mut f = z.by_index(i).unwrap();
            let mut s = String::new();
            use std::io::Read;
            if f.read_to_string(&mut s).is_ok() {
                out.insert(f.name().to_owned(), s);
            }
        }
        out
    }
}
