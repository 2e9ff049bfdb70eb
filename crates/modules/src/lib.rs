//! Glue shared by the module binaries: turning task values into configuration-file text.
//! Parsing, protocol and file work live in the library crates; this holds only conversions.

use serde_json::Value;

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

/// The `includes` result: `"include_dir 'conf.d' (line 12)"`.
pub fn describe_includes(includes: &[pgconf::kv::Include]) -> Vec<String> {
    includes
        .iter()
        .map(|i| {
            let kind = match i.kind {
                pgconf::kv::IncludeKind::File => "include",
                pgconf::kv::IncludeKind::FileIfExists => "include_if_exists",
                pgconf::kv::IncludeKind::Directory => "include_dir",
            };
            format!("{kind} '{}' (line {})", i.path, i.line)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
