//! `repmgr_register`: this node's record in `repmgr.nodes`, through `repmgr primary|standby|
//! witness register` and `... unregister`.
//!
//! The record is read where repmgr writes it: on the primary (a standby reads its own copy
//! first, then the primary named there; a witness reads the primary given by `primary_host`).
//! It matches when its type, upstream, `active`, name, conninfo, priority and location are
//! those asked for and in repmgr.conf; then nothing runs. A record that differs is replaced
//! only with `force` (`register --force`), as repmgr itself insists.

use crate::nodes::{self, NodeRecord};
use crate::{make_conninfo, Common, Node};
use ansible_module::{fail, Diff, Error, Module, Record, Response, Spec, State};
use serde::Deserialize;

/// `role`: what kind of node to register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// `repmgr primary register`.
    Primary,
    /// `repmgr standby register`.
    Standby,
    /// `repmgr witness register`.
    Witness,
}

impl Role {
    fn name(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Standby => "standby",
            Role::Witness => "witness",
        }
    }
}

/// The parameters of `repmgr_register` (besides [`Common`]).
#[derive(Debug, Clone, Deserialize)]
pub struct RegisterParams {
    /// `primary`, `standby` or `witness`.
    pub role: Role,
    /// `present` registers, `absent` unregisters.
    #[serde(default)]
    pub state: State,
    /// A standby's upstream node (default: the primary).
    pub upstream_node_id: Option<i32>,
    /// Replace a record that differs (`register --force`).
    #[serde(default)]
    pub force: bool,
    /// Seconds a standby registration waits for its record to reach this standby
    /// (`--wait-sync`); 0 does not wait.
    #[serde(default = "default_wait_sync")]
    pub wait_sync: u64,
    /// A witness's primary: host.
    pub primary_host: Option<String>,
    /// A witness's primary: port.
    #[serde(default = "default_port")]
    pub primary_port: u16,
    /// A witness's primary: user.
    #[serde(default = "default_repmgr")]
    pub primary_user: String,
    /// A witness's primary: database.
    #[serde(default = "default_repmgr")]
    pub primary_dbname: String,
}

fn default_wait_sync() -> u64 {
    30
}
pub(crate) fn default_port() -> u16 {
    5432
}
pub(crate) fn default_repmgr() -> String {
    "repmgr".to_string()
}

impl Spec for RegisterParams {}

/// The record as wanted: what differs from `current`, as `field: have -> want` lines.
pub fn differences(current: &NodeRecord, role: Role, upstream: Option<i32>, node: &crate::NodeConf) -> Vec<String> {
    let mut out = Vec::new();
    let show = |v: Option<i32>| v.map(|n| n.to_string()).unwrap_or_else(|| "none".into());
    if current.node_type != role.name() {
        out.push(format!("type: {} -> {}", current.node_type, role.name()));
    }
    if current.upstream_node_id != upstream {
        out.push(format!(
            "upstream_node_id: {} -> {}",
            show(current.upstream_node_id),
            show(upstream)
        ));
    }
    if !current.active {
        out.push("active: false -> true".into());
    }
    if current.node_name != node.node_name {
        out.push(format!("node_name: {} -> {}", current.node_name, node.node_name));
    }
    if current.conninfo != node.conninfo {
        out.push("conninfo: differs from repmgr.conf".into());
    }
    if current.priority != node.priority {
        out.push(format!("priority: {} -> {}", current.priority, node.priority));
    }
    if current.location != node.location {
        out.push(format!("location: {} -> {}", current.location, node.location));
    }
    out
}

fn record_text(r: Option<&NodeRecord>, node: &Node) -> String {
    match r {
        None => String::new(),
        Some(r) => format!(
            "node_id: {}\nnode_name: {}\ntype: {}\nupstream_node_id: {}\nactive: {}\npriority: {}\nlocation: {}\nconninfo: {}\n",
            r.node_id,
            r.node_name,
            r.node_type,
            r.upstream_node_id.map(|n| n.to_string()).unwrap_or_else(|| "none".into()),
            r.active,
            r.priority,
            r.location,
            node.show_conninfo(&r.conninfo)
        ),
    }
}

fn shown_record(r: Option<&NodeRecord>, node: &Node) -> Option<NodeRecord> {
    r.map(|r| NodeRecord {
        conninfo: node.show_conninfo(&r.conninfo),
        ..r.clone()
    })
}

