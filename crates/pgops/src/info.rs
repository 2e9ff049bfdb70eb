//! `pg_info`: what a server is and how its replication stands. Read-only; works on a
//! primary and on a standby.

use crate::connect;
use ansible_module::{Error, Module, Response, Spec};
use pgclient::{Arg, LoginParams, PgError};
use pghost::conninfo;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// What `gather` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gather {
    /// Everything below.
    All,
    /// `replication`: pg_stat_replication rows (the standbys a primary feeds).
    Replication,
    /// `wal_receiver`: pg_stat_wal_receiver (a standby's link to its primary).
    WalReceiver,
    /// `slots`: replication slots.
    Slots,
    /// `settings`: the settings named by `settings`.
    Settings,
    /// `databases`.
    Databases,
    /// `roles` (the built-in `pg_*` roles left out).
    Roles,
}

/// The parameters of `pg_info`.
#[derive(Debug, Clone, Deserialize)]
pub struct InfoParams {
    /// Which parts to gather besides `version` and `in_recovery`, which are always there.
    #[serde(default = "default_gather")]
    pub gather: Vec<Gather>,
    /// Settings to report under `settings`.
    #[serde(default = "default_settings")]
    pub settings: Vec<String>,
}

impl Spec for InfoParams {}

fn default_gather() -> Vec<Gather> {
    vec![Gather::All]
}

/// The settings reported by default: the ones an HA cluster depends on.
pub const DEFAULT_SETTINGS: &[&str] = &[
    "listen_addresses",
    "port",
    "data_directory",
    "config_file",
    "hba_file",
    "wal_level",
    "max_wal_senders",
    "max_replication_slots",
    "wal_keep_size",
    "hot_standby",
    "wal_log_hints",
    "archive_mode",
    "archive_command",
    "primary_conninfo",
    "primary_slot_name",
    "synchronous_standby_names",
    "shared_preload_libraries",
    "password_encryption",
];

fn default_settings() -> Vec<String> {
    DEFAULT_SETTINGS.iter().map(|s| s.to_string()).collect()
}

/// The whole of `pg_info` as one statement (one round trip after the login): one JSON object
/// with the version, `in_recovery` and each part asked for (`$1`..`$6` say which; the others
/// are NULL and not evaluated). `$7` is the JSON array of setting names to report. Every
/// expression that only works on a primary or on newer servers is guarded inside the
/// statement: `pg_current_wal_lsn()` only on a primary (a cascading standby measures against
/// what it replayed), `wal_status` read through `to_jsonb` (absent before PostgreSQL 13).
const INFO_SQL: &str = "\
SELECT pg_catalog.json_build_object(\
 'num', pg_catalog.current_setting('server_version_num')::int4,\
 'full', pg_catalog.version(),\
 'server_version', pg_catalog.current_setting('server_version'),\
 'in_recovery', pg_catalog.pg_is_in_recovery(),\
 'replication', CASE WHEN $1 THEN (SELECT coalesce(pg_catalog.json_agg(r ORDER BY r.application_name, r.pid), '[]') FROM (\
   SELECT pid, usename::text AS user, application_name, pg_catalog.host(client_addr) AS client_addr, state, sync_state, \
   sent_lsn::text, write_lsn::text, flush_lsn::text, replay_lsn::text, \
   pg_catalog.pg_wal_lsn_diff(CASE WHEN pg_catalog.pg_is_in_recovery() THEN pg_catalog.pg_last_wal_replay_lsn() \
     ELSE pg_catalog.pg_current_wal_lsn() END, replay_lsn)::int8 AS replay_lag_bytes, \
   write_lag::text, flush_lag::text, replay_lag::text, backend_start::text \
   FROM pg_catalog.pg_stat_replication) r) END,\
 'wal_receiver', CASE WHEN $2 THEN (SELECT pg_catalog.row_to_json(w) FROM (\
   SELECT pid, status, sender_host, sender_port, slot_name, receive_start_lsn::text, written_lsn::text, flushed_lsn::text, \
   latest_end_lsn::text, pg_catalog.pg_last_wal_replay_lsn()::text AS replayed_lsn, \
   pg_catalog.pg_wal_lsn_diff(greatest(latest_end_lsn, flushed_lsn), pg_catalog.pg_last_wal_replay_lsn())::int8 AS lag_bytes, \
   last_msg_receipt_time::text, conninfo FROM pg_catalog.pg_stat_wal_receiver LIMIT 1) w) END,\
 'slots', CASE WHEN $3 THEN (SELECT coalesce(pg_catalog.json_agg(s ORDER BY s.name), '[]') FROM (\
   SELECT slot_name::text AS name, slot_type::text, plugin::text, database::text, temporary, active, active_pid, \
   restart_lsn::text, confirmed_flush_lsn::text, pg_catalog.to_jsonb(x) ->> 'wal_status' AS wal_status, \
   CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL::int8 \
     ELSE pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), restart_lsn)::int8 END AS retained_bytes \
   FROM pg_catalog.pg_replication_slots x) s) END,\
 'settings', CASE WHEN $4 THEN (SELECT coalesce(pg_catalog.json_agg(pg_catalog.json_build_array(\
   u.n, pg_catalog.current_setting(g.name), g.pending_restart) ORDER BY u.i), '[]') \
   FROM pg_catalog.json_array_elements_text($7::text::json) WITH ORDINALITY u(n, i) \
   LEFT JOIN pg_catalog.pg_settings g ON g.name = pg_catalog.lower(u.n)) END,\
 'databases', CASE WHEN $5 THEN (SELECT coalesce(pg_catalog.json_agg(d ORDER BY d.name), '[]') FROM (\
   SELECT datname::text AS name, pg_catalog.pg_get_userbyid(datdba)::text AS owner, \
   pg_catalog.pg_encoding_to_char(encoding)::text AS encoding, datcollate::text AS lc_collate, datctype::text AS lc_ctype, \
   datistemplate AS is_template, datallowconn AS allow_connections, datconnlimit AS conn_limit, \
   CASE WHEN pg_catalog.has_database_privilege(oid, 'CONNECT') THEN pg_catalog.pg_database_size(oid) END AS size \
   FROM pg_catalog.pg_database) d) END,\
 'roles', CASE WHEN $6 THEN (SELECT coalesce(pg_catalog.json_agg(o ORDER BY o.name), '[]') FROM (\
   SELECT r.rolname::text AS name, r.rolcanlogin AS login, r.rolsuper AS superuser, r.rolreplication AS replication, \
   r.rolcreatedb AS createdb, r.rolcreaterole AS createrole, r.rolinherit AS inherit, r.rolbypassrls AS bypassrls, \
   r.rolconnlimit AS conn_limit, r.rolvaliduntil::text AS valid_until, \
   ARRAY(SELECT g.rolname::text FROM pg_catalog.pg_auth_members m \
     JOIN pg_catalog.pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS member_of \
   FROM pg_catalog.pg_roles r WHERE r.rolname !~ '^pg_') o) END\
)::text";

