//! What the pgha repmgr modules do: `repmgr_register`, `repmgr_standby_clone`,
//! `repmgr_switchover`, `repmgr_rejoin` and `repmgr_info`.
//!
//! The modules run the real `repmgr` 5.3 binary as the PostgreSQL OS user (`os_user`, the
//! module switching to it when it runs as root, with [`pghost::command`]) with
//! `-f <config_file>`, and decide whether anything needs doing from the state repmgr itself
//! keeps: the `repmgr.nodes` table, read over the wire protocol with [`pgclient`] from the
//! `conninfo` in repmgr.conf (no libpq), and the data directory. So a second run with the same
//! parameters changes nothing, and check mode runs repmgr's own `--dry-run` where repmgr has one
//! and returns its findings as structured lines ([`output::parse_log`]).
//!
//! A failed repmgr command becomes a failure whose message names repmgr's exit code
//! ([`exit`]) and the errors it printed, with the whole output in `log`. Passwords never appear:
//! password parameters reach repmgr only in `PGPASSWORD`, and a password inside a conninfo is
//! masked wherever it would be shown.
#![deny(missing_docs)]

pub mod exit;
pub mod output;

pub mod clone;
pub mod info;
pub mod nodes;
pub mod register;
pub mod rejoin;
pub mod switchover;

use ansible_module::{fail, Error, Spec};
use output::{parse_log, problems, LogLine};
use pgclient::{Db, LoginParams, SslMode};
use pgconf::pgpass::{PassFile, PassFormat};
use pgconf::repmgr::RepmgrConf;
use pghost::{bindir, conninfo, Done, RunAs, Runner};
use serde::Deserialize;
use std::fs;
use std::path::{Path, PathBuf};

/// The parameters every repmgr module takes: who runs repmgr, with which configuration, and
/// which binary.
#[derive(Debug, Clone, Deserialize)]
pub struct Common {
    /// The OS user that runs repmgr (the owner of the data directory).
    #[serde(default = "default_os_user")]
    pub os_user: String,
    /// repmgr.conf of this node.
    #[serde(default = "default_config_file")]
    pub config_file: PathBuf,
    /// The repmgr program; found when not given.
    pub repmgr_bin: Option<PathBuf>,
}

fn default_os_user() -> String {
    "postgres".to_string()
}

fn default_config_file() -> PathBuf {
    PathBuf::from("/etc/repmgr.conf")
}

impl Spec for Common {}

/// What this node's repmgr.conf says about it.
#[derive(Debug, Clone)]
pub struct NodeConf {
    /// `node_id`.
    pub node_id: i32,
    /// `node_name`.
    pub node_name: String,
    /// `conninfo`: how other nodes (and these modules) reach this node's server.
    pub conninfo: String,
    /// `data_directory`.
    pub data_directory: Option<PathBuf>,
    /// `pg_bindir`.
    pub pg_bindir: Option<PathBuf>,
    /// `location` (repmgr's default `default`).
    pub location: String,
    /// `priority` (repmgr's default 100).
    pub priority: i32,
    /// `service_start_command`: how repmgr starts the server (else `pg_ctl start`).
    pub service_start_command: Option<String>,
    /// `pg_ctl_options`: options repmgr gives `pg_ctl`.
    pub pg_ctl_options: Option<String>,
}

impl NodeConf {
    /// Reads the keys the modules need from repmgr.conf text; `path` is for messages.
    pub fn parse(text: &str, path: &Path) -> Result<NodeConf, Error> {
        let conf = RepmgrConf::parse(text);
        let shown = path.display();
        let node_id = conf
            .get("node_id")
            .ok_or_else(|| fail!("{shown} has no node_id"))?
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| fail!("node_id in {shown} must be a whole number above 0"))?;
        let node_name = conf
            .get("node_name")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| fail!("{shown} has no node_name"))?;
        let conninfo = conf
            .get("conninfo")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| fail!("{shown} has no conninfo"))?;
        let priority = match conf.get("priority") {
            Some(p) => p
                .trim()
                .parse::<i32>()
                .map_err(|_| fail!("priority in {shown} must be a whole number, got {p:?}"))?,
            None => 100,
        };
        Ok(NodeConf {
            node_id,
            node_name,
            conninfo,
            data_directory: conf.get("data_directory").filter(|s| !s.is_empty()).map(PathBuf::from),
            pg_bindir: conf.get("pg_bindir").filter(|s| !s.is_empty()).map(PathBuf::from),
            location: conf.get("location").filter(|s| !s.is_empty()).unwrap_or_else(|| "default".into()),
            priority,
            service_start_command: conf.get("service_start_command").filter(|s| !s.trim().is_empty()),
            pg_ctl_options: conf.get("pg_ctl_options").filter(|s| !s.trim().is_empty()),
        })
    }
}

