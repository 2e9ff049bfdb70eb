//! pgpool.conf (Pgpool-II 4.2-4.6; the catalog is generated from 4.3.5).
//!
//! [`PgpoolConf`] is the generic [`KvFile`] with Pgpool-II's rules: key names are
//! **case-sensitive** (4.3 reads `delegate_IP`; `delegate_ip` is silently ignored there),
//! names have no `.`, a quoted string is taken as-is (no escapes, so a value cannot contain
//! `'`), and `include` is the only directive. Strings and enums are written quoted, numbers
//! and booleans bare, as the stock sample does.
//!
//! Indexed keys (`backend_hostname0`, `hostname0`, `heartbeat_port0`, ...) are written
//! together by [`PgpoolConf::set_backends`] and [`PgpoolConf::set_watchdog_nodes`], which
//! also comment out the keys of indexes past the end of the list.

use std::fmt;
use std::str::FromStr;

use crate::kv::{Applied, Dialect, Edit, IncludeKind, KvError, KvFile, Quoting, Secret, StringSyntax};
use crate::pg_params::{self, Unit};

mod keys43;
mod versions;

/// Pgpool-II's configuration-file rules (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pgpool;

impl Dialect for Pgpool {
    const NAME: &'static str = "pgpool.conf";
    const CASE_SENSITIVE: bool = true;
    const QUALIFIED_NAMES: bool = false;
    const STRINGS: StringSyntax = StringSyntax::Raw;
    const DIRECTIVES: &'static [(&'static str, IncludeKind)] = &[("include", IncludeKind::File)];

    fn normalize(name: &str, value: &str) -> String {
        match any_version(name) {
            Some((k, _)) => canonical(&k, value).unwrap_or_else(|_| value.to_string()),
            None => value.to_string(),
        }
    }

    fn secret(name: &str) -> Secret {
        // The passwords Pgpool-II logs in with (plain, md5 or AES text) and the watchdog key.
        let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
        match base {
            "health_check_password" | "sr_check_password" | "recovery_password" | "wd_lifecheck_password" | "wd_authkey" => Secret::Whole,
            _ => Secret::No,
        }
    }

    fn quoting(name: &str) -> Quoting {
        match any_version(name) {
            Some((k, _)) if matches!(k.kind, KeyType::String | KeyType::List | KeyType::Enum) => Quoting::Always,
            Some(_) => Quoting::WhenNeeded,
            None => Quoting::KeepStyle,
        }
    }
}

/// A pgpool.conf file: parse, [`get`](KvFile::get), [`set`](KvFile::set),
/// [`set_checked`](KvFile::set_checked), [`set_backends`](KvFile::set_backends),
/// [`set_watchdog_nodes`](KvFile::set_watchdog_nodes), write back with `to_string()`.
pub type PgpoolConf = KvFile<Pgpool>;

/// A Pgpool-II release series, e.g. `"4.3"` (a patch level such as `"4.3.5"` is accepted
/// and ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PgpoolVersion {
    /// 4
    pub major: u32,
    /// 3
    pub minor: u32,
}

impl PgpoolVersion {
    /// `major.minor`.
    pub const fn new(major: u32, minor: u32) -> Self {
        PgpoolVersion { major, minor }
    }
}

impl fmt::Display for PgpoolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for PgpoolVersion {
    type Err = PgpoolError;

    fn from_str(s: &str) -> Result<Self, PgpoolError> {
        let bad = || PgpoolError::BadVersion(s.to_string());
        let mut parts = s.trim().split('.');
        let major = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let minor = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        if parts.any(|p| p.parse::<u32>().is_err()) {
            return Err(bad());
        }
        Ok(PgpoolVersion { major, minor })
    }
}

/// A key's value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    /// on/off
    Bool,
    /// an integer, maybe with a unit
    Integer,
    /// a floating-point number
    Real,
    /// a string
    String,
    /// a comma-separated list in one string
    List,
    /// one of [`Key::values`] (any case)
    Enum,
}

