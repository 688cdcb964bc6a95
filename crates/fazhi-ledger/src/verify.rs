//! Rechecking a whole log from its stored rows.
//!
//! The store streams a log's entries in sequence order (each with the leaf hash it stored
//! as node (0, seq)), then its stored interior nodes, then its checkpoints; [`LogVerifier`]
//! recomputes every leaf and node and names the FIRST entry that does not match. A direct
//! edit of a row changes its recomputed leaf; a deleted or inserted row breaks the sequence;
//! a rewrite that also fixes the stored hashes still cannot produce the roots that the
//! signed checkpoints carry, and the first failing checkpoint bounds where the damage is.

use crate::entry::LeafParts;
use crate::note::{NoteError, Verifier};
use crate::tree::{Hash, MemTree, NodeId};
use crate::{Entry, HashAlg};

/// What is wrong with a log. Messages are Chinese: they are printed to the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("第 {seq} 条记录缺失（序号跳到了 {found}）：记录被删除或顺序被改动")]
    Gap { seq: u64, found: u64 },
    #[error("第 {seq} 条记录的内容与其存储的哈希不符：记录被直接改动")]
    LeafMismatch { seq: u64 },
    #[error("第 {seq} 条记录没有存储的叶子哈希")]
    MissingLeaf { seq: u64 },
    #[error("账本头记录的条数为 {head}，实际为 {found}：有记录被删除或插入")]
    SizeMismatch { head: u64, found: u64 },
    #[error("默克尔树节点（层 {level}，序 {index}）与重新计算的不符")]
    NodeMismatch { level: u32, index: u64 },
    #[error("检查点签名无效（大小 {size}）：{error}")]
    Checkpoint { size: u64, error: NoteError },
    #[error("已签名检查点（共 {size} 条）的根哈希与重新计算的不符：第 {from} 至 {to} 条之间有记录被改动")]
    RootMismatch { size: u64, from: u64, to: u64 },
    #[error("检查点称有 {size} 条记录，但账本只有 {found} 条：记录被删除")]
    CheckpointBeyondLog { size: u64, found: u64 },
}

/// Streams one log through verification.
#[derive(Debug)]
pub struct LogVerifier {
    tree: MemTree,
    problems: Vec<Problem>,
    /// Largest checkpoint size already confirmed, to bound a root mismatch.
    good_size: u64,
    /// Reused for the leaf bytes of each stored entry.
    buf: Vec<u8>,
}

impl LogVerifier {
    pub fn new(alg: HashAlg) -> Self {
        Self { tree: MemTree::new(alg), problems: Vec::new(), good_size: 0, buf: Vec::new() }
    }

    pub fn entries(&self) -> u64 {
        self.tree.size()
    }

    fn note(&mut self, p: Problem) {
        self.problems.push(p);
    }

    /// Feeds the next stored entry (in sequence order) with its stored leaf hash.
    pub fn entry(&mut self, e: &Entry, stored_leaf: Option<Hash>) {
        let leaf = self.tree.alg.leaf(&e.leaf_bytes());
        self.leaf(e.seq, leaf, stored_leaf);
    }

    /// Feeds the next stored entry as the store keeps it (in sequence order) with its stored
    /// leaf hash. The stored change text is hashed as it is: an edit of it is found even
    /// when it parses to the same value, and text that is not JSON at all is reported like
    /// any other edit.
    pub fn stored_entry(&mut self, parts: &LeafParts<'_>, stored_leaf: Option<Hash>) {
        self.buf.clear();
        parts.write_leaf(&mut self.buf);
        let leaf = self.tree.alg.leaf(&self.buf);
        self.leaf(parts.seq, leaf, stored_leaf);
    }

    fn leaf(&mut self, seq: u64, leaf: Hash, stored_leaf: Option<Hash>) {
        let expected = self.tree.size();
        if seq != expected {
            self.note(Problem::Gap { seq: expected, found: seq });
        }
        match stored_leaf {
            None => self.note(Problem::MissingLeaf { seq }),
            Some(s) if s != leaf => self.note(Problem::LeafMismatch { seq }),
            Some(_) => {}
        }
        // The tree is rebuilt from the recomputed leaves: the truth of the rows as they are.
        self.tree.push_leaf_hash(leaf);
    }

    /// Compares a stored interior node with the recomputed one.
    pub fn node(&mut self, id: NodeId, stored: Hash) {
        if id.level == 0 {
            return;
        }
        match self.tree.node(id) {
            Some(h) if h == stored => {}
            _ => self.note(Problem::NodeMismatch { level: id.level, index: id.index }),
        }
    }

