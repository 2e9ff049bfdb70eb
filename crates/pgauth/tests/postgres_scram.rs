//! Oracle test: a real PostgreSQL 15 server accepts the SCRAM verifiers this crate computes,
//! and this crate verifies the ones the server computes itself (which checks SASLprep).
//!
//! Needs root (to run the server as `postgres` with `runuser`) and the PostgreSQL 15 server
//! binaries; without them the test fails rather than being skipped.

use std::process::Command;

use pgauth::scram::ScramVerifier;
use pgtest::Cluster;

fn start() -> Cluster {
    Cluster::build("pgauth-scram-")
        .hba("local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n")
        .start()
}

/// Tries a password login over TCP (SCRAM); true if the server let `user` in.
fn login(cluster: &Cluster, user: &str, password: &str) -> bool {
    let out = Command::new(cluster.program("psql"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &cluster.port().to_string(),
            "-d",
            "postgres",
            "-XAtq",
            "-w",
        ])
        .arg("-U")
        .arg(user)
        .args(["-c", "select 1"])
        .env("PGPASSWORD", password)
        .env("PGCLIENTENCODING", "UTF8")
        .env("PGPASSFILE", "/nonexistent")
        .output()
        .expect("run psql");
    out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "1"
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[test]
fn postgres_accepts_our_verifiers_and_we_verify_its_own() {
    let cluster = start();
    let passwords = [
        "ChangeMe",
        "with space and 'quote'",
        "col:on$dollar\\back",
        "pässwörd",            // non-ASCII, already NFKC
        "\u{2168}",            // ROMAN NUMERAL NINE: SASLprep maps it to "IX"
        "I\u{00AD}X\u{00A0}y", // soft hyphen (mapped to nothing), no-break space (to space)
    ];
    for (i, pw) in passwords.iter().enumerate() {
        // Ours, stored verbatim by the server: it must let the user in with the password.
        let ours = format!("ours{i}");
        let verifier = ScramVerifier::generate(pw).unwrap().to_string();
        cluster.sql(&format!("CREATE ROLE {ours} LOGIN PASSWORD {}", quote_literal(&verifier)));
        let stored = cluster.sql(&format!("SELECT rolpassword FROM pg_authid WHERE rolname = '{ours}'"));
        assert_eq!(stored, verifier, "the server keeps a verifier as it is");
        assert!(login(&cluster, &ours, pw), "login with {pw:?} must succeed");
        assert!(!login(&cluster, &ours, "wrong"), "a wrong password must fail");

        // The server's own, from the clear-text password: ours must verify it.
        let theirs = format!("theirs{i}");
        cluster.sql(&format!(
            "SET password_encryption = 'scram-sha-256'; CREATE ROLE {theirs} LOGIN PASSWORD {}",
            quote_literal(pw)
        ));
        let stored = cluster.sql(&format!("SELECT rolpassword FROM pg_authid WHERE rolname = '{theirs}'"));
        let parsed = ScramVerifier::parse(&stored).expect("server verifier parses");
        assert_eq!(parsed.to_string(), stored);
        assert_eq!(parsed.iterations(), 4096);
        assert!(parsed.verifies(pw), "we verify the server's verifier of {pw:?}");
        assert!(!parsed.verifies("wrong"));
        // Recomputing with the server's salt gives the server's exact text.
        assert_eq!(ScramVerifier::with_salt(pw, parsed.salt(), parsed.iterations()).to_string(), stored);
    }
    // "IX" and U+2168 are the same password after SASLprep.
    assert!(login(&cluster, "ours4", "IX"));
}
