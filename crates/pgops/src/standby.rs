//! `pg_basebackup_standby`: makes a data directory a streaming standby of a primary.
//!
//! What it finds decides what it does:
//!
//! | data directory | action |
//! |---|---|
//! | missing or empty | clone with `pg_basebackup`, write the standby settings, start, wait for streaming |
//! | a running primary's | refuse, whatever `force` says |
//! | a standby of this primary (host, port, user) with this slot | bring the settings in line, start it if stopped, wait for streaming; no change when all is well |
//! | anything else | with `force`: stop the server if running, empty it, clone as above; without: refuse |
//!
//! The real `pg_basebackup` runs as the data directory's owner (`-X stream`, and `-C -S slot`
//! so the slot is made with the backup, or `-S slot` when the slot exists). The module writes
//! `primary_conninfo` and `primary_slot_name` into `postgresql.auto.conf` itself (not `-R`), and
//! `standby.signal`. The server is started by `systemctl start <service>` when `service` is
//! given, otherwise by `pg_ctl start` as the owner. Streaming is checked over the server's own
//! Unix socket (from `postmaster.pid`) by peer authentication as the owner.

use ansible_module::file::write_atomic;
use ansible_module::{fail, Diff, Error, Module, Record, Response, Spec};
use pgclient::{col, Db, LoginParams, PgError};
use pgconf::postgresql::PostgresqlConf;
use pghost::datadir::{self, Cluster, Found};
use pghost::{bindir, conninfo, pidfile, Done, RunAs, Runner};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `checkpoint`: how the primary's backup checkpoint is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Checkpoint {
    /// At once (`-c fast`).
    #[default]
    Fast,
    /// Spread over `checkpoint_completion_target` (`-c spread`).
    Spread,
}

/// The parameters of `pg_basebackup_standby`.
#[derive(Debug, Clone, Deserialize)]
pub struct StandbyParams {
    /// The primary's host name or address.
    pub primary_host: String,
    /// The primary's port.
    #[serde(default = "default_port")]
    pub primary_port: u16,
    /// The role with REPLICATION that streams.
    #[serde(default = "default_user")]
    pub replication_user: String,
    /// Its password; otherwise the owner's `~/.pgpass`.
    pub replication_password: Option<String>,
    /// The standby's data directory.
    pub data_directory: PathBuf,
    /// Physical replication slot on the primary (created with the backup when missing).
    pub slot: Option<String>,
    /// systemd unit that runs this server; without it `pg_ctl` is used.
    pub service: Option<String>,
    /// `fast` or `spread`.
    #[serde(default)]
    pub checkpoint: Checkpoint,
    /// Bandwidth limit for the copy (`pg_basebackup -r`), e.g. `100M`.
    pub max_rate: Option<String>,
    /// Seconds to wait for the server to start and stream.
    #[serde(default = "default_timeout")]
    pub timeout: u64,
    /// Replace a non-empty data directory that is not already this standby.
    #[serde(default)]
    pub force: bool,
    /// Owner of a data directory that does not exist yet.
    #[serde(default = "default_owner")]
    pub owner: String,
    /// Directory of pg_basebackup and pg_ctl (default: found from the installed versions).
    pub pg_bindir: Option<PathBuf>,
    /// `application_name` in primary_conninfo (how the primary lists this standby).
    pub application_name: Option<String>,
    /// More settings for the standby's postgresql.auto.conf (e.g. a different `port`).
    #[serde(default)]
    pub settings: Map<String, Value>,
}

fn default_port() -> u16 {
    5432
}
fn default_user() -> String {
    "repl".to_string()
}
fn default_timeout() -> u64 {
    120
}
fn default_owner() -> String {
    "postgres".to_string()
}

impl Spec for StandbyParams {
    // The alias is listed too: secrets are collected before aliases are resolved.
    const NO_LOG: &'static [&'static str] = &["replication_password", "password"];
    const ALIASES: &'static [(&'static str, &'static str)] = &[("password", "replication_password"), ("pgdata", "data_directory")];
}