/// Finds repmgr: `/usr/bin/repmgr` (Debian's wrapper), then the newest
/// `/usr/lib/postgresql/<v>/bin/repmgr` or `/usr/pgsql-<v>/bin/repmgr`, then `PATH`'s usual
/// directories.
pub fn find_repmgr(given: Option<&Path>) -> Result<PathBuf, Error> {
    if let Some(b) = given {
        if !b.is_file() {
            return Err(fail!("repmgr_bin {} does not exist", b.display()));
        }
        return Ok(b.to_path_buf());
    }
    for c in ["/usr/bin/repmgr", "/usr/local/bin/repmgr"] {
        if Path::new(c).is_file() {
            return Ok(PathBuf::from(c));
        }
    }
    if let Some((_, dir)) = bindir::installed(&["repmgr"]).pop() {
        return Ok(dir.join("repmgr"));
    }
    Err(fail!(
        "cannot find the repmgr program in /usr/bin, /usr/lib/postgresql/*/bin or /usr/pgsql-*/bin: install repmgr (Debian: postgresql-15-repmgr) or set repmgr_bin"
    ))
}

/// libpq connection parameters as the [`LoginParams`] of pgclient. `default_user` is libpq's
/// default (the OS user). Fails on what pgclient cannot do (URIs, several hosts).
pub fn login_from_conninfo(text: &str, default_user: &str) -> Result<LoginParams, Error> {
    let pairs = conninfo::parse(text).ok_or_else(|| {
        fail!(
            "cannot read the conninfo {:?}: these modules read key=value connection strings, not URIs",
            conninfo::mask_password(text)
        )
    })?;
    let get = |k: &str| conninfo::get(&pairs, k).filter(|v| !v.is_empty());
    let host = get("hostaddr").or_else(|| get("host"));
    if host.is_some_and(|h| h.contains(',')) {
        return Err(fail!(
            "the conninfo {:?} lists several hosts; give each node's conninfo one host",
            conninfo::mask_password(text)
        ));
    }
    let login_port = match get("port") {
        Some(p) => p
            .parse()
            .map_err(|_| fail!("port {p:?} in conninfo {:?} is not a port number", conninfo::mask_password(text)))?,
        None => LoginParams::default().login_port,
    };
    let login_user = get("user").unwrap_or(default_user).to_string();
    let login = LoginParams {
        login_host: host.map(str::to_string),
        login_port,
        login_db: Some(get("dbname").unwrap_or(&login_user).to_string()),
        login_user,
        login_password: get("password").map(str::to_string),
        connect_timeout: get("connect_timeout")
            .and_then(|t| t.parse::<u64>().ok())
            .map(|t| t.max(2))
            .unwrap_or(LoginParams::default().connect_timeout),
        ssl_mode: match get("sslmode") {
            None => SslMode::default(),
            Some(m) => SslMode::from_libpq(m).ok_or_else(|| {
                fail!(
                    "sslmode {m:?} in conninfo {:?} is not one of disable, allow, prefer, require, verify-ca, verify-full",
                    conninfo::mask_password(text)
                )
            })?,
        },
        ca_cert: get("sslrootcert").map(str::to_string),
        ssl_cert: get("sslcert").map(str::to_string),
        ssl_key: get("sslkey").map(str::to_string),
    };
    Ok(login)
}

/// The password from the conninfo's `passfile` (libpq's `passfile` parameter), looked up as
/// libpq does; `None` without one, or when the file has no matching line.
fn passfile_password(text: &str, login: &LoginParams) -> Option<String> {
    let pairs = conninfo::parse(text)?;
    let path = conninfo::get(&pairs, "passfile").filter(|p| !p.is_empty())?;
    let content = fs::read_to_string(path).ok()?;
    let file = PassFile::parse(&content, PassFormat::PgPass);
    let target = login.target();
    file.lookup(
        &target.pgpass_host(),
        &target.port().to_string(),
        login.database(),
        &login.login_user,
    )
}

/// The result of one repmgr command.
#[derive(Debug)]
pub struct Ran {
    /// Exit code.
    pub rc: i32,
    /// Standard output (secrets masked).
    pub stdout: String,
    /// Standard error (secrets masked).
    pub stderr: String,
    /// repmgr's messages, from stderr then stdout.
    pub log: Vec<LogLine>,
}

impl Ran {
    /// Whether it exited 0.
    pub fn ok(&self) -> bool {
        self.rc == 0
    }
}

