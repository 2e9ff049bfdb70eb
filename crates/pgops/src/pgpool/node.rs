//! `pgpool_node`: attach, detach, recover or promote one backend through PCP, and wait until
//! Pgpool-II reports the result.
//!
//! Plan, then apply: the node's current status decides whether a request is needed at all (an
//! `up` node asked to be attached is left alone), check mode stops after the plan, and the
//! module then polls node info until the wanted state shows or `wait_timeout` runs out.

use super::PcpParams;
use ansible_module::{fail, Diff, Error, Module, Response, Spec};
use pcp::codec::Request;
use pcp::{BackendStatus, Error as PcpError, NodeInfo, Role};
use serde::Deserialize;
use std::time::{Duration, Instant};

/// `state`: what the backend should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    /// In use by Pgpool-II (`up` or `waiting`): `pcp_attach_node` when it is down.
    #[default]
    Attached,
    /// Not in use (`down`): `pcp_detach_node` when it is up.
    Detached,
    /// Back in use after an online recovery: `pcp_recovery_node` when it is down.
    Recovered,
    /// The primary: `pcp_promote_node` when it is a standby.
    Promoted,
}

impl NodeState {
    fn name(self) -> &'static str {
        match self {
            NodeState::Attached => "attached",
            NodeState::Detached => "detached",
            NodeState::Recovered => "recovered",
            NodeState::Promoted => "promoted",
        }
    }
}

/// The parameters of `pgpool_node`.
#[derive(Debug, Clone, Deserialize)]
pub struct NodeParams {
    /// The backend number (`backend_hostnameN`).
    pub node_id: Option<u32>,
    /// Or the backend's `backend_hostnameN`.
    pub hostname: Option<String>,
    /// With `hostname`: its `backend_portN`, when several backends share a host.
    pub port: Option<u16>,
    /// What the node should be.
    #[serde(default)]
    pub state: NodeState,
    /// With `promoted`: really switch (the current primary is detached, `failover_command`
    /// promotes this node, `follow_primary_command` turns the old primary into a standby).
    #[serde(default)]
    pub switchover: bool,
    /// With `detached` and `promoted`: wait for client sessions to end first.
    #[serde(default)]
    pub gracefully: bool,
    /// Seconds to wait for the result.
    #[serde(default = "default_wait")]
    pub wait_timeout: u64,
}

fn default_wait() -> u64 {
    60
}

impl Spec for NodeParams {}

/// Picks the backend the task names.
fn select<'a>(nodes: &'a [NodeInfo], p: &NodeParams) -> Result<&'a NodeInfo, Error> {
    let list = || {
        nodes
            .iter()
            .map(|n| format!("{} = {}:{}", n.node_id, n.hostname, n.port))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(id) = p.node_id {
        let n = nodes
            .iter()
            .find(|n| n.node_id == id)
            .ok_or_else(|| fail!("Pgpool-II has no backend node {id} (nodes: {})", list()))?;
        if let Some(h) = &p.hostname {
            if h != &n.hostname || p.port.is_some_and(|port| port != n.port) {
                return Err(fail!(
                    "node_id {id} is {}:{}, which does not match hostname {h}{}",
                    n.hostname,
                    n.port,
                    p.port.map(|x| format!(" port {x}")).unwrap_or_default()
                ));
            }
        }
        return Ok(n);
    }
    let Some(host) = &p.hostname else {
        return Err(fail!("one of node_id or hostname is required"));
    };
    let found: Vec<&NodeInfo> = nodes
        .iter()
        .filter(|n| &n.hostname == host && p.port.is_none_or(|port| port == n.port))
        .collect();
    match found.as_slice() {
        [one] => Ok(one),
        [] => Err(fail!(
            "no backend node has hostname {host}{} (nodes: {})",
            p.port.map(|x| format!(" and port {x}")).unwrap_or_default(),
            list()
        )),
        _ => Err(fail!(
            "several backend nodes have hostname {host}; give port or node_id (nodes: {})",
            list()
        )),
    }
}

