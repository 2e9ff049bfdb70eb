//! md5 passwords: PostgreSQL's `md5` role secret and the pcp.conf hash.
//!
//! PostgreSQL stores an md5 password as `"md5"` followed by the hex md5 of the password
//! concatenated with the user name. Pgpool-II uses the same text in pool_passwd (what
//! `pg_md5 -m -u USER PASSWORD` writes). pcp.conf holds only the hex md5 of the password, with
//! no prefix and no user name (what `pg_md5 PASSWORD` prints).

use md5::{Digest, Md5};

/// Lower-case hex md5 of `data`.
pub fn md5_hex(data: &[u8]) -> String {
    crate::hex(&Md5::digest(data))
}

/// The md5 secret PostgreSQL and pool_passwd store for `user`: `"md5" + md5hex(password + user)`.
///
/// ```
/// assert_eq!(pgauth::md5::password_hash("pw", "alice"), "md5aa7bb6fc2700e717ae61ec5c1567469c");
/// ```
pub fn password_hash(password: &str, user: &str) -> String {
    let mut hasher = Md5::new();
    hasher.update(password.as_bytes());
    hasher.update(user.as_bytes());
    format!("md5{}", crate::hex(&hasher.finalize()))
}

/// The hash pcp.conf stores for a PCP user: `md5hex(password)`, with no prefix.
///
/// ```
/// assert_eq!(pgauth::md5::pcp_hash("pw"), "8fe4c11451281c094a6578e6ddbf5eed");
/// ```
pub fn pcp_hash(password: &str) -> String {
    md5_hex(password.as_bytes())
}

/// Whether `stored` (an `md5...` secret as [`password_hash`] makes) is the secret of
/// `password` for `user`. Hex digits are compared case-insensitively.
pub fn verifies(password: &str, user: &str, stored: &str) -> bool {
    let expected = password_hash(password, user);
    crate::constant_time_eq(expected.as_bytes(), stored.to_ascii_lowercase().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1321_vectors() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            md5_hex(b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    #[test]
    fn postgres_md5_is_password_then_user() {
        // md5("postgres" + "postgres"), a value widely quoted in PostgreSQL docs and tests.
        assert_eq!(password_hash("postgres", "postgres"), "md53175bce1d3201d16594cebf9d7eb3f9d");
        assert_eq!(password_hash("pw", "alice"), format!("md5{}", md5_hex(b"pwalice")));
    }

    #[test]
    fn verifies_matches_only_the_right_pair() {
        let stored = password_hash("secret", "bob");
        assert!(verifies("secret", "bob", &stored));
        assert!(verifies("secret", "bob", &stored.to_ascii_uppercase().replacen("MD5", "md5", 1)));
        assert!(!verifies("secret", "alice", &stored));
        assert!(!verifies("Secret", "bob", &stored));
        assert!(!verifies("secret", "bob", "md5"));
    }

    #[test]
    fn pcp_hash_is_plain_md5() {
        assert_eq!(pcp_hash("pw"), "8fe4c11451281c094a6578e6ddbf5eed");
    }
}
