//! SCRAM-SHA-256 verifiers as PostgreSQL stores them in `pg_authid.rolpassword`.
//!
//! The text form is
//! `SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>` (RFC 5802,
//! RFC 7677), where `SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations)`,
//! `StoredKey = SHA-256(HMAC(SaltedPassword, "Client Key"))` and
//! `ServerKey = HMAC(SaltedPassword, "Server Key")`. [`ScramVerifier::generate`] uses a random
//! 16-byte salt and 4096 iterations, as libpq's `PQencryptPasswordConn` and psql's `\password`
//! do, so `ALTER ROLE ... PASSWORD '<verifier>'` stores exactly what the server would have.
//!
//! # Password normalisation
//!
//! PostgreSQL runs the password through SASLprep (RFC 4013) first, and uses the raw bytes when
//! SASLprep refuses the password. [`prepare_password`] does the same: ASCII passwords are used as
//! they are (PostgreSQL's own fast path, control characters included); other passwords go through
//! the `stringprep` crate's SASLprep (mapping, NFKC, prohibited-character and bidi checks), and
//! the raw UTF-8 bytes are used when it fails. The oracle tests check non-ASCII passwords against
//! a real server; differences could only come from Unicode-version details of the tables.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::AuthError;

/// Iteration count PostgreSQL's clients use by default (`scram_iterations` default).
pub const DEFAULT_ITERATIONS: u32 = 4096;

/// Salt length PostgreSQL's clients use, in bytes.
pub const DEFAULT_SALT_LEN: usize = 16;

const PREFIX: &str = "SCRAM-SHA-256$";
const KEY_LEN: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// A parsed or computed SCRAM-SHA-256 verifier.
///
/// `Display` writes the text PostgreSQL stores; `FromStr`/[`ScramVerifier::parse`] read it.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    iterations: u32,
    salt: Vec<u8>,
    stored_key: [u8; KEY_LEN],
    server_key: [u8; KEY_LEN],
}

impl fmt::Debug for ScramVerifier {
    // A verifier is a secret too (it allows an offline guessing attack): keep it out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramVerifier")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl ScramVerifier {
    /// Computes a verifier for `password` with a fresh random 16-byte salt and 4096 iterations.
    pub fn generate(password: &str) -> Result<Self, AuthError> {
        let mut salt = [0u8; DEFAULT_SALT_LEN];
        getrandom::fill(&mut salt).map_err(|e| AuthError::Random(e.to_string()))?;
        Ok(Self::with_salt(password, &salt, DEFAULT_ITERATIONS))
    }

    /// Computes the verifier for `password` with the given salt and iteration count.
    ///
    /// An iteration count of 0 is treated as 1.
    pub fn with_salt(password: &str, salt: &[u8], iterations: u32) -> Self {
        let iterations = iterations.max(1);
        let prepared = prepare_password(password);
        let salted = salted_password(&prepared, salt, iterations);
        let client_key = hmac(&salted, b"Client Key");
        let stored_key: [u8; KEY_LEN] = Sha256::digest(client_key).into();
        let server_key = hmac(&salted, b"Server Key");
        ScramVerifier {
            iterations,
            salt: salt.to_vec(),
            stored_key,
            server_key,
        }
    }

    /// Reads a verifier in PostgreSQL's text form.
    pub fn parse(text: &str) -> Result<Self, AuthError> {
        let rest = text
            .strip_prefix(PREFIX)
            .ok_or(AuthError::BadScramVerifier("no SCRAM-SHA-256$ prefix"))?;
        let (iter_salt, keys) = rest.split_once('$').ok_or(AuthError::BadScramVerifier("no '$' before the keys"))?;
        let (iterations, salt) = iter_salt
            .split_once(':')
            .ok_or(AuthError::BadScramVerifier("no ':' between iterations and salt"))?;
        let (stored_key, server_key) = keys.split_once(':').ok_or(AuthError::BadScramVerifier("no ':' between the keys"))?;
        let iterations: u32 = iterations
            .parse()
            .map_err(|_| AuthError::BadScramVerifier("iteration count is not a number"))?;
        if iterations == 0 {
            return Err(AuthError::BadScramVerifier("iteration count is 0"));
        }
        let salt = STANDARD
            .decode(salt)
            .map_err(|_| AuthError::BadScramVerifier("salt is not base64"))?;
        if salt.is_empty() {
            return Err(AuthError::BadScramVerifier("salt is empty"));
        }
        Ok(ScramVerifier {
            iterations,
            salt,
            stored_key: decode_key(stored_key, "StoredKey is not 32 bytes of base64")?,
            server_key: decode_key(server_key, "ServerKey is not 32 bytes of base64")?,
        })
    }

