//! Random secrets, hashing of tokens, and password hashing with argon2id.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

use crate::{AppError, AppResult};

/// `n` random bytes as lower-case hex.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    // The OS random source failing is not something the process can recover from.
    getrandom::fill(&mut buf).expect("operating system random source");
    hex::encode(buf)
}

/// SHA-256 of a secret, hex; what the database keeps for sessions and API tokens.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A one-time password that satisfies the password rules: 14 characters from an
/// unambiguous alphabet with at least one upper case letter, lower case letter and digit.
pub fn one_time_password() -> String {
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const DIGIT: &[u8] = b"23456789";
    const ALL: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let mut raw = [0u8; 14];
    getrandom::fill(&mut raw).expect("operating system random source");
    let pick = |set: &[u8], b: u8| set[usize::from(b) % set.len()] as char;
    let mut s: String = raw[3..].iter().map(|b| pick(ALL, *b)).collect();
    s.insert(usize::from(raw[0]) % 4, pick(UPPER, raw[0]));
    s.insert(usize::from(raw[1]) % 6, pick(LOWER, raw[1]));
    s.insert(usize::from(raw[2]) % 8, pick(DIGIT, raw[2]));
    s
}

/// Hashes a password with argon2id on the blocking pool (it is deliberately slow).
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub async fn hash_password(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(random_hex(16).as_bytes()).map_err(|e| AppError::internal("salt", e))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::internal("argon2", e))
    })
    .await
    .map_err(|e| AppError::internal("join", e))?
}

/// A valid argon2id hash of a password nobody has, verified against when the username is
/// unknown so that the answer takes as long as for a real account.
pub const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$ZHVtbXlzYWx0ZHVtbXk$4b4nzT5Y0QUQ4s0uTr9JEv8cYJxm2I2G0n1g7qI+Yxk";

/// Checks a password against a stored hash on the blocking pool.
///
/// # Errors
/// [`AppError::Internal`] for database failures.
pub async fn verify_password(password: String, hash: String) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
    })
    .await
    .map_err(|e| AppError::internal("join", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_follow_the_rules() {
        for _ in 0..200 {
            let p = one_time_password();
            assert_eq!(p.chars().count(), 14);
            fazhi_domain::user::check_password("password", "admin", &p).unwrap();
        }
    }

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash_password("Correct-horse-1".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("Correct-horse-1".into(), h.clone()).await.unwrap());
        assert!(!verify_password("wrong".into(), h).await.unwrap());
        assert!(!verify_password("x".into(), DUMMY_HASH.into()).await.unwrap());
        assert!(!verify_password("x".into(), "garbage".into()).await.unwrap());
    }
}
