//! Oracle tests: Pgpool-II 4.3's own `pg_md5` and `pg_enc` (and OpenSSL, whose
//! `EVP_BytesToKey` and AES-256-CBC Pgpool-II calls) must agree with this crate byte for byte.
//! These tools are installed with the pgpool2 package; a missing tool fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

use pgauth::md5;
use pgauth::pgpool::{aes_secret, secret_matches, PoolKey};

const PG_MD5: &str = "/usr/sbin/pg_md5";
const PG_ENC: &str = "/usr/sbin/pg_enc";

/// Passwords that exercise the shell-free argv path: blanks, colons, quotes, non-ASCII,
/// block-size boundaries.
const PASSWORDS: &[&str] = &[
    "pw",
    "ChangeMe",
    "with space",
    "col:on\\back",
    "quote'\"double",
    "pässwörd-ünïcödé",
    "exactly16bytes!!",
    "fifteen bytes!!",
    "a-long-password-that-spans-several-aes-blocks-0123456789",
];

/// A throw-away Pgpool-II config directory whose `pool_passwd` the tools write.
struct PoolDir {
    dir: tempfile::TempDir,
}

impl PoolDir {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("pgpool.conf"), "pool_passwd = 'pool_passwd'\n").expect("write pgpool.conf");
        PoolDir { dir }
    }

    fn conf(&self) -> PathBuf {
        self.dir.path().join("pgpool.conf")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The secret stored for `user` in pool_passwd (the text after the first unescaped ':').
    fn secret_of(&self, user: &str) -> String {
        let text = std::fs::read_to_string(self.path("pool_passwd")).expect("read pool_passwd");
        let prefix = format!("{}:", user.replace('\\', "\\\\").replace(':', "\\:"));
        let raw_prefix = format!("{user}:");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix).or_else(|| l.strip_prefix(&raw_prefix)))
            .unwrap_or_else(|| panic!("no entry for {user:?} in {text:?}"))
            .to_string()
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn write_key_file(path: &Path, contents: &[u8]) {
    std::fs::write(path, contents).expect("write key file");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

#[test]
fn pcp_hash_matches_pg_md5() {
    for pw in PASSWORDS {
        let out = run(Command::new(PG_MD5).arg(pw));
        assert_eq!(out.trim_end(), md5::pcp_hash(pw), "password {pw:?}");
    }
}

#[test]
fn md5_secret_matches_pg_md5_update_pass() {
    let dir = PoolDir::new();
    for (i, pw) in PASSWORDS.iter().enumerate() {
        let user = format!("user{i}");
        run(Command::new(PG_MD5)
            .arg("-m")
            .arg("-f")
            .arg(dir.conf())
            .arg("-u")
            .arg(&user)
            .arg(pw));
        let stored = dir.secret_of(&user);
        assert_eq!(stored, md5::password_hash(pw, &user), "password {pw:?}");
        assert!(md5::verifies(pw, &user, &stored));
        assert_eq!(secret_matches(&stored, &user, pw, None), Ok(true));
    }
}

#[test]
fn aes_matches_pg_enc_with_key_option() {
    for key in ["secretkey", "k", "a key with spaces", "ключ-🔑"] {
        let pool_key = PoolKey::new(key.as_bytes()).unwrap();
        for pw in PASSWORDS {
            let out = run(Command::new(PG_ENC).arg("-K").arg(key).arg(pw));
            let line = out
                .lines()
                .find_map(|l| l.strip_prefix("pool_passwd string: "))
                .expect("pg_enc prints the pool_passwd string");
            assert_eq!(line, aes_secret(pw, &pool_key).unwrap(), "{pw:?} / {key:?}");
            assert_eq!(pool_key.decrypt(line).unwrap(), *pw);
        }
    }
}

#[test]
fn aes_matches_pg_enc_update_pass_with_key_file() {
    let dir = PoolDir::new();
    // Key files as people write them: with and without a trailing newline, with more lines,
    // with a CRLF line end (Pgpool-II keeps the '\r' as part of the key).
    let key_files: &[&[u8]] = &[
        b"mykey\n",
        b"mykey",
        b"first line is the key\nsecond line is ignored\n",
        b"crlf key\r\n",
    ];
    for (k, contents) in key_files.iter().enumerate() {
        let key_path = dir.path(&format!("key{k}"));
        write_key_file(&key_path, contents);
        let pool_key = PoolKey::from_key_file(contents).unwrap();
        for (i, pw) in PASSWORDS.iter().enumerate() {
            let user = format!("u{k}_{i}");
            run(Command::new(PG_ENC)
                .arg("-m")
                .arg("-k")
                .arg(&key_path)
                .arg("-f")
                .arg(dir.conf())
                .arg("-u")
                .arg(&user)
                .arg(pw));
            let stored = dir.secret_of(&user);
            assert!(stored.starts_with("AES"), "{stored}");
            // Decrypt what pg_enc wrote ...
            assert_eq!(pool_key.decrypt(&stored).unwrap(), *pw, "key file {k}");
            // ... and write the same bytes ourselves (the scheme has no salt).
            assert_eq!(stored, aes_secret(pw, &pool_key).unwrap());
            assert_eq!(secret_matches(&stored, &user, pw, Some(&pool_key)), Ok(true));
            assert_eq!(secret_matches(&stored, &user, "other", Some(&pool_key)), Ok(false));
        }
    }
}

#[test]
fn openssl_decrypts_our_aes() {
    // Pgpool-II decrypts with EVP_BytesToKey(aes-256-cbc, sha1, no salt) + EVP_Decrypt*; the
    // openssl CLI runs the same calls for `enc -d -aes-256-cbc -md sha1 -nosalt -k KEY`.
    for key in ["secretkey", "another key"] {
        let pool_key = PoolKey::new(key.as_bytes()).unwrap();
        for pw in PASSWORDS {
            let b64 = pool_key.encrypt(pw).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let input = dir.path().join("in.b64");
            std::fs::write(&input, format!("{b64}\n")).unwrap();
            let out = Command::new("openssl")
                .args(["enc", "-d", "-aes-256-cbc", "-md", "sha1", "-nosalt", "-base64", "-A"])
                .arg("-k")
                .arg(key)
                .arg("-in")
                .arg(&input)
                .output()
                .expect("run openssl");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(String::from_utf8(out.stdout).unwrap(), *pw);
        }
    }
}
