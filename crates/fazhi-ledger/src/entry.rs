//! One entry of a log: who changed which record how, when, with which files.

use serde_json::Value;

use crate::canonical;

/// A file attached to a record, as the entry that attached it records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttachmentRef {
    /// Hex digest of the file's bytes (the blob's address).
    pub hash: String,
    pub name: String,
    pub size: u64,
    /// Content type found by sniffing the bytes.
    pub mime: String,
}

/// A log entry. Its leaf bytes are the canonical JSON of every field.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// The org whose log this is (the street/township, or the district).
    pub log_id: i64,
    /// Position in the log, from 0, without gaps.
    pub seq: u64,
    /// Unix milliseconds, UTC.
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    /// Record type (`org_node`, `user` ...) and id as text.
    pub record_type: String,
    pub record_id: String,
    /// What happened (`org.create`, `user.disable` ...).
    pub action: String,
    /// What changed, as JSON.
    pub change: Value,
    pub attachments: Vec<AttachmentRef>,
}

/// The fields of an entry as a store keeps them, borrowed: the change as its stored JSON
/// text. This is what leaf bytes are written from, both for a new entry (whose change text
/// is [`canonical::to_string`] of the change) and when a stored log is rechecked, where the
/// stored text is hashed as it is, so any edit of it, even one that parses to the same
/// value, changes the leaf.
#[derive(Debug, Clone, Copy)]
pub struct LeafParts<'a> {
    pub log_id: i64,
    pub seq: u64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: &'a str,
    pub record_type: &'a str,
    pub record_id: &'a str,
    pub action: &'a str,
    /// The change as JSON text, written into the leaf byte for byte.
    pub change_json: &'a str,
    pub attachments: &'a [AttachmentRef],
}

/// A JSON string as serde_json writes it (the escaping [`canonical`] uses).
fn json_str(out: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *out, s).expect("writing a string into a Vec cannot fail");
}

/// An integer as serde_json writes it.
fn json_int(out: &mut Vec<u8>, n: impl serde::Serialize) {
    serde_json::to_writer(&mut *out, &n).expect("writing an integer into a Vec cannot fail");
}

impl LeafParts<'_> {
    /// Appends the leaf bytes to `out`: the canonical JSON (keys sorted by their bytes, no
    /// whitespace) of `{"v": 1, "log", "seq", "at", "actor": {"id", "name"}, "record":
    /// {"type", "id"}, "action", "change", "attachments": [{"hash", "name", "size",
    /// "mime"}…]}`, with `change_json` in place of the change. Byte-identical to the
    /// canonical text of that object built as a `serde_json::Value` whenever
    /// `change_json` is canonical (tested below).
    pub fn write_leaf(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"action\":");
        json_str(out, self.action);
        out.extend_from_slice(b",\"actor\":{\"id\":");
        match self.actor_id {
            Some(id) => json_int(out, id),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"name\":");
        json_str(out, self.actor_name);
        out.extend_from_slice(b"},\"at\":");
        json_int(out, self.at);
        out.extend_from_slice(b",\"attachments\":[");
        for (i, a) in self.attachments.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"{\"hash\":");
            json_str(out, &a.hash);
            out.extend_from_slice(b",\"mime\":");
            json_str(out, &a.mime);
            out.extend_from_slice(b",\"name\":");
            json_str(out, &a.name);
            out.extend_from_slice(b",\"size\":");
            json_int(out, a.size);
            out.push(b'}');
        }
        out.extend_from_slice(b"],\"change\":");
        out.extend_from_slice(self.change_json.as_bytes());
        out.extend_from_slice(b",\"log\":");
        json_int(out, self.log_id);
        out.extend_from_slice(b",\"record\":{\"id\":");
        json_str(out, self.record_id);
        out.extend_from_slice(b",\"type\":");
        json_str(out, self.record_type);
        out.extend_from_slice(b"},\"seq\":");
        json_int(out, self.seq);
        out.extend_from_slice(b",\"v\":1}");
    }
}

