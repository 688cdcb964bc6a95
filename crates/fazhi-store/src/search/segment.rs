//! Chinese segmentation for the index and queries: jieba with the domain dictionary.

use std::sync::{Arc, OnceLock};

use jieba_rs::Jieba;

use super::{MARK_END, MARK_START, MAX_QUERY_CHARS, MAX_QUERY_TERMS};

/// Tokens longer than this are not searched for dictionary words inside them.
const MAX_WORD_CHARS: usize = 16;

/// The domain dictionary: legal terms, street and community names (see the file's header).
pub const DOMAIN_DICT: &str = include_str!("../../data/search-dict.txt");

/// jieba with its default dictionary plus [`DOMAIN_DICT`]. Building one takes a noticeable
/// fraction of a second: use [`Segmenter::shared`] rather than [`Segmenter::new`].
pub struct Segmenter {
    jieba: Jieba,
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Segmenter")
    }
}

impl Default for Segmenter {
    fn default() -> Self {
        Self::new()
    }
}

static SHARED: OnceLock<Arc<Segmenter>> = OnceLock::new();

impl Segmenter {
    /// Builds a segmenter: default dictionary, then every word of [`DOMAIN_DICT`].
    pub fn new() -> Self {
        let mut jieba = Jieba::new();
        for (word, freq, tag) in dict_entries(DOMAIN_DICT) {
            jieba.add_word(word, freq, tag);
        }
        Self { jieba }
    }

    /// The process-wide segmenter, built on first use.
    pub fn shared() -> Arc<Segmenter> {
        SHARED.get_or_init(|| Arc::new(Segmenter::new())).clone()
    }

    /// Whether `word` is in the dictionary (tests and diagnostics).
    pub fn knows(&self, word: &str) -> bool {
        self.jieba.has_word(word)
    }

    /// Precise-mode tokens of `text` that carry a letter or digit.
    pub fn cut(&self, text: &str) -> Vec<String> {
        self.jieba.cut(text, true).into_iter().filter_map(|t| clean_token(t.word)).collect()
    }

    /// The text to index: search-mode tokens (HMM on) with a letter or digit, joined by
    /// spaces. Both engines' tokenizers split on the spaces and fold case. Search mode adds
    /// the 2- and 3-character dictionary words inside a longer word; dictionary words of 4
    /// or more characters inside it are added here (人民调解 in 人民调解委员会, 综合执法 in
    /// 综合执法大队), so a query for them finds the longer word.
    pub fn index_text(&self, text: &str) -> String {
        let text = &*normalize(text);
        let mut out = String::with_capacity(text.len() * 2);
        let mut push = |tok: &str| {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(tok);
        };
        for t in self.jieba.cut_for_search(text, true) {
            let Some(tok) = clean_token(t.word) else { continue };
            let chars: Vec<char> = tok.chars().collect();
            // Bounded: a word is short; a long run of letters or digits is one token and
            // must not cost quadratic time.
            let longest = if chars.len() <= MAX_WORD_CHARS { chars.len() } else { 0 };
            for n in 4..longest {
                for w in chars.windows(n) {
                    let sub: String = w.iter().collect();
                    if self.jieba.has_word(&sub) {
                        push(&sub);
                    }
                }
            }
            push(&tok);
            // jieba keeps a number or Latin word joined to the Chinese after it
            // ("12345热线"): index its runs too, so "12345" finds "拨打12345热线".
            for run in mixed_runs(&tok) {
                push(run);
            }
        }
        out
    }

    /// The terms of a query: the first [`MAX_QUERY_CHARS`] characters segmented in precise
    /// mode, tokens without a letter or digit dropped, duplicates removed, at most
    /// [`MAX_QUERY_TERMS`]. Empty when nothing searchable is left.
    pub fn query_terms(&self, query: &str) -> Vec<String> {
        let head: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let head = normalize(&head).into_owned();
        let mut terms: Vec<String> = Vec::new();
        for t in self.cut(&head) {
            let t = t.to_lowercase();
            if !terms.contains(&t) {
                terms.push(t);
                if terms.len() == MAX_QUERY_TERMS {
                    break;
                }
            }
        }
        terms
    }
}

/// The runs of ASCII letters/digits and of other characters in a token that mixes both
/// (none for a token of one kind).
fn mixed_runs(tok: &str) -> Vec<&str> {
    let ascii = |c: char| c.is_ascii_alphanumeric();
    if !(tok.chars().any(ascii) && tok.chars().any(|c| !ascii(c))) {
        return Vec::new();
    }
    let mut runs = Vec::new();
    let mut start = 0;
    let mut kind = tok.chars().next().is_some_and(ascii);
    for (i, c) in tok.char_indices() {
        if ascii(c) != kind {
            runs.push(&tok[start..i]);
            start = i;
            kind = ascii(c);
        }
    }
    runs.push(&tok[start..]);
    runs.retain(|r| r.chars().any(char::is_alphanumeric));
    runs
}

/// Text as it is indexed and queried: compatibility forms folded (NFKC: full-width digits
/// and letters to ASCII, "１２３４５" to "12345", "ＷＩＦＩ" to "WIFI") and lower case, so
/// the forms offices type and paste are one word to search. Borrowed when already so.
pub fn normalize(text: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};
    let plain = |s: &str| matches!(is_nfkc_quick(s.chars()), IsNormalized::Yes) && !s.chars().any(char::is_uppercase);
    if plain(text) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.nfkc().flat_map(char::to_lowercase).collect())
}

/// Lines of a dictionary file: `word [freq] [tag]`, `#` comments, blank lines skipped.
pub(super) fn dict_entries(text: &str) -> impl Iterator<Item = (&str, Option<usize>, Option<&str>)> {
    text.lines().filter_map(|line| {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut parts = line.split_whitespace();
        let word = parts.next()?;
        let second = parts.next();
        let (freq, tag) = match second.map(str::parse::<usize>) {
            Some(Ok(f)) => (Some(f), parts.next()),
            Some(Err(_)) => (None, second),
            None => (None, None),
        };
        Some((word, freq, tag))
    })
}

/// A token as indexed or queried: `None` when it has no letter or digit (punctuation,
/// spaces); control characters and our highlight markers are removed.
pub(super) fn clean_token(word: &str) -> Option<String> {
    if !word.chars().any(char::is_alphanumeric) {
        return None;
    }
    let t: String = word.chars().filter(|c| !c.is_control() && *c != MARK_START && *c != MARK_END).collect();
    (!t.is_empty()).then_some(t)
}
