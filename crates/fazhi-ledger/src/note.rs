//! Signed checkpoints in the C2SP signed-note form (c2sp.org/signed-note,
//! c2sp.org/tlog-checkpoint), signed with Ed25519.
//!
//! A checkpoint body is three lines: the log's origin, the tree size in decimal, and the
//! base64 root hash, each ending in a newline. The note is the body, an empty line, and one
//! signature line `— <key name> <base64(key id ‖ signature)>`. The key id is the first four
//! bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key); the verifier key is written
//! `<name>+<hex key id>+<base64(0x01 ‖ public key)>`. Key generation takes a seed from the
//! caller: this crate does no IO and has no randomness of its own.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::tree::Hash;

/// Signature algorithm byte of Ed25519 in signed notes.
const ALG_ED25519: u8 = 0x01;
const EM_DASH: char = '\u{2014}';

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("公钥格式不正确：{0}")]
    BadKey(String),
    #[error("检查点格式不正确：{0}")]
    Malformed(String),
    #[error("检查点没有该公钥（{0}）的签名")]
    NoSignature(String),
    #[error("检查点签名无效：内容被改动，或不是该公钥签发的")]
    BadSignature,
}

fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0A, ALG_ED25519]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(NoteError::BadKey(format!("密钥名称「{name}」不能为空，也不能含空白或“+”")));
    }
    Ok(())
}

/// The public half: checks notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    pub name: String,
    key: VerifyingKey,
    id: [u8; 4],
}

impl Verifier {
    /// Parses `<name>+<hex id>+<base64(0x01 ‖ key)>`.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn parse(vkey: &str) -> Result<Self, NoteError> {
        let bad = |m: &str| NoteError::BadKey(m.to_owned());
        let mut parts = vkey.trim().splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("应为 名称+密钥编号+公钥 三段"));
        };
        check_name(name)?;
        let raw = B64.decode(b64).map_err(|_| bad("公钥不是合法的 base64"))?;
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(bad("只支持 Ed25519 公钥"));
        }
        let mut pk = [0u8; 32];
        pk.copy_from_slice(&raw[1..]);
        let key = VerifyingKey::from_bytes(&pk).map_err(|_| bad("公钥无效"))?;
        let id = key_id(name, &pk);
        if hex::encode(id) != id_hex.to_ascii_lowercase() {
            return Err(bad("密钥编号与公钥不符"));
        }
        Ok(Self { name: name.to_owned(), key, id })
    }

    /// The `<name>+<hex id>+<base64>` text.
    pub fn to_vkey(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{}+{}", self.name, hex::encode(self.id), B64.encode(raw))
    }

    /// Checks the note's signature by this key and returns the checkpoint it signs.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn open(&self, note: &str) -> Result<Checkpoint, NoteError> {
        let (body, sigs) = note.split_once("\n\n").ok_or_else(|| NoteError::Malformed("缺少签名部分".into()))?;
        let body = format!("{body}\n");
        for line in sigs.lines() {
            let Some(rest) = line.strip_prefix(EM_DASH).and_then(|r| r.strip_prefix(' ')) else {
                return Err(NoteError::Malformed(format!("签名行格式不正确：{line}")));
            };
            let Some((name, b64)) = rest.split_once(' ') else {
                return Err(NoteError::Malformed(format!("签名行格式不正确：{line}")));
            };
            if name != self.name {
                continue;
            }
            let raw = B64.decode(b64).map_err(|_| NoteError::Malformed("签名不是合法的 base64".into()))?;
            if raw.len() != 68 || raw[..4] != self.id {
                continue;
            }
            let sig = Signature::from_slice(&raw[4..]).map_err(|_| NoteError::BadSignature)?;
            self.key.verify_strict(body.as_bytes(), &sig).map_err(|_| NoteError::BadSignature)?;
            return Checkpoint::parse_body(&body);
        }
        Err(NoteError::NoSignature(self.name.clone()))
    }
}