/// The request that brings `node` to `p.state`, or `None` when it is there already.
fn plan(node: &NodeInfo, primary: Option<&NodeInfo>, p: &NodeParams) -> Result<Option<Request>, Error> {
    let id = node.node_id;
    let status = node.status;
    if status == BackendStatus::Unused && p.state != NodeState::Detached {
        return Err(fail!(
            "backend node {id} is an unused slot in Pgpool-II; it cannot be {}",
            p.state.name()
        ));
    }
    Ok(match p.state {
        NodeState::Attached if status.is_attached() => None,
        NodeState::Attached => Some(Request::Attach(id)),
        NodeState::Detached if !status.is_attached() => None,
        NodeState::Detached => Some(Request::Detach {
            node: id,
            gracefully: p.gracefully,
        }),
        NodeState::Recovered if status.is_attached() => None,
        NodeState::Recovered => Some(Request::Recovery(id)),
        NodeState::Promoted => {
            if node.role == Role::Primary {
                if !status.is_attached() {
                    return Err(fail!(
                        "backend node {id} is Pgpool-II's primary but its status is {}; attach it (state: attached) instead",
                        status.as_str()
                    ));
                }
                None
            } else {
                if !status.is_attached() {
                    return Err(fail!(
                        "backend node {id} is {}; only an attached standby can be promoted (attach or recover it first)",
                        status.as_str()
                    ));
                }
                if p.switchover && primary.is_none() {
                    return Err(fail!(
                        "there is no primary to switch over from; promote node {id} without switchover"
                    ));
                }
                Some(Request::Promote {
                    node: id,
                    gracefully: p.gracefully,
                    switchover: p.switchover,
                })
            }
        }
    })
}

/// Whether the wanted state shows in `nodes`.
fn reached(nodes: &[NodeInfo], id: u32, old_primary: Option<u32>, p: &NodeParams) -> bool {
    let Some(n) = nodes.iter().find(|n| n.node_id == id) else {
        return false;
    };
    match p.state {
        NodeState::Attached | NodeState::Recovered => n.status.is_attached(),
        NodeState::Detached => !n.status.is_attached(),
        NodeState::Promoted => {
            let promoted = n.role == Role::Primary && n.status.is_attached();
            let followed = match (p.switchover, old_primary) {
                (true, Some(old)) => nodes
                    .iter()
                    .find(|o| o.node_id == old)
                    .is_some_and(|o| o.status.is_attached() && o.role != Role::Primary),
                _ => true,
            };
            promoted && followed
        }
    }
}

fn summary(n: &NodeInfo) -> String {
    format!(
        "node_id: {}\nhostname: {}\nport: {}\nstatus: {}\nrole: {}\n",
        n.node_id,
        n.hostname,
        n.port,
        n.status.as_str(),
        n.role.as_str()
    )
}

fn validate(p: &NodeParams) -> Result<(), Error> {
    if p.node_id.is_none() && p.hostname.is_none() {
        return Err(fail!("one of node_id or hostname is required"));
    }
    if p.port.is_some() && p.hostname.is_none() {
        return Err(fail!("port is only used with hostname"));
    }
    if p.switchover && p.state != NodeState::Promoted {
        return Err(fail!("switchover is only used with state: promoted"));
    }
    if p.gracefully && !matches!(p.state, NodeState::Detached | NodeState::Promoted) {
        return Err(fail!("gracefully is only used with state: detached or promoted"));
    }
    Ok(())
}