/// Runs `pg_info`: one statement (`INFO_SQL`), one round trip.
pub fn run(m: &mut Module, (login, p): (LoginParams, InfoParams)) -> Result<Response, Error> {
    let mut db = connect(m, &login, None)?;
    let want = |g: Gather| p.gather.contains(&Gather::All) || p.gather.contains(&g);
    let names = serde_json::to_string(&p.settings).map_err(|e| PgError::Other(e.to_string()))?;
    let args = [
        Arg::Bool(want(Gather::Replication)),
        Arg::Bool(want(Gather::WalReceiver)),
        Arg::Bool(want(Gather::Slots)),
        Arg::Bool(want(Gather::Settings)),
        Arg::Bool(want(Gather::Databases)),
        Arg::Bool(want(Gather::Roles)),
        Arg::Text(names),
    ];
    let text: String = db.query_value(INFO_SQL, &args)?;
    let Value::Object(mut all) = serde_json::from_str(&text).map_err(|e| PgError::Other(format!("pg_info: unexpected answer: {e}")))?
    else {
        return Err(PgError::Other("pg_info: unexpected answer (not a JSON object)".into()).into());
    };
    let num = all.get("num").and_then(Value::as_i64).unwrap_or(0);
    let in_recovery = all.get("in_recovery").and_then(Value::as_bool).unwrap_or(false);
    let mut resp = Response::new(false);
    resp.set(
        "version",
        json!({
            "major": num / 10000,
            "minor": num % 10000,
            "num": num,
            "server_version": all.remove("server_version").unwrap_or(Value::Null),
            "full": all.remove("full").unwrap_or(Value::Null),
        }),
    );
    resp.set("in_recovery", in_recovery);
    let mut part = |key: &str| all.remove(key).unwrap_or(Value::Null);
    if want(Gather::Replication) {
        resp.set("replication", part("replication"));
    }
    if want(Gather::WalReceiver) {
        resp.set("wal_receiver", part("wal_receiver"));
    }
    if want(Gather::Slots) {
        resp.set("slots", part("slots"));
    }
    if want(Gather::Settings) {
        let (settings, pending, unknown) = settings(part("settings"));
        if !unknown.is_empty() {
            m.warn(format!("unknown settings left out: {}", unknown.join(", ")));
        }
        resp.set("settings", settings);
        resp.set("pending_restart", pending);
    }
    if want(Gather::Databases) {
        resp.set("databases", keyed(part("databases")));
    }
    if want(Gather::Roles) {
        resp.set("roles", keyed(part("roles")));
    }
    let role = if in_recovery { "a standby" } else { "a primary" };
    Ok(resp.msg(format!("{} is {role}", db.target())).with("queries", Vec::<String>::new()))
}

type Settings = (Map<String, Value>, Vec<String>, Vec<String>);

/// `[[name, value, pending_restart], ...]` (value and pending NULL for an unknown name) as
/// (settings, names pending a restart, unknown names); `primary_conninfo` has its password
/// masked.
fn settings(rows: Value) -> Settings {
    let mut out = Map::new();
    let mut pending = Vec::new();
    let mut unknown = Vec::new();
    for row in rows.as_array().into_iter().flatten() {
        let (Some(name), value, restart) = (row[0].as_str(), &row[1], &row[2]) else {
            continue;
        };
        match (value.as_str(), restart.as_bool()) {
            (Some(value), Some(restart)) => {
                let value = if name.eq_ignore_ascii_case("primary_conninfo") {
                    conninfo::mask_password(value)
                } else {
                    value.to_string()
                };
                if restart {
                    pending.push(name.to_string());
                }
                out.insert(name.to_string(), Value::String(value));
            }
            _ => unknown.push(name.to_string()),
        }
    }
    (out, pending, unknown)
}

/// Turns rows with a `name` column into an object keyed by it.
fn keyed(rows: Value) -> Map<String, Value> {
    let mut out = Map::new();
    let Value::Array(rows) = rows else { return out };
    for r in rows {
        let Value::Object(mut r) = r else { continue };
        if let Some(Value::String(name)) = r.remove("name") {
            out.insert(name, Value::Object(r));
        }
    }
    out
}