    /// Whether `password` is the password this verifier was computed from (recomputed with this
    /// verifier's salt and iteration count; the comparison takes constant time).
    pub fn verifies(&self, password: &str) -> bool {
        let other = Self::with_salt(password, &self.salt, self.iterations);
        crate::constant_time_eq(&self.stored_key, &other.stored_key) & crate::constant_time_eq(&self.server_key, &other.server_key)
    }

    /// The PBKDF2 iteration count.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }

    /// The salt (raw bytes).
    pub fn salt(&self) -> &[u8] {
        &self.salt
    }
}

impl fmt::Display for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX}{}:{}${}:{}",
            self.iterations,
            STANDARD.encode(&self.salt),
            STANDARD.encode(self.stored_key),
            STANDARD.encode(self.server_key)
        )
    }
}

impl FromStr for ScramVerifier {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Whether `text` looks like a SCRAM-SHA-256 verifier (has its prefix), as PostgreSQL and
/// Pgpool-II decide the kind of a stored password.
pub fn is_verifier(text: &str) -> bool {
    text.starts_with(PREFIX)
}

/// Whether `password` matches the stored `verifier` text; `false` if the text is not a valid
/// verifier.
pub fn verifies(password: &str, verifier: &str) -> bool {
    ScramVerifier::parse(verifier).is_ok_and(|v| v.verifies(password))
}

/// The bytes PostgreSQL hashes for `password`: SASLprep'ed, or raw when SASLprep fails or the
/// password is ASCII (see the module docs).
pub fn prepare_password(password: &str) -> Cow<'_, [u8]> {
    if password.is_ascii() {
        return Cow::Borrowed(password.as_bytes());
    }
    match stringprep::saslprep(password) {
        Ok(Cow::Borrowed(s)) => Cow::Borrowed(s.as_bytes()),
        Ok(Cow::Owned(s)) => Cow::Owned(s.into_bytes()),
        Err(_) => Cow::Borrowed(password.as_bytes()),
    }
}

fn decode_key(text: &str, what: &'static str) -> Result<[u8; KEY_LEN], AuthError> {
    let bytes = STANDARD.decode(text).map_err(|_| AuthError::BadScramVerifier(what))?;
    bytes.try_into().map_err(|_| AuthError::BadScramVerifier(what))
}

fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length; new_from_slice cannot fail for it.
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
    }
}