    /// Checks a stored checkpoint note (feed them in increasing size).
    pub fn checkpoint(&mut self, note: &str, key: &Verifier) {
        let cp = match key.open(note) {
            Ok(cp) => cp,
            Err(error) => {
                let size = note.lines().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
                self.note(Problem::Checkpoint { size, error });
                return;
            }
        };
        if cp.size > self.tree.size() {
            self.note(Problem::CheckpointBeyondLog { size: cp.size, found: self.tree.size() });
            return;
        }
        if self.tree.root_at(cp.size) == cp.root {
            self.good_size = self.good_size.max(cp.size);
        } else {
            self.note(Problem::RootMismatch { size: cp.size, from: self.good_size, to: cp.size.saturating_sub(1) });
        }
    }

    /// Compares the head's recorded size with what was found; returns every problem found,
    /// the first (lowest entry) first.
    pub fn finish(mut self, head_size: u64) -> Vec<Problem> {
        if head_size != self.tree.size() {
            let found = self.tree.size();
            self.note(Problem::SizeMismatch { head: head_size, found });
        }
        self.problems
    }

    /// The recomputed root of the whole log.
    pub fn root(&self) -> Hash {
        self.tree.root()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::{Checkpoint, Signer};
    use crate::proof::origin_for;
    use proptest::prelude::*;
    use serde_json::json;

    /// A log as a store keeps it.
    #[derive(Clone)]
    struct Stored {
        entries: Vec<(Entry, Option<Hash>)>,
        nodes: Vec<(NodeId, Hash)>,
        checkpoints: Vec<String>,
        head: u64,
    }

    fn entry(seq: u64) -> Entry {
        Entry {
            log_id: 5,
            seq,
            at: 1_780_000_000_000 + seq as i64 * 1000,
            actor_id: Some(3),
            actor_name: "周执法".into(),
            record_type: "org_node".into(),
            record_id: format!("{}", seq % 7),
            action: "org.update".into(),
            change: json!({"name": format!("第{seq}号"), "n": seq}),
            attachments: vec![],
        }
    }

    fn build(n: u64, signer: &Signer) -> Stored {
        let mut t = MemTree::new(HashAlg::Sha256);
        let mut s = Stored { entries: vec![], nodes: vec![], checkpoints: vec![], head: n };
        for i in 0..n {
            let e = entry(i);
            let added = t.push(&e.leaf_bytes());
            s.entries.push((e, Some(added[0].1)));
            s.nodes.extend(added);
            if (i + 1) % 10 == 0 || i + 1 == n {
                let cp = Checkpoint { origin: origin_for(signer.name(), 5), size: i + 1, root: t.root() };
                s.checkpoints.push(signer.sign(&cp));
            }
        }
        s
    }

    fn verify(s: &Stored, key: &Verifier) -> Vec<Problem> {
        let mut v = LogVerifier::new(HashAlg::Sha256);
        for (e, h) in &s.entries {
            v.entry(e, *h);
        }
        for (id, h) in &s.nodes {
            v.node(*id, *h);
        }
        for c in &s.checkpoints {
            v.checkpoint(c, key);
        }
        v.finish(s.head)
    }

    fn signer() -> Signer {
        Signer::from_seed("fazhi-test", [5u8; 32]).unwrap()
    }

    #[test]
    fn an_untouched_log_verifies() {
        let s = signer();
        assert!(verify(&build(57, &s), &s.verifier()).is_empty());
        assert!(verify(&build(1, &s), &s.verifier()).is_empty());
    }

    #[test]
    fn a_rewrite_with_fixed_hashes_is_caught_by_the_checkpoints() {
        let s = signer();
        let mut st = build(40, &s);
        // Change entry 23 and recompute every stored hash consistently.
        st.entries[23].0.change = json!({"name": "伪造"});
        let mut t = MemTree::new(HashAlg::Sha256);
        st.nodes.clear();
        for (e, h) in &mut st.entries {
            let added = t.push(&e.leaf_bytes());
            *h = Some(added[0].1);
            st.nodes.extend(added);
        }
        let problems = verify(&st, &s.verifier());
        assert_eq!(problems.first(), Some(&Problem::RootMismatch { size: 30, from: 20, to: 29 }), "{problems:?}");
    }

    /// Feeds the entries as a store keeps them: `change_json[i]` stands for the stored
    /// change text of entry i.
    fn verify_stored(s: &Stored, change_json: &[String], key: &Verifier) -> Vec<Problem> {
        let mut v = LogVerifier::new(HashAlg::Sha256);
        for ((e, h), c) in s.entries.iter().zip(change_json) {
            v.stored_entry(&e.parts(c), *h);
        }
        for (id, h) in &s.nodes {
            v.node(*id, *h);
        }
        for c in &s.checkpoints {
            v.checkpoint(c, key);
        }
        v.finish(s.head)
    }

    fn stored_changes(s: &Stored) -> Vec<String> {
        s.entries.iter().map(|(e, _)| crate::canonical::to_string(&e.change)).collect()
    }

    #[test]
    fn stored_entries_verify_like_entries() {
        let s = signer();
        let st = build(45, &s);
        let changes = stored_changes(&st);
        assert!(verify_stored(&st, &changes, &s.verifier()).is_empty());
        let mut v = LogVerifier::new(HashAlg::Sha256);
        for ((e, h), c) in st.entries.iter().zip(&changes) {
            v.stored_entry(&e.parts(c), *h);
        }
        let mut w = LogVerifier::new(HashAlg::Sha256);
        for (e, h) in &st.entries {
            w.entry(e, *h);
        }
        assert_eq!(v.root(), w.root());
    }

    #[test]
    fn a_stored_change_edited_to_equal_json_is_reported() {
        let s = signer();
        let st = build(30, &s);
        let mut changes = stored_changes(&st);
        // Same value once parsed, different text: still an edit of the row.
        changes[12] = changes[12].replacen(':', ": ", 1);
        let parsed: serde_json::Value = serde_json::from_str(&changes[12]).unwrap();
        assert_eq!(parsed, st.entries[12].0.change);
        let problems = verify_stored(&st, &changes, &s.verifier());
        assert_eq!(problems.first(), Some(&Problem::LeafMismatch { seq: 12 }), "{problems:?}");
    }

    #[test]
    fn a_stored_change_that_is_not_json_is_reported() {
        let s = signer();
        let st = build(30, &s);
        let mut changes = stored_changes(&st);
        changes[7] = "{\"name\": 第7号".into();
        let problems = verify_stored(&st, &changes, &s.verifier());
        assert_eq!(problems.first(), Some(&Problem::LeafMismatch { seq: 7 }), "{problems:?}");
        assert!(problems.iter().any(|p| matches!(p, Problem::RootMismatch { .. })), "{problems:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Any single-byte change, deletion, insertion or swap of stored entries is detected,
        /// and the first problem names the damaged position.
        #[test]
        fn tampering_is_detected(n in 3u64..80, pos_seed in any::<u64>(), other_seed in any::<u64>(), kind in 0u8..4, byte in 1u8..255) {
            let s = signer();
            let key = s.verifier();
            let mut st = build(n, &s);
            let pos = (pos_seed % n) as usize;
            match kind {
                0 => {
                    // Flip one byte of the actor name, change text or record id.
                    let e = &mut st.entries[pos].0;
                    let mut bytes = e.actor_name.clone().into_bytes();
                    let i = (other_seed as usize) % bytes.len();
                    bytes[i] ^= byte;
                    e.actor_name = String::from_utf8_lossy(&bytes).into_owned();
                    prop_assume!(e.actor_name != entry(pos as u64).actor_name);
                    let problems = verify(&st, &key);
                    prop_assert_eq!(problems.first(), Some(&Problem::LeafMismatch { seq: pos as u64 }));
                }
                1 => {
                    st.entries.remove(pos);
                    let problems = verify(&st, &key);
                    prop_assert!(!problems.is_empty());
                    if pos + 1 < n as usize {
                        prop_assert_eq!(problems.first(), Some(&Problem::Gap { seq: pos as u64, found: pos as u64 + 1 }));
                    }
                }
                2 => {
                    let mut extra = entry(pos as u64);
                    extra.action = "org.delete".into();
                    let h = HashAlg::Sha256.leaf(&extra.leaf_bytes());
                    st.entries.insert(pos, (extra, Some(h)));
                    let problems = verify(&st, &key);
                    prop_assert!(!problems.is_empty());
                }
                _ => {
                    let other = (other_seed % n) as usize;
                    prop_assume!(other != pos);
                    st.entries.swap(pos, other);
                    let problems = verify(&st, &key);
                    prop_assert_eq!(problems.first(), Some(&Problem::Gap { seq: pos.min(other) as u64, found: pos.max(other) as u64 }));
                }
            }
        }
    }
}
