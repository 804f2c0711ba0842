//! Password hashing with Argon2id. Hashing is slow on purpose, so it runs on the
//! blocking pool, off the async workers.

use crate::config::PasswordCost;
use anyhow::Context as _;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};

fn hasher(cost: PasswordCost) -> anyhow::Result<Argon2<'static>> {
    let params = Params::new(cost.memory_kib, cost.iterations, 1, None)
        .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

pub async fn hash_password(password: String, cost: PasswordCost) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Ok(hasher(cost)?
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?
            .to_string())
    })
    .await
    .context("hashing task")?
}

/// True when `password` matches the stored PHC string. The parameters come from the
/// stored hash, so hashes made with other costs keep working.
pub async fn verify_password(password: String, stored: String) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return Ok(false);
        };
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .context("verification task")?
}

/// A hash of a random password, checked against when a login name does not exist, so
/// that a miss takes as long as a wrong password and timing reveals nothing.
pub async fn dummy_verify(password: String, cost: PasswordCost) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let stored = match DUMMY.get() {
        Some(hash) => hash.clone(),
        None => match hash_password(greenbridge_store::new_token(), cost).await {
            Ok(hash) => DUMMY.get_or_init(|| hash).clone(),
            Err(_) => return,
        },
    };
    let _ = verify_password(password, stored).await;
}

/// The form errors of a new password typed twice: `(for the password field, for the
/// confirmation field)`. The rule is checked first; a mismatch is reported only for a
/// password that passes it.
pub fn new_password_errors(
    password: &str,
    confirm: &str,
    login: &str,
) -> (Option<String>, Option<String>) {
    match greenbridge_domain::account::check_password(password, login) {
        Err(rule) => (Some(rule.to_string()), None),
        Ok(()) if password != confirm => (None, Some("两次输入的密码不一致".to_string())),
        Ok(()) => (None, None),
    }
}