/// Reads every record from the authoritative place; returns them (None: repmgr not installed
/// there) and where they came from.
fn read_view(m: &mut Module, node: &Node, p: &RegisterParams, in_recovery: bool) -> Result<(Option<Vec<NodeRecord>>, String), Error> {
    if p.role == Role::Witness {
        let host = p.primary_host.as_deref().unwrap_or_default();
        let ci = make_conninfo(host, p.primary_port, &p.primary_user, &p.primary_dbname);
        let mut db = node
            .connect(&ci)
            .map_err(|e| fail!("cannot reach the primary {host}:{} to read repmgr.nodes: {}", p.primary_port, e.msg))?;
        let all = nodes::read_all(&mut db).map_err(|e| fail!("cannot read repmgr.nodes on the primary: {e}"))?;
        return Ok((all, format!("the primary {host}:{}", p.primary_port)));
    }
    let mut local = node.connect_local()?;
    let all = nodes::read_all(&mut local).map_err(|e| fail!("cannot read repmgr.nodes on this node: {e}"))?;
    if !in_recovery {
        return Ok((all, "this node".into()));
    }
    let Some(primary) = all.as_deref().and_then(nodes::primary).cloned() else {
        return Ok((all, "this node".into()));
    };
    match node
        .connect(&primary.conninfo)
        .and_then(|mut db| nodes::read_all(&mut db).map_err(|e| fail!("{e}")))
    {
        Ok(from_primary) => Ok((from_primary, format!("the primary (node {})", primary.node_id))),
        Err(e) => {
            m.warn(format!(
                "cannot read repmgr.nodes on the primary (node {}): {}; using this standby's copy",
                primary.node_id, e.msg
            ));
            Ok((all, "this node".into()))
        }
    }
}

/// Runs `repmgr_register`.
pub fn run(m: &mut Module, (c, p): (Common, RegisterParams)) -> Result<Response, Error> {
    if p.upstream_node_id.is_some() && p.role != Role::Standby {
        return Err(fail!("upstream_node_id applies to role=standby only"));
    }
    if p.role == Role::Witness && p.primary_host.as_deref().is_none_or(str::is_empty) {
        return Err(fail!("role=witness needs primary_host (the primary the witness registers with)"));
    }
    let mut node = Node::open(&c)?;
    converge(m, &mut node, &p).record("commands", &node.runner.commands)
}