/// A node's repmgr: the user, the binary, the configuration, and the record of commands.
#[derive(Debug)]
pub struct Node {
    /// Who runs repmgr.
    pub user: RunAs,
    /// The repmgr program.
    pub bin: PathBuf,
    /// repmgr.conf.
    pub config_file: PathBuf,
    /// What repmgr.conf says.
    pub conf: NodeConf,
    /// The commands run.
    pub runner: Runner,
    /// Values never to show (passwords found in conninfo strings, password parameters).
    secrets: Vec<String>,
}

impl Node {
    /// Reads repmgr.conf and finds the user and the program.
    pub fn open(c: &Common) -> Result<Node, Error> {
        let user = RunAs::by_name(&c.os_user)?;
        let text = fs::read_to_string(&c.config_file).map_err(|e| {
            fail!(
                "cannot read the repmgr configuration {}: {e} (write it first, e.g. with pgha.cluster.repmgr_config)",
                c.config_file.display()
            )
        })?;
        let conf = NodeConf::parse(&text, &c.config_file)?;
        let mut secrets = Vec::new();
        if let Some(p) = conninfo::parse(&conf.conninfo).and_then(|p| conninfo::get(&p, "password").map(str::to_string)) {
            if !p.is_empty() {
                secrets.push(p);
            }
        }
        Ok(Node {
            user,
            bin: find_repmgr(c.repmgr_bin.as_deref())?,
            config_file: c.config_file.clone(),
            conf,
            runner: Runner::default(),
            secrets,
        })
    }

    /// Adds a value that must never be shown.
    pub fn secret(&mut self, s: &str) {
        if !s.is_empty() {
            self.secrets.push(s.to_string());
        }
    }

    /// Masks every secret in `text`.
    pub fn mask(&self, text: &str) -> String {
        let mut t = text.to_string();
        for s in &self.secrets {
            if t.contains(s.as_str()) {
                t = t.replace(s.as_str(), "********");
            }
        }
        t
    }

    /// A conninfo for showing: password masked.
    pub fn show_conninfo(&self, text: &str) -> String {
        self.mask(&conninfo::mask_password(text))
    }

    /// Runs `repmgr -f <config_file> <args>` as the OS user; `env` values are not recorded.
    pub fn repmgr(&mut self, args: &[String], env: &[(&str, &str)]) -> Result<Ran, Error> {
        let mut all = vec!["-f".to_string(), self.config_file.display().to_string()];
        all.extend(args.iter().cloned());
        let done: Done = self.runner.run(Some(&self.user), &self.bin, &all, env)?;
        let stdout = self.mask(&done.stdout);
        let stderr = self.mask(&done.stderr);
        let log = parse_log(&format!("{stderr}\n{stdout}"));
        Ok(Ran {
            rc: done.rc,
            stdout,
            stderr,
            log,
        })
    }

    /// Runs another program (pg_controldata, pg_ctl) as the OS user.
    pub fn program(&mut self, program: &Path, args: &[String]) -> Result<Done, Error> {
        Ok(self.runner.run(Some(&self.user), program, args, &[])?)
    }

    /// The failure of a repmgr command: the message names the exit code and what repmgr said
    /// went wrong; `rc`, `log`, `stdout`, `stderr` and `commands` come along.
    pub fn failure(&self, what: &str, ran: &Ran) -> Error {
        let found = problems(&ran.log);
        let said = if found.is_empty() {
            ran.log
                .iter()
                .rev()
                .find(|l| l.level != "HINT" && l.level != "DETAIL")
                .map(|l| l.text.clone())
                .unwrap_or_else(|| "no message".to_string())
        } else {
            found.join("; ")
        };
        fail!("{what} failed, {}: {said}", exit::describe(ran.rc))
            .with("rc", ran.rc)
            .with("log", &ran.log)
            .with("stdout", ran.stdout.trim_end())
            .with("stderr", ran.stderr.trim_end())
            .with("commands", &self.runner.commands)
    }

    /// Connects to a server with a conninfo, as the OS user (its `.pgpass`, peer login on a
    /// socket).
    pub fn connect(&self, conninfo_text: &str) -> Result<Db, Error> {
        let mut login = login_from_conninfo(conninfo_text, &self.user.name)?;
        let _as = self.user.effective()?;
        if login.login_password.is_none() {
            login.login_password = passfile_password(conninfo_text, &login);
        }
        Db::connect(&login).map_err(|e| fail!("{}", self.mask(&e.to_string())))
    }

