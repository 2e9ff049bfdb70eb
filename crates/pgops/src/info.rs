//! `pg_info`: what a server is and how its replication stands. Read-only; works on a
//! primary and on a standby.

use crate::connect;
use ansible_module::{Error, Module, Response, Spec};
use pgclient::{col, Arg, Db, LoginParams, PgError};
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

/// Runs `pg_info`.
pub fn run(m: &mut Module, (login, p): (LoginParams, InfoParams)) -> Result<Response, Error> {
    let mut db = connect(m, &login, None)?;
    let want = |g: Gather| p.gather.contains(&Gather::All) || p.gather.contains(&g);
    let mut resp = Response::new(false);
    let (version, num) = version(&mut db)?;
    let in_recovery = db.in_recovery()?;
    resp.set("version", version);
    resp.set("in_recovery", in_recovery);
    if want(Gather::Replication) {
        resp.set("replication", replication(&mut db, in_recovery)?);
    }
    if want(Gather::WalReceiver) {
        resp.set("wal_receiver", wal_receiver(&mut db)?);
    }
    if want(Gather::Slots) {
        resp.set("slots", slots(&mut db, in_recovery, num)?);
    }
    if want(Gather::Settings) {
        let (settings, pending, unknown) = settings(&mut db, &p.settings)?;
        if !unknown.is_empty() {
            m.warn(format!("unknown settings left out: {}", unknown.join(", ")));
        }
        resp.set("settings", settings);
        resp.set("pending_restart", pending);
    }
    if want(Gather::Databases) {
        resp.set("databases", databases(&mut db)?);
    }
    if want(Gather::Roles) {
        resp.set("roles", roles(&mut db)?);
    }
    let role = if in_recovery { "a standby" } else { "a primary" };
    Ok(resp.msg(format!("{} is {role}", db.target())).with("queries", Vec::<String>::new()))
}

fn version(db: &mut Db) -> Result<(Value, i32), PgError> {
    let num = db.server_version_num()?;
    let full: String = db.query_value("SELECT pg_catalog.version()", &[])?;
    let short: String = db.query_value("SELECT pg_catalog.current_setting('server_version')", &[])?;
    Ok((
        json!({
            "major": num / 10000,
            "minor": num % 10000,
            "num": num,
            "server_version": short,
            "full": full,
        }),
        num,
    ))
}

/// Reads rows of text/bool/int8 columns into JSON objects keyed by column name.
fn objects(db: &mut Db, sql: &str, args: &[Arg]) -> Result<Vec<Map<String, Value>>, PgError> {
    let rows = db.query(sql, args)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut obj = Map::new();
        for (i, c) in row.columns().iter().enumerate() {
            let v = match c.type_().name() {
                "bool" => col::<Option<bool>>(row, i)?.map(Value::Bool),
                "int4" => col::<Option<i32>>(row, i)?.map(Value::from),
                "int8" => col::<Option<i64>>(row, i)?.map(Value::from),
                "_text" => col::<Option<Vec<String>>>(row, i)?.map(Value::from),
                _ => col::<Option<String>>(row, i)?.map(Value::String),
            };
            obj.insert(c.name().to_string(), v.unwrap_or(Value::Null));
        }
        out.push(obj);
    }
    Ok(out)
}

fn replication(db: &mut Db, in_recovery: bool) -> Result<Vec<Map<String, Value>>, PgError> {
    // On a standby (cascading) pg_current_wal_lsn() is not available; the lag is then measured
    // against what the standby itself has replayed.
    let head = if in_recovery {
        "pg_catalog.pg_last_wal_replay_lsn()"
    } else {
        "pg_catalog.pg_current_wal_lsn()"
    };
    objects(
        db,
        &format!(
            "SELECT pid, usename::text AS user, application_name, pg_catalog.host(client_addr) AS client_addr, state, sync_state, \
             sent_lsn::text, write_lsn::text, flush_lsn::text, replay_lsn::text, \
             pg_catalog.pg_wal_lsn_diff({head}, replay_lsn)::int8 AS replay_lag_bytes, \
             write_lag::text, flush_lag::text, replay_lag::text, backend_start::text \
             FROM pg_catalog.pg_stat_replication ORDER BY application_name, pid"
        ),
        &[],
    )
}

