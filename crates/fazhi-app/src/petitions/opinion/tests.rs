//! The opinion documents from fixed facts: snapshots of `word/document.xml` per round, and
//! every round with hostile input opened by a strict XML parser and by python-docx.

use fazhi_docs::check;
use fazhi_domain::Day;
use fazhi_domain::petition::Stage;

use super::{OpinionFacts, compose};

fn day(s: &str) -> Day {
    Day::from_text(s).unwrap()
}

fn facts(stage: Stage) -> OpinionFacts {
    OpinionFacts {
        id: 12,
        stage,
        petitioners: vec!["周桂英".into(), "王建国".into()],
        received_on: day("2026-03-02"),
        channel: "来访",
        title: "小区地下室长期积水".into(),
        accepted_on: day("2026-03-03"),
        content: "万兴里小区 7 号楼地下室长期积水。\n物业多次推诿，请求街道协调处理。".into(),
        reply_text: "经社区会同物业查明，积水系排水泵损坏所致。\r\n\r\n物业已于2026年3月10日更换水泵并清理积水。"
            .into(),
        outcome: "支持",
        legal_basis: "《物业管理条例》第三十五条。".into(),
        signer: "天津市南开区人民政府万兴街道办事处".into(),
        higher: "天津市南开区人民政府".into(),
        day: day("2026-11-30"),
        reference: "2-23".into(),
    }
}

/// One paragraph per line, so the snapshot reads like the document.
fn pretty(xml: &str) -> String {
    xml.replace("<w:p>", "\n<w:p>").replace("<w:p/>", "\n<w:p/>").replace("<w:sectPr>", "\n<w:sectPr>")
}

#[test]
fn opinion_documents_snapshots() {
    for (stage, name) in
        [(Stage::First, "opinion_first"), (Stage::Review, "opinion_review"), (Stage::Recheck, "opinion_recheck")]
    {
        let doc = compose(&facts(stage));
        let bytes = doc.to_docx().unwrap();
        let document = check::parts(&bytes).unwrap().remove("word/document.xml").unwrap();
        assert_eq!(document, doc.document_xml());
        insta::assert_snapshot!(name, pretty(&document));
    }
}

#[test]
fn dates_are_chinese_and_paragraphs_kept() {
    let doc = compose(&facts(Stage::First));
    let text: Vec<&str> = doc.paragraphs().iter().map(|p| p.1).collect();
    assert!(text[1].contains("于2026年3月2日通过来访") && text[1].contains("已于2026年3月3日依法受理"), "{}", text[1]);
    assert!(!text.iter().any(|p| p.contains("2026-")), "no ISO date: {text:?}");
    assert!(text.contains(&"物业多次推诿，请求街道协调处理。"));
    assert!(text.contains(&"物业已于2026年3月10日更换水泵并清理积水。"));
    assert!(text.contains(&"支持。依据：《物业管理条例》第三十五条。"), "one full stop: {text:?}");
    assert!(text.iter().any(|p| p.contains("向天津市南开区人民政府请求复查")));
    assert_eq!(doc.date_text(), "2026年11月30日");
    assert_eq!(doc.number, "信复〔2026〕12号");
}

/// Every kind of opinion document, with what people paste: controls, markup characters,
/// emoji, a very long text, several paragraphs and blank lines.
#[test]
fn every_opinion_document_opens_with_hostile_input() {
    for stage in [Stage::First, Stage::Review, Stage::Recheck] {
        let mut f = facts(stage);
        f.petitioners = vec!["张三 & <李四>".into(), "O'Brien \"王\"".into()];
        f.title = "电梯\u{b}停运 <紧急> & 😀".into();
        f.content = format!("第一段\u{0}\u{1f}。\n\n\n　　第二段 ]]> &amp;\u{ffff}\n{}", "很长的诉求。".repeat(3000));
        f.reply_text = "\u{c}事实一\r\n事实二\u{2028}事实三 🏠".into();
        f.legal_basis = "《条例》\n第五条".into();
        f.signer = "万兴街道 <办事处>".into();
        let doc = compose(&f);
        let bytes = doc.to_docx().unwrap();
        let parts = check::parts(&bytes).unwrap_or_else(|e| panic!("{stage:?}: {e}"));
        assert!(parts["word/document.xml"].contains("😀"));
        let expected: Vec<String> = doc
            .paragraphs()
            .iter()
            .map(|p| p.1.chars().filter(|&c| fazhi_domain::text::xml_char(c)).collect())
            .collect();
        assert!(expected.iter().any(|p| p == "事实三 🏠"), "the reply's third paragraph");
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        check::docx(&bytes, &expected).unwrap_or_else(|e| panic!("{stage:?}: {e}"));
    }
}