/// Whether a standby's primary_conninfo points at this primary as this user.
fn same_primary(text: &str, p: &StandbyParams) -> bool {
    conninfo::points_at(text, &p.primary_host, p.primary_port)
        && conninfo::parse(text).is_some_and(|pairs| conninfo::get(&pairs, "user") == Some(p.replication_user.as_str()))
}

/// Whether the rest of primary_conninfo (password, application_name) is as asked.
fn conninfo_details_match(conninfo: &str, p: &StandbyParams) -> bool {
    let Some(pairs) = conninfo::parse(conninfo) else {
        return false;
    };
    let pw_ok = match &p.replication_password {
        Some(pw) => conninfo::get(&pairs, "password") == Some(pw.as_str()),
        None => true,
    };
    let app_ok = match &p.application_name {
        Some(a) => conninfo::get(&pairs, "application_name") == Some(a.as_str()),
        None => true,
    };
    pw_ok && app_ok
}

fn wanted_conninfo(p: &StandbyParams) -> String {
    let port = p.primary_port.to_string();
    let mut pairs: Vec<(&str, &str)> = vec![("host", &p.primary_host), ("port", &port), ("user", &p.replication_user)];
    if let Some(pw) = &p.replication_password {
        pairs.push(("password", pw));
    }
    if let Some(a) = &p.application_name {
        pairs.push(("application_name", a));
    }
    conninfo::format(&pairs)
}

