//! Password hashing as PostgreSQL and Pgpool-II store it.
//!
//! - [`md5`]: PostgreSQL's `md5` role passwords (what `pg_md5 -m -u USER` writes into
//!   pool_passwd) and the plain md5 hex that pcp.conf holds (what `pg_md5 PASSWORD` prints).
//! - [`scram`]: SCRAM-SHA-256 verifiers in the form PostgreSQL keeps in `pg_authid`, computed
//!   client-side so a password never has to travel to the server in clear text.
//! - [`pgpool`]: Pgpool-II's AES-256-CBC encryption of pool_passwd entries (what `pg_enc`
//!   writes with the key from `~/.pgpoolkey`), and a check of whether a stored pool_passwd
//!   secret holds a given password, which is what makes a module idempotent.
//!
//! Every function is pure: no file is read and nothing is printed. Secrets are never put into
//! error messages.
#![deny(missing_docs)]

pub mod md5;
pub mod pgpool;
pub mod scram;

/// What can go wrong when reading or computing a stored password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The text is not a SCRAM-SHA-256 verifier; the reason says which part is wrong.
    #[error("not a SCRAM-SHA-256 verifier: {0}")]
    BadScramVerifier(&'static str),
    /// The Pgpool-II encryption key is empty (an empty `.pgpoolkey` first line, or no key).
    #[error("the Pgpool-II encryption key is empty")]
    EmptyKey,
    /// The AES text is not valid base64.
    #[error("the AES password is not valid base64")]
    BadBase64,
    /// Decryption failed: the key is not the one the password was encrypted with, or the
    /// stored text is damaged.
    #[error("could not decrypt the AES password: wrong key or damaged entry")]
    DecryptFailed,
    /// The decrypted password is not UTF-8.
    #[error("the decrypted password is not UTF-8")]
    NotUtf8,
    /// The password is longer than Pgpool-II accepts (128 bytes, as `pg_enc` enforces).
    #[error("the password is {len} bytes long; Pgpool-II accepts at most {max}")]
    PasswordTooLong {
        /// Length of the given password in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A stored pool_passwd secret is AES-encrypted but no key was given to decrypt it.
    #[error("the stored password is AES-encrypted and no Pgpool-II key was given")]
    KeyRequired,
    /// The operating system's random number generator failed.
    #[error("could not get random bytes for a salt: {0}")]
    Random(String),
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0x00, 0xab, 0xff, 0x10]), "00abff10");
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
