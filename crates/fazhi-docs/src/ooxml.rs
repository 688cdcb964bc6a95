//! The WordprocessingML package, written by hand: every element and attribute the GB/T
//! 9704-2012 layout needs (character grid, `w:firstLineChars`, odd and even footers with a
//! formatted PAGE field), in the order the schema requires, so Word and WPS open the file
//! without "repairing" it. Text goes through [`esc`], which also drops what XML 1.0 forbids.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::layout::{
    BOTTOM, CHAR_SPACE, FOOTER, FOOTER_CHAR, HEADER, LEFT, LINE_PITCH, PAGE_H, PAGE_W, RIGHT, SIZE_BODY, SIZE_FOOTER,
    TOP,
};

const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

pub const FANGSONG: &str = "仿宋_GB2312";
pub const XIAOBIAOSONG: &str = "方正小标宋简体";
pub const HEITI: &str = "黑体";
pub const KAITI: &str = "楷体_GB2312";
pub const SONGTI: &str = "宋体";

/// `text` as XML character data or attribute value: markup characters escaped, characters
/// XML 1.0 forbids (C0 controls other than tab and line breaks, U+FFFE, U+FFFF) dropped.
/// Input is cleaned at the boundary already; records stored before that rule, or text from
/// elsewhere, must still make a valid document.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars().filter(|&c| fazhi_domain::text::xml_char(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Run properties: one font for every script, a size in half-points.
pub fn rpr(font: &str, size: i32) -> String {
    format!(
        "<w:rPr><w:rFonts w:ascii=\"{font}\" w:eastAsia=\"{font}\" w:hAnsi=\"{font}\" w:cs=\"{font}\"/>\
         <w:sz w:val=\"{size}\"/><w:szCs w:val=\"{size}\"/></w:rPr>"
    )
}

/// One run of text (tabs and line breaks are not in paragraphs: the caller splits them).
pub fn run(text: &str, font: &str, size: i32) -> String {
    format!("<w:r>{}<w:t xml:space=\"preserve\">{}</w:t></w:r>", rpr(font, size), esc(text))
}

/// How a paragraph is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Justified, flush to both margins (正文 "回行顶格", §7.3.3).
    Both,
    Center,
    /// Right-aligned with this right indent in twips.
    Right(i32),
}

/// A paragraph: `first_line` indents the first line by that many characters (in hundredths,
/// `w:firstLineChars`, with the twip equivalent for readers that ignore character units).
pub fn para(runs: &str, align: Align, first_line: Option<(i32, i32)>) -> String {
    let mut ppr = String::new();
    match (align, first_line) {
        (Align::Right(right), _) => {
            let _ = write!(ppr, "<w:ind w:right=\"{right}\"/>");
        }
        (_, Some((chars, twips))) => {
            let _ = write!(ppr, "<w:ind w:firstLineChars=\"{chars}\" w:firstLine=\"{twips}\"/>");
        }
        _ => {}
    }
    ppr.push_str(match align {
        Align::Both => "<w:jc w:val=\"both\"/>",
        Align::Center => "<w:jc w:val=\"center\"/>",
        Align::Right(_) => "<w:jc w:val=\"right\"/>",
    });
    format!("<w:p><w:pPr>{ppr}</w:pPr>{runs}</w:p>")
}

/// An empty line of the body (one line pitch).
pub const BLANK: &str = "<w:p/>";

/// `word/document.xml`: the paragraphs and the section (A4, the margins of §5.2.1, the
/// character grid of 22 × 28 of §5.2.3, odd and even page-number footers of §7.5).
pub fn document(body: &str) -> String {
    format!(
        "{DECL}<w:document xmlns:w=\"{W}\" xmlns:r=\"{R}\"><w:body>{body}<w:sectPr>\
         <w:footerReference w:type=\"default\" r:id=\"rIdFooterOdd\"/>\
         <w:footerReference w:type=\"even\" r:id=\"rIdFooterEven\"/>\
         <w:pgSz w:w=\"{PAGE_W}\" w:h=\"{PAGE_H}\"/>\
         <w:pgMar w:top=\"{TOP}\" w:right=\"{RIGHT}\" w:bottom=\"{BOTTOM}\" w:left=\"{LEFT}\" \
         w:header=\"{HEADER}\" w:footer=\"{FOOTER}\" w:gutter=\"0\"/>\
         <w:pgNumType w:fmt=\"decimal\"/><w:cols w:space=\"425\"/>\
         <w:docGrid w:type=\"linesAndChars\" w:linePitch=\"{LINE_PITCH}\" w:charSpace=\"{CHAR_SPACE}\"/>\
         </w:sectPr></w:body></w:document>"
    )
}

/// A page-number footer (§7.5): `— 1 —` in 4号 半角宋体 Arabic numerals, every run
/// formatted (the PAGE field's result included); odd pages right-aligned 空一字, even pages
/// left-aligned 空一字. Off the character grid, exactly one 4号 line high.
pub fn footer(odd: bool) -> String {
    let p = rpr(SONGTI, SIZE_FOOTER);
    let (ind, jc) = if odd {
        (format!("<w:ind w:right=\"{FOOTER_CHAR}\"/>"), "right")
    } else {
        (format!("<w:ind w:left=\"{FOOTER_CHAR}\"/>"), "left")
    };
    format!(
        "{DECL}<w:ftr xmlns:w=\"{W}\" xmlns:r=\"{R}\"><w:p><w:pPr><w:pStyle w:val=\"Footer\"/><w:snapToGrid w:val=\"0\"/>\
         <w:spacing w:line=\"{FOOTER_CHAR}\" w:lineRule=\"exact\"/>{ind}<w:jc w:val=\"{jc}\"/></w:pPr>\
         <w:r>{p}<w:t xml:space=\"preserve\">— </w:t></w:r>\
         <w:r>{p}<w:fldChar w:fldCharType=\"begin\"/></w:r>\
         <w:r>{p}<w:instrText xml:space=\"preserve\"> PAGE </w:instrText></w:r>\
         <w:r>{p}<w:fldChar w:fldCharType=\"separate\"/></w:r>\
         <w:r>{p}<w:t>1</w:t></w:r>\
         <w:r>{p}<w:fldChar w:fldCharType=\"end\"/></w:r>\
         <w:r>{p}<w:t xml:space=\"preserve\"> —</w:t></w:r></w:p></w:ftr>"
    )
}

