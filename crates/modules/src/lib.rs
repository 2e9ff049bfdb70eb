//! The pgha.cluster modules that edit files (`pg_hba`, `pgpool_config`, `pool_passwd`,
//! `pgpass`, `pg_config`, `repmgr_config`), and the glue they share: the file-module flow
//! ([`file_module`]) and turning task values into configuration-file text. Parsing and
//! editing the formats is `pgconf`'s; the module protocol and safe file access are
//! `ansible_module`'s. One binary, `pgha` (`src/bin/pgha.rs`), runs every module of the
//! collection by name ([`multicall`]).

#![deny(missing_docs)]

use serde_json::Value;

pub mod file_module;
pub mod multicall;
pub mod pg_config;
pub mod pg_hba;
pub mod pgpass;
pub mod pgpool_config;
pub mod pool_passwd;
pub mod repmgr_config;

#[cfg(test)]
mod testing;

/// A task value as a configuration-file value: YAML booleans become `on`/`off` (what
/// PostgreSQL and Pgpool-II write), numbers their decimal text, strings stay as they are.
pub fn conf_value(name: &str, v: &Value) -> Result<String, ansible_module::Error> {
    match v {
        Value::Bool(true) => Ok("on".into()),
        Value::Bool(false) => Ok("off".into()),
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(s.clone()),
        Value::Null => Err(ansible_module::fail!("{name}: a value is required (null given)")),
        Value::Array(items) => items
            .iter()
            .map(|i| conf_value(name, i))
            .collect::<Result<Vec<_>, _>>()
            .map(|parts| parts.join(",")),
        Value::Object(_) => Err(ansible_module::fail!("{name}: a setting's value cannot be a dict")),
    }
}

/// The `includes` result of every file module: `"include_dir 'conf.d' (line 12)"`, from
/// `(kind, path, line)` of each directive.
pub fn describe_includes<'a>(includes: impl IntoIterator<Item = (pgconf::edit::IncludeKind, &'a str, usize)>) -> Vec<String> {
    includes
        .into_iter()
        .map(|(kind, path, line)| format!("{} '{path}' (line {line})", kind.directive()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pgconf::edit::IncludeKind;
    use serde_json::json;

    #[test]
    fn values_render_like_a_dba_writes_them() {
        assert_eq!(conf_value("x", &json!(true)).unwrap(), "on");
        assert_eq!(conf_value("x", &json!(10)).unwrap(), "10");
        assert_eq!(
            conf_value("x", &json!(["repmgr", "pg_stat_statements"])).unwrap(),
            "repmgr,pg_stat_statements"
        );
        assert!(conf_value("x", &json!(null)).is_err());
    }

    #[test]
    fn includes_read_as_the_directive() {
        assert_eq!(
            describe_includes([(IncludeKind::Directory, "conf.d", 3), (IncludeKind::FileIfExists, "x.conf", 4)]),
            ["include_dir 'conf.d' (line 3)", "include_if_exists 'x.conf' (line 4)"]
        );
    }
}
