//! `pg_config`: PostgreSQL parameters in postgresql.conf or a conf.d file (see
//! collection/plugins/modules/pg_config.yml).

use crate::conf_value;
use crate::file_module::Settings;
use ansible_module::file::FileDefaults;
use ansible_module::{fail, Error, FileParams, ManagedFile, Module, Response, Spec, State};
use pgconf::postgresql::Postgresql;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The module's own parameters (the file's are [`FileParams`]).
#[derive(Deserialize)]
pub struct Params {
    name: Option<String>,
    value: Option<Value>,
    settings: Option<Map<String, Value>>,
    #[serde(default)]
    state: State,
    #[serde(default = "default_version")]
    version: u32,
}

fn default_version() -> u32 {
    15
}

impl Spec for Params {}

const DEFAULTS: FileDefaults = FileDefaults {
    create: false,
    mode: 0o600,
};

/// The settings asked for: `(name, Some(value))` to set, `(name, None)` to comment out.
fn wanted(p: &Params) -> Result<Vec<(String, Option<String>)>, Error> {
    let pairs: Vec<(String, Option<&Value>)> = match (&p.name, &p.settings) {
        (Some(_), Some(_)) => return Err(fail!("parameters are mutually exclusive: name|settings")),
        (None, None) => return Err(fail!("one of the following is required: name, settings")),
        (Some(name), None) => vec![(name.clone(), p.value.as_ref())],
        (None, Some(settings)) => settings.iter().map(|(k, v)| (k.clone(), Some(v))).collect(),
    };
    pairs
        .into_iter()
        .map(|(name, value)| match (p.state, value) {
            (State::Absent, _) => Ok((name, None)),
            (State::Present, None) => Err(fail!("value is required to set {name} (state=present)")),
            (State::Present, Some(v)) => conf_value(&name, v).map(|s| (name, Some(s))),
        })
        .collect()
}

/// Runs the module.
pub fn run(m: &mut Module, (file, p): (FileParams, Params)) -> Result<Response, Error> {
    let wanted = wanted(&p)?;
    Settings::<Postgresql>::hide(m, &wanted);
    let f = ManagedFile::open(&file, DEFAULTS)?;
    let mut s = Settings::<Postgresql>::parse(m, &f)?;
    for (name, value) in &wanted {
        let applied = match value {
            Some(v) => s.conf.set_checked(name, v, p.version),
            None => s.conf.remove_checked(name, p.version),
        }?;
        s.record_applied(m, name, applied);
    }
    let effect = s.effect;
    let mut resp = s.finish(m, &f, effect, true)?;
    let names: Vec<&str> = wanted.iter().map(|(n, _)| n.as_str()).collect();
    resp.msg = Some(effect.message(
        resp.changed,
        format!("{} already as asked", names.join(", ")),
        "",
        "file attributes changed",
    ));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{call, file_with};
    use serde_json::json;

    #[test]
    fn sets_reports_restart_and_is_idempotent() {
        let (_d, path) = file_with("#wal_level = replica\t# minimal, replica, or logical\nport = 5432\n");
        let args = json!({"path": path, "settings": {"wal_level": "logical", "work_mem": "8MB"}});
        let r = call(run, &args, false).unwrap();
        assert!(r.changed);
        assert_eq!(r.extra["restart_required"], true);
        assert_eq!(r.extra["previous"], json!({"wal_level": null, "work_mem": null}));
        assert_eq!(r.msg.as_deref(), Some("configuration changed; restart required"));
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "wal_level = logical\t# minimal, replica, or logical\nport = 5432\nwork_mem = 8MB\n"
        );
        let r = call(run, &args, false).unwrap();
        assert!(!r.changed);
        assert_eq!(r.msg.as_deref(), Some("wal_level, work_mem already as asked"));
    }

    #[test]
    fn bad_values_and_bad_files_change_nothing() {
        let (_d, path) = file_with("port = 5432\n");
        let e = call(run, &json!({"path": path, "name": "wal_level", "value": "bogus"}), false).unwrap_err();
        assert!(e.msg.contains("wal_level"), "{}", e.msg);
        let e = call(run, &json!({"path": path, "name": "port"}), false).unwrap_err();
        assert_eq!(e.msg, "value is required to set port (state=present)");
        let (_d2, bad) = file_with("port = = 1\n");
        let e = call(run, &json!({"path": bad, "name": "port", "value": 1}), false).unwrap_err();
        assert!(e.msg.contains("line 1"), "{}", e.msg);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "port = 5432\n");
    }

    #[test]
    fn conninfo_password_is_masked_in_diff_and_previous() {
        let (_d, path) = file_with("primary_conninfo = 'host=a password=old'\n");
        let args = json!({"path": path, "name": "primary_conninfo", "value": "host=b password=new"});
        let r = call(run, &args, true).unwrap();
        assert_eq!(r.extra["previous"]["primary_conninfo"], "host=a password=********");
        assert_eq!(r.diffs[0].before, "primary_conninfo = 'host=a password=********'\n");
        assert_eq!(r.diffs[0].after, "primary_conninfo = 'host=b password=********'\n");
    }

    #[test]
    fn includes_are_the_documented_strings() {
        let (_d, path) = file_with("include_dir 'conf.d'\n");
        let r = call(run, &json!({"path": path, "name": "port", "value": 5433}), false).unwrap();
        assert_eq!(r.extra["includes"], json!(["include_dir 'conf.d' (line 1)"]));
    }
}
