//! `repmgr_standby_clone`: makes this node's data directory a copy of an upstream with
//! `repmgr standby clone`, which also writes `standby.signal` and `primary_conninfo`.
//!
//! The data directory is repmgr.conf's `data_directory` (repmgr 5.3 ignores `-D` when it has a
//! configuration file).
//!
//! | data directory | action |
//! |---|---|
//! | missing or empty | clone (a missing one is created first, owned by `os_user`, mode 0700) |
//! | a running primary's | refuse, whatever `force` says |
//! | a standby of this upstream (`standby.signal`, `primary_conninfo` host and port) | nothing |
//! | a running server of anything else | refuse: stop it first |
//! | anything else, stopped | with `force`: `standby clone --force`; without: refuse |
//!
//! The server is not started (the role starts its service, then registers the standby).

use crate::register::{default_port, default_repmgr};
use crate::{Common, Node};
use ansible_module::{fail, Diff, Error, Module, Record, Response, Spec};
use pghost::conninfo::points_at;
use pghost::datadir::{self, Found};
use serde::Deserialize;

/// The parameters of `repmgr_standby_clone` (besides [`Common`]).
#[derive(Debug, Clone, Deserialize)]
pub struct CloneParams {
    /// The node to copy: host.
    pub upstream_host: String,
    /// Its port.
    #[serde(default = "default_port")]
    pub upstream_port: u16,
    /// The user repmgr connects as (also the replication user unless repmgr.conf says).
    #[serde(default = "default_repmgr")]
    pub upstream_user: String,
    /// The repmgr database there.
    #[serde(default = "default_repmgr")]
    pub upstream_dbname: String,
    /// Password of `upstream_user` (else the OS user's `~/.pgpass`); passed as `PGPASSWORD`.
    pub upstream_password: Option<String>,
    /// The upstream's node_id (`--upstream-node-id`), for cascading; default the primary.
    pub upstream_node_id: Option<i32>,
    /// Overwrite a stopped data directory that is not already a standby of this upstream.
    #[serde(default)]
    pub force: bool,
    /// Ask the upstream for an immediate checkpoint (`--fast-checkpoint`).
    #[serde(default = "yes")]
    pub fast_checkpoint: bool,
}

fn yes() -> bool {
    true
}

impl Spec for CloneParams {
    const NO_LOG: &'static [&'static str] = &["upstream_password"];
}

/// Runs `repmgr_standby_clone`.
pub fn run(m: &mut Module, (c, p): (Common, CloneParams)) -> Result<Response, Error> {
    if p.upstream_host.trim().is_empty() {
        return Err(fail!("upstream_host must not be empty"));
    }
    let mut node = Node::open(&c)?;
    if let Some(pw) = &p.upstream_password {
        node.secret(pw);
    }
    let mut actions = Vec::new();
    converge(m, &mut node, &p, &mut actions)
        .record("actions", actions)
        .record("commands", &node.runner.commands)
}

