//! `repmgr_info`: the cluster as repmgr sees it, as data: every node's record from
//! `repmgr.nodes`, what `repmgr cluster show --csv` finds its server to be, and repmgrd's state
//! from `repmgr service status --csv`. Never changes anything.

use crate::nodes::{self, NodeRecord};
use crate::output::{parse_cluster_show, parse_service_status, ClusterShowRow, Recovery, ServiceStatusRow};
use crate::{Common, Node};
use ansible_module::{fail, Error, Module, Record, Response};
use serde::Serialize;
use serde_json::{json, Value};

/// repmgrd on one node.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Repmgrd {
    /// Whether it runs (null when the node's server does not answer).
    pub running: Option<bool>,
    /// Its PID.
    pub pid: Option<i32>,
    /// Whether it is paused.
    pub paused: Option<bool>,
    /// Seconds since it last saw its upstream.
    pub upstream_last_seen: Option<i32>,
}

/// One node as `repmgr_info` returns it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NodeInfo {
    /// `node_id`.
    pub node_id: i32,
    /// `node_name`.
    pub node_name: String,
    /// The registered type: primary, standby, witness.
    #[serde(rename = "type")]
    pub node_type: String,
    /// The registered upstream.
    pub upstream_node_id: Option<i32>,
    /// Its name.
    pub upstream_node_name: Option<String>,
    /// `location`.
    pub location: String,
    /// `priority`.
    pub priority: i32,
    /// `active`.
    pub active: bool,
    /// The conninfo, password masked.
    pub conninfo: String,
    /// `slot_name`.
    pub slot_name: Option<String>,
    /// The node's repmgr.conf.
    pub config_file: String,
    /// `running`, `unreachable`, `running as primary`/`running as standby` (the server is not
    /// what the record says), or `unknown` (cluster show gave nothing).
    pub status: String,
    /// Whether repmgr could connect to it (null when unknown).
    pub connected: Option<bool>,
    /// What its server is: primary, standby, unknown (null when cluster show gave nothing).
    pub recovery: Option<Recovery>,
    /// repmgrd there (null when `service status` gave nothing).
    pub repmgrd: Option<Repmgrd>,
}

/// The status word of a node from its record and what cluster show found.
pub fn status(record: &NodeRecord, seen: Option<&ClusterShowRow>) -> String {
    let Some(s) = seen else {
        return "unknown".into();
    };
    if !s.connected {
        return "unreachable".into();
    }
    match (record.node_type.as_str(), s.recovery) {
        ("primary", Recovery::Standby) => "running as standby".into(),
        ("standby", Recovery::Primary) => "running as primary".into(),
        _ => "running".into(),
    }
}

/// Joins the record, cluster show and service status of every node.
pub fn combine(records: &[NodeRecord], shown: &[ClusterShowRow], services: &[ServiceStatusRow], node: &Node) -> Vec<NodeInfo> {
    records
        .iter()
        .map(|r| {
            let seen = shown.iter().find(|s| s.node_id == r.node_id);
            let svc = services.iter().find(|s| s.node_id == r.node_id);
            NodeInfo {
                node_id: r.node_id,
                node_name: r.node_name.clone(),
                node_type: r.node_type.clone(),
                upstream_node_id: r.upstream_node_id,
                upstream_node_name: r
                    .upstream_node_id
                    .and_then(|u| records.iter().find(|x| x.node_id == u))
                    .map(|x| x.node_name.clone()),
                location: r.location.clone(),
                priority: r.priority,
                active: r.active,
                conninfo: node.show_conninfo(&r.conninfo),
                slot_name: r.slot_name.clone(),
                config_file: r.config_file.clone(),
                status: status(r, seen),
                connected: seen.map(|s| s.connected),
                recovery: seen.map(|s| s.recovery),
                repmgrd: svc.map(|s| Repmgrd {
                    running: s.repmgrd_running,
                    pid: s.repmgrd_pid,
                    paused: s.paused,
                    upstream_last_seen: s.upstream_last_seen,
                }),
            }
        })
        .collect()
}

/// Runs `repmgr_info`.
pub fn run(m: &mut Module, c: Common) -> Result<Response, Error> {
    let mut node = Node::open(&c)?;
    gather(m, &mut node).record("commands", &node.runner.commands)
}

