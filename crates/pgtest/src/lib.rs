//! Throwaway PostgreSQL servers for the oracle tests of the other crates (a dev-dependency
//! only; never in a module binary).
//!
//! A [`Cluster`] is `initdb` in a temporary directory, run as `postgres` (so the tests run as
//! root, as `make test` does), listening on 127.0.0.1 and on a Unix socket in that directory,
//! on a free port: the port the kernel hands out for port 0, and another one should a parallel
//! test take it before the server binds it. It is stopped (`-m immediate`) and removed on drop.
//! A missing PostgreSQL server package or a non-root run fails the test with a message that says
//! so: an oracle test that cannot ask its oracle has not passed.
#![deny(missing_docs)]

pub mod pki;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The PostgreSQL major version the oracle tests are written against.
pub const MAJOR: &str = "15";

/// The directory of `initdb`, `pg_ctl` and `psql` of PostgreSQL [`MAJOR`] (else the newest
/// installed). Panics when there is none.
pub fn bindir() -> PathBuf {
    pghost::bindir::find(Some(MAJOR), &["initdb", "pg_ctl", "psql"])
        .unwrap_or_else(|| panic!("no PostgreSQL server programs (initdb, pg_ctl, psql): install postgresql-{MAJOR} (make setup)"))
}

/// A loopback TCP port free right now (the kernel's pick for port 0, released at once).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Gives `path` to postgres (the tests run as root).
pub fn chown_postgres(path: &Path) {
    let status = Command::new("chown")
        .arg("postgres:postgres")
        .arg(path)
        .status()
        .expect("run chown");
    assert!(status.success(), "chown postgres {path:?} (the test must run as root)");
}

/// Runs `cmd` as postgres (via runuser), from `/`.
pub fn run_as_postgres(cmd: &mut Command) -> Output {
    assert!(is_root(), "this test runs PostgreSQL as the postgres user and must run as root");
    let mut runuser = Command::new("runuser");
    runuser
        .args(["-u", "postgres", "--"])
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .current_dir("/");
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => runuser.env(k, v),
            None => runuser.env_remove(k),
        };
    }
    runuser.output().expect("run runuser")
}

/// Runs `cmd` as postgres and requires success.
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

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// How to make a cluster: `Cluster::build("prefix-").initdb(&[...]).hba("...").start()`.
#[derive(Debug, Clone)]
pub struct Builder {
    prefix: String,
    initdb: Vec<String>,
    hba: Option<String>,
    ssl: bool,
    settings: Vec<(String, String)>,
    conf: Vec<String>,
}

impl Builder {
    /// Arguments for initdb after `-D <data> -U postgres -E UTF8 --locale=C.UTF-8` (default
    /// `-A trust`).
    pub fn initdb(mut self, args: &[&str]) -> Builder {
        self.initdb = args.iter().map(|a| a.to_string()).collect();
        self
    }

    /// pg_hba.conf to install before the start.
    pub fn hba(mut self, text: &str) -> Builder {
        self.hba = Some(text.to_string());
        self
    }

    /// Starts with `ssl = on` and a fresh self-signed certificate (so `hostssl` rules are valid).
    pub fn ssl(mut self) -> Builder {
        self.ssl = true;
        self
    }

    /// A setting given on the server's command line (`-c name=value`).
    pub fn setting(mut self, name: &str, value: &str) -> Builder {
        self.settings.push((name.to_string(), value.to_string()));
        self
    }

    /// A line appended to postgresql.conf after initdb (unlike [`Builder::setting`], a reload
    /// reads it again, and `ALTER SYSTEM` overrides it).
    pub fn conf(mut self, line: &str) -> Builder {
        self.conf.push(line.to_string());
        self
    }

    /// initdb, then start on a free port.
    pub fn start(self) -> Cluster {
        let mut c = self.init();
        c.start();
        c
    }

    /// initdb only: change files with [`Cluster::write_file`], then [`Cluster::start`].
    pub fn init(self) -> Cluster {
        let root = tempfile::Builder::new().prefix(&self.prefix).tempdir().expect("temp dir");
        chown_postgres(root.path());
        let c = Cluster {
            bin: bindir(),
            root,
            port: 0,
            started: false,
            settings: self.settings,
        };
        let data = c.data();
        let mut initdb = Command::new(c.bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
        if self.initdb.is_empty() {
            initdb.args(["-A", "trust"]);
        } else {
            initdb.args(&self.initdb);
        }
        as_postgres(&mut initdb);
        let mut c = c;
        if self.ssl {
            as_postgres(
                Command::new("openssl")
                    .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"])
                    .args(["-subj", "/CN=localhost", "-keyout"])
                    .arg(data.join("server.key"))
                    .arg("-out")
                    .arg(data.join("server.crt")),
            );
            c.settings.push(("ssl".into(), "on".into()));
        }
        if let Some(hba) = &self.hba {
            c.write_hba(hba);
        }
        if !self.conf.is_empty() {
            let path = data.join("postgresql.conf");
            let mut text = std::fs::read_to_string(&path).expect("read postgresql.conf");
            for line in &self.conf {
                text.push_str(line);
                text.push('\n');
            }
            std::fs::write(&path, text).expect("write postgresql.conf");
        }
        c
    }
}

/// A throwaway PostgreSQL server.
#[derive(Debug)]
pub struct Cluster {
    root: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    started: bool,
    settings: Vec<(String, String)>,
}

impl Cluster {
    /// A cluster whose temporary directory's name starts with `prefix`.
    pub fn build(prefix: &str) -> Builder {
        Builder {
            prefix: prefix.to_string(),
            initdb: Vec::new(),
            hba: None,
            ssl: false,
            settings: Vec::new(),
            conf: Vec::new(),
        }
    }

