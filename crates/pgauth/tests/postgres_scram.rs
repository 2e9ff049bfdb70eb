//! Oracle test: a real PostgreSQL 15 server accepts the SCRAM verifiers this crate computes,
//! and this crate verifies the ones the server computes itself (which checks SASLprep).
//!
//! Needs root (to run the server as `postgres` with `runuser`) and the PostgreSQL 15 server
//! binaries; without them the test fails rather than being skipped.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pgauth::scram::ScramVerifier;

const BIN: &str = "/usr/lib/postgresql/15/bin";
const PORT: &str = "55441";

/// A temporary cluster, stopped and removed on drop.
struct Cluster {
    root: tempfile::TempDir,
    started: bool,
}

impl Cluster {
    fn start() -> Self {
        let root = tempfile::Builder::new().prefix("pgauth-scram-").tempdir().expect("temp dir");
        chown_postgres(root.path());
        let mut cluster = Cluster { root, started: false };
        let data = cluster.data();
        as_postgres(Command::new(format!("{BIN}/initdb")).arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "-A",
            "trust",
        ]));
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n",
        )
        .expect("write pg_hba.conf");
        as_postgres(
            Command::new(format!("{BIN}/pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(cluster.root.path().join("log"))
                .arg("-o")
                .arg(format!(
                    "-c listen_addresses=127.0.0.1 -p {PORT} -k {}",
                    cluster.root.path().display()
                ))
                .args(["-w", "start"]),
        );
        cluster.started = true;
        cluster
    }

    fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// Runs SQL as the superuser over the Unix socket; returns unaligned output.
    fn sql(&self, sql: &str) -> String {
        let out = as_postgres(
            Command::new(format!("{BIN}/psql"))
                .arg("-h")
                .arg(self.root.path())
                .args(["-p", PORT, "-U", "postgres", "-d", "postgres", "-XAtq", "-v"])
                .arg("ON_ERROR_STOP=1")
                .arg("-c")
                .arg(sql),
        );
        String::from_utf8(out.stdout).expect("utf-8").trim_end().to_string()
    }

    /// Tries a password login over TCP (SCRAM); true if the server let `user` in.
    fn login(&self, user: &str, password: &str) -> bool {
        let out = Command::new(format!("{BIN}/psql"))
            .args(["-h", "127.0.0.1", "-p", PORT, "-d", "postgres", "-XAtq", "-w"])
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
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.started {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(format!("{BIN}/pg_ctl"))
                .arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "stop"])
                .output();
        }
    }
}

fn chown_postgres(path: &Path) {
    let status = Command::new("chown")
        .arg("postgres:postgres")
        .arg(path)
        .status()
        .expect("run chown");
    assert!(status.success(), "chown postgres {path:?} (the test must run as root)");
}

fn as_postgres(cmd: &mut Command) -> Output {
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(&program)
        .args(&args)
        .current_dir("/")
        .output()
        .expect("run runuser");
    assert!(
        out.status.success(),
        "{program:?} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[test]
fn postgres_accepts_our_verifiers_and_we_verify_its_own() {
    let cluster = Cluster::start();
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
        assert!(cluster.login(&ours, pw), "login with {pw:?} must succeed");
        assert!(!cluster.login(&ours, "wrong"), "a wrong password must fail");

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
    assert!(cluster.login("ours4", "IX"));
}