fn gather(m: &mut Module, node: &mut Node) -> Result<Response, Error> {
    let id = node.conf.node_id;
    let name = node.conf.node_name.clone();
    let mut db = node.connect_local()?;
    let in_recovery = db.in_recovery().map_err(|e| fail!("{e}"))?;
    let records = nodes::read_all(&mut db).map_err(|e| fail!("cannot read repmgr.nodes on this node: {e}"))?;
    drop(db);
    let base = Response::new(false)
        .with("node_id", id)
        .with("node_name", &name)
        .with("local_in_recovery", in_recovery);
    let Some(records) = records else {
        return Ok(base
            .msg(format!(
                "the repmgr extension is not installed in this node's database ({}): no node is registered yet",
                node.show_conninfo(&node.conf.conninfo)
            ))
            .with("installed", false)
            .with("nodes", Vec::<Value>::new())
            .with("primary", Value::Null)
            .with("primary_node_id", Value::Null)
            .with("running_primaries", Vec::<i32>::new()));
    };
    // ERR_NODE_STATUS (25) still prints every row: some node is down or not what it should be.
    let mut shown = Vec::new();
    let ran = node.repmgr(&["cluster".into(), "show".into(), "--csv".into()], &[])?;
    if ran.rc == 0 || ran.rc == 25 {
        match parse_cluster_show(&ran.stdout) {
            Ok(rows) => shown = rows,
            Err(e) => m.warn(format!("{e}")),
        }
    } else {
        m.warn(node.failure("repmgr cluster show --csv", &ran).msg);
    }
    let mut services = Vec::new();
    let ran = node.repmgr(&["service".into(), "status".into(), "--csv".into()], &[])?;
    if ran.rc == 0 || ran.rc == 25 {
        match parse_service_status(&ran.stdout) {
            Ok(rows) => services = rows,
            Err(e) => m.warn(format!("{e}")),
        }
    } else {
        m.warn(node.failure("repmgr service status --csv", &ran).msg);
    }
    let infos = combine(&records, &shown, &services, node);
    let primary = nodes::primary(&records);
    let running_primaries: Vec<i32> = infos
        .iter()
        .filter(|n| n.node_type != "witness" && n.connected == Some(true) && n.recovery == Some(Recovery::Primary))
        .map(|n| n.node_id)
        .collect();
    if running_primaries.len() > 1 {
        m.warn(format!("more than one node runs as a primary: {running_primaries:?}"));
    }
    let unreachable: Vec<i32> = infos.iter().filter(|n| n.status == "unreachable").map(|n| n.node_id).collect();
    let msg = format!(
        "{} node(s); primary: {}{}",
        infos.len(),
        primary
            .map(|p| format!("{} (node {})", p.node_name, p.node_id))
            .unwrap_or_else(|| "none".into()),
        if unreachable.is_empty() {
            String::new()
        } else {
            format!("; unreachable: {unreachable:?}")
        }
    );
    Ok(base
        .msg(msg)
        .with("installed", true)
        .with("nodes", &infos)
        .with("primary", primary.map(|p| json!({"node_id": p.node_id, "node_name": p.node_name})))
        .with("primary_node_id", primary.map(|p| p.node_id))
        .with("running_primaries", running_primaries))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: i32, t: &str) -> NodeRecord {
        NodeRecord {
            node_id: id,
            upstream_node_id: None,
            active: true,
            node_name: format!("n{id}"),
            node_type: t.into(),
            location: "default".into(),
            priority: 100,
            conninfo: "host=h".into(),
            repluser: "repmgr".into(),
            slot_name: None,
            config_file: "/r".into(),
        }
    }

    #[test]
    fn status_says_when_the_server_is_not_what_the_record_says() {
        let row = |connected, recovery| ClusterShowRow {
            node_id: 1,
            connected,
            recovery,
        };
        assert_eq!(status(&rec(1, "primary"), None), "unknown");
        assert_eq!(status(&rec(1, "primary"), Some(&row(false, Recovery::Unknown))), "unreachable");
        assert_eq!(status(&rec(1, "primary"), Some(&row(true, Recovery::Primary))), "running");
        assert_eq!(
            status(&rec(1, "primary"), Some(&row(true, Recovery::Standby))),
            "running as standby"
        );
        assert_eq!(
            status(&rec(1, "standby"), Some(&row(true, Recovery::Primary))),
            "running as primary"
        );
    }
}
