//! pg_config: set PostgreSQL parameters in postgresql.conf or a conf.d file.

use ansible_module::file::FileDefaults;
use ansible_module::{fail, Error, FileParams, ManagedFile, Module, Response, Spec, State};
use pgconf::kv::Dialect;
use pgconf::postgresql::{Postgresql, PostgresqlConf};
use pgha_modules::{conf_value, describe_includes};
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Deserialize)]
struct Params {
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

fn run(m: &mut Module, (file, p): (FileParams, Params)) -> Result<Response, Error> {
    let wanted = wanted(&p)?;
    // Passwords inside conninfo values never reach the output, whatever fails next.
    for (name, value) in &wanted {
        Postgresql::secret(name)
            .secrets(value.as_deref().unwrap_or(""))
            .into_iter()
            .for_each(|s| m.add_secret(s));
    }
    let f = ManagedFile::open(
        &file,
        FileDefaults {
            create: false,
            mode: 0o600,
        },
    )?;
    let mut conf = PostgresqlConf::parse(f.content());
    conf.secrets().into_iter().for_each(|s| m.add_secret(s));
    conf.check_syntax().map_err(|e| fail!("{}: {e}", file.path.display()))?;

    let (mut restart, mut reload) = (false, false);
    let mut previous = Map::new();
    for (name, value) in &wanted {
        let applied = match value {
            Some(v) => conf.set_checked(name, v, p.version),
            None => conf.remove_checked(name, p.version),
        }?;
        restart |= applied.restart_required;
        reload |= applied.reload_required;
        let masked = applied.edit.previous.map(|v| Postgresql::secret(name).mask(&v));
        previous.insert(name.clone(), masked.map(Value::String).unwrap_or(Value::Null));
        applied.warnings.into_iter().for_each(|w| m.warn(w));
    }

    let mut resp = Response::new(false);
    resp.changed = f.save_masked(m, &conf.to_string(), &mut resp, |t| PostgresqlConf::parse(t).masked())?;
    let settings_changed = restart || reload;
    resp.set("restart_required", restart);
    resp.set("reload_required", reload);
    resp.set("previous", previous);
    resp.set("includes", describe_includes(&conf.includes()));
    let names: Vec<&str> = wanted.iter().map(|(n, _)| n.as_str()).collect();
    resp.msg = Some(match (resp.changed, settings_changed) {
        (false, _) => format!("{} already as asked", names.join(", ")),
        (true, _) if restart => "configuration changed; restart required".to_string(),
        (true, true) => "configuration changed; reload required".to_string(),
        (true, false) => "file attributes changed".to_string(),
    });
    Ok(resp)
}

fn main() {
    ansible_module::main("pg_config", run)
}
