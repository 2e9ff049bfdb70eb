//! The `repmgr.nodes` table: repmgr's record of every node.

use pgclient::{col, Arg, Db, PgError};
use serde::Serialize;

/// One row of `repmgr.nodes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeRecord {
    /// `node_id`.
    pub node_id: i32,
    /// `upstream_node_id` (none for a primary).
    pub upstream_node_id: Option<i32>,
    /// `active`: false after a failover until the node rejoins.
    pub active: bool,
    /// `node_name`.
    pub node_name: String,
    /// `type`: `primary`, `standby`, `witness` or `bdr`.
    #[serde(rename = "type")]
    pub node_type: String,
    /// `location`.
    pub location: String,
    /// `priority`.
    pub priority: i32,
    /// `conninfo` (shown with any password masked).
    pub conninfo: String,
    /// `repluser`.
    pub repluser: String,
    /// `slot_name`.
    pub slot_name: Option<String>,
    /// `config_file`: the node's repmgr.conf, which switchover uses over SSH.
    pub config_file: String,
}

/// Whether the repmgr extension's table exists in the connected database.
pub fn installed(db: &mut Db) -> Result<bool, PgError> {
    db.query_value::<bool>("SELECT pg_catalog.to_regclass('repmgr.nodes') IS NOT NULL", &[])
}

/// Every node record, by node_id; `None` when the repmgr extension is not installed there.
pub fn read_all(db: &mut Db) -> Result<Option<Vec<NodeRecord>>, PgError> {
    if !installed(db)? {
        return Ok(None);
    }
    let rows = db.query(
        "SELECT node_id, upstream_node_id, active, node_name, type, location, priority, conninfo, repluser::text, slot_name, config_file \
         FROM repmgr.nodes ORDER BY node_id",
        &[],
    )?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(NodeRecord {
            node_id: col(r, 0)?,
            upstream_node_id: col(r, 1)?,
            active: col(r, 2)?,
            node_name: col(r, 3)?,
            node_type: col(r, 4)?,
            location: col(r, 5)?,
            priority: col(r, 6)?,
            conninfo: col(r, 7)?,
            repluser: col(r, 8)?,
            slot_name: col(r, 9)?,
            config_file: col(r, 10)?,
        });
    }
    Ok(Some(out))
}

/// The one record of `node_id`, if the table and the record exist.
pub fn read_one(db: &mut Db, node_id: i32) -> Result<Option<NodeRecord>, PgError> {
    Ok(read_all(db)?.and_then(|all| all.into_iter().find(|n| n.node_id == node_id)))
}

/// The active primary's record among `nodes`.
pub fn primary(nodes: &[NodeRecord]) -> Option<&NodeRecord> {
    nodes.iter().find(|n| n.node_type == "primary" && n.active)
}

/// The server's `pg_is_in_recovery()`, and where a standby streams from
/// (`pg_stat_wal_receiver`'s sender host and port, when a WAL receiver runs).
pub fn recovery_state(db: &mut Db) -> Result<(bool, Option<(String, u16)>), PgError> {
    let in_recovery = db.in_recovery()?;
    if !in_recovery {
        return Ok((false, None));
    }
    let row = db.query_opt(
        "SELECT sender_host, sender_port FROM pg_catalog.pg_stat_wal_receiver WHERE sender_host IS NOT NULL",
        &[] as &[Arg],
    )?;
    let sender = match row {
        Some(r) => {
            let host: Option<String> = col(&r, 0)?;
            let port: Option<i32> = col(&r, 1)?;
            host.zip(port).map(|(h, p)| (h, u16::try_from(p).unwrap_or(0)))
        }
        None => None,
    };
    Ok((true, sender))
}
