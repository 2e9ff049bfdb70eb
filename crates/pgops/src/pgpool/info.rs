//! `pgpool_info`: backends (`SHOW pool_nodes`), health check statistics and the watchdog
//! cluster, read over PCP. Never changes anything.

use super::PcpParams;
use ansible_module::{Error, Module, Response};
use pcp::{Error as PcpError, Role};

/// Runs `pgpool_info`.
pub fn run(m: &mut Module, conn: PcpParams) -> Result<Response, Error> {
    let mut client = conn.connect()?;
    let nodes = client.nodes().map_err(|e| Error::new(e.to_string()))?;
    let mut stats = Vec::with_capacity(nodes.len());
    for n in &nodes {
        match client.health_check_stats(n.node_id) {
            Ok(s) => stats.push(s),
            Err(e @ PcpError::Server { .. }) => m.warn(format!("no health check statistics for node {}: {e}", n.node_id)),
            Err(e) => return Err(Error::new(e.to_string())),
        }
    }
    let watchdog = match client.watchdog_info() {
        Ok(w) => Some(w),
        Err(e)
            if e.server_error()
                .and_then(|s| s.detail.as_deref())
                .is_some_and(|d| d.contains("watchdog is not enabled")) =>
        {
            None
        }
        Err(e) => return Err(Error::new(e.to_string())),
    };
    let primary = nodes.iter().find(|n| n.role == Role::Primary).map(|n| n.node_id);
    let up = nodes.iter().filter(|n| n.status.is_attached()).count();
    let mut msg = format!("{} backend nodes, {up} attached", nodes.len());
    match primary {
        Some(p) => msg.push_str(&format!(", primary is node {p}")),
        None => msg.push_str(", no primary"),
    }
    if let Some(w) = &watchdog {
        msg.push_str(&format!(
            "; watchdog: {}, leader {}",
            w.quorum_state,
            w.leader_node_name.as_deref().unwrap_or("none")
        ));
    }
    Ok(Response::new(false)
        .msg(msg)
        .with("node_count", nodes.len())
        .with("primary_node_id", primary)
        .with("nodes", &nodes)
        .with("health_check_stats", &stats)
        .with("watchdog_enabled", watchdog.is_some())
        .with("watchdog", &watchdog))
}
