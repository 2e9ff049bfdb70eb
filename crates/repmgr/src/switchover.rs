//! `repmgr_switchover`: promotes this standby and demotes the primary with
//! `repmgr standby switchover` (repmgr reaches the primary over SSH as the OS user).
//!
//! Nothing runs when this node's server is already a primary. Check mode runs the same command
//! with `--dry-run` and returns repmgr's findings line by line; a dry run that finds a problem
//! fails with the problem. repmgr's exit codes become messages that say what happened
//! (18: nothing changed; 22: promoted, but the former primary did not rejoin).

use crate::nodes;
use crate::{Common, Node};
use ansible_module::{fail, Error, Module, Record, Response, Spec};
use serde::Deserialize;
use serde_json::json;

/// The parameters of `repmgr_switchover` (besides [`Common`]).
#[derive(Debug, Clone, Deserialize)]
pub struct SwitchoverParams {
    /// The other standbys follow the new primary (`--siblings-follow`).
    #[serde(default = "yes")]
    pub siblings_follow: bool,
    /// Rewind the demoted primary with pg_rewind if needed (`--force-rewind`).
    #[serde(default)]
    pub force_rewind: bool,
    /// Promote even when this standby has not caught up with the primary (`--always-promote`).
    #[serde(default)]
    pub always_promote: bool,
    /// Unpause every repmgrd afterwards, even those paused before (`--repmgrd-force-unpause`).
    #[serde(default)]
    pub repmgrd_force_unpause: bool,
}

fn yes() -> bool {
    true
}

impl Spec for SwitchoverParams {}

/// The repmgr arguments for these parameters.
pub fn arguments(p: &SwitchoverParams) -> Vec<String> {
    let mut args = vec!["standby".to_string(), "switchover".to_string()];
    if p.siblings_follow {
        args.push("--siblings-follow".into());
    }
    if p.force_rewind {
        args.push("--force-rewind".into());
    }
    if p.always_promote {
        args.push("--always-promote".into());
    }
    if p.repmgrd_force_unpause {
        args.push("--repmgrd-force-unpause".into());
    }
    args
}

/// Runs `repmgr_switchover`.
pub fn run(m: &mut Module, (c, p): (Common, SwitchoverParams)) -> Result<Response, Error> {
    let mut node = Node::open(&c)?;
    converge(m, &mut node, &p).record("commands", &node.runner.commands)
}

fn converge(m: &mut Module, node: &mut Node, p: &SwitchoverParams) -> Result<Response, Error> {
    let id = node.conf.node_id;
    let name = node.conf.node_name.clone();
    let mut local = node.connect_local()?;
    let in_recovery = local.in_recovery().map_err(|e| fail!("{e}"))?;
    let records = nodes::read_all(&mut local)
        .map_err(|e| fail!("cannot read repmgr.nodes on this node: {e}"))?
        .unwrap_or_default();
    drop(local);
    let before = nodes::primary(&records).map(|r| json!({"node_id": r.node_id, "node_name": r.node_name}));
    let base = |r: Response| r.with("node_id", id).with("node_name", &name).with("primary_before", &before);
    if !in_recovery {
        return Ok(base(Response::new(false).msg(format!("node {id} ({name}) is already the primary"))).with("primary_node_id", id));
    }
    if !records.iter().any(|r| r.node_id == id) {
        return Err(fail!(
            "node {id} ({name}) has no record in repmgr.nodes; register it as a standby (pgha.cluster.repmgr_register) before a switchover"
        ));
    }
    let args = arguments(p);
    if m.check_mode {
        let mut dry = args.clone();
        dry.push("--dry-run".into());
        let ran = node.repmgr(&dry, &[])?;
        if !ran.ok() {
            return Err(node.failure("repmgr standby switchover --dry-run", &ran).with("dry_run", &ran.log));
        }
        let from = before
            .as_ref()
            .and_then(|b| b["node_name"].as_str().map(str::to_string))
            .unwrap_or_else(|| "the primary".into());
        return Ok(base(Response::new(true).msg(format!(
            "dry run: node {id} ({name}) can take over from {from}; repmgr found the prerequisites met"
        )))
        .with("dry_run", &ran.log)
        .with("primary_node_id", before.as_ref().and_then(|b| b["node_id"].as_i64())));
    }
    let ran = node.repmgr(&args, &[])?;
    if !ran.ok() {
        return Err(node.failure("repmgr standby switchover", &ran));
    }
    let now_primary = node
        .connect_local()
        .and_then(|mut db| db.in_recovery().map_err(|e| fail!("{e}")))
        .map(|r| !r);
    match now_primary {
        Ok(true) => {}
        Ok(false) => m.warn(format!("repmgr reported success, but node {id} ({name}) is still in recovery")),
        Err(e) => m.warn(format!("cannot check this node after the switchover: {}", e.msg)),
    }
    Ok(base(Response::new(true).msg(format!("node {id} ({name}) is now the primary")))
        .with("primary_node_id", id)
        .with("log", &ran.log))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_follow_the_parameters() {
        let p = SwitchoverParams {
            siblings_follow: true,
            force_rewind: true,
            always_promote: false,
            repmgrd_force_unpause: false,
        };
        assert_eq!(arguments(&p), ["standby", "switchover", "--siblings-follow", "--force-rewind"]);
    }
}
