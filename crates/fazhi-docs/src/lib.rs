//! Output documents. An [`OfficialDoc`] is a 公文-style document (a 信访处理意见书, a
//! notice, …) laid out per GB/T 9704-2012 《党政机关公文格式》 (DOMAIN.md §11):
//!
//! - A4 paper; 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm (§5.2), 22 lines of 28
//!   characters filling it exactly ([`layout`]);
//! - title 2号小标宋 (22 pt) centred; body 3号仿宋 (16 pt), every paragraph's first line
//!   indented two characters (§7.3.3); first-level headings 黑体, second-level 楷体;
//! - every text a person wrote keeps its paragraphs: one paragraph per line ([`Block`]);
//! - 发文机关署名 and 成文日期 as for a sealed document (§7.3.5.1): the date 右空四字 in
//!   Arabic numerals without leading zeros (`2026年4月3日`, §7.3.5), the organ's full name
//!   centred over it (a long name 右空二字 with the date centred under it), room for the seal
//!   pressing on both;
//! - page numbers 4号 半角宋体 "— 1 —", odd pages right 空一字, even pages left 空一字, 7 mm
//!   below the 版心 (§7.5).
//!
//! Every document carries its ledger reference (`log-seq`) so a reader can verify it on the
//! public portal. Pure: bytes in memory, no IO.

#[cfg(any(test, feature = "check"))]
pub mod check;
pub mod layout;
mod ooxml;

use fazhi_domain::Day;
use fazhi_domain::text::paragraphs;
use layout::{BODY_CHAR, SIZE_BODY, SIZE_TITLE};
use ooxml::{Align, BLANK, FANGSONG, HEITI, KAITI, SONGTI, XIAOBIAOSONG, para, run};

/// A block of the body. Its text may hold several paragraphs, one per line (a person's
/// text as typed): each becomes a paragraph of its own, blank lines dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// 一级标题 ("一、…"), 黑体.
    Heading1(String),
    /// 二级标题 ("（一）…"), 楷体.
    Heading2(String),
    /// Body paragraphs, first line indented two characters.
    Para(String),
    /// Paragraphs flush left, no indent (e.g. the addressee "王某某：").
    Plain(String),
}

impl Block {
    fn parts(&self) -> (&'static str, &str) {
        match self {
            Block::Heading1(t) => ("h1", t),
            Block::Heading2(t) => ("h2", t),
            Block::Para(t) => ("p", t),
            Block::Plain(t) => ("plain", t),
        }
    }
}

/// A document: title, optional reference number, body, signature and date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialDoc {
    pub title: String,
    /// 发文字号, e.g. `万兴信复〔2026〕12号`; empty for none.
    pub number: String,
    pub body: Vec<Block>,
    /// 发文机关署名: the issuing organ's full name.
    pub signer: String,
    /// 成文日期.
    pub date: Day,
    /// Ledger reference printed at the foot of the last page (`log-seq`).
    pub reference: String,
}

/// The document could not be written.
#[derive(Debug, thiserror::Error)]
#[error("生成 DOCX 失败：{0}")]
pub struct DocError(String);

/// Where the signature lines sit (§7.3.5.1), for the DOCX and the print view alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureLayout(pub layout::Signature);

impl SignatureLayout {
    /// The print view's class of the signature block: `long` when the 署名 sets the place
    /// (右空二字, the date centred under it), empty when the date does (右空四字).
    pub fn class(&self) -> &'static str {
        if self.0.signer_sets_place() { "long" } else { "" }
    }
}

/// Two characters of first-line indent: `w:firstLineChars="200"`, or 2 × 16 pt in twips.
const INDENT: Option<(i32, i32)> = Some((200, 2 * BODY_CHAR));

/// Blank lines between the body and the 署名: the seal (about four lines high) starts within
/// one line of the body and presses on the 署名 and date, which sit a little below its centre
/// (§7.3.5.1).
const SEAL_LINES: usize = 2;

impl OfficialDoc {
    /// The 成文日期 as printed: `2026年4月3日`.
    pub fn date_text(&self) -> String {
        self.date.chinese()
    }

    /// Where the 署名 and the date sit (§7.3.5.1).
    pub fn signature(&self) -> SignatureLayout {
        SignatureLayout(layout::signature(&self.signer, &self.date_text()))
    }

    /// The body as printed, one entry per paragraph: its class (`h1`, `h2`, `p`, `plain`)
    /// and text. The DOCX and the HTML print view both set exactly these.
    pub fn paragraphs(&self) -> Vec<(&'static str, &str)> {
        self.body
            .iter()
            .flat_map(|b| {
                let (class, text) = b.parts();
                paragraphs(text).into_iter().map(move |t| (class, t))
            })
            .collect()
    }

    /// `word/document.xml`.
    pub fn document_xml(&self) -> String {
        let mut body = String::new();
        // The title two lines below the top of the 版心 (there is no 版头 here), centred.
        body.push_str(BLANK);
        for line in paragraphs(&self.title) {
            body.push_str(&para(&run(line, XIAOBIAOSONG, SIZE_TITLE), Align::Center, None));
        }
        if !self.number.trim().is_empty() {
            body.push_str(&para(&run(self.number.trim(), FANGSONG, SIZE_BODY), Align::Center, None));
        }
        body.push_str(BLANK);
        for (class, text) in self.paragraphs() {
            let (font, indent) = match class {
                "h1" => (HEITI, INDENT),
                "h2" => (KAITI, INDENT),
                "plain" => (FANGSONG, None),
                _ => (FANGSONG, INDENT),
            };
            body.push_str(&para(&run(text, font, SIZE_BODY), Align::Both, indent));
        }
        for _ in 0..SEAL_LINES {
            body.push_str(BLANK);
        }
        let sig = self.signature().0;
        body.push_str(&para(&run(self.signer.trim(), FANGSONG, SIZE_BODY), Align::Right(sig.signer_right), None));
        body.push_str(&para(&run(&self.date_text(), FANGSONG, SIZE_BODY), Align::Right(sig.date_right), None));
        if !self.reference.is_empty() {
            body.push_str(BLANK);
            let text = format!("核验编号：{}（可在政务公开网站“记录核验”页面核验本文书）", self.reference);
            body.push_str(&para(&run(&text, SONGTI, 20), Align::Both, None));
        }
        ooxml::document(&body)
    }

    /// The parts of the DOCX package, by name, as text.
    pub fn parts(&self) -> Vec<(&'static str, String)> {
        ooxml::parts(&self.title, self.document_xml())
    }

    /// The document as DOCX bytes.
    ///
    /// # Errors
    /// [`DocError`] when the package cannot be written (it is written to memory).
    pub fn to_docx(&self) -> Result<Vec<u8>, DocError> {
        ooxml::pack(&self.parts()).map_err(DocError)
    }
}

#[cfg(test)]
mod tests;
