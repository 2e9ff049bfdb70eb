//! `pg_promote`: turns a standby into a primary with `pg_promote()` and waits for it.

use crate::{connect, with_queries};
use ansible_module::{fail, Error, Module, Response, Spec};
use pgclient::{col, Db, LoginParams, Stmt};
use serde::Deserialize;

/// The parameters of `pg_promote`.
#[derive(Debug, Clone, Deserialize)]
pub struct PromoteParams {
    /// Wait until the promotion has finished.
    #[serde(default = "yes")]
    pub wait: bool,
    /// How long to wait, in seconds.
    #[serde(default = "default_wait_seconds")]
    pub wait_seconds: i32,
}

fn yes() -> bool {
    true
}

fn default_wait_seconds() -> i32 {
    60
}

impl Spec for PromoteParams {
    const ALIASES: &'static [(&'static str, &'static str)] = &[("timeout", "wait_seconds")];
}

/// Runs `pg_promote`.
pub fn run(m: &mut Module, (login, p): (LoginParams, PromoteParams)) -> Result<Response, Error> {
    if p.wait_seconds < 1 {
        return Err(fail!("wait_seconds must be at least 1, got {}", p.wait_seconds));
    }
    let mut db = connect(m, &login, None)?;
    let result = promote(m, &mut db, &p);
    with_queries(&mut db, result)
}

fn promote(m: &mut Module, db: &mut Db, p: &PromoteParams) -> Result<Response, Error> {
    if !db.in_recovery()? {
        return Ok(Response::new(false)
            .msg(format!("{} is already a primary", db.target()))
            .with("in_recovery", false));
    }
    let stmt = Stmt::new("SELECT pg_catalog.pg_promote($1, $2)").arg(p.wait).arg(p.wait_seconds);
    if m.check_mode {
        db.apply(std::slice::from_ref(&stmt), true, false)?;
        return Ok(Response::new(true)
            .msg(format!("{} is a standby and would be promoted", db.target()))
            .with("in_recovery", true));
    }
    let rows = db.run_query(&stmt)?;
    let done: bool = match rows.first() {
        Some(r) => col(r, 0)?,
        None => false,
    };
    if p.wait && !done {
        return Err(fail!(
            "{} was asked to promote but is still in recovery after {} s; see its server log",
            db.target(),
            p.wait_seconds
        )
        .with("in_recovery", true));
    }
    let in_recovery = if p.wait { db.in_recovery()? } else { true };
    let msg = if p.wait {
        format!("{} promoted: it is now a primary", db.target())
    } else {
        format!("{} asked to promote (not waited for)", db.target())
    };
    Ok(Response::new(true).msg(msg).with("in_recovery", in_recovery))
}
