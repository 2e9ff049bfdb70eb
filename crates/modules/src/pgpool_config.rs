//! `pgpool_config`: settings, backends and watchdog nodes in Pgpool-II's pgpool.conf (see
//! collection/plugins/modules/pgpool_config.yml).

use crate::conf_value;
use crate::file_module::Settings;
use ansible_module::file::FileDefaults;
use ansible_module::{fail, Error, FileParams, ManagedFile, Module, Response, Spec, State};
use pgconf::pgpool::{self, check_backend_flag, Backend, IndexedChanges, Pgpool, PgpoolError, PgpoolVersion, WatchdogNode};
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BackendParam {
    #[serde(alias = "hostname")]
    host: String,
    #[serde(default = "default_pg_port")]
    port: u16,
    #[serde(default = "default_weight")]
    weight: f64,
    data_directory: Option<String>,
    #[serde(default = "default_flag")]
    flag: Option<String>,
    application_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WatchdogParam {
    #[serde(alias = "hostname")]
    host: String,
    #[serde(default = "default_wd_port")]
    wd_port: u16,
    #[serde(default = "default_pgpool_port")]
    pgpool_port: u16,
    heartbeat_hostname: Option<String>,
    #[serde(default = "default_heartbeat_port")]
    heartbeat_port: u16,
    #[serde(default)]
    heartbeat_device: String,
}

fn default_pg_port() -> u16 {
    5432
}
fn default_weight() -> f64 {
    1.0
}
fn default_flag() -> Option<String> {
    Some("ALLOW_TO_FAILOVER".into())
}
fn default_wd_port() -> u16 {
    9000
}
fn default_pgpool_port() -> u16 {
    9999
}
fn default_heartbeat_port() -> u16 {
    9694
}

/// The module's own parameters (the file's are [`FileParams`]).
#[derive(Deserialize)]
pub struct Params {
    settings: Option<Map<String, Value>>,
    backends: Option<Vec<BackendParam>>,
    watchdog_nodes: Option<Vec<WatchdogParam>>,
    #[serde(default)]
    state: State,
    version: Option<Value>,
}

impl Spec for Params {}

const DEFAULTS: FileDefaults = FileDefaults {
    create: false,
    mode: 0o640,
};

/// The Pgpool-II version a task names (`4.3`, `"4.4"`), 4.3 when it names none.
fn version(v: &Option<Value>) -> Result<PgpoolVersion, Error> {
    let text = match v {
        None | Some(Value::Null) => "4.3".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => return Err(fail!("version: expected a Pgpool-II version like \"4.3\", got {other}")),
    };
    text.parse::<PgpoolVersion>().map_err(|e| fail!("version: {e}"))
}

fn backends(p: &Params) -> Result<Option<Vec<Backend>>, Error> {
    for flag in p.backends.iter().flatten().filter_map(|b| b.flag.as_deref()) {
        check_backend_flag(flag)?;
    }
    Ok(p.backends.as_ref().map(|bs| {
        bs.iter()
            .map(|b| Backend {
                hostname: b.host.clone(),
                port: b.port,
                weight: b.weight,
                data_directory: b.data_directory.clone(),
                flag: b.flag.clone(),
                application_name: b.application_name.clone(),
            })
            .collect()
    }))
}

fn watchdog_nodes(p: &Params) -> Option<Vec<WatchdogNode>> {
    p.watchdog_nodes.as_ref().map(|ns| {
        ns.iter()
            .map(|n| WatchdogNode {
                hostname: n.host.clone(),
                wd_port: n.wd_port,
                pgpool_port: n.pgpool_port,
                heartbeat_hostname: Some(n.heartbeat_hostname.clone().unwrap_or_else(|| n.host.clone())),
                heartbeat_port: Some(n.heartbeat_port),
                heartbeat_device: Some(n.heartbeat_device.clone()),
            })
            .collect()
    })
}

fn record(s: &mut Settings<Pgpool>, changes: IndexedChanges) {
    s.effect.merge(changes.restart_required, changes.reload_required);
    for c in changes.changes {
        s.previous(&c.key, c.previous);
    }
}

/// Runs the module.
pub fn run(m: &mut Module, (file, p): (FileParams, Params)) -> Result<Response, Error> {
    let version = version(&p.version)?;
    if p.settings.is_none() && p.backends.is_none() && p.watchdog_nodes.is_none() {
        return Err(fail!("one of the following is required: settings, backends, watchdog_nodes"));
    }
    let settings: Vec<(String, Option<String>)> = p
        .settings
        .iter()
        .flatten()
        .map(|(k, v)| match p.state {
            State::Absent => Ok((k.clone(), None)),
            State::Present => conf_value(k, v).map(|s| (k.clone(), Some(s))),
        })
        .collect::<Result<_, _>>()?;
    Settings::<Pgpool>::hide(m, &settings);
    // Validate every setting before touching anything, so a bad one leaves the file alone.
    let mut warnings = Vec::new();
    for (name, value) in &settings {
        match pgpool::validate(name, value.as_deref().unwrap_or(""), version) {
            Ok(w) => warnings.extend(w),
            Err(PgpoolError::InvalidValue { .. }) if value.is_none() => {}
            Err(e) => return Err(e.into()),
        }
    }
    let backends = backends(&p)?;
    let nodes = watchdog_nodes(&p);

    let f = ManagedFile::open(&file, DEFAULTS)?;
    let mut s = Settings::<Pgpool>::parse(m, &f)?;
    for (name, value) in &settings {
        match value {
            Some(v) => {
                let a = s.conf.set_checked(name, v, version)?;
                s.record(name, a.edit, a.restart_required);
            }
            None => {
                let e = s.conf.remove(name)?;
                let restart = pgpool::restart_required(name, version, e.previous.as_deref(), None);
                s.record(name, e, restart);
            }
        }
    }
    if let Some(bs) = &backends {
        let c = s.conf.set_backends(bs, version)?;
        record(&mut s, c);
    }
    if let Some(ns) = &nodes {
        let c = s.conf.set_watchdog_nodes(ns, version)?;
        record(&mut s, c);
    }
    warnings.dedup();
    warnings.into_iter().for_each(|w| m.warn(w));

    let effect = s.effect.restart_covers_reload();
    let mut resp = s.finish(m, &f, effect, true)?;
    resp.msg = Some(effect.message(resp.changed, "pgpool.conf already as asked".into(), "", "file attributes changed"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{call, file_with};
    use serde_json::json;

    #[test]
    fn versions_parse_from_numbers_and_strings() {
        assert_eq!(version(&None).unwrap(), "4.3".parse().unwrap());
        assert_eq!(version(&Some(json!(4.4))).unwrap(), "4.4".parse().unwrap());
        assert!(version(&Some(json!("x"))).unwrap_err().msg.starts_with("version: "));
        assert!(version(&Some(json!([4]))).is_err());
    }

    #[test]
    fn backends_and_settings_restart_covers_reload() {
        let (_d, path) = file_with("port = 9999\n");
        let args = json!({"path": path, "settings": {"health_check_period": 5, "num_init_children": 10},
                          "backends": [{"host": "db1"}]});
        let r = call(run, &args, false).unwrap();
        assert!(r.changed);
        assert_eq!(
            (r.extra["restart_required"].clone(), r.extra["reload_required"].clone()),
            (json!(true), json!(false))
        );
        assert_eq!(r.extra["previous"]["backend_hostname0"], json!(null));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("backend_hostname0 = 'db1'"), "{text}");
        let r = call(run, &args, false).unwrap();
        assert!(!r.changed);
        assert_eq!(r.msg.as_deref(), Some("pgpool.conf already as asked"));
    }

    #[test]
    fn a_bad_flag_or_nothing_asked_is_refused() {
        let (_d, path) = file_with("");
        let e = call(run, &json!({"path": path, "backends": [{"host": "a", "flag": "NOPE"}]}), false).unwrap_err();
        assert!(e.msg.contains("NOPE"), "{}", e.msg);
        let e = call(run, &json!({"path": path}), false).unwrap_err();
        assert_eq!(e.msg, "one of the following is required: settings, backends, watchdog_nodes");
    }
}