/// The private half: signs notes. Debug never shows the key.
pub struct Signer {
    name: String,
    key: SigningKey,
    id: [u8; 4],
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("name", &self.name).field("id", &hex::encode(self.id)).finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer from a 32-byte seed (the caller supplies randomness).
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        let key = SigningKey::from_bytes(&seed);
        let id = key_id(name, key.verifying_key().as_bytes());
        Ok(Self { name: name.to_owned(), key, id })
    }

    /// Parses the private key text `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>`.
    ///
    /// # Errors
    /// [`AppError::Internal`] for database failures.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let bad = |m: &str| NoteError::BadKey(m.to_owned());
        let rest = text.trim().strip_prefix("PRIVATE+KEY+").ok_or_else(|| bad("私钥文件格式不正确"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("私钥文件格式不正确"));
        };
        let raw = B64.decode(b64).map_err(|_| bad("私钥不是合法的 base64"))?;
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(bad("只支持 Ed25519 私钥"));
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&raw[1..]);
        let s = Self::from_seed(name, seed)?;
        if hex::encode(s.id) != id_hex.to_ascii_lowercase() {
            return Err(bad("私钥编号与私钥不符"));
        }
        Ok(s)
    }

    pub fn to_private_text(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!("PRIVATE+KEY+{}+{}+{}", self.name, hex::encode(self.id), B64.encode(raw))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn verifier(&self) -> Verifier {
        Verifier { name: self.name.clone(), key: self.key.verifying_key(), id: self.id }
    }

    /// The signed note of a checkpoint.
    pub fn sign(&self, cp: &Checkpoint) -> String {
        let body = cp.body();
        let sig = self.key.sign(body.as_bytes());
        let mut raw = self.id.to_vec();
        raw.extend_from_slice(&sig.to_bytes());
        format!("{body}\n{EM_DASH} {} {}\n", self.name, B64.encode(raw))
    }
}

/// A log's tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Unique name of the log, e.g. `fazhi-3fa9c2d1/org/2`.
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root))
    }

    fn parse_body(body: &str) -> Result<Self, NoteError> {
        let mut lines = body.lines();
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(NoteError::Malformed("检查点应有来源、大小、根哈希三行".into()));
        };
        if origin.is_empty() {
            return Err(NoteError::Malformed("来源为空".into()));
        }
        let size: u64 = size.parse().map_err(|_| NoteError::Malformed(format!("大小「{size}」不是整数")))?;
        let raw = B64.decode(root).map_err(|_| NoteError::Malformed("根哈希不是合法的 base64".into()))?;
        let root: Hash = raw.try_into().map_err(|_| NoteError::Malformed("根哈希长度应为 32 字节".into()))?;
        Ok(Self { origin: origin.to_owned(), size, root })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer::from_seed("fazhi-test", [7u8; 32]).unwrap()
    }

    #[test]
    fn sign_and_open() {
        let s = signer();
        let cp = Checkpoint { origin: "fazhi-test/org/2".into(), size: 42, root: [9u8; 32] };
        let note = s.sign(&cp);
        assert!(note.starts_with("fazhi-test/org/2\n42\n"));
        assert!(note.contains("\n\n\u{2014} fazhi-test "));
        let v = Verifier::parse(&s.verifier().to_vkey()).unwrap();
        assert_eq!(v.open(&note).unwrap(), cp);

        let tampered = note.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(v.open(&tampered), Err(NoteError::BadSignature));
        let other = Signer::from_seed("fazhi-test", [8u8; 32]).unwrap().verifier();
        assert!(other.open(&note).is_err());
        assert!(v.open("garbage").is_err());
    }

    #[test]
    fn keys_round_trip() {
        let s = signer();
        let again = Signer::parse(&s.to_private_text()).unwrap();
        assert_eq!(again.verifier(), s.verifier());
        assert!(!format!("{s:?}").contains(&s.to_private_text()));
        let vkey = s.verifier().to_vkey();
        assert!(vkey.starts_with("fazhi-test+"));
        let mut broken = vkey.clone();
        broken.replace_range(11..13, "00");
        assert!(Verifier::parse(&broken).is_err());
        assert!(Signer::from_seed("bad name", [1; 32]).is_err());
    }
}