fn converge(m: &mut Module, node: &mut Node, p: &CloneParams, actions: &mut Vec<String>) -> Result<Response, Error> {
    // repmgr 5.3 ignores -D when it has a configuration file: repmgr.conf's data_directory
    // is the one place the directory comes from.
    let dir = node.data_directory()?;
    if !dir.is_absolute() || dir.parent().is_none() {
        return Err(fail!("the data directory must be an absolute path below /, got {}", dir.display()));
    }
    let upstream = format!("{}:{}", p.upstream_host, p.upstream_port);
    let shown = dir.display().to_string();
    let base = |r: Response| r.with("data_directory", &shown).with("upstream", &upstream);
    let found = datadir::inspect(&dir)?;
    let mut force = false;
    match &found {
        Found::Missing => actions.push(format!("create {shown} owned by {} (mode 0700)", node.user.name)),
        Found::Empty => {}
        Found::Other => {
            if !p.force {
                return Err(fail!(
                    "{shown} is not empty and holds no PostgreSQL data directory; set force: true to replace its contents with a copy of {upstream}"
                ));
            }
            force = true;
        }
        Found::Cluster(c) => {
            let (running, standby, conninfo) = (c.running.as_ref().map(|r| r.pid), c.is_standby(), &c.conninfo);
            let ours = standby
                && conninfo
                    .as_deref()
                    .is_some_and(|ci| points_at(ci, &p.upstream_host, p.upstream_port));
            if running.is_some() && !standby {
                return Err(fail!(
                    "{shown} is the data directory of a running primary (PID {}, no standby.signal); refusing to clone over it, with or without force",
                    running.unwrap_or_default()
                ));
            }
            if ours {
                let state = if running.is_some() { "running" } else { "stopped" };
                return Ok(
                    base(Response::new(false).msg(format!("{shown} is already a standby of {upstream} ({state})")))
                        .with("primary_conninfo", conninfo.as_deref().map(|c| node.show_conninfo(c))),
                );
            }
            let what = match (standby, conninfo) {
                (true, Some(ci)) => format!("a standby of {}", node.show_conninfo(ci)),
                (true, None) => "a standby without primary_conninfo".to_string(),
                (false, _) => "a stopped server that is not a standby".to_string(),
            };
            if let Some(pid) = running {
                return Err(fail!(
                    "{shown} holds {what}, running (PID {pid}); stop it before cloning {upstream} over it"
                ));
            }
            if !p.force {
                return Err(fail!(
                    "{shown} holds {what}, not a standby of {upstream}; set force: true to overwrite it with a new copy"
                ));
            }
            force = true;
        }
    }
    if force {
        actions.push(format!("overwrite {shown} (--force)"));
    }
    actions.push(format!("copy {upstream} into {shown} with repmgr standby clone"));

    let mut args = vec![
        "-h".to_string(),
        p.upstream_host.clone(),
        "-p".to_string(),
        p.upstream_port.to_string(),
        "-U".to_string(),
        p.upstream_user.clone(),
        "-d".to_string(),
        p.upstream_dbname.clone(),
        "standby".to_string(),
        "clone".to_string(),
    ];
    if p.fast_checkpoint {
        args.push("--fast-checkpoint".into());
    }
    if let Some(u) = p.upstream_node_id {
        args.push(format!("--upstream-node-id={u}"));
    }
    if force {
        args.push("--force".into());
    }
    let env: Vec<(&str, &str)> = p
        .upstream_password
        .as_deref()
        .map(|pw| vec![("PGPASSWORD", pw)])
        .unwrap_or_default();

    if m.check_mode {
        let mut dry = args.clone();
        dry.push("--dry-run".into());
        let ran = node.repmgr(&dry, &env)?;
        if !ran.ok() {
            return Err(node.failure("repmgr standby clone --dry-run", &ran).with("dry_run", &ran.log));
        }
        return Ok(
            base(Response::new(true).msg(format!("would make {shown} a standby of {upstream}: {}", actions.join("; "))))
                .with("dry_run", &ran.log),
        );
    }
    if found == Found::Missing {
        datadir::create(&dir, &node.user)?;
    }
    let ran = node.repmgr(&args, &env)?;
    if !ran.ok() {
        return Err(node.failure("repmgr standby clone", &ran).with("log", &ran.log));
    }
    let ci = match datadir::inspect(&dir)? {
        Found::Cluster(c) if c.is_standby() => c.conninfo,
        _ => None,
    };
    if !ci.as_deref().is_some_and(|c| points_at(c, &p.upstream_host, p.upstream_port)) {
        m.warn(format!(
            "repmgr standby clone succeeded, but {shown} has no standby.signal with a primary_conninfo pointing at {upstream}; the next run will not see it as this upstream's standby"
        ));
    }
    let mut resp = Response::new(true).msg(format!("{shown} is now a copy of {upstream}, ready to start as a standby"));
    if m.diff {
        resp.diff(Diff {
            before: String::new(),
            after: format!("standby of {upstream}\n"),
            before_header: Some(shown.clone()),
            after_header: Some(shown.clone()),
        });
    }
    Ok(base(resp)
        .with("primary_conninfo", ci.as_deref().map(|c| node.show_conninfo(c)))
        .with("log", &ran.log))
}
