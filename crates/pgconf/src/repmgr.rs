//! repmgr.conf (repmgr 5.3).
//!
//! [`RepmgrConf`] is the generic [`KvFile`] with repmgr's rules: repmgr 5 parses its file
//! with a copy of PostgreSQL's lexer (so `key=value`, `key = 'value'`, `''` and backslash
//! escapes), but looks names up case-sensitively and follows no include directives. Strings
//! are written in single quotes and integers and booleans bare, as repmgr's documentation
//! asks. Keys and their types are those of repmgr 5.3.3's `configdata.c`.
//!
//! ```
//! use pgconf::repmgr::RepmgrConf;
//!
//! let mut conf = RepmgrConf::parse("#node_id=\t\t\t # A unique integer greater than zero\n");
//! conf.set_checked("node_id", "1").unwrap();
//! conf.set_checked("node_name", "postgres1").unwrap();
//! assert_eq!(
//!     conf.to_string(),
//!     "node_id=1\t\t\t # A unique integer greater than zero\nnode_name = 'postgres1'\n"
//! );
//! ```

use crate::kv::{Applied, Dialect, IncludeKind, KvError, KvFile, Quoting, Secret, StringSyntax};

/// repmgr's configuration-file rules (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repmgr;

impl Dialect for Repmgr {
    const NAME: &'static str = "repmgr.conf";
    const CASE_SENSITIVE: bool = true;
    const QUALIFIED_NAMES: bool = true;
    const STRINGS: StringSyntax = StringSyntax::Escaped;
    const DIRECTIVES: &'static [(&'static str, IncludeKind)] = &[];

    fn normalize(name: &str, value: &str) -> String {
        match key(name) {
            Some(k) => canonical(k, value).unwrap_or_else(|_| value.to_string()),
            None => value.to_string(),
        }
    }

    fn secret(name: &str) -> Secret {
        if name == "conninfo" {
            Secret::Conninfo
        } else {
            Secret::No
        }
    }

    fn quoting(name: &str) -> Quoting {
        match key(name).map(|k| k.kind) {
            Some(RepmgrType::Int { .. } | RepmgrType::Bool) => Quoting::WhenNeeded,
            _ => Quoting::Always,
        }
    }
}

/// A repmgr.conf file: parse, [`get`](KvFile::get), [`set`](KvFile::set),
/// [`set_checked`](KvFile::set_checked), write back with `to_string()`.
pub type RepmgrConf = KvFile<Repmgr>;

/// A repmgr.conf value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepmgrType {
    /// A 32-bit integer of at least `min`.
    Int {
        /// The smallest allowed value.
        min: i32,
    },
    /// `true/false/on/off/yes/no/1/0` (no prefixes, unlike PostgreSQL).
    Bool,
    /// Any string up to `max_len` bytes.
    String {
        /// The longest allowed value in bytes.
        max_len: usize,
    },
    /// One of the values; `case_sensitive` as repmgr compares them.
    Enum {
        /// The allowed values.
        values: &'static [&'static str],
        /// Whether `Automatic` differs from `automatic`.
        case_sensitive: bool,
    },
    /// A time: a non-negative integer with an optional `ms`, `s`, `min`, `h` or `d`.
    Interval,
}

/// One repmgr.conf key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepmgrKey {
    /// The name.
    pub name: &'static str,
    /// Its value type.
    pub kind: RepmgrType,
    /// Whether a running repmgrd picks a change up on reload (SIGHUP); otherwise repmgrd
    /// must restart (the `repmgr` command reads the file every time it runs).
    pub reloadable: bool,
}

const MAXLEN: usize = 1023;
const STR: RepmgrType = RepmgrType::String { max_len: MAXLEN };
const BOOL: RepmgrType = RepmgrType::Bool;

const fn k(name: &'static str, kind: RepmgrType) -> RepmgrKey {
    RepmgrKey {
        name,
        kind,
        reloadable: false,
    }
}