fn converge(m: &mut Module, node: &mut Node, p: &RegisterParams) -> Result<Response, Error> {
    let id = node.conf.node_id;
    let name = node.conf.node_name.clone();
    let in_recovery = {
        let mut local = node.connect_local()?;
        local.in_recovery().map_err(|e| fail!("{e}"))?
    };
    if p.state == State::Present {
        match (p.role, in_recovery) {
            (Role::Primary, true) => {
                return Err(fail!(
                    "this node's server ({}) is in recovery: register it as a standby, or promote it first",
                    node.show_conninfo(&node.conf.conninfo)
                ))
            }
            (Role::Standby, false) => {
                return Err(fail!(
                    "this node's server ({}) is not in recovery: a standby must be cloned (pgha.cluster.repmgr_standby_clone) and running before it is registered",
                    node.show_conninfo(&node.conf.conninfo)
                ))
            }
            (Role::Witness, true) => return Err(fail!("a witness runs its own server, not a standby; this one is in recovery")),
            _ => {}
        }
    }
    let (all, source) = read_view(m, node, p, in_recovery)?;
    let records = all.clone().unwrap_or_default();
    let current = records.iter().find(|r| r.node_id == id).cloned();
    let primary_id = nodes::primary(&records).map(|r| r.node_id);
    let base = |resp: Response, record: Option<&NodeRecord>, node: &Node| {
        resp.with("node_id", id)
            .with("node_name", &name)
            .with("role", p.role.name())
            .with("record", shown_record(record, node))
            .with("primary_node_id", primary_id)
            .with("record_source", &source)
    };

    if p.state == State::Absent {
        let Some(rec) = current else {
            return Ok(base(
                Response::new(false).msg(format!("node {id} ({name}) is not registered")),
                None,
                node,
            ));
        };
        let action = format!("{} unregister", rec.node_type);
        let args = vec![rec.node_type.clone(), "unregister".to_string()];
        let mut resp = Response::new(true);
        if m.diff {
            resp.diff(Diff {
                before: record_text(Some(&rec), node),
                after: String::new(),
                before_header: Some(format!("repmgr.nodes node {id}")),
                after_header: Some(format!("repmgr.nodes node {id}")),
            });
        }
        if m.check_mode {
            // repmgr 5.3 has no --dry-run for `standby unregister` (it would unregister).
            if rec.node_type != "standby" {
                let mut dry = args.clone();
                dry.push("--dry-run".into());
                let ran = node.repmgr(&dry, &[])?;
                if !ran.ok() {
                    return Err(node.failure(&format!("repmgr {action} --dry-run"), &ran).with("dry_run", &ran.log));
                }
                resp = resp.with("dry_run", &ran.log);
            }
            return Ok(base(
                resp.msg(format!("would run repmgr {action} for node {id} ({name})")),
                Some(&rec),
                node,
            ));
        }
        let ran = node.repmgr(&args, &[])?;
        if !ran.ok() {
            return Err(node.failure(&format!("repmgr {action}"), &ran));
        }
        return Ok(base(
            resp.msg(format!("node {id} ({name}) unregistered")).with("log", &ran.log),
            None,
            node,
        ));
    }

    let want_upstream = match p.role {
        Role::Primary => None,
        Role::Standby => p.upstream_node_id.or(primary_id),
        Role::Witness => primary_id,
    };
    let diffs = current
        .as_ref()
        .map(|r| differences(r, p.role, want_upstream, &node.conf))
        .unwrap_or_default();
    if current.is_some() && diffs.is_empty() {
        return Ok(base(
            Response::new(false).msg(format!("node {id} ({name}) is already registered as {}", p.role.name())),
            current.as_ref(),
            node,
        ));
    }
    if current.is_some() && !p.force {
        return Err(fail!(
            "node {id} ({name}) is registered differently ({}); set force: true to register it again with repmgr's --force",
            diffs.join("; ")
        )
        .with("record", shown_record(current.as_ref(), node))
        .with("differences", &diffs));
    }
    let mut args = vec![p.role.name().to_string(), "register".to_string()];
    if p.role == Role::Standby {
        if let Some(u) = p.upstream_node_id {
            args.push(format!("--upstream-node-id={u}"));
        }
        if p.wait_sync > 0 {
            args.push(format!("--wait-sync={}", p.wait_sync));
        }
    }
    if p.role == Role::Witness {
        args.extend([
            "-h".to_string(),
            p.primary_host.clone().unwrap_or_default(),
            "-p".to_string(),
            p.primary_port.to_string(),
            "-U".to_string(),
            p.primary_user.clone(),
            "-d".to_string(),
            p.primary_dbname.clone(),
        ]);
    }
    if current.is_some() {
        args.push("--force".into());
    }
    let action = format!("repmgr {} register", p.role.name());
    let mut resp = Response::new(true).with("differences", &diffs);
    if m.check_mode {
        let mut dry = args.clone();
        dry.push("--dry-run".into());
        let ran = node.repmgr(&dry, &[])?;
        if !ran.ok() {
            return Err(node.failure(&format!("{action} --dry-run"), &ran).with("dry_run", &ran.log));
        }
        let what = if current.is_some() {
            "register again (--force)"
        } else {
            "register"
        };
        resp = resp
            .msg(format!("would {what} node {id} ({name}) as {}", p.role.name()))
            .with("dry_run", &ran.log);
        return Ok(base(resp, current.as_ref(), node));
    }
    let ran = node.repmgr(&args, &[])?;
    if !ran.ok() {
        return Err(node.failure(&action, &ran));
    }
    let (after_all, _) = read_view(m, node, p, in_recovery)?;
    let after = after_all.unwrap_or_default().into_iter().find(|r| r.node_id == id);
    match &after {
        None => m.warn(format!("{action} succeeded but no record of node {id} is found in {source} yet")),
        Some(r) => {
            let left = differences(r, p.role, want_upstream, &node.conf);
            if !left.is_empty() {
                m.warn(format!("after {action} the record still differs: {}", left.join("; ")));
            }
        }
    }
    if m.diff {
        resp.diff(Diff {
            before: record_text(current.as_ref(), node),
            after: record_text(after.as_ref(), node),
            before_header: Some(format!("repmgr.nodes node {id}")),
            after_header: Some(format!("repmgr.nodes node {id}")),
        });
    }
    let resp = resp
        .msg(format!("node {id} ({name}) registered as {}", p.role.name()))
        .with("log", &ran.log);
    Ok(base(resp, after.as_ref(), node))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeConf;
    use std::path::Path;

    fn conf() -> NodeConf {
        NodeConf::parse(
            "node_id=2\nnode_name='n2'\nconninfo='host=h2 user=repmgr dbname=repmgr'\n",
            Path::new("/r"),
        )
        .unwrap()
    }

    fn record() -> NodeRecord {
        NodeRecord {
            node_id: 2,
            upstream_node_id: Some(1),
            active: true,
            node_name: "n2".into(),
            node_type: "standby".into(),
            location: "default".into(),
            priority: 100,
            conninfo: "host=h2 user=repmgr dbname=repmgr".into(),
            repluser: "repmgr".into(),
            slot_name: None,
            config_file: "/r".into(),
        }
    }

    #[test]
    fn a_matching_record_has_no_differences() {
        assert!(differences(&record(), Role::Standby, Some(1), &conf()).is_empty());
    }

    #[test]
    fn every_difference_is_named() {
        let mut r = record();
        r.active = false;
        r.upstream_node_id = Some(3);
        r.priority = 5;
        let d = differences(&r, Role::Standby, Some(1), &conf());
        assert_eq!(d, ["upstream_node_id: 3 -> 1", "active: false -> true", "priority: 5 -> 100"]);
        let d = differences(&record(), Role::Primary, None, &conf());
        assert_eq!(d, ["type: standby -> primary", "upstream_node_id: 1 -> none"]);
    }
}