    /// Connects to this node's own server (repmgr.conf's conninfo).
    pub fn connect_local(&self) -> Result<Db, Error> {
        self.connect(&self.conf.conninfo).map_err(|e| {
            fail!(
                "cannot reach this node's PostgreSQL with the conninfo of {} ({}): {}",
                self.config_file.display(),
                self.show_conninfo(&self.conf.conninfo),
                e.msg
            )
        })
    }

    /// repmgr.conf's `data_directory` (repmgr 5.3 ignores `-D` when it has a configuration file).
    pub fn data_directory(&self) -> Result<PathBuf, Error> {
        self.conf.data_directory.clone().ok_or_else(|| {
            fail!(
                "{} has no data_directory; set it there (repmgr 5 needs it)",
                self.config_file.display()
            )
        })
    }

    /// The PostgreSQL programs' directory: repmgr.conf's `pg_bindir`, else the directory of
    /// the data directory's major version, else the newest installed.
    pub fn pg_bindir(&self, data_directory: Option<&Path>) -> Result<PathBuf, Error> {
        if let Some(b) = &self.conf.pg_bindir {
            return Ok(b.clone());
        }
        let major = data_directory.and_then(pghost::datadir::major_version);
        bindir::find(major.as_deref(), &["pg_ctl"])
            .ok_or_else(|| fail!("cannot find the PostgreSQL programs (pg_ctl, pg_controldata): set pg_bindir in repmgr.conf"))
    }
}

/// A conninfo built from parts, quoted as libpq reads it.
pub fn make_conninfo(host: &str, port: u16, user: &str, dbname: &str) -> String {
    let port = port.to_string();
    conninfo::format(&[("host", host), ("port", &port), ("user", user), ("dbname", dbname)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repmgr_conf_gives_the_node() {
        let c = NodeConf::parse(
            "node_id=2\nnode_name='n2'\nconninfo='host=10.0.0.182 user=repmgr dbname=repmgr connect_timeout=2'\ndata_directory='/d'\npriority=50\n",
            Path::new("/etc/repmgr.conf"),
        )
        .unwrap();
        assert_eq!((c.node_id, c.node_name.as_str(), c.priority), (2, "n2", 50));
        assert_eq!(c.location, "default");
        assert_eq!(c.data_directory.as_deref(), Some(Path::new("/d")));
        for bad in [
            "node_name='x'\nconninfo='host=h'",
            "node_id=0\nnode_name='x'\nconninfo='h'",
            "node_id=1\nconninfo='host=h'",
        ] {
            assert!(NodeConf::parse(bad, Path::new("/r")).is_err(), "{bad}");
        }
    }

    #[test]
    fn conninfo_becomes_login_params() {
        let l = login_from_conninfo("host=10.0.0.181 port=5433 user=repmgr dbname=repmgr connect_timeout=1", "postgres").unwrap();
        assert_eq!(l.target().to_string(), "10.0.0.181:5433");
        assert_eq!((l.login_user.as_str(), l.database(), l.connect_timeout), ("repmgr", "repmgr", 2));
        let l = login_from_conninfo("dbname=repmgr", "postgres").unwrap();
        assert_eq!(l.target().to_string(), "/var/run/postgresql/.s.PGSQL.5432");
        assert_eq!(l.login_user, "postgres");
        assert!(login_from_conninfo("postgresql://u:pw@h/db", "postgres")
            .unwrap_err()
            .msg
            .contains("URI"));
        let e = login_from_conninfo("host=a,b user=u password=secret", "p").unwrap_err();
        assert!(!e.msg.contains("secret"), "{}", e.msg);
        let l = login_from_conninfo(
            "host=db1 sslmode=verify-full sslrootcert=/etc/pki/ca.pem sslcert=/c.crt sslkey=/c.key",
            "p",
        )
        .unwrap();
        assert_eq!(l.ssl_mode, SslMode::VerifyFull);
        assert_eq!(
            (l.ca_cert.as_deref(), l.ssl_cert.as_deref(), l.ssl_key.as_deref()),
            (Some("/etc/pki/ca.pem"), Some("/c.crt"), Some("/c.key"))
        );
        assert_eq!(
            login_from_conninfo("host=db1 sslmode=verify-ca", "p").unwrap().ssl_mode,
            SslMode::VerifyCa
        );
        assert_eq!(login_from_conninfo("host=db1", "p").unwrap().ssl_mode, SslMode::Prefer);
        let e = login_from_conninfo("host=db1 sslmode=on password=secret", "p").unwrap_err();
        assert!(e.msg.contains("sslmode \"on\"") && !e.msg.contains("secret"), "{}", e.msg);
        assert_eq!(
            make_conninfo("h", 5432, "repmgr", "repmgr"),
            "host='h' port='5432' user='repmgr' dbname='repmgr'"
        );
    }
}