    /// Starts the server on a free port; tries another port when the one picked was taken
    /// before the server bound it.
    pub fn start(&mut self) {
        let data = self.data();
        let log = self.root.path().join("log");
        for _ in 0..5 {
            let port = free_port();
            let mut opts = format!("-c listen_addresses=127.0.0.1 -p {port} -k {}", self.root.path().display());
            for (k, v) in &self.settings {
                opts.push_str(&format!(" -c {k}={v}"));
            }
            let out = run_as_postgres(
                Command::new(self.bin.join("pg_ctl"))
                    .arg("-D")
                    .arg(&data)
                    .arg("-l")
                    .arg(&log)
                    .arg("-o")
                    .arg(opts)
                    .args(["-w", "start"]),
            );
            if out.status.success() {
                self.port = port;
                self.started = true;
                return;
            }
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if !text.contains("could not bind") && !text.contains("already in use") {
                panic!("the server did not start:\n{text}{}", String::from_utf8_lossy(&out.stderr));
            }
        }
        panic!("the server found no free port in 5 tries");
    }

    /// Starts the server with only the settings of its files (which must set `port`, and
    /// `listen_addresses` and `unix_socket_directories` as the test needs); `port` is theirs.
    pub fn start_as_configured(&mut self, port: u16) {
        let log = self.root.path().join("log");
        let out = run_as_postgres(
            Command::new(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "60", "start"]),
        );
        assert!(
            out.status.success(),
            "the server did not start: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        self.port = port;
        self.started = true;
    }

    /// Stops the server (fast), keeping the data directory.
    pub fn stop(&mut self) {
        if self.started {
            as_postgres(
                Command::new(self.bin.join("pg_ctl"))
                    .arg("-D")
                    .arg(self.data())
                    .args(["-m", "fast", "-w", "stop"]),
            );
            self.started = false;
        }
    }

    /// The data directory.
    pub fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// The temporary directory (the Unix socket's directory too).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The port it listens on (0 before the start).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A PostgreSQL program of this server's version.
    pub fn program(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// Replaces pg_hba.conf (read again on reload; `pg_hba_file_rules` reads it on every query).
    pub fn write_hba(&self, text: &str) {
        self.write_file("pg_hba.conf", text);
    }

    /// Writes a file in the data directory, owned by postgres.
    pub fn write_file(&self, name: &str, text: &str) {
        let path = self.data().join(name);
        std::fs::write(&path, text).expect("write file");
        chown_postgres(&path);
    }

    /// Copies a file into the data directory as `name`, owned by postgres with `mode` (0600 for
    /// a server key, which PostgreSQL requires).
    pub fn install_file(&self, name: &str, from: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.data().join(name);
        std::fs::copy(from, &path).unwrap_or_else(|e| panic!("copy {from:?} to {path:?}: {e}"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        chown_postgres(&path);
    }

    /// Reloads the configuration (pg_ctl reload) and waits until new sessions see it.
    pub fn reload(&self) {
        let before = self.sql("SELECT pg_catalog.pg_conf_load_time()");
        as_postgres(Command::new(self.program("pg_ctl")).arg("-D").arg(self.data()).arg("reload"));
        for _ in 0..200 {
            if self.sql("SELECT pg_catalog.pg_conf_load_time()") != before {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the server did not reload its configuration within 10 s");
    }

    /// Runs SQL as the superuser over the Unix socket; unaligned output, fields separated by
    /// `|`, trailing newlines removed (spaces kept). Fails the test on an SQL error.
    pub fn sql(&self, sql: &str) -> String {
        let out = as_postgres(
            Command::new(self.program("psql"))
                .arg("-h")
                .arg(self.root())
                .arg("-p")
                .arg(self.port.to_string())
                .args(["-U", "postgres", "-d", "postgres", "-XAtq", "-v", "ON_ERROR_STOP=1"])
                .arg("-c")
                .arg(sql),
        );
        String::from_utf8(out.stdout).expect("utf-8").trim_end_matches('\n').to_string()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.started {
            let _ =
                run_as_postgres(
                    Command::new(self.bin.join("pg_ctl"))
                        .arg("-D")
                        .arg(self.data())
                        .args(["-m", "immediate", "-w", "stop"]),
                );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_servers_get_two_ports_and_answer() {
        let a = Cluster::build("pgtest-a-").start();
        let b = Cluster::build("pgtest-b-").ssl().setting("work_mem", "8MB").start();
        assert_ne!(a.port(), b.port());
        assert_eq!(a.sql("SELECT 1, 'x'"), "1|x");
        assert_eq!(b.sql("SHOW ssl"), "on");
        assert_eq!(b.sql("SHOW work_mem"), "8MB");
        assert_eq!(a.sql("SHOW port"), a.port().to_string());
    }
}
