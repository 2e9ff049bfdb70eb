//! What the pgha database modules do, one module per Ansible module: the PostgreSQL ones, and
//! Pgpool-II's `pgpool_node` and `pgpool_info` ([`pgpool`], over the [`pcp`] protocol client).
//!
//! Each submodule holds a module's parameter struct (the one source of its option names) and
//! its `run` function, so a binary in `crates/modules` is one line:
//! `ansible_module::main("pg_role", pgops::role::run)`. Every SQL module's `run` follows the same shape:
//! connect ([`pgclient::Db`]), read the current state, plan the statements, decide `changed`,
//! run nothing in check mode, and return the statements in `queries` (the ones run, or the ones
//! that would run in check mode).
//!
//! A plan that changes something on a server in recovery fails with "server is a standby; this
//! needs a primary"; a plan that changes nothing succeeds on a standby too, so a play can run
//! the same task on every node.
#![deny(missing_docs)]

pub mod database;
pub mod extension;
pub mod info;
pub mod pgpool;
pub mod promote;
pub mod role;
pub mod slot;
pub mod standby;

use ansible_module::{Error, Module, Record, Response};
use pgclient::{Db, LoginParams, PgError};

/// `state`: whether the object should exist (the protocol crate's, shared by every module).
pub use ansible_module::State;

/// Connects for a module, passing connection warnings on to the module.
pub(crate) fn connect(m: &mut Module, login: &LoginParams, database: Option<&str>) -> Result<Db, Error> {
    let mut db = match database.filter(|d| !d.is_empty()) {
        Some(d) => Db::connect_to(login, d)?,
        None => Db::connect(login)?,
    };
    for w in db.take_warnings() {
        m.warn(w);
    }
    Ok(db)
}

/// Adds `queries` to the result, or to the failure, so a failed run also tells what it ran.
pub(crate) fn with_queries(db: &mut Db, result: Result<Response, Error>) -> Result<Response, Error> {
    result.record("queries", db.take_queries())
}

/// Applies a plan: fails on a standby when there is something to change, records the
/// statements, runs them unless in check mode. Returns whether anything changed (or would).
pub(crate) fn apply(m: &Module, db: &mut Db, plan: &[pgclient::Stmt], transaction: bool) -> Result<bool, PgError> {
    if plan.is_empty() {
        return Ok(false);
    }
    db.require_primary()?;
    db.apply(plan, m.check_mode, transaction)?;
    Ok(true)
}

/// `key: value` lines for a diff, in order.
pub(crate) fn diff_text(fields: &[(&str, String)]) -> String {
    let mut out = String::new();
    for (k, v) in fields {
        out.push_str(k);
        out.push_str(": ");
        out.push_str(v);
        out.push('\n');
    }
    out
}

/// A YAML-ish rendering of an optional value for diffs.
pub(crate) fn shown<T: std::fmt::Display>(v: &Option<T>) -> String {
    match v {
        Some(v) => v.to_string(),
        None => "null".to_string(),
    }
}
