use super::*;

fn day(s: &str) -> Day {
    Day::from_text(s).unwrap()
}

fn sample() -> OfficialDoc {
    OfficialDoc {
        title: "信访处理意见书".into(),
        number: "万兴信复〔2026〕12号".into(),
        body: vec![
            Block::Plain("王某某：".into()),
            Block::Para("您于2026年3月2日反映的小区电梯停运问题，本机关已依法受理。".into()),
            Block::Heading1("一、信访人的请求".into()),
            Block::Para("请求维修电梯。\n\n　　并请物业公开维修费用。\r\n".into()),
        ],
        signer: "天津市南开区人民政府万兴街道办事处".into(),
        date: day("2026-04-03"),
        reference: "12-345".into(),
    }
}

fn document(doc: &OfficialDoc) -> String {
    check::parts(&doc.to_docx().unwrap()).unwrap().remove("word/document.xml").unwrap()
}

#[test]
fn a_docx_in_the_gbt_9704_layout() {
    let bytes = sample().to_docx().unwrap();
    assert_eq!(&bytes[..2], b"PK", "a DOCX is a zip package");
    let mut parts = check::parts(&bytes).unwrap();
    let document = parts.remove("word/document.xml").unwrap();
    assert!(document.contains("信访处理意见书"));
    assert!(document.contains("核验编号：12-345"));
    assert!(document.contains("2026年4月3日"), "date without leading zeros");
    // A4, the margins and the 22 × 28 grid, in twips.
    assert!(document.contains(r#"<w:pgSz w:w="11906" w:h="16838"/>"#), "A4");
    assert!(document.contains(r#"w:top="2098" w:right="1475" w:bottom="2002" w:left="1587""#), "margins");
    assert!(document.contains(r#"<w:docGrid w:type="linesAndChars" w:linePitch="579" w:charSpace="-849"/>"#));
    assert!(document.contains(r#"<w:sz w:val="44"/>"#), "2号 title");
    assert!(document.contains(FANGSONG) && document.contains(HEITI));
    let styles = &parts["word/styles.xml"];
    assert!(styles.contains(r#"w:line="579" w:lineRule="exact""#), "exact line pitch");
    assert!(parts["word/settings.xml"].contains("<w:evenAndOddHeaders/>"));
}

/// Every line of a person's text is a paragraph of its own, indented two characters.
#[test]
fn every_paragraph_is_kept_and_indented() {
    let doc = sample();
    let printed: Vec<&str> = doc.paragraphs().iter().map(|p| p.1).collect();
    assert_eq!(printed[3..], ["请求维修电梯。", "并请物业公开维修费用。"]);
    let document = document(&doc);
    let indented = r#"<w:ind w:firstLineChars="200" w:firstLine="640"/><w:jc w:val="both"/></w:pPr>"#;
    for p in ["请求维修电梯。", "并请物业公开维修费用。", "一、信访人的请求"] {
        let at = document.find(p).unwrap();
        let start = document[..at].rfind("<w:p>").unwrap();
        assert!(document[start..at].contains(indented), "{p}: {}", &document[start..at]);
    }
    let at = document.find("王某某：").unwrap();
    let start = document[..at].rfind("<w:p>").unwrap();
    assert!(!document[start..at].contains("firstLine"), "the addressee is flush left");
}

/// §7.5: `— 1 —`, 4号宋体 on every run (the PAGE field's too), odd right and even left 空一字.
#[test]
fn page_numbers_per_section_7_5() {
    let parts = check::parts(&sample().to_docx().unwrap()).unwrap();
    let (odd, even) = (&parts["word/footer1.xml"], &parts["word/footer2.xml"]);
    let font = r#"<w:rPr><w:rFonts w:ascii="宋体" w:eastAsia="宋体" w:hAnsi="宋体" w:cs="宋体"/><w:sz w:val="28"/>"#;
    for f in [odd, even] {
        assert_eq!(f.matches("<w:r>").count(), 7);
        assert_eq!(f.matches(font).count(), 7, "every run 4号宋体: {f}");
        assert!(f.contains(">— <") && f.contains("> —<") && f.contains(" PAGE "));
    }
    assert!(odd.contains(r#"<w:ind w:right="280"/><w:jc w:val="right"/>"#), "{odd}");
    assert!(even.contains(r#"<w:ind w:left="280"/><w:jc w:val="left"/>"#), "{even}");
    let document = &parts["word/document.xml"];
    assert!(document.contains(r#"<w:footerReference w:type="default" r:id="rIdFooterOdd"/>"#));
    assert!(document.contains(r#"<w:footerReference w:type="even" r:id="rIdFooterEven"/>"#));
    assert!(document.contains(&format!(r#"w:footer="{}""#, layout::FOOTER)));
}

/// §7.3.5.1: the date 右空四字, the 署名 centred over it.
#[test]
fn signature_and_date_for_the_seal() {
    let mut doc = sample();
    doc.signer = "万兴街道办事处".into();
    let document = document(&doc);
    let s = doc.signature().0;
    assert_eq!(s.date_right, 1280);
    assert!(document.contains(&format!(r#"<w:ind w:right="{}"/><w:jc w:val="right"/></w:pPr><w:r>"#, s.signer_right)));
    assert!(document.contains(r#"<w:ind w:right="1280"/><w:jc w:val="right"/></w:pPr><w:r>"#));
    assert!(document.find("万兴街道办事处").unwrap() < document.find("2026年4月3日").unwrap());
    assert_eq!(doc.signature().class(), "");
    assert_eq!(sample().signature().class(), "long", "a full official name sets the place");
}

/// Text pasted from Word keeps controls XML forbids, and anything may hold markup
/// characters or emoji: the document must still be XML that readers open, with every
/// paragraph.
#[test]
fn nasty_input_makes_a_valid_document() {
    let long = "很长的段落，".repeat(2000);
    let doc = OfficialDoc {
        title: "意见书\u{c}<script>&amp;".into(),
        number: "信复〔2026〕1号\u{0}".into(),
        body: vec![
            Block::Plain("张三 & 李四 <王五>：".into()),
            Block::Para("第一行\u{b}第二行\u{0}\u{1f}完\u{ffff}\u{fffe}".into()),
            Block::Heading2("（一）\"引号\" 'apos' 😀🏠".into()),
            Block::Para(format!("{long}\n\n\n最后一段]]>")),
        ],
        signer: "<机关> & \u{1}".into(),
        date: day("2026-11-30"),
        reference: "1-2".into(),
    };
    let bytes = doc.to_docx().unwrap();
    let parts = check::parts(&bytes).unwrap();
    let document = &parts["word/document.xml"];
    assert!(document.contains("第二行") && document.contains("😀🏠") && document.contains("&lt;王五&gt;"));
    assert!(document.contains("2026年11月30日"));
    let expected: Vec<String> =
        doc.paragraphs().iter().map(|p| p.1.chars().filter(|&c| fazhi_domain::text::xml_char(c)).collect()).collect();
    assert_eq!(expected.len(), 6, "plain, two from the first paragraph, heading, long, last");
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    check::docx(&bytes, &expected).unwrap();
}

#[test]
fn python_docx_reads_the_sample() {
    let doc = sample();
    let bytes = doc.to_docx().unwrap();
    let expected: Vec<&str> = doc.paragraphs().iter().map(|p| p.1).collect();
    check::docx(&bytes, &expected).unwrap();
    if let Some(py) = check::python_docx(&bytes).unwrap() {
        assert!(py.paragraphs.iter().any(|p| p == "天津市南开区人民政府万兴街道办事处"));
        assert!(py.paragraphs.iter().any(|p| p == "2026年4月3日"));
    }
}

#[test]
fn the_same_document_gives_the_same_bytes() {
    assert_eq!(sample().to_docx().unwrap(), sample().to_docx().unwrap());
}