/// One pgpool.conf key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The name, without an index.
    pub name: &'static str,
    /// The value type.
    pub kind: KeyType,
    /// Whether it takes a node index (`backend_hostname0`).
    pub indexed: bool,
    /// Whether a change needs a Pgpool-II restart (else a reload).
    pub restart: bool,
    /// The unit of bare numbers, if it takes units.
    pub unit: Option<Unit>,
    /// Enum values.
    pub values: &'static [&'static str],
    /// Smallest number allowed.
    pub min: Option<i64>,
    /// Largest number allowed.
    pub max: Option<i64>,
    /// Kept only for old files; another name is preferred.
    pub deprecated: bool,
}

/// Why a pgpool.conf edit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PgpoolError {
    /// Not a version like `4.3`.
    #[error("{0:?} is not a Pgpool-II version like \"4.3\"")]
    BadVersion(String),
    /// Outside the versions the catalog describes.
    #[error("Pgpool-II {0} is not in the catalog (4.2-4.6)")]
    UnsupportedVersion(PgpoolVersion),
    /// No version of Pgpool-II knows the key.
    #[error("unknown Pgpool-II key \"{name}\"{}", hint_text(.hint))]
    Unknown {
        /// The name given.
        name: String,
        /// A known key it resembles (names are case-sensitive).
        hint: Option<String>,
    },
    /// The value does not fit the key.
    #[error("invalid value for Pgpool-II key \"{name}\": \"{value}\" ({reason})")]
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

fn hint_text(hint: &Option<String>) -> String {
    hint.as_ref()
        .map(|h| format!(" (names are case-sensitive: did you mean \"{h}\"?)"))
        .unwrap_or_default()
}

/// Splits `backend_hostname12` into the key and its index, for the keys that are indexed.
fn split_index(name: &str) -> (&str, Option<u32>) {
    let digits = name.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits == name.len() {
        return (name, None);
    }
    let (base, idx) = name.split_at(name.len() - digits);
    match idx.parse() {
        Ok(i) => (base, Some(i)),
        Err(_) => (name, None),
    }
}

/// Every key of every version, with the versions that have it.
fn all_keys() -> impl Iterator<Item = (Key, PgpoolVersion, PgpoolVersion)> {
    keys43::KEYS_4_3
        .iter()
        .map(|k| {
            let (since, until) = versions::AVAILABILITY
                .iter()
                .find(|(n, _, _)| *n == k.name)
                .map_or((versions::FIRST, versions::LAST), |&(_, s, u)| (s, u));
            (*k, since, until)
        })
        .chain(versions::ADDED.iter().map(|&(k, since)| (k, since, versions::LAST)))
}

/// The key `name` (exact case, index allowed: `backend_port1`) in any version, and its index.
fn any_version(name: &str) -> Option<(Key, Option<u32>)> {
    find_key(name, |_, _| true)
}

fn find_key(name: &str, version_ok: impl Fn(PgpoolVersion, PgpoolVersion) -> bool) -> Option<(Key, Option<u32>)> {
    let (base, index) = split_index(name);
    all_keys().filter(|(_, s, u)| version_ok(*s, *u)).find_map(|(k, _, _)| match index {
        Some(i) if k.indexed && k.name == base => Some((k, Some(i))),
        _ if !k.indexed && k.name == name => Some((k, None)),
        _ => None,
    })
}

/// The key `name` (exact case; an index such as `backend_port1` is allowed) as Pgpool-II
/// `version` knows it, with its index. `None` when that version would ignore the name.
pub fn lookup(name: &str, version: PgpoolVersion) -> Option<(Key, Option<u32>)> {
    let (mut key, index) = find_key(name, |s, u| (s..=u).contains(&version))?;
    if version >= PgpoolVersion::new(4, 6) && versions::RELOADABLE_FROM_4_6.contains(&key.name) {
        key.restart = false;
    }
    if versions::DOC_RESTART.contains(&key.name) {
        key.restart = true;
    }
    if let Some(&(_, _, since, _)) = versions::RENAMED.iter().find(|r| r.0 == key.name) {
        key.deprecated = key.deprecated || version >= since;
    }
    Some((key, index))
}

