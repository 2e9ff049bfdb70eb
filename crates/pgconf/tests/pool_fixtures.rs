//! Pgpool-II's own files: the pcp.conf sample shipped with 4.3 and a pool_passwd written by
//! `pg_md5 -m` and `pg_enc -m` (key file `fixtures/pool/pgpoolkey`).

use pgauth::pgpool::{secret_matches, PoolKey};
use pgconf::pcp::PcpConf;
use pgconf::pgpass::Change;
use pgconf::pool_passwd::{PoolPasswd, SecretKind};

const PCP_SAMPLE: &str = include_str!("fixtures/pool/pcp.conf.sample");
const POOL_PASSWD: &str = include_str!("fixtures/pool/pool_passwd");
const POOL_KEY: &[u8] = include_bytes!("fixtures/pool/pgpoolkey");

#[test]
fn pcp_sample_round_trips_and_takes_an_entry() {
    let mut f = PcpConf::parse(PCP_SAMPLE);
    assert_eq!(f.to_string(), PCP_SAMPLE);
    assert_eq!(f.entries().count(), 0);
    assert!(f.issues().is_empty());
    let hash = pgauth::md5::pcp_hash("pcp password");
    assert_eq!(f.upsert("pcpadmin", &hash), Ok(Change::Added { line: 29 }));
    assert_eq!(f.upsert("pcpadmin", &hash), Ok(Change::Unchanged));
    let after = f.to_string();
    assert_eq!(after, format!("{PCP_SAMPLE}pcpadmin:{hash}\n"));
    assert_eq!(f.get("pcpadmin").map(|e| e.is_md5()), Some(true));
}

#[test]
fn pool_passwd_from_pgpool_tools() {
    let f = PoolPasswd::parse(POOL_PASSWD);
    assert_eq!(f.to_string(), POOL_PASSWD);
    assert!(f.issues().is_empty());
    let key = PoolKey::from_key_file(POOL_KEY).unwrap();
    // pg_md5 -m -u postgres ChangeMe; pg_md5 -m -u pgpool 'pgpool pw'; pg_enc -m -u repl 'Repl:pw'.
    for (user, password, kind) in [
        ("postgres", "ChangeMe", SecretKind::Md5),
        ("pgpool", "pgpool pw", SecretKind::Md5),
        ("repl", "Repl:pw", SecretKind::Aes),
    ] {
        let entry = f.get(user).unwrap();
        assert_eq!(entry.kind(), kind, "{user}");
        assert_eq!(secret_matches(&entry.secret, user, password, Some(&key)), Ok(true), "{user}");
        assert_eq!(secret_matches(&entry.secret, user, "wrong", Some(&key)), Ok(false));
    }
}

#[test]
fn pool_passwd_edits_are_idempotent() {
    let mut f = PoolPasswd::parse(POOL_PASSWD);
    let key = PoolKey::from_key_file(POOL_KEY).unwrap();
    // Same password, already stored: a module decides "unchanged" by decrypting.
    let stored = f.get("repl").unwrap().secret.clone();
    assert_eq!(secret_matches(&stored, "repl", "Repl:pw", Some(&key)), Ok(true));
    // A new password replaces the line in place; the others stay byte for byte.
    let secret = pgauth::pgpool::aes_secret("new pw", &key).unwrap();
    assert_eq!(f.upsert("repl", &secret), Ok(Change::Updated { line: 3 }));
    let after = f.to_string();
    let before_lines: Vec<&str> = POOL_PASSWD.lines().collect();
    let after_lines: Vec<&str> = after.lines().collect();
    assert_eq!(after_lines.len(), before_lines.len());
    for (i, (a, b)) in after_lines.iter().zip(&before_lines).enumerate() {
        if i == 2 {
            assert_eq!(*a, format!("repl:{secret}"));
        } else {
            assert_eq!(a, b);
        }
    }
    assert_eq!(f.upsert("repl", &secret), Ok(Change::Unchanged));
    assert_eq!(f.remove("pgpool"), Change::Removed { lines: vec![2] });
    assert!(!f.to_string().contains("pgpool:"));
}
