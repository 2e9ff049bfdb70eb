//! `repmgr_config`: keys of repmgr.conf (repmgr 5.3), with repmgr's quoting (see
//! collection/plugins/modules/repmgr_config.yml).

use crate::file_module::Settings;
use ansible_module::file::FileDefaults;
use ansible_module::{fail, Error, FileParams, ManagedFile, Module, Response, Spec, State};
use pgconf::repmgr::{self, Repmgr};
use serde::Deserialize;
use serde_json::{Map, Value};

/// The module's own parameters (the file's are [`FileParams`]).
#[derive(Deserialize)]
pub struct Params {
    settings: Map<String, Value>,
    #[serde(default)]
    state: State,
}

impl Spec for Params {}

const DEFAULTS: FileDefaults = FileDefaults { create: true, mode: 0o640 };

/// A task value as repmgr.conf text: booleans `true`/`false` (repmgr's own spelling), numbers
/// their decimal text, strings as they are (quoting is the file editor's job).
fn repmgr_value(name: &str, v: &Value) -> Result<String, Error> {
    match v {
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(s.clone()),
        Value::Null => Err(fail!("{name}: a value is required (null given)")),
        Value::Array(_) | Value::Object(_) => Err(fail!("{name}: a repmgr.conf value must be a string, number or boolean")),
    }
}

/// Runs the module.
pub fn run(m: &mut Module, (file, p): (FileParams, Params)) -> Result<Response, Error> {
    let wanted: Vec<(String, Option<String>)> = p
        .settings
        .iter()
        .map(|(k, v)| match p.state {
            State::Absent => Ok((k.clone(), None)),
            State::Present => repmgr_value(k, v).map(|s| (k.clone(), Some(s))),
        })
        .collect::<Result<_, _>>()?;
    Settings::<Repmgr>::hide(m, &wanted);
    // Check every key (and value) before the file is touched.
    for (name, value) in &wanted {
        match (repmgr::validate(name, value.as_deref().unwrap_or("")), value) {
            (Ok(()), _) | (Err(repmgr::RepmgrError::InvalidValue { .. }), None) => {}
            (Err(e), _) => return Err(e.into()),
        }
    }

    let f = ManagedFile::open(&file, DEFAULTS)?;
    let mut s = Settings::<Repmgr>::parse(m, &f)?;
    for (name, value) in &wanted {
        match value {
            Some(v) => {
                let a = s.conf.set_checked(name, v)?;
                s.record(name, a.edit, a.restart_required);
            }
            None => {
                let e = s.conf.remove(name)?;
                s.record(name, e, !repmgr::key(name).is_some_and(|k| k.reloadable));
            }
        }
    }
    let effect = s.effect.restart_covers_reload();
    let mut resp = s.finish(m, &f, effect, false)?;
    resp.msg = Some(effect.message(resp.changed, "repmgr.conf already as asked".into(), "repmgrd", "file written"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{call, file_with};
    use serde_json::json;

    #[test]
    fn values_in_repmgrs_spelling() {
        assert_eq!(repmgr_value("x", &json!(true)).unwrap(), "true");
        assert_eq!(repmgr_value("x", &json!(5)).unwrap(), "5");
        assert!(repmgr_value("x", &json!([1])).is_err());
    }

    #[test]
    fn creates_sets_and_reports_restart_then_reload() {
        let (_d, path) = file_with("");
        let r = call(
            run,
            &json!({"path": path, "settings": {"node_id": 1, "conninfo": "host=a password=pw1"}}),
            false,
        )
        .unwrap();
        assert!(r.changed && r.extra["restart_required"] == true && r.extra["reload_required"] == false);
        assert_eq!(r.msg.as_deref(), Some("configuration changed; repmgrd restart required"));
        let r = call(run, &json!({"path": path, "settings": {"node_id": 1}}), false).unwrap();
        assert!(!r.changed);
        assert_eq!(r.msg.as_deref(), Some("repmgr.conf already as asked"));
        let e = call(run, &json!({"path": path, "settings": {"no_such_key": 1}}), false).unwrap_err();
        assert!(e.msg.contains("no_such_key"), "{}", e.msg);
    }
}
