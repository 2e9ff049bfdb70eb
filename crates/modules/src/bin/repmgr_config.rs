//! repmgr_config: keys of repmgr.conf (repmgr 5.3), with repmgr's quoting.

use ansible_module::file::FileDefaults;
use ansible_module::{fail, Error, FileParams, ManagedFile, Module, Response, Spec, State};
use pgconf::kv::Dialect;
use pgconf::repmgr::{self, Repmgr, RepmgrConf};
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Deserialize)]
struct Params {
    settings: Map<String, Value>,
    #[serde(default)]
    state: State,
}

impl Spec for Params {}

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

fn run(m: &mut Module, (file, p): (FileParams, Params)) -> Result<Response, Error> {
    let wanted: Vec<(String, Option<String>)> = p
        .settings
        .iter()
        .map(|(k, v)| match p.state {
            State::Absent => Ok((k.clone(), None)),
            State::Present => repmgr_value(k, v).map(|s| (k.clone(), Some(s))),
        })
        .collect::<Result<_, _>>()?;
    // Passwords inside conninfo never reach the output, whatever fails next.
    for (name, value) in &wanted {
        Repmgr::secret(name)
            .secrets(value.as_deref().unwrap_or(""))
            .into_iter()
            .for_each(|s| m.add_secret(s));
    }
    // Check every key (and value) before the file is touched.
    for (name, value) in &wanted {
        match (repmgr::validate(name, value.as_deref().unwrap_or("")), value) {
            (Ok(()), _) | (Err(repmgr::RepmgrError::InvalidValue { .. }), None) => {}
            (Err(e), _) => return Err(fail!("{e}")),
        }
    }

    let f = ManagedFile::open(&file, FileDefaults { create: true, mode: 0o640 })?;
    let mut conf = RepmgrConf::parse(f.content());
    conf.secrets().into_iter().for_each(|s| m.add_secret(s));
    conf.check_syntax().map_err(|e| fail!("{}: {e}", file.path.display()))?;

    let (mut restart, mut reload) = (false, false);
    let mut previous = Map::new();
    for (name, value) in &wanted {
        let (edit, needs_restart) = match value {
            Some(v) => {
                let a = conf.set_checked(name, v).map_err(|e| fail!("{e}"))?;
                (a.edit, a.restart_required)
            }
            None => {
                let e = conf.remove(name).map_err(|e| fail!("{e}"))?;
                let r = !repmgr::key(name).is_some_and(|k| k.reloadable);
                (e, r)
            }
        };
        if edit.changed {
            if needs_restart {
                restart = true;
            } else {
                reload = true;
            }
        }
        let masked = edit.previous.map(|v| Repmgr::secret(name).mask(&v));
        previous.insert(name.clone(), masked.map(Value::String).unwrap_or(Value::Null));
    }
    if restart {
        reload = false;
    }

    let mut resp = Response::new(false);
    resp.changed = f.save_masked(m, &conf.to_string(), &mut resp, |t| RepmgrConf::parse(t).masked())?;
    resp.set("restart_required", restart);
    resp.set("reload_required", reload);
    resp.set("previous", previous);
    resp.msg = Some(match resp.changed {
        false => "repmgr.conf already as asked".to_string(),
        true if restart => "configuration changed; repmgrd restart required".to_string(),
        true if reload => "configuration changed; repmgrd reload required".to_string(),
        true => "file written".to_string(),
    });
    Ok(resp)
}

fn main() {
    ansible_module::main("repmgr_config", run)
}