/// Polls node info until the wanted state shows or `deadline` passes. Returns the last node
/// list read and whether the state was reached.
///
/// Each poll opens its own PCP connection and closes it at once: after a failover Pgpool-II
/// restarts its PCP process only when every PCP session has ended, and until then nobody else
/// (a `follow_primary_command` running `pcp_attach_node`, say) gets in. A poll that fails (the
/// PCP process restarting) is retried.
fn wait(conn: &PcpParams, id: u32, old_primary: Option<u32>, p: &NodeParams, deadline: Instant) -> (Option<Vec<NodeInfo>>, bool) {
    let mut last = None;
    loop {
        if let Ok(nodes) = conn.connect().and_then(|mut c| c.nodes().map_err(|e| Error::new(e.to_string()))) {
            let ok = reached(&nodes, id, old_primary, p);
            last = Some(nodes);
            if ok {
                return (last, true);
            }
        }
        if Instant::now() >= deadline {
            return (last, false);
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Runs `pgpool_node`.
pub fn run(m: &mut Module, (conn, p): (PcpParams, NodeParams)) -> Result<Response, Error> {
    validate(&p)?;
    let mut client = conn.connect()?;
    let nodes = client.nodes().map_err(|e| Error::new(e.to_string()))?;
    let before = select(&nodes, &p)?.clone();
    let id = before.node_id;
    let primary = nodes.iter().find(|n| n.role == Role::Primary);
    let old_primary = primary.map(|n| n.node_id).filter(|&x| x != id);
    let request = plan(&before, primary, &p)?;
    let commands: Vec<String> = request.iter().map(Request::pcp_command).collect();

    let mut resp = Response::new(request.is_some())
        .with("node_id", id)
        .with("state", p.state.name())
        .with("commands", &commands)
        .with("before", &before);
    if p.state == NodeState::Detached && before.role == Role::Primary && request.is_some() {
        m.warn(format!(
            "node {id} is the primary: detaching it makes Pgpool-II run failover_command (a standby is promoted)"
        ));
    }
    let Some(request) = request else {
        let msg = format!("node {id} is {} ({}), nothing to do", before.status.as_str(), before.role.as_str());
        return Ok(resp.msg(msg).with("after", &before).with("node", &before));
    };
    if m.check_mode {
        let msg = format!("would run {} (node {id} is {})", commands.join("; "), before.status.as_str());
        return Ok(resp.msg(msg).with("after", &before).with("node", &before));
    }

    let started = Instant::now();
    let wait_for = Duration::from_secs(p.wait_timeout);
    // A recovery answers only when it has finished, a graceful detach or promote when every
    // client has left: give the request the whole wait_timeout.
    client
        .set_timeout(wait_for.max(Duration::from_secs(conn.connect_timeout.max(1))))
        .map_err(|e| Error::new(e.to_string()))?;
    if let Err(e) = client.command(&request) {
        let mut msg = e.to_string();
        if matches!(e, PcpError::Timeout { .. }) {
            msg.push_str("; Pgpool-II may still be working on it, see its log");
        }
        return Err(Error::new(msg).with("commands", &commands).with("before", &before));
    }
    drop(client);
    let (after_nodes, ok) = wait(&conn, id, old_primary, &p, started + wait_for);
    let after = after_nodes.as_ref().and_then(|ns| ns.iter().find(|n| n.node_id == id)).cloned();
    let old_after = after_nodes
        .as_ref()
        .and_then(|ns| old_primary.and_then(|o| ns.iter().find(|n| n.node_id == o)))
        .cloned();
    if !ok {
        let now = after
            .as_ref()
            .map(|a| format!("its status is {} and its role {}", a.status.as_str(), a.role.as_str()))
            .unwrap_or_else(|| "its state could not be read".into());
        let mut msg = format!(
            "sent {} to Pgpool-II, but after {} s node {id} is not {}: {now}",
            commands.join("; "),
            p.wait_timeout,
            p.state.name()
        );
        if p.state == NodeState::Promoted && p.switchover {
            if let (Some(old), Some(a)) = (&old_after, &after) {
                if a.role == Role::Primary {
                    msg = format!(
                        "node {id} is the primary now, but after {} s the old primary (node {}) is still {}: \
                         follow_primary_command should bring it back as a standby and attach it (see the Pgpool-II log)",
                        p.wait_timeout,
                        old.node_id,
                        old.status.as_str()
                    );
                }
            }
        }
        let mut e = Error::new(msg).with("commands", &commands).with("before", &before);
        if let Some(a) = &after {
            e = e.with("after", a);
        }
        if let Some(o) = &old_after {
            e = e.with("old_primary", o);
        }
        return Err(e);
    }
    let after = after.unwrap_or_else(|| before.clone());
    resp.diff(Diff {
        before: summary(&before),
        after: summary(&after),
        before_header: Some(format!("pgpool node {id}")),
        after_header: Some(format!("pgpool node {id}")),
    });
    resp.set("after", &after);
    resp.set("node", &after);
    if p.state == NodeState::Promoted {
        resp.set("old_primary", &old_after);
    }
    let secs = started.elapsed().as_secs_f64();
    Ok(resp.msg(format!(
        "ran {}; node {id} is {} ({}) after {secs:.1} s",
        commands.join("; "),
        after.status.as_str(),
        after.role.as_str()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: u32, status: BackendStatus, role: Role) -> NodeInfo {
        NodeInfo {
            node_id: id,
            hostname: "127.0.0.1".into(),
            port: 5432 + id as u16,
            status,
            quarantine: false,
            pg_status: "up".into(),
            role,
            pg_role: role.as_str().into(),
            lb_weight: 0.5,
            replication_delay: 0,
            replication_state: String::new(),
            replication_sync_state: String::new(),
            last_status_change: String::new(),
            last_status_change_epoch: 0,
        }
    }

    fn params(state: NodeState) -> NodeParams {
        NodeParams {
            node_id: Some(1),
            hostname: None,
            port: None,
            state,
            switchover: false,
            gracefully: false,
            wait_timeout: 1,
        }
    }

    #[test]
    fn plans_only_what_is_needed() {
        let up = node(1, BackendStatus::Up, Role::Standby);
        let waiting = node(1, BackendStatus::Waiting, Role::Standby);
        let down = node(1, BackendStatus::Down, Role::Standby);
        let primary = node(0, BackendStatus::Up, Role::Primary);
        let p = |s| params(s);
        assert_eq!(plan(&up, Some(&primary), &p(NodeState::Attached)).unwrap(), None);
        assert_eq!(plan(&waiting, Some(&primary), &p(NodeState::Attached)).unwrap(), None);
        assert_eq!(
            plan(&down, Some(&primary), &p(NodeState::Attached)).unwrap(),
            Some(Request::Attach(1))
        );
        assert_eq!(plan(&down, Some(&primary), &p(NodeState::Detached)).unwrap(), None);
        assert_eq!(plan(&up, Some(&primary), &p(NodeState::Recovered)).unwrap(), None);
        assert_eq!(
            plan(&down, Some(&primary), &p(NodeState::Recovered)).unwrap(),
            Some(Request::Recovery(1))
        );
        assert!(plan(&down, Some(&primary), &p(NodeState::Promoted)).is_err());
        assert_eq!(plan(&primary, Some(&primary), &p(NodeState::Promoted)).unwrap(), None);
        let mut sw = p(NodeState::Promoted);
        sw.switchover = true;
        assert_eq!(
            plan(&up, Some(&primary), &sw).unwrap(),
            Some(Request::Promote {
                node: 1,
                gracefully: false,
                switchover: true
            })
        );
        assert!(plan(&up, None, &sw).is_err());
    }

    #[test]
    fn selects_by_id_or_host_and_port() {
        let nodes = vec![node(0, BackendStatus::Up, Role::Primary), node(1, BackendStatus::Up, Role::Standby)];
        let mut p = params(NodeState::Attached);
        assert_eq!(select(&nodes, &p).unwrap().node_id, 1);
        p.node_id = None;
        p.hostname = Some("127.0.0.1".into());
        assert!(select(&nodes, &p).unwrap_err().msg.contains("several backend nodes"));
        p.port = Some(5432);
        assert_eq!(select(&nodes, &p).unwrap().node_id, 0);
        p.port = Some(1);
        assert!(select(&nodes, &p).unwrap_err().msg.contains("no backend node has hostname"));
        p.node_id = Some(7);
        assert!(select(&nodes, &p).unwrap_err().msg.contains("no backend node 7"));
    }

    #[test]
    fn switchover_waits_for_the_old_primary_too() {
        let mut p = params(NodeState::Promoted);
        p.switchover = true;
        let mid = vec![
            node(0, BackendStatus::Down, Role::Standby),
            node(1, BackendStatus::Up, Role::Primary),
        ];
        assert!(!reached(&mid, 1, Some(0), &p));
        let done = vec![node(0, BackendStatus::Up, Role::Standby), node(1, BackendStatus::Up, Role::Primary)];
        assert!(reached(&done, 1, Some(0), &p));
        p.switchover = false;
        assert!(reached(&mid, 1, Some(0), &p));
    }
}