fn setting_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "on".into(),
        Value::Bool(false) => "off".into(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The edited postgresql.auto.conf: the text, and whether conninfo/slot or other settings changed.
struct Settings {
    text: String,
    conn_changed: bool,
    other_changed: bool,
}

fn edit_settings(current: &str, p: &StandbyParams, keep_conninfo: bool) -> Result<Settings, Error> {
    let mut conf = PostgresqlConf::parse(current);
    let mut conn_changed = false;
    if !keep_conninfo {
        conn_changed |= conf.set("primary_conninfo", &wanted_conninfo(p)).map_err(|e| fail!("{e}"))?.changed;
    }
    conn_changed |= match &p.slot {
        Some(s) => conf.set("primary_slot_name", s).map_err(|e| fail!("{e}"))?.changed,
        None => conf.remove("primary_slot_name").map_err(|e| fail!("{e}"))?.changed,
    };
    let mut other_changed = false;
    for (k, v) in &p.settings {
        if k.eq_ignore_ascii_case("primary_conninfo") || k.eq_ignore_ascii_case("primary_slot_name") {
            return Err(fail!("settings must not hold {k}: it is made from the module's own parameters"));
        }
        other_changed |= conf.set(k, &setting_text(v)).map_err(|e| fail!("settings.{k}: {e}"))?.changed;
    }
    Ok(Settings {
        text: conf.to_string(),
        conn_changed,
        other_changed,
    })
}

/// Finds pg_basebackup and pg_ctl: `pg_bindir`, the directory of the data directory's major
/// version, the newest installed version (Debian and PGDG layouts), then `PATH`.
fn pg_bindir(p: &StandbyParams, major: Option<&str>) -> Result<PathBuf, Error> {
    if let Some(b) = &p.pg_bindir {
        if !b.join("pg_basebackup").exists() {
            return Err(fail!("pg_bindir {} has no pg_basebackup", b.display()));
        }
        return Ok(b.clone());
    }
    bindir::find(major, &["pg_basebackup", "pg_ctl"])
        .ok_or_else(|| fail!("cannot find pg_basebackup and pg_ctl: install the PostgreSQL server package or set pg_bindir"))
}

/// Connects to the local server of `dir` over its socket as the owner.
fn probe(dir: &Path, owner: &RunAs) -> Result<Db, PgError> {
    let pf = pidfile::read(dir).ok_or_else(|| PgError::Other("the server has no postmaster.pid yet".into()))?;
    let sock = pf.socket_dir.unwrap_or_else(|| "/var/run/postgresql".to_string());
    let mut login = LoginParams::socket(sock, pf.port, owner.name.clone());
    login.connect_timeout = 5;
    let _guard = owner.effective().map_err(|e| PgError::Other(e.to_string()))?;
    Db::connect(&login)
}

/// The WAL receiver as the standby reports it.
fn receiver(db: &mut Db) -> Result<Option<Map<String, Value>>, PgError> {
    let rows = db.query(
        "SELECT status, sender_host, sender_port, slot_name, latest_end_lsn::text, pg_catalog.pg_last_wal_replay_lsn()::text, \
         pg_catalog.pg_wal_lsn_diff(greatest(latest_end_lsn, flushed_lsn), pg_catalog.pg_last_wal_replay_lsn())::int8 \
         FROM pg_catalog.pg_stat_wal_receiver",
        &[],
    )?;
    let Some(r) = rows.first() else {
        return Ok(None);
    };
    let mut m = Map::new();
    m.insert("status".into(), json!(col::<Option<String>>(r, 0)?));
    m.insert("sender_host".into(), json!(col::<Option<String>>(r, 1)?));
    m.insert("sender_port".into(), json!(col::<Option<i32>>(r, 2)?));
    m.insert("slot_name".into(), json!(col::<Option<String>>(r, 3)?));
    m.insert("latest_end_lsn".into(), json!(col::<Option<String>>(r, 4)?));
    m.insert("replayed_lsn".into(), json!(col::<Option<String>>(r, 5)?));
    m.insert("lag_bytes".into(), json!(col::<Option<i64>>(r, 6)?));
    Ok(Some(m))
}

/// Waits until the standby streams from its primary; returns the WAL receiver row.
fn wait_streaming(dir: &Path, owner: &RunAs, timeout: Duration) -> Result<Map<String, Value>, Error> {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match probe(dir, owner) {
            Ok(mut db) => match (db.in_recovery(), receiver(&mut db)) {
                (Ok(false), _) => return Err(fail!("{} is running as a primary, not a standby", dir.display())),
                (_, Ok(Some(r))) if r.get("status").and_then(Value::as_str) == Some("streaming") => return Ok(r),
                (_, Ok(Some(r))) => format!("the WAL receiver is {}", r.get("status").and_then(Value::as_str).unwrap_or("?")),
                (_, Ok(None)) => "no WAL receiver is running (is the primary reachable, and the password right?)".to_string(),
                (_, Err(e)) => e.to_string(),
            },
            Err(e) => e.to_string(),
        };
        if Instant::now() >= deadline {
            return Err(fail!(
                "the standby in {} is not streaming after {} s: {last}",
                dir.display(),
                timeout.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The steps and the record of the commands.
struct Ctx<'a> {
    p: &'a StandbyParams,
    dir: &'a Path,
    runner: Runner,
    actions: Vec<String>,
}

impl Ctx<'_> {
    fn fail_cmd(&self, what: &str, done: &Done) -> Error {
        let mut e = fail!("{what} failed (exit {}): {}", done.rc, done.stderr.trim()).with("rc", done.rc);
        e = e.with("stdout", done.stdout.trim()).with("stderr", done.stderr.trim());
        e.with("commands", &self.runner.commands)
    }

    fn stop(&mut self, owner: &RunAs, bin: &Path) -> Result<(), Error> {
        let done = match &self.p.service {
            Some(s) => self.runner.run(None, systemctl(), &["stop".into(), s.clone()], &[])?,
            None => self.runner.run(
                Some(owner),
                &bin.join("pg_ctl"),
                &[
                    "-D".into(),
                    self.dir.display().to_string(),
                    "-m".into(),
                    "fast".into(),
                    "-w".into(),
                    "-t".into(),
                    self.p.timeout.to_string(),
                    "stop".into(),
                ],
                &[],
            )?,
        };
        if !done.ok() {
            return Err(self.fail_cmd("stopping the server", &done));
        }
        Ok(())
    }

    fn start(&mut self, owner: &RunAs, bin: &Path) -> Result<(), Error> {
        let done = match &self.p.service {
            Some(s) => self.runner.run(None, systemctl(), &["start".into(), s.clone()], &[])?,
            None => {
                let log = self.dir.join("pg_ctl.log");
                self.runner.run(
                    Some(owner),
                    &bin.join("pg_ctl"),
                    &[
                        "-D".into(),
                        self.dir.display().to_string(),
                        "-l".into(),
                        log.display().to_string(),
                        "-w".into(),
                        "-t".into(),
                        self.p.timeout.to_string(),
                        "start".into(),
                    ],
                    &[],
                )?
            }
        };
        if !done.ok() {
            let log = fs::read_to_string(self.dir.join("pg_ctl.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(10).collect::<Vec<_>>().into_iter().rev().collect();
            return Err(self.fail_cmd("starting the server", &done).with("server_log", tail));
        }
        Ok(())
    }

    fn reload(&mut self, owner: &RunAs, bin: &Path) -> Result<(), Error> {
        let done = match &self.p.service {
            Some(s) => self.runner.run(None, systemctl(), &["reload".into(), s.clone()], &[])?,
            None => self.runner.run(
                Some(owner),
                &bin.join("pg_ctl"),
                &["-D".into(), self.dir.display().to_string(), "reload".into()],
                &[],
            )?,
        };
        if !done.ok() {
            return Err(self.fail_cmd("reloading the server", &done));
        }
        Ok(())
    }

    fn basebackup(&mut self, owner: &RunAs, bin: &Path) -> Result<(), Error> {
        let p = self.p;
        let mut args: Vec<String> = vec![
            "-D".into(),
            self.dir.display().to_string(),
            "-h".into(),
            p.primary_host.clone(),
            "-p".into(),
            p.primary_port.to_string(),
            "-U".into(),
            p.replication_user.clone(),
            "-X".into(),
            "stream".into(),
            "-c".into(),
            match p.checkpoint {
                Checkpoint::Fast => "fast".into(),
                Checkpoint::Spread => "spread".into(),
            },
            "-w".into(),
        ];
        if let Some(r) = &p.max_rate {
            args.push("-r".into());
            args.push(r.clone());
        }
        let mut env: Vec<(&str, &str)> = vec![("PGAPPNAME", "pgha_basebackup"), ("PGCONNECT_TIMEOUT", "30")];
        if let Some(pw) = &p.replication_password {
            env.push(("PGPASSWORD", pw));
        }
        let program = bin.join("pg_basebackup");
        let done = match &p.slot {
            Some(slot) => {
                let mut with_create = args.clone();
                with_create.extend(["-C".to_string(), "-S".to_string(), slot.clone()]);
                let first = self.runner.run(Some(owner), &program, &with_create, &env)?;
                if !first.ok() && first.stderr.contains("already exists") {
                    datadir::empty(self.dir)?;
                    let mut reuse = args.clone();
                    reuse.extend(["-S".to_string(), slot.clone()]);
                    self.runner.run(Some(owner), &program, &reuse, &env)?
                } else {
                    first
                }
            }
            None => self.runner.run(Some(owner), &program, &args, &env)?,
        };
        if !done.ok() {
            return Err(self.fail_cmd("pg_basebackup", &done));
        }
        Ok(())
    }
}

/// systemctl, wherever the distribution puts it.
fn systemctl() -> &'static Path {
    ["/usr/bin/systemctl", "/bin/systemctl"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())
        .unwrap_or(Path::new("/usr/bin/systemctl"))
}

fn check_params(p: &StandbyParams) -> Result<(), Error> {
    let d = &p.data_directory;
    if !d.is_absolute() || d.components().any(|c| matches!(c, std::path::Component::ParentDir)) || d.parent().is_none() {
        return Err(fail!(
            "data_directory must be an absolute path below / without '..', got {}",
            d.display()
        ));
    }
    if p.primary_host.trim().is_empty() {
        return Err(fail!("primary_host must not be empty"));
    }
    if let Some(s) = &p.slot {
        if s.is_empty() || s.len() > 63 || !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
            return Err(fail!(
                "slot {s:?} is not a valid replication slot name: use 1 to 63 lower-case letters, digits and underscores"
            ));
        }
    }
    if let Some(r) = &p.max_rate {
        if r.is_empty() || !r.trim_end_matches(['k', 'M']).bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail!(
                "max_rate must be a number of kB/s, optionally with k or M (e.g. 100M), got {r:?}"
            ));
        }
    }
    if p.timeout == 0 {
        return Err(fail!("timeout must be at least 1 second"));
    }
    Ok(())
}

/// Runs `pg_basebackup_standby`.
pub fn run(m: &mut Module, p: StandbyParams) -> Result<Response, Error> {
    check_params(&p)?;
    let dir = p.data_directory.clone();
    let found = datadir::inspect(&dir)?;
    let mut ctx = Ctx {
        p: &p,
        dir: &dir,
        runner: Runner::default(),
        actions: Vec::new(),
    };
    let primary = format!("{}:{}", p.primary_host, p.primary_port);
    let result = converge(m, &mut ctx, found, &primary)
        .record("actions", &ctx.actions)
        .record("commands", &ctx.runner.commands)?;
    Ok(result
        .with("data_directory", dir.display().to_string())
        .with("primary", &primary)
        .with("slot", &p.slot))
}

fn converge(m: &mut Module, ctx: &mut Ctx, found: Found, primary: &str) -> Result<Response, Error> {
    let p = ctx.p;
    let dir = ctx.dir;
    let timeout = Duration::from_secs(p.timeout);
    let clone_action = format!(
        "copy {primary} into {} with pg_basebackup{}",
        dir.display(),
        p.slot
            .as_ref()
            .map(|s| format!(" using slot {s} (created when missing)"))
            .unwrap_or_default()
    );
    let mut needs_clone = false;
    let mut stop_first = false;
    let owner = match &found {
        Found::Missing => RunAs::by_name(&p.owner)?,
        _ => RunAs::owner_of(dir)?,
    };
    let mut keep = None;
    match found {
        Found::Missing => {
            ctx.actions
                .push(format!("create {} owned by {} (mode 0700)", dir.display(), owner.name));
            needs_clone = true;
        }
        Found::Empty => needs_clone = true,
        Found::Other => {
            if !p.force {
                return Err(fail!(
                    "{} is not empty (it holds files that are not a PostgreSQL data directory); set force: true to replace its contents with a copy of the primary",
                    dir.display()
                ));
            }
            ctx.actions.push(format!("remove everything in {}", dir.display()));
            needs_clone = true;
        }
        Found::Cluster(c) => {
            let is_standby = c.is_standby();
            if c.running.is_some() && !is_standby {
                return Err(fail!(
                    "{} belongs to a running primary (no standby.signal); refusing to touch it, with or without force",
                    dir.display()
                ));
            }
            let ours = c.standby_signal && c.conninfo.as_deref().is_some_and(|ci| same_primary(ci, p)) && c.slot == p.slot;
            if ours {
                keep = Some(c);
            } else {
                if !p.force {
                    let what = if !is_standby {
                        "a stopped PostgreSQL server that is not a standby".to_string()
                    } else {
                        format!(
                            "a standby of {} with slot {}",
                            c.conninfo
                                .as_deref()
                                .map(conninfo::mask_password)
                                .unwrap_or_else(|| "no primary".into()),
                            c.slot.as_deref().unwrap_or("(none)")
                        )
                    };
                    return Err(fail!(
                        "{} holds {what}, not a standby of {primary} with slot {}; set force: true to replace it with a new copy",
                        dir.display(),
                        p.slot.as_deref().unwrap_or("(none)")
                    ));
                }
                if c.running.is_some() {
                    ctx.actions.push(format!("stop the server in {}", dir.display()));
                    stop_first = true;
                }
                ctx.actions.push(format!("remove everything in {}", dir.display()));
                needs_clone = true;
            }
        }
    }

    if let Some(c) = keep {
        return keep_standby(m, ctx, c, &owner, primary, timeout);
    }

    // A new copy.
    ctx.actions.push(clone_action);
    ctx.actions
        .push("write standby.signal, primary_conninfo and primary_slot_name".into());
    ctx.actions.push(match &p.service {
        Some(s) => format!("start {s} and wait until it streams"),
        None => "start the server with pg_ctl and wait until it streams".into(),
    });
    if m.check_mode {
        return Ok(Response::new(true).msg(format!(
            "would make {} a standby of {primary}: {}",
            dir.display(),
            ctx.actions.join("; ")
        )));
    }
    debug_assert!(needs_clone);
    let bin = pg_bindir(p, None)?;
    if stop_first {
        ctx.stop(&owner, &bin)?;
    }
    if dir.exists() {
        datadir::empty(dir)?;
    } else {
        datadir::create(dir, &owner)?;
    }
    datadir::fix_mode(dir)?;
    ctx.basebackup(&owner, &bin)?;
    let major = datadir::major_version(dir);
    let bin = pg_bindir(p, major.as_deref())?;
    let current = fs::read_to_string(dir.join("postgresql.auto.conf")).unwrap_or_default();
    let settings = edit_settings(&current, p, false)?;
    write_owned(&dir.join("postgresql.auto.conf"), &settings.text, &owner)?;
    write_owned(&dir.join("standby.signal"), "", &owner)?;
    let _ = fs::remove_file(dir.join("recovery.signal"));
    ctx.start(&owner, &bin)?;
    let wal = wait_streaming(dir, &owner, timeout)?;
    let mut resp = Response::new(true).msg(format!("{} is now a standby of {primary}, streaming", dir.display()));
    if m.diff {
        resp.diff(Diff {
            before: String::new(),
            after: format!("standby of {primary}\nslot: {}\n", p.slot.as_deref().unwrap_or("(none)")),
            before_header: Some(dir.display().to_string()),
            after_header: Some(dir.display().to_string()),
        });
    }
    Ok(with_receiver(resp, wal))
}

fn with_receiver(resp: Response, wal: Map<String, Value>) -> Response {
    let lag = wal.get("lag_bytes").cloned().unwrap_or(Value::Null);
    resp.with("streaming", true).with("lag_bytes", lag).with("wal_receiver", wal)
}

fn write_owned(path: &Path, text: &str, owner: &RunAs) -> Result<(), Error> {
    write_atomic(path, text.as_bytes(), 0o600, Some(owner.uid.as_raw()), Some(owner.gid.as_raw()))
        .map_err(|e| fail!("cannot write {}: {e}", path.display()))
}

/// A standby of the right primary: settings in line, running, streaming.
fn keep_standby(m: &mut Module, ctx: &mut Ctx, c: Cluster, owner: &RunAs, primary: &str, timeout: Duration) -> Result<Response, Error> {
    let p = ctx.p;
    let dir = ctx.dir;
    let keep_conninfo = c.conninfo.as_deref().is_some_and(|ci| conninfo_details_match(ci, p));
    let settings = edit_settings(&c.auto_conf, p, keep_conninfo)?;
    let rewrite = settings.text != c.auto_conf;
    let running = c.running.is_some();
    if rewrite {
        ctx.actions
            .push("update primary_conninfo, primary_slot_name and settings in postgresql.auto.conf".into());
        if running && settings.other_changed {
            ctx.actions.push("restart the server".into());
        } else if running && settings.conn_changed {
            ctx.actions.push("reload the server".into());
        }
    }
    if !running {
        ctx.actions.push("start the server and wait until it streams".into());
    }
    let changed = rewrite || !running;
    let mut diff = None;
    if m.diff && rewrite {
        diff = Some(Diff {
            before: conninfo::mask_password(&c.auto_conf),
            after: conninfo::mask_password(&settings.text),
            before_header: Some(dir.join("postgresql.auto.conf").display().to_string()),
            after_header: Some(dir.join("postgresql.auto.conf").display().to_string()),
        });
    }
    if m.check_mode {
        let msg = if changed {
            format!("{} is a standby of {primary}; would {}", dir.display(), ctx.actions.join("; "))
        } else {
            format!("{} is a standby of {primary}", dir.display())
        };
        let mut resp = Response::new(changed).msg(msg);
        if let Some(d) = diff {
            resp.diff(d);
        }
        if running {
            if let Ok(Some(wal)) = probe(dir, owner).and_then(|mut db| receiver(&mut db)) {
                resp = resp.with("wal_receiver", wal);
            }
        }
        return Ok(resp);
    }
    let major = datadir::major_version(dir);
    if rewrite {
        write_owned(&dir.join("postgresql.auto.conf"), &settings.text, owner)?;
    }
    if !running {
        datadir::fix_mode(dir)?;
    }
    if running && rewrite {
        let bin = pg_bindir(p, major.as_deref())?;
        if settings.other_changed {
            ctx.stop(owner, &bin)?;
            ctx.start(owner, &bin)?;
        } else {
            ctx.reload(owner, &bin)?;
        }
    } else if !running {
        let bin = pg_bindir(p, major.as_deref())?;
        ctx.start(owner, &bin)?;
    }
    let wal = wait_streaming(dir, owner, timeout)?;
    let msg = if changed {
        format!(
            "{} is a standby of {primary}, streaming ({})",
            dir.display(),
            ctx.actions.join("; ")
        )
    } else {
        format!("{} is already a standby of {primary}, streaming", dir.display())
    };
    let mut resp = Response::new(changed).msg(msg);
    if let Some(d) = diff {
        resp.diff(d);
    }
    Ok(with_receiver(resp, wal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ansible_module::Params;

    fn params(v: Value) -> StandbyParams {
        <StandbyParams as Params>::parse(&v).unwrap()
    }

    #[test]
    fn conninfo_is_matched_by_host_port_user() {
        let p = params(json!({"primary_host": "10.0.0.181", "data_directory": "/d", "replication_user": "repl"}));
        assert!(same_primary("user=repl host=10.0.0.181 port=5432 sslmode=prefer", &p));
        assert!(same_primary("host='10.0.0.181' user='repl'", &p));
        assert!(!same_primary("host=10.0.0.182 user=repl", &p));
        assert!(!same_primary("host=10.0.0.181 user=other", &p));
        assert!(!same_primary("host=10.0.0.181 port=5433 user=repl", &p));
    }

    #[test]
    fn settings_are_written_once() {
        let p = params(
            json!({"primary_host": "h", "data_directory": "/d", "slot": "s1", "password": "pw 'x'",
                              "settings": {"port": 5433, "hot_standby": true}}),
        );
        let first = edit_settings("# Do not edit this file manually!\n", &p, false).unwrap();
        assert!(first.conn_changed && first.other_changed);
        let conf = PostgresqlConf::parse(&first.text);
        assert_eq!(conf.get("primary_slot_name").as_deref(), Some("s1"));
        let ci = conf.get("primary_conninfo").unwrap();
        assert!(same_primary(&ci, &p) && conninfo_details_match(&ci, &p), "{ci}");
        assert_eq!(conf.get("port").as_deref(), Some("5433"));
        let again = edit_settings(&first.text, &p, true).unwrap();
        assert_eq!(again.text, first.text);
        assert!(!again.conn_changed && !again.other_changed);
    }

    #[test]
    fn bad_params_are_refused() {
        for bad in [
            json!({"primary_host": "h", "data_directory": "relative"}),
            json!({"primary_host": "h", "data_directory": "/"}),
            json!({"primary_host": "h", "data_directory": "/a/../b"}),
            json!({"primary_host": "h", "data_directory": "/d", "slot": "Bad-Slot"}),
            json!({"primary_host": "h", "data_directory": "/d", "max_rate": "fast"}),
        ] {
            assert!(check_params(&params(bad.clone())).is_err(), "{bad}");
        }
    }
}