impl Entry {
    /// The parts of this entry with `change_json` as its change text.
    pub fn parts<'a>(&'a self, change_json: &'a str) -> LeafParts<'a> {
        LeafParts {
            log_id: self.log_id,
            seq: self.seq,
            at: self.at,
            actor_id: self.actor_id,
            actor_name: &self.actor_name,
            record_type: &self.record_type,
            record_id: &self.record_id,
            action: &self.action,
            change_json,
            attachments: &self.attachments,
        }
    }

    /// The bytes hashed into the Merkle tree: version-tagged canonical JSON.
    pub fn leaf_bytes(&self) -> Vec<u8> {
        let change = canonical::to_string(&self.change);
        let mut out = Vec::with_capacity(256 + change.len());
        self.parts(&change).write_leaf(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// The definition of the leaf bytes as first written: a `Value` of every field,
    /// canonicalised. [`Entry::leaf_bytes`] must stay byte-identical to it.
    fn reference_leaf_bytes(e: &Entry) -> Vec<u8> {
        let attachments: Vec<Value> = e
            .attachments
            .iter()
            .map(|a| json!({"hash": a.hash, "name": a.name, "size": a.size, "mime": a.mime}))
            .collect();
        let v = json!({
            "v": 1,
            "log": e.log_id,
            "seq": e.seq,
            "at": e.at,
            "actor": {"id": e.actor_id, "name": e.actor_name},
            "record": {"type": e.record_type, "id": e.record_id},
            "action": e.action,
            "change": e.change,
            "attachments": attachments,
        });
        canonical::to_string(&v).into_bytes()
    }

    /// Any text, biased towards what needs escaping or is multi-byte.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![any::<String>(), "[\"\\\\/\u{0}-\u{1f}\u{7f}\u{2028}\u{fffd}a-z0-9 中文网格调解信访😀]{0,12}",]
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
            text().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((text(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    fn attachment() -> impl Strategy<Value = AttachmentRef> {
        (text(), text(), any::<u64>(), text()).prop_map(|(hash, name, size, mime)| AttachmentRef {
            hash,
            name,
            size,
            mime,
        })
    }

    prop_compose! {
        fn arb_entry()(
            log_id in any::<i64>(),
            seq in any::<u64>(),
            at in any::<i64>(),
            actor_id in any::<Option<i64>>(),
            actor_name in text(),
            record_type in text(),
            record_id in text(),
            action in text(),
            change in value(),
            attachments in prop::collection::vec(attachment(), 0..4),
        ) -> Entry {
            Entry { log_id, seq, at, actor_id, actor_name, record_type, record_id, action, change, attachments }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The direct writer is byte-identical to canonicalising a `Value` of the entry, and
        /// writing from the stored (canonical) change text gives the same bytes again.
        #[test]
        fn leaf_writer_matches_the_value_definition(e in arb_entry()) {
            let reference = reference_leaf_bytes(&e);
            prop_assert_eq!(&e.leaf_bytes(), &reference);
            let stored = canonical::to_string(&e.change);
            let mut buf = b"left over".to_vec();
            buf.clear();
            e.parts(&stored).write_leaf(&mut buf);
            prop_assert_eq!(&buf, &reference);
        }
    }

    pub(crate) fn sample(seq: u64) -> Entry {
        Entry {
            log_id: 2,
            seq,
            at: 1_780_000_000_000 + seq as i64,
            actor_id: Some(7),
            actor_name: "王管理".into(),
            record_type: "org_node".into(),
            record_id: seq.to_string(),
            action: "org.create".into(),
            change: json!({"name": format!("第{seq}网格"), "kind": "grid"}),
            attachments: vec![],
        }
    }

    #[test]
    fn leaf_bytes_are_stable_and_cover_every_field() {
        let e = sample(3);
        let a = e.leaf_bytes();
        assert_eq!(a, e.clone().leaf_bytes());
        let s = String::from_utf8(a.clone()).unwrap();
        assert!(s.starts_with(r#"{"action":"org.create","actor":{"id":7,"name":"王管理"},"at":"#), "{s}");
        let mut f = e.clone();
        f.actor_name.push('x');
        assert_ne!(f.leaf_bytes(), a);
        let mut g = e;
        g.attachments.push(AttachmentRef {
            hash: "00".into(),
            name: "a.pdf".into(),
            size: 1,
            mime: "application/pdf".into(),
        });
        assert_ne!(g.leaf_bytes(), a);
    }
}
