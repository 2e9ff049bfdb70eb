//! `repmgr_rejoin`: brings a stopped former primary back as a standby of the current primary
//! with `repmgr node rejoin -d '<primary conninfo>'`, which starts the server.
//!
//! Nothing runs when this node's server already runs as a standby of that primary (its WAL
//! receiver, or else its `primary_conninfo`, points at `primary_host:primary_port`). A server
//! that runs otherwise is refused: `node rejoin` needs it stopped. With `force_rewind`,
//! `pg_controldata` must show `wal_log_hints = on` or data checksums first, since pg_rewind
//! needs one of them; otherwise the module fails before repmgr runs.

use crate::nodes;
use crate::output::RewindReadiness;
use crate::register::{default_port, default_repmgr};
use crate::{make_conninfo, Common, Node};
use ansible_module::{fail, Error, Module, Record, Response, Spec};
use pghost::conninfo::points_at;
use pghost::datadir::{self, Found};
use pghost::pidfile::running_pid;
use serde::Deserialize;

/// The parameters of `repmgr_rejoin` (besides [`Common`]).
#[derive(Debug, Clone, Deserialize)]
pub struct RejoinParams {
    /// The current primary: host.
    pub primary_host: String,
    /// Its port.
    #[serde(default = "default_port")]
    pub primary_port: u16,
    /// The user repmgr connects as.
    #[serde(default = "default_repmgr")]
    pub primary_user: String,
    /// The repmgr database.
    #[serde(default = "default_repmgr")]
    pub primary_dbname: String,
    /// Password of `primary_user` (else the OS user's `~/.pgpass`); passed as `PGPASSWORD`.
    pub primary_password: Option<String>,
    /// Run pg_rewind when the node's timeline has diverged (`--force-rewind`).
    #[serde(default)]
    pub force_rewind: bool,
    /// Configuration files inside the data directory to keep across pg_rewind
    /// (`--config-files`).
    #[serde(default)]
    pub config_files: Vec<String>,
}

impl Spec for RejoinParams {
    const NO_LOG: &'static [&'static str] = &["primary_password"];
}

/// Runs `repmgr_rejoin`.
pub fn run(m: &mut Module, (c, p): (Common, RejoinParams)) -> Result<Response, Error> {
    if p.primary_host.trim().is_empty() {
        return Err(fail!("primary_host must not be empty"));
    }
    if let Some(bad) = p.config_files.iter().find(|f| f.is_empty() || f.contains(',')) {
        return Err(fail!("config_files entries must be file names without commas, got {bad:?}"));
    }
    let mut node = Node::open(&c)?;
    if let Some(pw) = &p.primary_password {
        node.secret(pw);
    }
    let mut actions = Vec::new();
    converge(m, &mut node, &p, &mut actions)
        .record("actions", actions)
        .record("commands", &node.runner.commands)
}

