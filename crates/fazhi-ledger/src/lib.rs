//! The tamper-evident record log of fazhi (全过程记录).
//!
//! Every state change of every record becomes an [`Entry`] in the log of the street (or
//! district) that owns the record. Entries are the leaves of an RFC 6962 Merkle tree; the
//! tree head is published as a signed checkpoint in the C2SP signed-note form, so anyone
//! holding a printed document and the installation's public key can check that the record
//! existed unchanged ([`proof`]), and `fazhi ledger verify` can recheck a whole log
//! ([`verify`]).
//!
//! This crate is pure: no IO, no async, no SQL. Storage keeps only the hashes of completed
//! (perfect) subtrees; [`tree`] says which nodes a root or proof needs and assembles it from
//! them, so the store never rehashes a log to answer a question. Proof verification uses
//! the `ct-merkle` crate.

pub mod canonical;
pub mod diff;
pub mod entry;
pub mod note;
pub mod proof;
pub mod tree;
pub mod verify;

pub use entry::{AttachmentRef, Entry};
pub use tree::{Hash, NodeId};

use digest::Digest;

/// The hash function of an installation's logs: SHA-256 by default, SM3 (GB/T 32905) when
/// configured. Both produce 32 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HashAlg {
    Sha256,
    Sm3,
}

impl HashAlg {
    pub fn code(self) -> &'static str {
        match self {
            HashAlg::Sha256 => "sha256",
            HashAlg::Sm3 => "sm3",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "sha256" => Some(HashAlg::Sha256),
            "sm3" => Some(HashAlg::Sm3),
            _ => None,
        }
    }

    fn digest_parts(self, parts: &[&[u8]]) -> Hash {
        fn run<H: Digest>(parts: &[&[u8]]) -> Hash {
            let mut h = H::new();
            for p in parts {
                h.update(p);
            }
            let out = h.finalize();
            let mut a = [0u8; 32];
            a.copy_from_slice(&out[..32]);
            a
        }
        match self {
            HashAlg::Sha256 => run::<sha2::Sha256>(parts),
            HashAlg::Sm3 => run::<sm3::Sm3>(parts),
        }
    }

    /// Plain digest of bytes (attachments).
    pub fn digest(self, bytes: &[u8]) -> Hash {
        self.digest_parts(&[bytes])
    }

    /// RFC 6962 leaf hash: H(0x00 || leaf).
    pub fn leaf(self, leaf: &[u8]) -> Hash {
        self.digest_parts(&[&[0x00], leaf])
    }

    /// RFC 6962 interior node: H(0x01 || left || right).
    pub fn node(self, left: &Hash, right: &Hash) -> Hash {
        self.digest_parts(&[&[0x01], left, right])
    }
}

/// A hash computed piece by piece (attachments are streamed, never held whole).
#[derive(Clone)]
pub enum StreamHasher {
    Sha256(sha2::Sha256),
    Sm3(sm3::Sm3),
}

impl std::fmt::Debug for StreamHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StreamHasher::Sha256(_) => "StreamHasher(sha256)",
            StreamHasher::Sm3(_) => "StreamHasher(sm3)",
        })
    }
}

impl StreamHasher {
    pub fn new(alg: HashAlg) -> Self {
        match alg {
            HashAlg::Sha256 => StreamHasher::Sha256(sha2::Sha256::new()),
            HashAlg::Sm3 => StreamHasher::Sm3(sm3::Sm3::new()),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            StreamHasher::Sha256(h) => h.update(bytes),
            StreamHasher::Sm3(h) => h.update(bytes),
        }
    }

    pub fn finish(self) -> Hash {
        let out = match self {
            StreamHasher::Sha256(h) => h.finalize().to_vec(),
            StreamHasher::Sm3(h) => h.finalize().to_vec(),
        };
        let mut a = [0u8; 32];
        a.copy_from_slice(&out[..32]);
        a
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;

    #[test]
    fn streamed_equals_one_shot() {
        for alg in [HashAlg::Sha256, HashAlg::Sm3] {
            let mut h = StreamHasher::new(alg);
            h.update(b"fa");
            h.update(b"zhi");
            assert_eq!(h.finish(), alg.digest(b"fazhi"));
        }
    }
}
