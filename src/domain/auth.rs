//! PIN hashing and the lockout rules of badge login.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::time::Duration;

/// Failed attempts that are free of delay.
pub const FREE_ATTEMPTS: u32 = 3;
/// Failed attempts after which the badge is locked until a supervisor unlocks it.
pub const LOCK_AFTER: u32 = 5;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("a PIN is 4 to 8 digits")]
    BadPinFormat,
    #[error("could not hash the PIN: {0}")]
    Hash(String),
}

/// A PIN must be 4 to 8 digits.
pub fn validate_pin(pin: &str) -> Result<(), AuthError> {
    if (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(AuthError::BadPinFormat)
    }
}

/// An argon2id hash of the PIN in PHC string form, with a fresh random salt.
pub fn hash_pin(pin: &str) -> Result<String, AuthError> {
    validate_pin(pin)?;
    let mut bytes = [0u8; 16];
    getrandom_fill(&mut bytes)?;
    let salt = SaltString::encode_b64(&bytes).map_err(|e| AuthError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

fn getrandom_fill(buf: &mut [u8]) -> Result<(), AuthError> {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    OsRng
        .try_fill_bytes(buf)
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `pin` matches the stored hash. A malformed hash never matches.
pub fn verify_pin(pin: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(pin.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// How long the next attempt must wait after `failures` consecutive failed ones:
/// nothing for the first three, then 2, 4, 8 ... seconds.
pub fn retry_delay(failures: u32) -> Duration {
    if failures < FREE_ATTEMPTS {
        Duration::ZERO
    } else {
        Duration::from_secs(2u64.saturating_pow(failures - FREE_ATTEMPTS + 1).min(300))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() -> Result<(), AuthError> {
        let h = hash_pin("1234")?;
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_pin("1234", &h));
        assert!(!verify_pin("1235", &h));
        assert!(!verify_pin("1234", "garbage"));
        assert!(hash_pin("12a4").is_err());
        assert!(hash_pin("123").is_err());
        Ok(())
    }

    #[test]
    fn delays_grow_after_three_failures() {
        assert_eq!(retry_delay(0), Duration::ZERO);
        assert_eq!(retry_delay(2), Duration::ZERO);
        assert_eq!(retry_delay(3), Duration::from_secs(2));
        assert_eq!(retry_delay(4), Duration::from_secs(4));
        assert!(retry_delay(40) <= Duration::from_secs(300));
    }
}
