//! Time-based one-time passwords (RFC 6238, HMAC-SHA1, 30-second steps): the
//! second factor of admin accounts, compatible with common authenticator apps.
//!
//! The functions take the time as an argument, so the caller's clock (which
//! tests pin) decides what "now" is.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::text::nfkc;

/// Length of a time step in seconds (RFC 6238 default; apps assume it).
pub const STEP_SECONDS: u64 = 30;

/// Digits of the codes people type (the authenticator-app default).
pub const DIGITS: u32 = 6;

/// Steps of clock drift accepted either side of the current one.
const DRIFT_STEPS: u64 = 1;

/// The code for `unix_seconds` with `digits` digits (1..=9; apps use 6).
pub fn totp_at(secret: &[u8], unix_seconds: u64, digits: u32) -> u32 {
    hotp(secret, unix_seconds / STEP_SECONDS, digits)
}

/// RFC 4226 HOTP: HMAC-SHA1 of the big-endian counter, dynamically truncated.
fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[hash.len() - 1] & 0x0f);
    let word = [
        hash[offset],
        hash[offset + 1],
        hash[offset + 2],
        hash[offset + 3],
    ];
    let value = u32::from_be_bytes(word) & 0x7fff_ffff;
    // A 31-bit value has at most 10 digits; a larger modulus leaves it whole.
    match 10u32.checked_pow(digits) {
        Some(modulus) => value % modulus,
        None => value,
    }
}

/// Checks a 6-digit `code` typed at `unix_seconds` and returns the time step
/// it belongs to, to be stored as the new `last_used_step`.
///
/// Accepts the current step and one step either side (clock drift, slow
/// typing). Refuses any step at or before `last_used_step`, so a code seen
/// over someone's shoulder cannot be used again. The code may be typed with
/// spaces or full-width digits (`123 456`, `１２３４５６`).
pub fn verify_totp(
    secret: &[u8],
    code: &str,
    unix_seconds: u64,
    last_used_step: Option<u64>,
) -> Option<u64> {
    let code: String = nfkc(code).chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let typed: u32 = code.parse().ok()?;
    let current = unix_seconds / STEP_SECONDS;
    // Newest first: if a code matched two steps, the later one is recorded,
    // which leaves no window for reusing it.
    (current.saturating_sub(DRIFT_STEPS)..=current.saturating_add(DRIFT_STEPS))
        .rev()
        .filter(|&step| last_used_step.is_none_or(|last| step > last))
        .find(|&step| hotp(secret, step, DIGITS) == typed)
}

/// Base32 (RFC 4648, no padding), the form authenticator apps accept.
pub fn encode_secret(bytes: &[u8]) -> String {
    BASE32_NOPAD.encode(bytes)
}

/// Decodes a secret written by [`encode_secret`]; case and spaces are ignored.
pub fn decode_secret(secret_b32: &str) -> Option<Vec<u8>> {
    let cleaned: String = secret_b32
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    BASE32_NOPAD.decode(cleaned.as_bytes()).ok()
}

/// The `otpauth://` URI (Key Uri Format) an authenticator app scans as a QR
/// code. Label and issuer are percent-encoded as UTF-8, so 绿桥 and e-mail
/// addresses survive.
pub fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    let issuer = percent_encode(issuer);
    format!(
        "otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        account = percent_encode(account),
        secret = percent_encode(secret_b32),
    )
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc_6238_sha1_vectors_match() {
        let vectors = [
            (59, 94287082),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ];
        for (time, expected) in vectors {
            assert_eq!(totp_at(RFC_SECRET, time, 8), expected, "T = {time}");
        }
    }

    #[test]
    fn six_digit_codes_are_the_last_six_digits() {
        assert_eq!(totp_at(RFC_SECRET, 59, 6), 287082);
    }

    fn code_at(time: u64) -> String {
        format!("{:06}", totp_at(RFC_SECRET, time, 6))
    }

    #[test]
    fn the_current_code_is_accepted_and_returns_its_step() {
        let now = 1_800_000_000;
        assert_eq!(
            verify_totp(RFC_SECRET, &code_at(now), now, None),
            Some(now / 30)
        );
    }

    #[test]
    fn one_step_of_drift_either_way_is_accepted() {
        let now = 1_800_000_000;
        assert_eq!(
            verify_totp(RFC_SECRET, &code_at(now - 30), now, None),
            Some(now / 30 - 1)
        );
        assert_eq!(
            verify_totp(RFC_SECRET, &code_at(now + 30), now, None),
            Some(now / 30 + 1)
        );
    }

    #[test]
    fn two_steps_of_drift_are_refused() {
        let now = 1_800_000_000;
        assert_eq!(verify_totp(RFC_SECRET, &code_at(now - 60), now, None), None);
        assert_eq!(verify_totp(RFC_SECRET, &code_at(now + 60), now, None), None);
    }

    #[test]
    fn a_used_code_cannot_be_replayed() {
        let now = 1_800_000_000;
        let code = code_at(now);
        let step = verify_totp(RFC_SECRET, &code, now, None).unwrap();
        assert_eq!(verify_totp(RFC_SECRET, &code, now + 5, Some(step)), None);
        // Nor may an older code be used after a newer one.
        assert_eq!(
            verify_totp(RFC_SECRET, &code_at(now - 30), now, Some(step)),
            None
        );
        // The next step's code still works.
        assert_eq!(
            verify_totp(RFC_SECRET, &code_at(now + 30), now + 30, Some(step)),
            Some(step + 1)
        );
    }

    #[test]
    fn codes_may_be_typed_with_spaces_or_full_width_digits() {
        let now = 1_800_000_000;
        let code = code_at(now);
        let spaced = format!(" {} {} ", &code[..3], &code[3..]);
        assert!(verify_totp(RFC_SECRET, &spaced, now, None).is_some());
        let full_width: String = code
            .chars()
            .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap())
            .collect();
        assert!(verify_totp(RFC_SECRET, &full_width, now, None).is_some());
    }

    #[test]
    fn codes_of_the_wrong_shape_are_refused() {
        let now = 1_800_000_000;
        for code in ["", "12345", "1234567", "12a456"] {
            assert_eq!(verify_totp(RFC_SECRET, code, now, None), None, "{code}");
        }
    }

    #[test]
    fn verifying_at_time_zero_does_not_underflow() {
        assert_eq!(verify_totp(RFC_SECRET, &code_at(0), 0, None), Some(0));
    }

    #[test]
    fn secrets_encode_as_unpadded_base32_and_decode_back() {
        let encoded = encode_secret(RFC_SECRET);
        assert_eq!(encoded, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(decode_secret(&encoded.to_lowercase()).unwrap(), RFC_SECRET);
        assert_eq!(encode_secret(b"hello"), "NBSWY3DP");
    }

    #[test]
    fn otpauth_uris_percent_encode_label_and_issuer() {
        let uri = otpauth_uri("绿桥 GreenBridge", "admin@example.com", "NBSWY3DP");
        assert_eq!(
            uri,
            "otpauth://totp/%E7%BB%BF%E6%A1%A5%20GreenBridge:admin%40example.com\
             ?secret=NBSWY3DP&issuer=%E7%BB%BF%E6%A1%A5%20GreenBridge\
             &algorithm=SHA1&digits=6&period=30"
        );
    }
}