/// Whether setting `name` from `previous` needs a Pgpool-II restart in `version` (else a
/// reload). Backends can be added by reload, but an existing backend's hostname, port or
/// data directory changes only at restart, as does removing one (`value` `None`).
pub fn restart_required(name: &str, version: PgpoolVersion, previous: Option<&str>, value: Option<&str>) -> bool {
    let Some((key, _)) = lookup(name, version) else {
        return false;
    };
    if versions::BACKEND_FIXED.contains(&key.name) {
        return previous.is_some() && previous != value;
    }
    key.restart
}

/// Checks `name = value` for Pgpool-II `version`. Returns warnings for keys that version
/// ignores or deprecates (`delegate_ip` on 4.3, `delegate_IP` on 4.4+, `socket_dir` on
/// 4.4+); fails on keys no version knows (with a hint when only the case differs) and on
/// values that do not fit the key.
pub fn validate(name: &str, value: &str, version: PgpoolVersion) -> Result<Vec<String>, PgpoolError> {
    if version < versions::FIRST || version > versions::LAST {
        return Err(PgpoolError::UnsupportedVersion(version));
    }
    let mut warnings = Vec::new();
    let key = match lookup(name, version) {
        Some((key, _)) => {
            if key.deprecated {
                let new = versions::RENAMED.iter().find(|r| r.0 == key.name).map_or("", |r| r.1);
                warnings.push(format!(
                    "Pgpool-II {version} accepts \"{name}\" only as a deprecated spelling; use \"{new}\""
                ));
            }
            key
        }
        None => {
            let Some((key, _)) = any_version(name) else {
                let (base, _) = split_index(name);
                let hint = all_keys()
                    .map(|(k, _, _)| k.name)
                    .find(|k| k.eq_ignore_ascii_case(name) || k.eq_ignore_ascii_case(base))
                    .map(str::to_string);
                return Err(PgpoolError::Unknown {
                    name: name.to_string(),
                    hint,
                });
            };
            let instead = versions::RENAMED
                .iter()
                .filter(|r| r.0 == key.name || r.1 == key.name)
                .map(|r| if r.0 == key.name { r.1 } else { r.0 })
                .find(|other| lookup(other, version).is_some());
            warnings.push(match instead {
                Some(other) => format!("Pgpool-II {version} ignores \"{name}\"; it reads \"{other}\" instead"),
                None => format!("Pgpool-II {version} does not know \"{name}\" and ignores it"),
            });
            key
        }
    };
    canonical(&key, value).map_err(|reason| PgpoolError::InvalidValue {
        name: name.to_string(),
        value: value.to_string(),
        reason,
    })?;
    Ok(warnings)
}

/// The canonical form of `value` for `key`, or why it is invalid.
fn canonical(key: &Key, value: &str) -> Result<String, String> {
    match key.kind {
        KeyType::String | KeyType::List => Ok(value.to_string()),
        KeyType::Bool => pg_params::parse_bool(value)
            .map(|b| if b { "on" } else { "off" }.to_string())
            .ok_or_else(|| "expected on or off".to_string()),
        KeyType::Enum if key.values.is_empty() => Ok(value.to_string()),
        KeyType::Enum => key
            .values
            .iter()
            .find(|v| v.eq_ignore_ascii_case(value))
            .map(|v| v.to_string())
            .ok_or_else(|| format!("one of {}", key.values.join(", "))),
        KeyType::Integer | KeyType::Real => {
            let integer = key.kind == KeyType::Integer;
            let v = pg_params::parse_number(value, integer, key.unit)?;
            let v = if integer { v.round_ties_even() } else { v };
            let below = key.min.is_some_and(|m| v < m as f64);
            let above = key.max.is_some_and(|m| v > m as f64);
            if below || above {
                return Err(format!(
                    "outside {}..{}",
                    key.min.map(|m| m.to_string()).unwrap_or_default(),
                    key.max.map(|m| m.to_string()).unwrap_or_default()
                ));
            }
            Ok(format!("{v}"))
        }
    }
}

