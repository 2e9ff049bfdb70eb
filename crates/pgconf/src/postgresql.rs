//! postgresql.conf (and postgresql.auto.conf, conf.d/*.conf).
//!
//! [`PostgresqlConf`] is the generic [`KvFile`] with PostgreSQL's rules: names are
//! case-insensitive, may be qualified by an extension prefix (`repmgr.x`), strings escape
//! with `''` and backslashes, `include`, `include_if_exists` and `include_dir` are
//! directives, and two values are the same when [`pg_params::normalize`] says so
//! (`port = 5432` and `port = '5432'`, `on` and `true`, `128MB` and `131072kB`).
//!
//! ```
//! use pgconf::postgresql::PostgresqlConf;
//!
//! let mut conf = PostgresqlConf::parse("#wal_level = replica\t\t# minimal, replica, or logical\n");
//! let edit = conf.set("wal_level", "logical").unwrap();
//! assert!(edit.changed);
//! assert_eq!(conf.to_string(), "wal_level = logical\t\t# minimal, replica, or logical\n");
//! ```

use crate::kv::{Applied, Dialect, IncludeKind, KvFile, Quoting, Secret, StringSyntax};
use crate::pg_params::{self, ParamError};

/// PostgreSQL's configuration-file rules (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Postgresql;

impl Dialect for Postgresql {
    const NAME: &'static str = "postgresql.conf";
    const CASE_SENSITIVE: bool = false;
    const QUALIFIED_NAMES: bool = true;
    const STRINGS: StringSyntax = StringSyntax::Escaped;
    const DIRECTIVES: &'static [(&'static str, IncludeKind)] = &[
        ("include", IncludeKind::File),
        ("include_if_exists", IncludeKind::FileIfExists),
        ("include_dir", IncludeKind::Directory),
    ];

    fn normalize(name: &str, value: &str) -> String {
        pg_params::normalize(name, value)
    }

    fn secret(name: &str) -> Secret {
        if name.eq_ignore_ascii_case("primary_conninfo") {
            Secret::Conninfo
        } else {
            Secret::No
        }
    }

    fn quoting(_name: &str) -> Quoting {
        Quoting::KeepStyle
    }
}

/// A postgresql.conf file: parse, [`get`](KvFile::get), [`set`](KvFile::set),
/// [`remove`](KvFile::remove), write back with `to_string()`.
pub type PostgresqlConf = KvFile<Postgresql>;

/// Why [`PostgresqlConf::set_checked`] refused a setting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PostgresqlError {
    /// PostgreSQL would reject the setting.
    #[error(transparent)]
    Param(#[from] ParamError),
    /// The file could not take the edit.
    #[error(transparent)]
    Edit(#[from] crate::kv::KvError),
}

impl KvFile<Postgresql> {
    /// Validates `name = value` for PostgreSQL `major` ([`pg_params::validate`]), sets it,
    /// and says whether the server needs a restart or a reload to apply it (neither when
    /// nothing changed).
    pub fn set_checked(&mut self, name: &str, value: &str, major: u32) -> Result<Applied, PostgresqlError> {
        pg_params::validate(name, value, major)?;
        let edit = self.set(name, value)?;
        Ok(Applied::new(edit, pg_params::restart_required(name, major)))
    }

    /// Comments out `name` (so the built-in default applies) and says whether a restart or
    /// a reload is needed.
    pub fn remove_checked(&mut self, name: &str, major: u32) -> Result<Applied, PostgresqlError> {
        let edit = self.remove(name)?;
        Ok(Applied::new(edit, pg_params::restart_required(name, major)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncomments_the_stock_default_keeping_its_comment() {
        let text = "#wal_level = replica\t\t\t# minimal, replica, or logical\n\t\t\t\t\t# (change requires restart)\n";
        let mut c = PostgresqlConf::parse(text);
        assert_eq!(c.get("wal_level"), None);
        let a = c.set_checked("wal_level", "logical", 15).unwrap();
        assert!(a.edit.changed && a.restart_required && !a.reload_required);
        assert_eq!(
            c.to_string(),
            "wal_level = logical\t\t\t# minimal, replica, or logical\n\t\t\t\t\t# (change requires restart)\n"
        );
    }

    #[test]
    fn same_value_in_another_spelling_is_no_change() {
        let text = "port = '5432'\nshared_buffers = 128MB  # x\nhot_standby = true\nwal_level = Replica\n";
        let mut c = PostgresqlConf::parse(text);
        for (n, v) in [
            ("port", "5432"),
            ("shared_buffers", "131072kB"),
            ("SHARED_BUFFERS", "16384"),
            ("hot_standby", "on"),
            ("wal_level", "hot_standby"),
        ] {
            let e = c.set(n, v).unwrap();
            assert!(!e.changed, "{n} = {v}");
        }
        assert_eq!(c.to_string(), text);
    }

    #[test]
    fn update_keeps_spacing_quotes_and_comment() {
        let mut c = PostgresqlConf::parse("  listen_addresses='localhost'   # what IP\r\n");
        let e = c.set("listen_addresses", "*").unwrap();
        assert_eq!(e.previous.as_deref(), Some("localhost"));
        assert_eq!(c.to_string(), "  listen_addresses='*'   # what IP\r\n");
        let mut c = PostgresqlConf::parse("max_wal_senders 10");
        assert!(c.set("max_wal_senders", "20").unwrap().changed);
        assert_eq!(c.to_string(), "max_wal_senders 20");
    }

    #[test]
    fn reload_for_user_context() {
        let mut c = PostgresqlConf::parse("");
        let a = c.set_checked("work_mem", "64MB", 15).unwrap();
        assert!(a.reload_required && !a.restart_required);
        assert_eq!(c.to_string(), "work_mem = 64MB\n");
        let a = c.set_checked("work_mem", "65536", 15).unwrap();
        assert!(!a.edit.changed && !a.reload_required);
    }

    #[test]
    fn checked_rejects_bad_values_and_leaves_file() {
        let mut c = PostgresqlConf::parse("a = 1\n");
        assert!(c.set_checked("wal_level", "bogus", 15).is_err());
        assert!(c.set_checked("wal_keep_segments", "8", 15).is_err());
        assert!(c.set_checked("no_such_thing", "1", 15).is_err());
        assert_eq!(c.to_string(), "a = 1\n");
        assert!(c.set_checked("wal_keep_segments", "8", 12).is_ok());
    }

    #[test]
    fn remove_comments_out_all_and_reports_restart() {
        let mut c = PostgresqlConf::parse("port = 1\nPORT = 2\n");
        let a = c.remove_checked("port", 15).unwrap();
        assert_eq!(a.edit.previous.as_deref(), Some("2"));
        assert!(a.restart_required);
        assert_eq!(c.to_string(), "#port = 1\n#PORT = 2\n");
        assert_eq!(c.get("port"), None);
    }

    #[test]
    fn includes_are_listed_not_settings() {
        let c = PostgresqlConf::parse("include_dir = 'conf.d'\nInclude 'x.conf'\ninclude_if_exists = y\n");
        let inc = c.includes();
        assert_eq!(inc.len(), 3);
        assert_eq!(inc[0].kind, IncludeKind::Directory);
        assert_eq!(inc[1].path, "x.conf");
        assert_eq!(inc[2].line, 3);
        assert!(c.settings().is_empty());
        let mut c = c;
        assert!(c.set("include_dir", "x").is_err());
    }
}
