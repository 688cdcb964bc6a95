//! Checks of a written DOCX for the tests (feature `check`): every part of the package is
//! strict XML 1.0 with namespaces ([`roxmltree`]), and, with `python3` and python-docx on the
//! machine, an independent reader opens it ([`python_docx`]). CI sets
//! `FAZHI_REQUIRE_PYDOCX=1`, which makes a missing python-docx a failure, not a skip.

use std::collections::BTreeMap;
use std::io::Read as _;

/// The parts of the package, each parsed with a strict XML parser.
///
/// # Errors
/// The first part that is not a zip entry, not UTF-8 or not well-formed XML, by name.
pub fn parts(bytes: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| format!("not a zip: {e}"))?;
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| format!("entry {i}: {e}"))?;
        let name = f.name().to_owned();
        let mut text = String::new();
        f.read_to_string(&mut text).map_err(|e| format!("{name}: {e}"))?;
        roxmltree::Document::parse(&text).map_err(|e| format!("{name} is not XML: {e}"))?;
        out.insert(name, text);
    }
    for required in ["[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/_rels/document.xml.rels"] {
        if !out.contains_key(required) {
            return Err(format!("{required} is missing"));
        }
    }
    Ok(out)
}

/// What python-docx read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyDocx {
    /// The text of every body paragraph, empty ones included.
    pub paragraphs: Vec<String>,
    /// Whether settings say odd and even pages have different headers and footers.
    pub odd_and_even: bool,
    /// The XML of the odd (default) and even footers.
    pub footers: Vec<String>,
}

const SCRIPT: &str = r#"
import json, sys
try:
    import docx
except ImportError:
    print("NO_PYTHON_DOCX")
    sys.exit(0)
d = docx.Document(sys.argv[1])
s = d.sections[0]
print(json.dumps({
    "paragraphs": [p.text for p in d.paragraphs],
    "odd_and_even": bool(d.settings.odd_and_even_pages_header_footer),
    "footers": [s.footer._element.xml, s.even_page_footer._element.xml],
}, ensure_ascii=False))
"#;

/// Opens `bytes` with python-docx. `Ok(None)` when python3 or python-docx is not there and
/// `FAZHI_REQUIRE_PYDOCX` is not `1`.
///
/// # Errors
/// python-docx failed to open the file, or is missing while required.
pub fn python_docx(bytes: &[u8]) -> Result<Option<PyDocx>, String> {
    let required = std::env::var("FAZHI_REQUIRE_PYDOCX").is_ok_and(|v| v == "1");
    let missing = |why: String| if required { Err(format!("FAZHI_REQUIRE_PYDOCX=1 but {why}")) } else { Ok(None) };
    let dir = std::env::temp_dir().join(format!("fazhi-docx-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("doc.docx");
    std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
    let out = std::process::Command::new("python3").arg("-c").arg(SCRIPT).arg(&path).output();
    let _ = std::fs::remove_dir_all(&dir);
    let out = match out {
        Ok(o) => o,
        Err(e) => return missing(format!("python3 cannot be run: {e}")),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    if stdout.trim() == "NO_PYTHON_DOCX" {
        return missing("python-docx is not installed (python3 -m pip install python-docx)".into());
    }
    if !out.status.success() {
        return Err(format!("python-docx refused the document: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).map_err(|e| format!("{e}: {stdout}"))?;
    let strings = |k: &str| -> Vec<String> {
        v[k].as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect()).unwrap_or_default()
    };
    Ok(Some(PyDocx {
        paragraphs: strings("paragraphs"),
        odd_and_even: v["odd_and_even"].as_bool().unwrap_or(false),
        footers: strings("footers"),
    }))
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Checks a DOCX the way a reader would: every part strict XML, the body's paragraphs
/// (`expected`, non-empty ones, in order) in `word/document.xml`, and, through python-docx
/// when present, the same paragraphs and a PAGE field in both footers.
///
/// # Errors
/// What is wrong, for the test's failure message.
pub fn docx(bytes: &[u8], expected: &[&str]) -> Result<(), String> {
    let parts = parts(bytes)?;
    for footer in ["word/footer1.xml", "word/footer2.xml"] {
        let xml = parts.get(footer).ok_or_else(|| format!("{footer} is missing"))?;
        if !xml.contains(" PAGE ") {
            return Err(format!("{footer} has no PAGE field"));
        }
    }
    let Some(py) = python_docx(bytes)? else { return Ok(()) };
    let read: Vec<&str> = py.paragraphs.iter().map(String::as_str).filter(|p| !p.is_empty()).collect();
    let mut at = 0;
    for want in expected {
        match read[at..].iter().position(|p| p == want) {
            Some(i) => at += i + 1,
            None => {
                let short = |t: &str| t.chars().take(40).collect::<String>();
                let read: Vec<String> = read.iter().map(|p| short(p)).collect();
                return Err(format!("python-docx did not read {:?} in order; it read {read:?}", short(want)));
            }
        }
    }
    if !py.odd_and_even {
        return Err("python-docx: odd and even pages do not have their own footers".into());
    }
    if py.footers.len() != 2 || !py.footers.iter().all(|f| f.contains(" PAGE ")) {
        return Err(format!("python-docx: a footer without a PAGE field: {:?}", py.footers));
    }
    Ok(())
}
