//! `pg_slot`: a physical or logical replication slot.
//!
//! Physical slots can be made on a standby too (for cascading replication), so only a logical
//! slot insists on a primary. Slot names and plugins are bound parameters of
//! `pg_create_*_replication_slot()`.

use crate::{connect, with_queries, State};
use ansible_module::{fail, Diff, Error, Module, Response, Spec};
use pgclient::{col, Arg, Db, LoginParams, PgError, Stmt};
use serde::Deserialize;

/// `slot_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlotType {
    /// For streaming replication (a standby, pg_basebackup, pg_receivewal).
    #[default]
    Physical,
    /// For logical decoding through an output plugin.
    Logical,
}

impl SlotType {
    fn name(self) -> &'static str {
        match self {
            SlotType::Physical => "physical",
            SlotType::Logical => "logical",
        }
    }
}

/// The parameters of `pg_slot`.
#[derive(Debug, Clone, Deserialize)]
pub struct SlotParams {
    /// The slot.
    pub name: String,
    /// `physical` or `logical`.
    #[serde(default)]
    pub slot_type: SlotType,
    /// Output plugin of a logical slot.
    #[serde(default = "default_plugin")]
    pub output_plugin: String,
    /// Reserve WAL at once (physical slots).
    #[serde(default)]
    pub immediately_reserve: bool,
    /// Whether the slot exists.
    #[serde(default)]
    pub state: State,
    /// Database of a logical slot (default: `login_db`, or `postgres`).
    pub db: Option<String>,
}

fn default_plugin() -> String {
    "test_decoding".to_string()
}

impl Spec for SlotParams {
    const ALIASES: &'static [(&'static str, &'static str)] = &[("slot_name", "name"), ("plugin", "output_plugin")];
}

#[derive(Debug, Clone)]
struct Current {
    slot_type: String,
    plugin: Option<String>,
    database: Option<String>,
    active_pid: Option<i32>,
}

fn read(db: &mut Db, name: &str) -> Result<Option<Current>, PgError> {
    let Some(row) = db.query_opt(
        "SELECT slot_type::text, plugin::text, database::text, active_pid FROM pg_catalog.pg_replication_slots WHERE slot_name = $1",
        &[Arg::from(name)],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(Current {
        slot_type: col(&row, 0)?,
        plugin: col(&row, 1)?,
        database: col(&row, 2)?,
        active_pid: col(&row, 3)?,
    }))
}

/// Checks a slot name the way the server does: lower-case letters, digits and `_`, at most 63.
fn check_slot_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.len() > 63 || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return Err(fail!(
            "replication slot name {name:?} is not valid: use 1 to 63 lower-case letters, digits and underscores"
        ));
    }
    Ok(())
}

/// Runs `pg_slot`.
pub fn run(m: &mut Module, (login, p): (LoginParams, SlotParams)) -> Result<Response, Error> {
    check_slot_name(&p.name)?;
    let mut db = connect(m, &login, p.db.as_deref())?;
    let result = plan_and_apply(m, &mut db, &p);
    with_queries(&mut db, result)
}

fn plan_and_apply(m: &mut Module, db: &mut Db, p: &SlotParams) -> Result<Response, Error> {
    let current = read(db, &p.name)?;
    let stmt = match (p.state, &current) {
        (State::Absent, None) => None,
        (State::Absent, Some(c)) => {
            if let Some(pid) = c.active_pid {
                return Err(fail!(
                    "replication slot {} is in use by the process {pid} (a standby or another consumer); stop it before dropping the slot",
                    p.name
                ));
            }
            Some(Stmt::new("SELECT pg_catalog.pg_drop_replication_slot($1)").arg(p.name.as_str()))
        }
        (State::Present, None) => Some(match p.slot_type {
            SlotType::Physical => Stmt::new("SELECT pg_catalog.pg_create_physical_replication_slot($1, $2)")
                .arg(p.name.as_str())
                .arg(p.immediately_reserve),
            SlotType::Logical => Stmt::new("SELECT pg_catalog.pg_create_logical_replication_slot($1, $2)")
                .arg(p.name.as_str())
                .arg(p.output_plugin.as_str()),
        }),
        (State::Present, Some(c)) => {
            if c.slot_type != p.slot_type.name() {
                return Err(fail!(
                    "replication slot {} exists as a {} slot, not {}; drop it (state: absent) to re-create it",
                    p.name,
                    c.slot_type,
                    p.slot_type.name()
                ));
            }
            if p.slot_type == SlotType::Logical && c.plugin.as_deref() != Some(p.output_plugin.as_str()) {
                return Err(fail!(
                    "logical replication slot {} uses the plugin {}, not {}; drop it (state: absent) to re-create it",
                    p.name,
                    c.plugin.as_deref().unwrap_or("?"),
                    p.output_plugin
                ));
            }
            None
        }
    };
    let changed = stmt.is_some();
    if let Some(s) = &stmt {
        // Physical slots may live on a standby (cascading); logical ones cannot before PG 16.
        if p.slot_type == SlotType::Logical && p.state == State::Present && db.in_recovery()? && db.server_version_num()? < 160000 {
            return Err(PgError::Standby(db.target().to_string()).into());
        }
        db.apply(std::slice::from_ref(s), m.check_mode, false)?;
    }
    let exists = match p.state {
        State::Present => true,
        State::Absent => false,
    };
    let verb = match (changed, exists, m.check_mode) {
        (false, _, _) => "is as wanted",
        (true, true, false) => "created",
        (true, true, true) => "would be created",
        (true, false, false) => "dropped",
        (true, false, true) => "would be dropped",
    };
    let mut resp = Response::new(changed)
        .msg(format!("replication slot {} {verb}", p.name))
        .with("slot", &p.name)
        .with(
            "slot_type",
            current
                .as_ref()
                .map(|c| c.slot_type.clone())
                .unwrap_or_else(|| p.slot_type.name().to_string()),
        )
        .with("state", if exists { "present" } else { "absent" });
    if let Some(d) = current.as_ref().and_then(|c| c.database.clone()) {
        resp.set("database", d);
    }
    if m.diff && changed {
        let show = |present: bool| {
            if present {
                format!("name: {}\nslot_type: {}\n", p.name, p.slot_type.name())
            } else {
                String::new()
            }
        };
        resp.diff(Diff {
            before: show(current.is_some()),
            after: show(exists),
            before_header: Some(format!("replication slot {}", p.name)),
            after_header: Some(format!("replication slot {}", p.name)),
        });
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_names_follow_the_server_rules() {
        assert!(check_slot_name("standby_2").is_ok());
        assert!(check_slot_name("Standby").is_err());
        assert!(check_slot_name("a-b").is_err());
        assert!(check_slot_name("").is_err());
        assert!(check_slot_name(&"a".repeat(64)).is_err());
    }
}
