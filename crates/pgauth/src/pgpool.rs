//! Pgpool-II's pool_passwd secrets: AES encryption as `pg_enc` does it, and matching a stored
//! secret against a password.
//!
//! # The AES scheme (Pgpool-II `src/utils/ssl_utils.c`)
//!
//! `pg_enc` derives the AES key and IV from the pool key (the first line of `~/.pgpoolkey`, or
//! `-K`) with OpenSSL's `EVP_BytesToKey(EVP_aes_256_cbc(), EVP_sha1(), salt = NULL, key, count
//! = 1)`: `D1 = SHA1(key)`, `D2 = SHA1(D1 || key)`, `D3 = SHA1(D2 || key)`; the AES-256 key is the
//! first 32 bytes of `D1 || D2 || D3` and the IV the next 16. There is no salt, so the same
//! password and key always give the same text. The password is encrypted with AES-256-CBC and
//! PKCS#7 padding, base64-encoded (standard alphabet, with padding), and stored as
//! `AES<base64>`.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use sha1::{Digest, Sha1};

use crate::AuthError;

/// Prefix of an AES-encrypted pool_passwd secret.
pub const AES_PREFIX: &str = "AES";
/// Prefix of a clear-text pool_passwd secret written explicitly as text.
pub const TEXT_PREFIX: &str = "TEXT";
/// The longest password `pg_enc` accepts, in bytes (`MAX_PGPASS_LEN`).
pub const MAX_PASSWORD_LEN: usize = 128;
/// `read_pool_key` reads the key file with `fgets` into a 256-byte buffer: at most 255 bytes.
const KEY_FILE_MAX: usize = 255;

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// The Pgpool-II encryption key (`pool_key`) that AES pool_passwd entries are encrypted with.
///
/// `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct PoolKey(Vec<u8>);

impl fmt::Debug for PoolKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PoolKey(<hidden>)")
    }
}

impl PoolKey {
    /// A key given directly (as with `pg_enc -K KEY`). It must not be empty.
    pub fn new(key: &[u8]) -> Result<Self, AuthError> {
        if key.is_empty() {
            return Err(AuthError::EmptyKey);
        }
        Ok(PoolKey(key.to_vec()))
    }

    /// The key Pgpool-II reads from the contents of a key file (`~/.pgpoolkey`): the first line
    /// without its `\n` (a `\r` before it is kept, as Pgpool-II keeps it), at most 255 bytes.
    pub fn from_key_file(contents: &[u8]) -> Result<Self, AuthError> {
        let end = contents.iter().position(|&b| b == b'\n').unwrap_or(contents.len());
        let line = &contents[..end.min(KEY_FILE_MAX)];
        Self::new(line)
    }

    /// The bytes of the key.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Encrypts `password` as `pg_enc` does and returns the base64 text (without the `AES`
    /// prefix; see [`aes_secret`] for the pool_passwd form).
    pub fn encrypt(&self, password: &str) -> Result<String, AuthError> {
        if password.len() > MAX_PASSWORD_LEN {
            return Err(AuthError::PasswordTooLong {
                len: password.len(),
                max: MAX_PASSWORD_LEN,
            });
        }
        let (key, iv) = self.key_iv();
        let cipher = Aes256CbcEnc::new(&key.into(), &iv.into());
        let ciphertext = cipher.encrypt_padded_vec::<Pkcs7>(password.as_bytes());
        Ok(STANDARD.encode(ciphertext))
    }

    /// Decrypts base64 text written by `pg_enc` (an `AES` prefix is accepted and skipped;
    /// blanks and line breaks are ignored as Pgpool-II's base64 decoder ignores them).
    pub fn decrypt(&self, text: &str) -> Result<String, AuthError> {
        let text = text.strip_prefix(AES_PREFIX).unwrap_or(text);
        let compact: String = text.chars().filter(|c| !matches!(c, ' ' | '\t' | '\n' | '\r')).collect();
        let ciphertext = STANDARD.decode(compact.as_bytes()).map_err(|_| AuthError::BadBase64)?;
        if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
            return Err(AuthError::DecryptFailed);
        }
        let (key, iv) = self.key_iv();
        let cipher = Aes256CbcDec::new(&key.into(), &iv.into());
        let plain = cipher
            .decrypt_padded_vec::<Pkcs7>(&ciphertext)
            .map_err(|_| AuthError::DecryptFailed)?;
        // Pgpool-II treats the result as a C string.
        let plain = match plain.iter().position(|&b| b == 0) {
            Some(nul) => plain[..nul].to_vec(),
            None => plain,
        };
        String::from_utf8(plain).map_err(|_| AuthError::NotUtf8)
    }

    /// `EVP_BytesToKey(aes-256-cbc, sha1, no salt, key, 1)`.
    fn key_iv(&self) -> ([u8; 32], [u8; 16]) {
        let mut material = Vec::with_capacity(60);
        let mut previous: Vec<u8> = Vec::new();
        while material.len() < 48 {
            let mut hasher = Sha1::new();
            hasher.update(&previous);
            hasher.update(&self.0);
            previous = hasher.finalize().to_vec();
            material.extend_from_slice(&previous);
        }
        let mut key = [0u8; 32];
        let mut iv = [0u8; 16];
        key.copy_from_slice(&material[..32]);
        iv.copy_from_slice(&material[32..48]);
        (key, iv)
    }
}

/// The pool_passwd secret `pg_enc -m` writes: `AES` + base64 of the encrypted password.
pub fn aes_secret(password: &str, key: &PoolKey) -> Result<String, AuthError> {
    Ok(format!("{AES_PREFIX}{}", key.encrypt(password)?))
}