const fn r(name: &'static str, kind: RepmgrType) -> RepmgrKey {
    RepmgrKey {
        name,
        kind,
        reloadable: true,
    }
}

const fn int(min: i32) -> RepmgrType {
    RepmgrType::Int { min }
}

/// The repmgr 5.3.3 keys (`configdata.c`), in its order; `r` marks what `reload_config()`
/// re-reads in repmgrd.
#[rustfmt::skip]
static KEYS: &[RepmgrKey] = &[
    // node information
    k("node_id", int(1)),
    k("node_name", RepmgrType::String { max_len: 63 }),
    r("conninfo", STR),
    k("replication_user", RepmgrType::String { max_len: 63 }),
    k("data_directory", STR),
    k("config_directory", STR),
    k("pg_bindir", STR),
    k("repmgr_bindir", STR),
    k("replication_type", RepmgrType::Enum { values: &["physical"], case_sensitive: false }),
    // logging
    r("log_level", RepmgrType::Enum {
        values: &["DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "ALERT", "CRIT", "EMERG"],
        case_sensitive: false,
    }),
    r("log_facility", RepmgrType::Enum {
        values: &["STDERR", "LOCAL0", "LOCAL1", "LOCAL2", "LOCAL3", "LOCAL4", "LOCAL5", "LOCAL6", "LOCAL7", "USER"],
        case_sensitive: false,
    }),
    r("log_file", STR),
    r("log_status_interval", int(0)),
    // standby clone
    k("use_replication_slots", BOOL),
    k("pg_basebackup_options", STR),
    k("restore_command", STR),
    k("tablespace_mapping", STR), // may repeat; each line adds a mapping
    k("recovery_min_apply_delay", RepmgrType::Interval),
    k("archive_cleanup_command", STR),
    k("use_primary_conninfo_password", BOOL),
    k("passfile", STR),
    // standby promote / follow / switchover / rejoin / node check
    k("promote_check_timeout", int(1)),
    k("promote_check_interval", int(1)),
    k("primary_follow_timeout", int(1)),
    k("standby_follow_timeout", int(1)),
    k("standby_follow_restart", BOOL),
    k("shutdown_check_timeout", int(1)),
    k("standby_reconnect_timeout", int(1)),
    k("wal_receive_check_timeout", int(1)),
    k("node_rejoin_timeout", int(1)),
    k("archive_ready_warning", int(1)),
    k("archive_ready_critical", int(1)),
    k("replication_lag_warning", int(1)),
    k("replication_lag_critical", int(1)),
    k("witness_sync_interval", int(1)),
    // repmgrd
    r("failover", RepmgrType::Enum { values: &["automatic", "manual"], case_sensitive: true }),
    k("location", STR),
    k("priority", int(0)),
    r("promote_command", STR),
    r("follow_command", STR),
    r("monitor_interval_secs", int(1)),
    r("reconnect_attempts", int(0)),
    r("reconnect_interval", int(0)),
    r("monitoring_history", BOOL),
    r("degraded_monitoring_timeout", int(-1)),
    r("async_query_timeout", int(0)),
    r("primary_notification_timeout", int(0)),
    r("repmgrd_standby_startup_timeout", int(0)),
    k("repmgrd_pid_file", STR),
    k("repmgrd_exit_on_inactive_node", BOOL),
    r("standby_disconnect_on_failover", BOOL),
    r("sibling_nodes_disconnect_timeout", int(0)),
    r("connection_check_type", RepmgrType::Enum { values: &["ping", "connection", "query"], case_sensitive: false }),
    r("primary_visibility_consensus", BOOL),
    r("always_promote", BOOL),
    r("failover_validation_command", STR),
    k("election_rerun_interval", int(1)),
    r("child_nodes_check_interval", int(1)),
    r("child_nodes_disconnect_min_count", int(-1)),
    r("child_nodes_connected_min_count", int(-1)),
    r("child_nodes_connected_include_witness", BOOL),
    r("child_nodes_disconnect_timeout", int(0)),
    r("child_nodes_disconnect_command", STR),
    // service commands
    k("pg_ctl_options", STR),
    k("service_start_command", STR),
    k("service_stop_command", STR),
    k("service_restart_command", STR),
    k("service_reload_command", STR),
    k("service_promote_command", STR),
    k("repmgrd_service_start_command", STR),
    k("repmgrd_service_stop_command", STR),
    // event notifications
    r("event_notification_command", STR),
    r("event_notifications", STR), // comma-separated event names
    // barman
    k("barman_host", STR),
    k("barman_server", STR),
    k("barman_config", STR),
    // rsync / ssh
    k("rsync_options", STR),
    k("ssh_options", STR),
    // undocumented / experimental
    k("reconnect_loop_sync", BOOL),
    r("promote_delay", int(1)),
    k("failover_delay", int(1)),
    k("connection_check_query", STR),
];

/// Names repmgr 5 still recognises only to say what replaced them.
static RENAMED: &[(&str, &str)] = &[
    ("node", "node_id"),
    ("loglevel", "log_level"),
    ("logfacility", "log_facility"),
    ("logfile", "log_file"),
    ("master_reponse_timeout", "async_query_timeout"),
    ("retry_promote_interval_secs", "primary_notification_timeout"),
];

/// Why a repmgr.conf setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepmgrError {
    /// repmgr 5.3 has no such key.
    #[error("unknown repmgr.conf key \"{name}\"{}", replaced_by(.replacement))]
    Unknown {
        /// The name given.
        name: String,
        /// The key that replaced it, for a pre-5 name.
        replacement: Option<&'static str>,
    },
    /// The value does not fit the key.
    #[error("invalid value for repmgr.conf key \"{name}\": \"{value}\" ({reason})")]
    InvalidValue {
        /// The key.
        name: String,
        /// The value given.
        value: String,
        /// What would be valid.
        reason: String,
    },
    /// The file could not take the edit.
    #[error(transparent)]
    Edit(#[from] KvError),
}

fn replaced_by(r: &Option<&'static str>) -> String {
    r.map(|n| format!(" (it is now \"{n}\")")).unwrap_or_default()
}

/// The repmgr 5.3 key `name` (case-sensitive).
pub fn key(name: &str) -> Option<&'static RepmgrKey> {
    KEYS.iter().find(|k| k.name == name)
}