/// One PostgreSQL backend, written as `backend_*N` keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Backend {
    /// `backend_hostnameN`
    pub hostname: String,
    /// `backend_portN`
    pub port: u16,
    /// `backend_weightN` (load-balance ratio)
    pub weight: f64,
    /// `backend_data_directoryN` (`None`: commented out)
    pub data_directory: Option<String>,
    /// `backend_flagN`, e.g. `ALLOW_TO_FAILOVER` (`None`: commented out, the default)
    pub flag: Option<String>,
    /// `backend_application_nameN` (`None`: commented out)
    pub application_name: Option<String>,
}

/// One Pgpool-II watchdog node, written as `hostnameN`, `wd_portN`, `pgpool_portN` and
/// `heartbeat_*N` keys (N is the node's `pgpool_node_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchdogNode {
    /// `hostnameN`
    pub hostname: String,
    /// `wd_portN` (9000)
    pub wd_port: u16,
    /// `pgpool_portN` (9999)
    pub pgpool_port: u16,
    /// `heartbeat_hostnameN` (`None`: commented out)
    pub heartbeat_hostname: Option<String>,
    /// `heartbeat_portN` (9694; `None`: commented out)
    pub heartbeat_port: Option<u16>,
    /// `heartbeat_deviceN` (`Some("")` for none; `None`: commented out)
    pub heartbeat_device: Option<String>,
}

/// One key changed by [`PgpoolConf::set_backends`] or
/// [`PgpoolConf::set_watchdog_nodes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChange {
    /// The key with its index, e.g. `backend_port1`.
    pub key: String,
    /// The value before (`None`: not set).
    pub previous: Option<String>,
    /// The value after (`None`: commented out).
    pub value: Option<String>,
}

/// The outcome of [`PgpoolConf::set_backends`] or [`PgpoolConf::set_watchdog_nodes`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[must_use]
pub struct IndexedChanges {
    /// Every key that changed, in order.
    pub changes: Vec<KeyChange>,
    /// Pgpool-II must restart to apply them.
    pub restart_required: bool,
    /// A reload applies them.
    pub reload_required: bool,
}

impl IndexedChanges {
    /// Whether the file changed.
    pub fn changed(&self) -> bool {
        !self.changes.is_empty()
    }
}

const BACKEND_KEYS: &[&str] = &[
    "backend_hostname",
    "backend_port",
    "backend_weight",
    "backend_data_directory",
    "backend_flag",
    "backend_application_name",
];

const WATCHDOG_KEYS: &[&str] = &[
    "hostname",
    "wd_port",
    "pgpool_port",
    "heartbeat_hostname",
    "heartbeat_port",
    "heartbeat_device",
];

impl KvFile<Pgpool> {
    /// Validates `name = value` for Pgpool-II `version` ([`validate`]), sets it, and says
    /// whether Pgpool-II needs a restart or a reload; warnings name keys the version ignores.
    pub fn set_checked(&mut self, name: &str, value: &str, version: PgpoolVersion) -> Result<Applied, PgpoolError> {
        let warnings = validate(name, value, version)?;
        let edit = self.set(name, value)?;
        let restart = restart_required(name, version, edit.previous.as_deref(), Some(value));
        let mut applied = Applied::new(edit, restart);
        applied.warnings = warnings;
        Ok(applied)
    }

    /// Writes `backend_hostnameN`, `backend_portN`, `backend_weightN`,
    /// `backend_data_directoryN`, `backend_flagN` and `backend_application_nameN` for
    /// N = 0.. in list order, and **comments out** (never deletes) every active backend key
    /// whose index is past the end of the list, and the keys of fields given as `None`. A
    /// commented-out key is uncommented again when the list grows back.
    pub fn set_backends(&mut self, backends: &[Backend], version: PgpoolVersion) -> Result<IndexedChanges, PgpoolError> {
        let rows: Vec<Vec<Option<String>>> = backends
            .iter()
            .map(|b| {
                vec![
                    Some(b.hostname.clone()),
                    Some(b.port.to_string()),
                    Some(format!("{}", b.weight)),
                    b.data_directory.clone(),
                    b.flag.clone(),
                    b.application_name.clone(),
                ]
            })
            .collect();
        self.set_indexed(BACKEND_KEYS, &rows, version)
    }