fn wal_receiver(db: &mut Db) -> Result<Value, PgError> {
    let rows = objects(
        db,
        "SELECT pid, status, sender_host, sender_port, slot_name, receive_start_lsn::text, written_lsn::text, flushed_lsn::text, \
         latest_end_lsn::text, pg_catalog.pg_last_wal_replay_lsn()::text AS replayed_lsn, \
         pg_catalog.pg_wal_lsn_diff(greatest(latest_end_lsn, flushed_lsn), pg_catalog.pg_last_wal_replay_lsn())::int8 AS lag_bytes, \
         last_msg_receipt_time::text, conninfo FROM pg_catalog.pg_stat_wal_receiver",
        &[],
    )?;
    Ok(rows.into_iter().next().map(Value::Object).unwrap_or(Value::Null))
}

fn slots(db: &mut Db, in_recovery: bool, num: i32) -> Result<Vec<Map<String, Value>>, PgError> {
    let retained = if in_recovery {
        "NULL::int8"
    } else {
        "pg_catalog.pg_wal_lsn_diff(pg_catalog.pg_current_wal_lsn(), restart_lsn)::int8"
    };
    let wal_status = if num >= 130000 { "wal_status::text" } else { "NULL::text" };
    objects(
        db,
        &format!(
            "SELECT slot_name AS name, slot_type::text, plugin::text, database::text, temporary, active, active_pid, \
             restart_lsn::text, confirmed_flush_lsn::text, {wal_status} AS wal_status, {retained} AS retained_bytes \
             FROM pg_catalog.pg_replication_slots ORDER BY slot_name"
        ),
        &[],
    )
}

type Settings = (Map<String, Value>, Vec<String>, Vec<String>);

fn settings(db: &mut Db, names: &[String]) -> Result<Settings, PgError> {
    let mut out = Map::new();
    let mut pending = Vec::new();
    let mut unknown = Vec::new();
    for name in names {
        let row = db.query_opt(
            "SELECT pg_catalog.current_setting(name), pending_restart FROM pg_catalog.pg_settings WHERE name = lower($1)",
            &[Arg::from(name.as_str())],
        )?;
        match row {
            None => unknown.push(name.clone()),
            Some(r) => {
                let mut value: String = col(&r, 0)?;
                if name.eq_ignore_ascii_case("primary_conninfo") {
                    value = conninfo::mask_password(&value);
                }
                if col::<bool>(&r, 1)? {
                    pending.push(name.clone());
                }
                out.insert(name.clone(), Value::String(value));
            }
        }
    }
    Ok((out, pending, unknown))
}

fn databases(db: &mut Db) -> Result<Map<String, Value>, PgError> {
    let rows = objects(
        db,
        "SELECT datname::text AS name, pg_catalog.pg_get_userbyid(datdba)::text AS owner, \
         pg_catalog.pg_encoding_to_char(encoding)::text AS encoding, datcollate::text AS lc_collate, datctype::text AS lc_ctype, \
         datistemplate AS is_template, datallowconn AS allow_connections, datconnlimit AS conn_limit, \
         CASE WHEN pg_catalog.has_database_privilege(oid, 'CONNECT') THEN pg_catalog.pg_database_size(oid) END AS size \
         FROM pg_catalog.pg_database ORDER BY datname",
        &[],
    )?;
    Ok(keyed(rows))
}

fn roles(db: &mut Db) -> Result<Map<String, Value>, PgError> {
    let rows = objects(
        db,
        "SELECT r.rolname::text AS name, r.rolcanlogin AS login, r.rolsuper AS superuser, r.rolreplication AS replication, \
         r.rolcreatedb AS createdb, r.rolcreaterole AS createrole, r.rolinherit AS inherit, r.rolbypassrls AS bypassrls, \
         r.rolconnlimit AS conn_limit, r.rolvaliduntil::text AS valid_until, \
         ARRAY(SELECT g.rolname::text FROM pg_catalog.pg_auth_members m \
           JOIN pg_catalog.pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) AS member_of \
         FROM pg_catalog.pg_roles r WHERE r.rolname !~ '^pg_' ORDER BY r.rolname",
        &[],
    )?;
    Ok(keyed(rows))
}

/// Turns rows with a `name` column into an object keyed by it.
fn keyed(rows: Vec<Map<String, Value>>) -> Map<String, Value> {
    let mut out = Map::new();
    for mut r in rows {
        if let Some(Value::String(name)) = r.remove("name") {
            out.insert(name, Value::Object(r));
        }
    }
    out
}