/// Every repmgr 5.3 key.
pub fn keys() -> &'static [RepmgrKey] {
    KEYS
}

/// Checks `name = value` (unquoted) as repmgr 5.3 would.
pub fn validate(name: &str, value: &str) -> Result<(), RepmgrError> {
    let Some(k) = key(name) else {
        return Err(RepmgrError::Unknown {
            name: name.to_string(),
            replacement: RENAMED.iter().find(|(o, _)| *o == name).map(|(_, n)| *n),
        });
    };
    canonical(k, value).map(|_| ()).map_err(|reason| RepmgrError::InvalidValue {
        name: name.to_string(),
        value: value.to_string(),
        reason,
    })
}

/// The canonical form of a value, or why it is invalid.
fn canonical(k: &RepmgrKey, value: &str) -> Result<String, String> {
    match k.kind {
        RepmgrType::Int { min } => {
            let v: i32 = value.trim().parse().map_err(|_| "expected a 32-bit integer".to_string())?;
            if v < min {
                return Err(format!("must be {min} or greater"));
            }
            Ok(v.to_string())
        }
        RepmgrType::Bool => match value.to_ascii_lowercase().as_str() {
            "1" | "true" | "on" | "yes" => Ok("true".to_string()),
            "0" | "false" | "off" | "no" => Ok("false".to_string()),
            _ => Err("expected true/false, on/off, yes/no or 1/0".to_string()),
        },
        RepmgrType::String { max_len } => {
            if value.len() > max_len {
                Err(format!("longer than {max_len} bytes"))
            } else {
                Ok(value.to_string())
            }
        }
        RepmgrType::Enum { values, case_sensitive } => values
            .iter()
            .find(|v| {
                if case_sensitive {
                    **v == value
                } else {
                    v.eq_ignore_ascii_case(value)
                }
            })
            .map(|v| v.to_string())
            .ok_or_else(|| format!("one of {}", values.join(", "))),
        RepmgrType::Interval => {
            let digits = value.bytes().take_while(u8::is_ascii_digit).count();
            let unit = &value[digits..];
            if digits == 0 || !["", "ms", "s", "min", "h", "d"].contains(&unit) {
                return Err("a non-negative integer with an optional ms, s, min, h or d".into());
            }
            Ok(value.to_string())
        }
    }
}