    /// Writes `hostnameN`, `wd_portN`, `pgpool_portN`, `heartbeat_hostnameN`,
    /// `heartbeat_portN` and `heartbeat_deviceN` for N = 0.. in list order and comments out
    /// the keys of indexes past the end of the list (as [`set_backends`](Self::set_backends)).
    pub fn set_watchdog_nodes(&mut self, nodes: &[WatchdogNode], version: PgpoolVersion) -> Result<IndexedChanges, PgpoolError> {
        let rows: Vec<Vec<Option<String>>> = nodes
            .iter()
            .map(|n| {
                vec![
                    Some(n.hostname.clone()),
                    Some(n.wd_port.to_string()),
                    Some(n.pgpool_port.to_string()),
                    n.heartbeat_hostname.clone(),
                    n.heartbeat_port.map(|p| p.to_string()),
                    n.heartbeat_device.clone(),
                ]
            })
            .collect();
        self.set_indexed(WATCHDOG_KEYS, &rows, version)
    }

    fn set_indexed(&mut self, keys: &[&str], rows: &[Vec<Option<String>>], version: PgpoolVersion) -> Result<IndexedChanges, PgpoolError> {
        // Check everything first so that a bad value leaves the file untouched.
        for (i, row) in rows.iter().enumerate() {
            for (key, value) in keys.iter().zip(row) {
                if let Some(v) = value {
                    validate(&format!("{key}{i}"), v, version)?;
                }
            }
        }
        let mut out = IndexedChanges::default();
        let record = |out: &mut IndexedChanges, key: String, edit: Edit, value: Option<&str>| {
            if edit.changed {
                if restart_required(&key, version, edit.previous.as_deref(), value) {
                    out.restart_required = true;
                } else {
                    out.reload_required = true;
                }
                out.changes.push(KeyChange {
                    key,
                    previous: edit.previous,
                    value: value.map(str::to_string),
                });
            }
        };
        for (i, row) in rows.iter().enumerate() {
            for (key, value) in keys.iter().zip(row) {
                let name = format!("{key}{i}");
                let edit = match value {
                    Some(v) => self.set(&name, v)?,
                    None => self.remove(&name)?,
                };
                record(&mut out, name, edit, value.as_deref());
            }
        }
        let stale: Vec<String> = self
            .settings()
            .into_iter()
            .map(|s| s.name)
            .filter(|n| {
                let (base, index) = split_index(n);
                keys.contains(&base) && index.is_some_and(|i| i as usize >= rows.len())
            })
            .collect();
        for name in stale {
            let edit = self.remove(&name)?;
            if edit.changed {
                // Dropping a backend or a watchdog node takes a restart.
                out.restart_required = true;
                out.changes.push(KeyChange {
                    key: name,
                    previous: edit.previous,
                    value: None,
                });
            }
        }
        if out.restart_required {
            out.reload_required = false;
        }
        Ok(out)
    }
}

/// Checks a `backend_flagN` value: `|`-separated flags Pgpool-II 4.x knows (Pgpool-II itself
/// only logs unknown ones, so a typo would silently allow failover).
pub fn check_backend_flag(flag: &str) -> Result<(), PgpoolError> {
    const FLAGS: &[&str] = &["ALLOW_TO_FAILOVER", "DISALLOW_TO_FAILOVER", "ALWAYS_PRIMARY"];
    match flag.split('|').map(str::trim).find(|f| !FLAGS.contains(f)) {
        Some(bad) => Err(PgpoolError::InvalidValue {
            name: "backend_flag".to_string(),
            value: bad.to_string(),
            reason: format!("one or more of {} joined by |", FLAGS.join(", ")),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