#[cold]
fn unreachable_hmac() -> HmacSha256 {
    // Unreachable in practice: HMAC accepts every key length. Fall back to an empty key rather
    // than panic; the result would simply not verify.
    <HmacSha256 as KeyInit>::new(&Default::default())
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; KEY_LEN] {
    let mut mac = keyed(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// PBKDF2-HMAC-SHA-256 with a 32-byte output (one block, so one chain of iterations).
fn salted_password(password: &[u8], salt: &[u8], iterations: u32) -> [u8; KEY_LEN] {
    let prf = keyed(password);
    let mut first = prf.clone();
    first.update(salt);
    first.update(&1u32.to_be_bytes());
    let mut u: [u8; KEY_LEN] = first.finalize().into_bytes().into();
    let mut result = u;
    for _ in 1..iterations {
        let mut mac = prf.clone();
        mac.update(&u);
        u = mac.finalize().into_bytes().into();
        for (r, x) in result.iter_mut().zip(u.iter()) {
            *r ^= x;
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pbkdf2_sha256_rfc7914_vector() {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, first 32 bytes.
        let out = salted_password(b"passwd", b"salt", 1);
        assert_eq!(crate::hex(&out), "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
        // P="Password", S="NaCl", c=80000 (first 32 bytes of the 64-byte output).
        let out = salted_password(b"Password", b"NaCl", 80000);
        assert_eq!(crate::hex(&out), "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56");
    }

    #[test]
    fn rfc7677_example_keys() {
        // RFC 7677 section 3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==,
        // 4096 iterations. The RFC gives the ClientProof and ServerSignature of its exchange;
        // both are derived from the keys in the verifier, so matching them checks the keys.
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let v = ScramVerifier::with_salt("pencil", &salt, 4096);
        let text = v.to_string();
        assert!(text.starts_with("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$"));
        // ClientProof check from the RFC's exchange: ClientKey XOR ClientSignature.
        let salted = salted_password(b"pencil", &salt, 4096);
        let client_key = hmac(&salted, b"Client Key");
        let stored_key: [u8; 32] = Sha256::digest(client_key).into();
        let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let signature = hmac(&stored_key, auth_message.as_bytes());
        let proof: Vec<u8> = client_key.iter().zip(signature.iter()).map(|(a, b)| a ^ b).collect();
        assert_eq!(STANDARD.encode(proof), "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
        let server_key = hmac(&salted, b"Server Key");
        let server_signature = hmac(&server_key, auth_message.as_bytes());
        assert_eq!(STANDARD.encode(server_signature), "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
        assert_eq!(v.stored_key, stored_key);
        assert_eq!(v.server_key, server_key);
    }

    #[test]
    fn round_trips_through_text() {
        let v = ScramVerifier::with_salt("secret", b"0123456789abcdef", 4096);
        let text = v.to_string();
        let back: ScramVerifier = text.parse().unwrap();
        assert_eq!(back, v);
        assert_eq!(back.to_string(), text);
        assert_eq!(back.iterations(), 4096);
        assert_eq!(back.salt(), b"0123456789abcdef");
    }

    #[test]
    fn verifies_right_and_wrong_passwords() {
        let v = ScramVerifier::generate("correct horse").unwrap();
        assert!(v.verifies("correct horse"));
        assert!(!v.verifies("correct horse "));
        assert!(!v.verifies(""));
        assert!(verifies("correct horse", &v.to_string()));
        assert!(!verifies("correct horse", "md5abc"));
    }

    #[test]
    fn generate_uses_fresh_salt_and_defaults() {
        let a = ScramVerifier::generate("pw").unwrap();
        let b = ScramVerifier::generate("pw").unwrap();
        assert_ne!(a.salt(), b.salt());
        assert_eq!(a.salt().len(), 16);
        assert_eq!(a.iterations(), 4096);
        assert_ne!(a.to_string(), b.to_string());
    }

    #[test]
    fn parse_rejects_malformed_text() {
        let good = ScramVerifier::with_salt("x", b"salt", 10).to_string();
        assert!(ScramVerifier::parse(&good).is_ok());
        for bad in [
            "",
            "md5abcdef",
            "SCRAM-SHA-256$",
            "SCRAM-SHA-256$4096:c2FsdA==",
            "SCRAM-SHA-256$x:c2FsdA==$a:b",
            "SCRAM-SHA-256$0:c2FsdA==$AAAA:AAAA",
            "SCRAM-SHA-256$4096:!!!$AAAA:AAAA",
            "SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA",
            "SCRAM-SHA-256$4096:$AAAA:AAAA",
        ] {
            assert!(ScramVerifier::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn debug_hides_keys() {
        let v = ScramVerifier::with_salt("x", b"salt", 10);
        let dbg = format!("{v:?}");
        assert!(!dbg.contains(&STANDARD.encode(v.stored_key)));
    }

    #[test]
    fn saslprep_ascii_is_untouched_and_unicode_is_normalised() {
        assert_eq!(&*prepare_password("pa ss\x07"), b"pa ss\x07");
        // U+2168 ROMAN NUMERAL NINE -> "IX" under NFKC (RFC 4013 example: U+2168 -> "IX").
        assert_eq!(&*prepare_password("\u{2168}"), b"IX");
        // U+00AD SOFT HYPHEN maps to nothing.
        assert_eq!(&*prepare_password("I\u{00AD}X"), b"IX");
        // U+00A0 NO-BREAK SPACE maps to a space.
        assert_eq!(&*prepare_password("a\u{00A0}b"), b"a b");
        // A prohibited character (U+0007 next to non-ASCII): SASLprep fails, raw bytes are used.
        assert_eq!(&*prepare_password("\u{00e9}\u{0007}"), "\u{00e9}\u{0007}".as_bytes());
    }
}