impl KvFile<Repmgr> {
    /// Validates `name = value` ([`validate`]) and sets it. `restart_required` means a
    /// running repmgrd must restart to see the change, `reload_required` that a reload
    /// (SIGHUP) is enough.
    pub fn set_checked(&mut self, name: &str, value: &str) -> Result<Applied, RepmgrError> {
        validate(name, value)?;
        let edit = self.set(name, value)?;
        let reloadable = key(name).is_some_and(|k| k.reloadable);
        Ok(Applied::new(edit, !reloadable))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_quoting() {
        let mut c = RepmgrConf::parse("");
        for (n, v) in [
            ("node_id", "1"),
            ("node_name", "postgres1"),
            ("use_replication_slots", "yes"),
            ("failover", "automatic"),
            ("reconnect_attempts", "4"),
            ("recovery_min_apply_delay", "5min"),
            ("log_level", "info"),
        ] {
            assert!(c.set_checked(n, v).unwrap().edit.changed, "{n}");
        }
        assert_eq!(
            c.to_string(),
            "node_id = 1\nnode_name = 'postgres1'\nuse_replication_slots = yes\n\
             failover = 'automatic'\nreconnect_attempts = 4\nrecovery_min_apply_delay = '5min'\n\
             log_level = 'info'\n"
        );
        // Same meaning, no change.
        for (n, v) in [("use_replication_slots", "on"), ("node_id", "1"), ("log_level", "INFO")] {
            assert!(!c.set_checked(n, v).unwrap().edit.changed, "{n}");
        }
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        assert!(matches!(
            validate("loglevel", "INFO"),
            Err(RepmgrError::Unknown {
                replacement: Some("log_level"),
                ..
            })
        ));
        assert!(validate("Node_id", "1").is_err(), "case-sensitive");
        assert!(validate("node_id", "0").is_err());
        assert!(validate("node_id", "x").is_err());
        assert!(validate("failover", "Automatic").is_err());
        assert!(validate("connection_check_type", "PING").is_ok());
        assert!(validate("use_replication_slots", "y").is_err());
        assert!(validate("node_name", &"x".repeat(64)).is_err());
        assert!(validate("recovery_min_apply_delay", "5 min").is_err());
        assert!(validate("degraded_monitoring_timeout", "-1").is_ok());
    }

    #[test]
    fn reload_or_restart_of_repmgrd() {
        let mut c = RepmgrConf::parse("reconnect_attempts=6\nnode_id=1\n");
        let a = c.set_checked("reconnect_attempts", "4").unwrap();
        assert!(a.reload_required && !a.restart_required);
        let a = c.set_checked("node_id", "2").unwrap();
        assert!(a.restart_required);
        assert_eq!(c.to_string(), "reconnect_attempts=4\nnode_id=2\n");
    }

    #[test]
    fn seed_style_quoted_and_bare_values() {
        let c = RepmgrConf::parse("node_id=1\nnode_name='primary'\nconninfo ='host=a user=''x'''\n");
        assert_eq!(c.get("conninfo").as_deref(), Some("host=a user='x'"));
        assert_eq!(c.get("node_name").as_deref(), Some("primary"));
        assert!(c.includes().is_empty());
        assert!(c.issues().is_empty());
    }
}