/// `word/styles.xml`: 3号仿宋, exact line pitch, no widow control (a page holds 22 lines,
/// never fewer).
fn styles() -> String {
    format!(
        "{DECL}<w:styles xmlns:w=\"{W}\"><w:docDefaults><w:rPrDefault>\
         <w:rPr><w:rFonts w:ascii=\"{FANGSONG}\" w:eastAsia=\"{FANGSONG}\" w:hAnsi=\"{FANGSONG}\" w:cs=\"{FANGSONG}\"/>\
         <w:kern w:val=\"2\"/><w:sz w:val=\"{SIZE_BODY}\"/><w:szCs w:val=\"{SIZE_BODY}\"/>\
         <w:lang w:val=\"en-US\" w:eastAsia=\"zh-CN\" w:bidi=\"ar-SA\"/></w:rPr></w:rPrDefault>\
         <w:pPrDefault><w:pPr><w:widowControl w:val=\"0\"/>\
         <w:spacing w:before=\"0\" w:after=\"0\" w:line=\"{LINE_PITCH}\" w:lineRule=\"exact\"/></w:pPr></w:pPrDefault>\
         </w:docDefaults>\
         <w:style w:type=\"paragraph\" w:default=\"1\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/><w:qFormat/></w:style>\
         <w:style w:type=\"paragraph\" w:styleId=\"Footer\"><w:name w:val=\"footer\"/><w:basedOn w:val=\"Normal\"/></w:style>\
         </w:styles>"
    )
}

/// `word/settings.xml`: different odd and even footers (`w:evenAndOddHeaders`, §7.5).
fn settings() -> String {
    format!(
        "{DECL}<w:settings xmlns:w=\"{W}\"><w:defaultTabStop w:val=\"420\"/><w:evenAndOddHeaders/>\
         <w:characterSpacingControl w:val=\"compressPunctuation\"/>\
         <w:compat><w:compatSetting w:name=\"compatibilityMode\" w:uri=\"http://schemas.microsoft.com/office/word\" w:val=\"15\"/></w:compat>\
         </w:settings>"
    )
}

const CONTENT_TYPES: &str = "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
    <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
    <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
    <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
    <Override PartName=\"/word/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml\"/>\
    <Override PartName=\"/word/settings.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml\"/>\
    <Override PartName=\"/word/footer1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml\"/>\
    <Override PartName=\"/word/footer2.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml\"/>\
    <Override PartName=\"/docProps/core.xml\" ContentType=\"application/vnd.openxmlformats-package.core-properties+xml\"/>\
    <Override PartName=\"/docProps/app.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.extended-properties+xml\"/>\
    </Types>";

const ROOT_RELS: &str = "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
    <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
    <Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/>\
    <Relationship Id=\"rId3\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties\" Target=\"docProps/app.xml\"/>\
    </Relationships>";

const DOCUMENT_RELS: &str = "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
    <Relationship Id=\"rIdStyles\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/>\
    <Relationship Id=\"rIdSettings\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings\" Target=\"settings.xml\"/>\
    <Relationship Id=\"rIdFooterOdd\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer\" Target=\"footer1.xml\"/>\
    <Relationship Id=\"rIdFooterEven\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer\" Target=\"footer2.xml\"/>\
    </Relationships>";

fn core(title: &str) -> String {
    format!(
        "{DECL}<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:title>{}</dc:title><dc:creator>fazhi</dc:creator>\
         </cp:coreProperties>",
        esc(title)
    )
}

const APP: &str = "<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\">\
    <Application>fazhi</Application></Properties>";

/// The parts of the package, by name (the same every time for the same document: no
/// timestamps, so a snapshot or a hash of a document is stable).
pub fn parts(title: &str, document_xml: String) -> Vec<(&'static str, String)> {
    vec![
        ("[Content_Types].xml", format!("{DECL}{CONTENT_TYPES}")),
        ("_rels/.rels", format!("{DECL}{ROOT_RELS}")),
        ("docProps/core.xml", core(title)),
        ("docProps/app.xml", format!("{DECL}{APP}")),
        ("word/document.xml", document_xml),
        ("word/_rels/document.xml.rels", format!("{DECL}{DOCUMENT_RELS}")),
        ("word/styles.xml", styles()),
        ("word/settings.xml", settings()),
        ("word/footer1.xml", footer(true)),
        ("word/footer2.xml", footer(false)),
    ]
}

/// The parts zipped (deflate, fixed timestamps).
///
/// # Errors
/// The zip writer's message (it writes to memory, so only on a bug).
pub fn pack(parts: &[(&str, String)]) -> Result<Vec<u8>, String> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in parts {
        zip.start_file(*name, options).map_err(|e| e.to_string())?;
        zip.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    }
    Ok(zip.finish().map_err(|e| e.to_string())?.into_inner())
}