/// Whether the pool_passwd secret `stored` for `user` holds `password`.
///
/// The kind is decided as Pgpool-II's `get_password_type` does: `md5` followed by exactly 32
/// characters is an md5 secret (`md5` + md5hex(password + user)); `AES...` is decrypted with
/// `key` (an error if no key is given or it does not decrypt); `SCRAM-SHA-256$...` is checked as
/// a verifier; `TEXT...` is the clear text after the prefix; anything else is clear text.
pub fn secret_matches(stored: &str, user: &str, password: &str, key: Option<&PoolKey>) -> Result<bool, AuthError> {
    if let Some(hash) = stored.strip_prefix("md5") {
        if hash.len() == 32 {
            return Ok(crate::md5::verifies(password, user, stored));
        }
        return Ok(crate::constant_time_eq(stored.as_bytes(), password.as_bytes()));
    }
    if let Some(encrypted) = stored.strip_prefix(AES_PREFIX) {
        let key = key.ok_or(AuthError::KeyRequired)?;
        let plain = key.decrypt(encrypted)?;
        return Ok(crate::constant_time_eq(plain.as_bytes(), password.as_bytes()));
    }
    if crate::scram::is_verifier(stored) {
        return Ok(crate::scram::verifies(password, stored));
    }
    let clear = stored.strip_prefix(TEXT_PREFIX).unwrap_or(stored);
    Ok(crate::constant_time_eq(clear.as_bytes(), password.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> PoolKey {
        PoolKey::new(k.as_bytes()).unwrap()
    }

    #[test]
    fn known_pg_enc_output() {
        // `pg_enc -K secretkey -u alice pw` (Pgpool-II 4.3.5) prints this.
        assert_eq!(key("secretkey").encrypt("pw").unwrap(), "CiZW1hVkVEQj8GvBPWKJqQ==");
        assert_eq!(key("secretkey").decrypt("AESCiZW1hVkVEQj8GvBPWKJqQ==").unwrap(), "pw");
    }

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // `openssl enc -aes-256-cbc -md sha1 -nosalt -k secretkey -P` prints this key and IV.
        let (k, iv) = key("secretkey").key_iv();
        assert_eq!(crate::hex(&k), "9885f8af04289135df259e34bd22d17fe45ea81e583ee942a47f29465cc2d830");
        assert_eq!(crate::hex(&iv), "bb9adf977936dfcf58d9383d866eebbf");
    }

    #[test]
    fn round_trip_various_passwords() {
        let k = key("a long key with spaces and ünïcödé");
        for pw in ["", "x", "exactly16bytes!!", "pässwörd", &"y".repeat(128)] {
            let enc = k.encrypt(pw).unwrap();
            assert_eq!(k.decrypt(&enc).unwrap(), pw);
        }
        assert!(matches!(
            k.encrypt(&"z".repeat(129)),
            Err(AuthError::PasswordTooLong { len: 129, max: 128 })
        ));
    }

    #[test]
    fn wrong_key_or_bad_text_is_an_error() {
        let enc = key("one").encrypt("some password").unwrap();
        assert!(key("two").decrypt(&enc).is_err());
        assert_eq!(key("one").decrypt("not base64!"), Err(AuthError::BadBase64));
        assert_eq!(key("one").decrypt("AAAA"), Err(AuthError::DecryptFailed));
        assert_eq!(key("one").decrypt(""), Err(AuthError::DecryptFailed));
    }

    #[test]
    fn key_file_first_line() {
        assert_eq!(PoolKey::from_key_file(b"secret\nsecond\n").unwrap().as_bytes(), b"secret");
        assert_eq!(PoolKey::from_key_file(b"secret").unwrap().as_bytes(), b"secret");
        assert_eq!(PoolKey::from_key_file(b"secret\r\n").unwrap().as_bytes(), b"secret\r");
        assert_eq!(PoolKey::from_key_file(b"\nsecret\n"), Err(AuthError::EmptyKey));
        assert_eq!(PoolKey::from_key_file(b""), Err(AuthError::EmptyKey));
        let long = vec![b'k'; 300];
        assert_eq!(PoolKey::from_key_file(&long).unwrap().as_bytes().len(), 255);
        assert!(!format!("{:?}", key("secret")).contains("secret"));
    }

    #[test]
    fn secret_matches_every_kind() {
        let k = key("k");
        let md5 = crate::md5::password_hash("pw", "alice");
        assert_eq!(secret_matches(&md5, "alice", "pw", None), Ok(true));
        assert_eq!(secret_matches(&md5, "bob", "pw", None), Ok(false));
        let aes = aes_secret("pw", &k).unwrap();
        assert_eq!(secret_matches(&aes, "alice", "pw", Some(&k)), Ok(true));
        assert_eq!(secret_matches(&aes, "alice", "px", Some(&k)), Ok(false));
        assert_eq!(secret_matches(&aes, "alice", "pw", None), Err(AuthError::KeyRequired));
        assert_eq!(secret_matches("TEXTpw", "alice", "pw", None), Ok(true));
        assert_eq!(secret_matches("TEXTpw", "alice", "TEXTpw", None), Ok(false));
        assert_eq!(secret_matches("pw", "alice", "pw", None), Ok(true));
        // "md5" + a wrong length is clear text for Pgpool-II.
        assert_eq!(secret_matches("md5short", "alice", "md5short", None), Ok(true));
        let scram = crate::scram::ScramVerifier::with_salt("pw", b"salt", 16).to_string();
        assert_eq!(secret_matches(&scram, "alice", "pw", None), Ok(true));
        assert_eq!(secret_matches(&scram, "alice", "px", None), Ok(false));
    }
}
