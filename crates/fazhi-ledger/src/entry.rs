//! One entry of a log: who changed which record how, when, with which files.

use serde_json::{Value, json};

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

impl Entry {
    /// The bytes hashed into the Merkle tree: version-tagged canonical JSON.
    pub fn leaf_bytes(&self) -> Vec<u8> {
        let attachments: Vec<Value> = self
            .attachments
            .iter()
            .map(|a| json!({"hash": a.hash, "name": a.name, "size": a.size, "mime": a.mime}))
            .collect();
        let v = json!({
            "v": 1,
            "log": self.log_id,
            "seq": self.seq,
            "at": self.at,
            "actor": {"id": self.actor_id, "name": self.actor_name},
            "record": {"type": self.record_type, "id": self.record_id},
            "action": self.action,
            "change": self.change,
            "attachments": attachments,
        });
        canonical::to_string(&v).into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
