//! The offline proof document: an entry, its inclusion proof, the signed checkpoint it is
//! included in, and the key that signed it. `fazhi ledger proof` writes it; anyone can check
//! it with only the public key (`fazhi ledger check-proof`, or the portal).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use crate::note::{Checkpoint, NoteError, Verifier};
use crate::tree::{Hash, verify_inclusion};
use crate::{Entry, HashAlg};

pub const FORMAT: &str = "fazhi-ledger-proof/1";

/// What `fazhi ledger proof` prints.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ProofBundle {
    pub format: String,
    pub hash_alg: HashAlg,
    pub entry: Entry,
    /// Inclusion proof of leaf `entry.seq` in a tree of `checkpoint` size, base64 hashes.
    pub inclusion: Vec<String>,
    /// The signed checkpoint note.
    pub checkpoint: String,
    /// The signer's verifier key, for convenience; check it against the published key.
    pub public_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("不是 fazhi 账本证明文件（format 应为 {FORMAT}）")]
    Format,
    #[error(transparent)]
    Note(#[from] NoteError),
    #[error("证明中的哈希不是合法的 32 字节 base64")]
    BadHash,
    #[error("记录序号 {seq} 不在检查点（共 {size} 条）范围内")]
    OutOfRange { seq: u64, size: u64 },
    #[error("包含证明不成立：记录内容与签名检查点不符（记录被改动或证明被篡改）")]
    NotIncluded,
    #[error("检查点来源「{got}」与记录所属账本「{want}」不符")]
    WrongLog { got: String, want: String },
}

/// A successfully checked proof.
#[derive(Debug, Clone)]
pub struct Checked {
    pub checkpoint: Checkpoint,
    pub signer: String,
}

/// The log origin of an org's log under a key name.
pub fn origin_for(key_name: &str, log_id: i64) -> String {
    format!("{key_name}/org/{log_id}")
}

impl ProofBundle {
    pub fn new(alg: HashAlg, entry: Entry, inclusion: &[Hash], checkpoint: String, public_key: String) -> Self {
        Self {
            format: FORMAT.into(),
            hash_alg: alg,
            entry,
            inclusion: inclusion.iter().map(|h| B64.encode(h)).collect(),
            checkpoint,
            public_key,
        }
    }

    /// Checks the bundle against `trusted` (the published key) or, when `None`, against the
    /// key in the bundle itself (the caller must then say so to the user).
    ///
    /// # Errors
    /// [`AppError::Forbidden`] when the policy refuses; [`AppError::Internal`] for database failures.
    pub fn check(&self, trusted: Option<&Verifier>) -> Result<Checked, ProofError> {
        if self.format != FORMAT {
            return Err(ProofError::Format);
        }
        let embedded;
        let v = match trusted {
            Some(v) => v,
            None => {
                embedded = Verifier::parse(&self.public_key)?;
                &embedded
            }
        };
        let cp = v.open(&self.checkpoint)?;
        let want = origin_for(&v.name, self.entry.log_id);
        if cp.origin != want {
            return Err(ProofError::WrongLog { got: cp.origin, want });
        }
        if self.entry.seq >= cp.size {
            return Err(ProofError::OutOfRange { seq: self.entry.seq, size: cp.size });
        }
        let proof: Vec<Hash> = self
            .inclusion
            .iter()
            .map(|s| B64.decode(s).ok().and_then(|b| b.try_into().ok()).ok_or(ProofError::BadHash))
            .collect::<Result<_, _>>()?;
        if !verify_inclusion(self.hash_alg, &cp.root, cp.size, self.entry.seq, &self.entry.leaf_bytes(), &proof) {
            return Err(ProofError::NotIncluded);
        }
        Ok(Checked { checkpoint: cp, signer: v.name.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::Signer;
    use crate::tree::MemTree;
    use serde_json::json;

    fn entry(seq: u64) -> Entry {
        Entry {
            log_id: 2,
            seq,
            at: 1_780_000_000_000,
            actor_id: Some(1),
            actor_name: "王管理".into(),
            record_type: "org_node".into(),
            record_id: format!("{seq}"),
            action: "org.create".into(),
            change: json!({"name": format!("网格{seq}")}),
            attachments: vec![],
        }
    }

    fn bundle(n: u64, m: u64) -> (ProofBundle, Signer) {
        let signer = Signer::from_seed("fazhi-test", [3u8; 32]).unwrap();
        let mut t = MemTree::new(HashAlg::Sha256);
        for i in 0..n {
            t.push(&entry(i).leaf_bytes());
        }
        let cp = Checkpoint { origin: origin_for("fazhi-test", 2), size: n, root: t.root() };
        let b = ProofBundle::new(
            HashAlg::Sha256,
            entry(m),
            &t.inclusion_proof(n, m),
            signer.sign(&cp),
            signer.verifier().to_vkey(),
        );
        (b, signer)
    }

    #[test]
    fn a_good_proof_checks_and_survives_json() {
        let (b, s) = bundle(13, 6);
        let json = serde_json::to_string_pretty(&b).unwrap();
        let back: ProofBundle = serde_json::from_str(&json).unwrap();
        let checked = back.check(Some(&s.verifier())).unwrap();
        assert_eq!(checked.checkpoint.size, 13);
        assert!(back.check(None).is_ok());
    }

    #[test]
    fn any_edit_fails() {
        let (b, s) = bundle(13, 6);
        let v = s.verifier();
        let mut e = b.clone();
        e.entry.change = json!({"name": "改过的"});
        assert_eq!(e.check(Some(&v)).unwrap_err(), ProofError::NotIncluded);
        let mut e = b.clone();
        e.entry.seq = 7;
        assert!(e.check(Some(&v)).is_err());
        let mut e = b.clone();
        e.inclusion.swap(0, 1);
        assert_eq!(e.check(Some(&v)).unwrap_err(), ProofError::NotIncluded);
        let mut e = b.clone();
        e.checkpoint = e.checkpoint.replacen("\n13\n", "\n14\n", 1);
        assert!(matches!(e.check(Some(&v)), Err(ProofError::Note(_))));
        let other = Signer::from_seed("fazhi-test", [4u8; 32]).unwrap().verifier();
        assert!(b.check(Some(&other)).is_err());
        let mut e = b;
        e.format = "x".into();
        assert_eq!(e.check(Some(&v)).unwrap_err(), ProofError::Format);
    }
}
