//! A throw-away PostgreSQL 15 cluster for oracle tests: initdb in a temporary directory, run as
//! `postgres` (the tests must run as root), listening on 127.0.0.1 and a socket in that
//! directory; stopped and removed on drop. A missing server fails the test.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct Cluster {
    root: tempfile::TempDir,
    port: u16,
    started: bool,
}

impl Cluster {
    /// initdb, install `hba` as pg_hba.conf, start with SSL on (a fresh self-signed
    /// certificate) so hostssl rules are valid.
    pub fn start(port: u16, hba: &str) -> Cluster {
        let root = tempfile::Builder::new().prefix("pgconf-oracle-").tempdir().expect("temp dir");
        chown_postgres(root.path());
        let mut cluster = Cluster {
            root,
            port,
            started: false,
        };
        let data = cluster.data();
        as_postgres(Command::new(format!("{BIN}/initdb")).arg("-D").arg(&data).args([
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "-A",
            "peer",
        ]));
        let crt = data.join("server.crt");
        let key = data.join("server.key");
        as_postgres(
            Command::new("openssl")
                .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"])
                .args(["-subj", "/CN=localhost", "-keyout"])
                .arg(&key)
                .arg("-out")
                .arg(&crt),
        );
        cluster.write_hba(hba);
        let out = run_as_postgres(
            Command::new(format!("{BIN}/pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(cluster.root.path().join("log"))
                .arg("-o")
                .arg(format!(
                    "-c listen_addresses=127.0.0.1 -p {port} -k {} -c ssl=on",
                    cluster.root.path().display()
                ))
                .args(["-w", "start"]),
        );
        if !out.status.success() {
            let log = std::fs::read_to_string(cluster.root.path().join("log")).unwrap_or_default();
            panic!("the server did not start:\n{log}");
        }
        cluster.started = true;
        cluster
    }

    pub fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Replaces pg_hba.conf (pg_hba_file_rules reads the file on every query).
    pub fn write_hba(&self, text: &str) {
        self.write_file("pg_hba.conf", text);
    }

    /// Writes a file in the data directory, owned by postgres.
    pub fn write_file(&self, name: &str, text: &str) {
        let path = self.data().join(name);
        std::fs::write(&path, text).expect("write file");
        chown_postgres(&path);
    }

    /// Runs SQL as the superuser over the Unix socket (peer); unaligned output, fields
    /// separated by `|`.
    pub fn sql(&self, sql: &str) -> String {
        let out = as_postgres(
            Command::new(format!("{BIN}/psql"))
                .arg("-h")
                .arg(self.root.path())
                .arg("-p")
                .arg(self.port.to_string())
                .args(["-U", "postgres", "-d", "postgres", "-XAtq", "-v", "ON_ERROR_STOP=1"])
                .arg("-c")
                .arg(sql),
        );
        String::from_utf8(out.stdout).expect("utf-8").trim_end().to_string()
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

pub fn chown_postgres(path: &Path) {
    let status = Command::new("chown")
        .arg("postgres:postgres")
        .arg(path)
        .status()
        .expect("run chown");
    assert!(status.success(), "chown postgres {path:?} (the test must run as root)");
}

/// Runs `cmd` as postgres (via runuser).
pub fn run_as_postgres(cmd: &mut Command) -> Output {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .current_dir("/")
        .output()
        .expect("run runuser")
}

/// Runs `cmd` as postgres (via runuser) and requires success.
pub fn as_postgres(cmd: &mut Command) -> Output {
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_owned()).collect();
    let out = run_as_postgres(cmd);
    assert!(
        out.status.success(),
        "{program:?} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