fn converge(m: &mut Module, node: &mut Node, p: &RejoinParams, actions: &mut Vec<String>) -> Result<Response, Error> {
    let id = node.conf.node_id;
    let name = node.conf.node_name.clone();
    let dir = node.data_directory()?;
    let primary = format!("{}:{}", p.primary_host, p.primary_port);
    let base = |r: Response| r.with("node_id", id).with("node_name", &name).with("primary", &primary);

    if let Some(pid) = running_pid(&dir) {
        let mut db = node.connect_local()?;
        let (in_recovery, sender) = nodes::recovery_state(&mut db).map_err(|e| fail!("{e}"))?;
        if !in_recovery {
            return Err(fail!(
                "node {id} ({name}) runs as a primary (PID {pid}); repmgr node rejoin needs its server stopped: stop it first (if {primary} is the primary too, there are two now)"
            ));
        }
        let streams_from = sender.as_ref().map(|(h, port)| h == &p.primary_host && *port == p.primary_port);
        let configured = match datadir::inspect(&dir) {
            Ok(Found::Cluster(c)) => c.conninfo,
            _ => None,
        };
        let ours = streams_from.unwrap_or(false)
            || (sender.is_none() && configured.as_deref().is_some_and(|c| points_at(c, &p.primary_host, p.primary_port)));
        if ours {
            return Ok(
                base(Response::new(false).msg(format!("node {id} ({name}) already runs as a standby of {primary}")))
                    .with("streaming", sender.is_some()),
            );
        }
        let from = sender
            .map(|(h, port)| format!("{h}:{port}"))
            .or_else(|| configured.map(|c| node.show_conninfo(&c)))
            .unwrap_or_else(|| "no upstream".into());
        return Err(fail!(
            "node {id} ({name}) runs as a standby of {from}, not of {primary}; node rejoin needs the server stopped (for a running standby use repmgr standby follow)"
        ));
    }

    if node.conf.service_start_command.is_none() && !node.conf.pg_ctl_options.as_deref().is_some_and(|o| o.contains("-l")) {
        return Err(fail!(
            "{} sets neither service_start_command nor pg_ctl_options with -l <logfile>: the server repmgr starts would hold repmgr's output open and the rejoin would never return; set one of them",
            node.config_file.display()
        ));
    }

    let mut resp = Response::new(true);
    if p.force_rewind {
        let bin = node.pg_bindir(Some(&dir))?;
        let done = node.program(&bin.join("pg_controldata"), &["-D".to_string(), dir.display().to_string()])?;
        if !done.ok() {
            return Err(fail!(
                "pg_controldata -D {} failed (exit {}): {}",
                dir.display(),
                done.rc,
                done.stderr.trim()
            ));
        }
        let ready = RewindReadiness::from_controldata(&done.stdout);
        if !ready.possible() {
            return Err(fail!(
                "force_rewind needs pg_rewind, and pg_rewind needs wal_log_hints = on or data checksums; pg_controldata shows neither for {} (set wal_log_hints = on and restart the primaries, or rebuild this node with repmgr_standby_clone)",
                dir.display()
            )
            .with("rewind", &ready));
        }
        resp = resp.with("rewind", &ready);
    }

    let conninfo = make_conninfo(&p.primary_host, p.primary_port, &p.primary_user, &p.primary_dbname);
    let mut args = vec!["node".to_string(), "rejoin".to_string(), "-d".to_string(), conninfo];
    if p.force_rewind {
        args.push("--force-rewind".into());
        actions.push("rewind the data directory with pg_rewind if its timeline diverged".to_string());
    }
    if !p.config_files.is_empty() {
        args.push(format!("--config-files={}", p.config_files.join(",")));
    }
    actions.push(format!("rejoin node {id} ({name}) as a standby of {primary} and start it"));
    let env: Vec<(&str, &str)> = p.primary_password.as_deref().map(|pw| vec![("PGPASSWORD", pw)]).unwrap_or_default();

    if m.check_mode {
        let mut dry = args.clone();
        dry.push("--dry-run".into());
        let ran = node.repmgr(&dry, &env)?;
        if !ran.ok() {
            return Err(node.failure("repmgr node rejoin --dry-run", &ran).with("dry_run", &ran.log));
        }
        return Ok(base(resp.msg(format!("would {}", actions.join("; ")))).with("dry_run", &ran.log));
    }
    let ran = node.repmgr(&args, &env)?;
    if !ran.ok() {
        return Err(node.failure("repmgr node rejoin", &ran));
    }
    let check = node
        .connect_local()
        .and_then(|mut db| nodes::recovery_state(&mut db).map_err(|e| fail!("{e}")));
    let streaming = match check {
        Ok((true, sender)) => sender.is_some(),
        Ok((false, _)) => {
            m.warn(format!("repmgr node rejoin succeeded, but node {id} ({name}) is not in recovery"));
            false
        }
        Err(e) => {
            m.warn(format!("cannot check node {id} after the rejoin: {}", e.msg));
            false
        }
    };
    Ok(base(resp.msg(format!("node {id} ({name}) rejoined as a standby of {primary}")))
        .with("streaming", streaming)
        .with("log", &ran.log))
}
