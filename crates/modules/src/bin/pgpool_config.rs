//! pgpool_config: settings, backends and watchdog nodes in Pgpool-II's pgpool.conf.

use ansible_module::file::FileDefaults;
use ansible_module::{fail, Error, FileParams, ManagedFile, Module, Response, Spec, State};
use pgconf::kv::Dialect;
use pgconf::pgpool::{self, check_backend_flag, Backend, IndexedChanges, Pgpool, PgpoolConf, PgpoolError, PgpoolVersion, WatchdogNode};
use pgha_modules::{conf_value, describe_includes};
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

#[derive(Deserialize)]
struct Params {
    settings: Option<Map<String, Value>>,
    backends: Option<Vec<BackendParam>>,
    watchdog_nodes: Option<Vec<WatchdogParam>>,
    #[serde(default)]
    state: State,
    version: Option<Value>,
}

impl Spec for Params {}

fn version(v: &Option<Value>) -> Result<PgpoolVersion, Error> {
    let text = match v {
        None | Some(Value::Null) => "4.3".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => return Err(fail!("version: expected a Pgpool-II version like \"4.3\", got {other}")),
    };
    text.parse::<PgpoolVersion>().map_err(|e| fail!("version: {e}"))
}

fn pgpool_err(e: PgpoolError) -> Error {
    fail!("{e}")
}

fn record(changes: IndexedChanges, previous: &mut Map<String, Value>, restart: &mut bool, reload: &mut bool) {
    *restart |= changes.restart_required;
    *reload |= changes.reload_required;
    for c in changes.changes {
        let masked = c.previous.map(|v| Pgpool::secret(&c.key).mask(&v));
        previous.insert(c.key, masked.map(Value::String).unwrap_or(Value::Null));
    }
}

fn run(m: &mut Module, (file, p): (FileParams, Params)) -> Result<Response, Error> {
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
    // Passwords and keys never reach the output, whatever fails next.
    for (name, value) in &settings {
        Pgpool::secret(name)
            .secrets(value.as_deref().unwrap_or(""))
            .into_iter()
            .for_each(|s| m.add_secret(s));
    }
    // Validate every setting before touching anything, so a bad one leaves the file alone.
    let mut warnings = Vec::new();
    for (name, value) in &settings {
        match pgpool::validate(name, value.as_deref().unwrap_or(""), version) {
            Ok(w) => warnings.extend(w),
            Err(PgpoolError::InvalidValue { .. }) if value.is_none() => {}
            Err(e) => return Err(pgpool_err(e)),
        }
    }
    for flag in p.backends.iter().flatten().filter_map(|b| b.flag.as_deref()) {
        check_backend_flag(flag).map_err(pgpool_err)?;
    }
    let backends: Option<Vec<Backend>> = p.backends.as_ref().map(|bs| {
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
    });
    let nodes: Option<Vec<WatchdogNode>> = p.watchdog_nodes.as_ref().map(|ns| {
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
    });

    let f = ManagedFile::open(
        &file,
        FileDefaults {
            create: false,
            mode: 0o640,
        },
    )?;
    let mut conf = PgpoolConf::parse(f.content());
    conf.secrets().into_iter().for_each(|s| m.add_secret(s));
    conf.check_syntax().map_err(|e| fail!("{}: {e}", file.path.display()))?;

    let (mut restart, mut reload) = (false, false);
    let mut previous = Map::new();
    for (name, value) in &settings {
        let (prev, changed, needs_restart) = match value {
            Some(v) => {
                let a = conf.set_checked(name, v, version).map_err(pgpool_err)?;
                (a.edit.previous, a.edit.changed, a.restart_required)
            }
            None => {
                let e = conf.remove(name).map_err(|e| fail!("{e}"))?;
                let r = pgpool::restart_required(name, version, e.previous.as_deref(), None);
                (e.previous, e.changed, r)
            }
        };
        if changed {
            if needs_restart {
                restart = true;
            } else {
                reload = true;
            }
        }
        let masked = prev.map(|v| Pgpool::secret(name).mask(&v));
        previous.insert(name.clone(), masked.map(Value::String).unwrap_or(Value::Null));
    }
    if let Some(bs) = &backends {
        let c = conf.set_backends(bs, version).map_err(pgpool_err)?;
        record(c, &mut previous, &mut restart, &mut reload);
    }
    if let Some(ns) = &nodes {
        let c = conf.set_watchdog_nodes(ns, version).map_err(pgpool_err)?;
        record(c, &mut previous, &mut restart, &mut reload);
    }
    if restart {
        reload = false;
    }
    warnings.dedup();
    warnings.into_iter().for_each(|w| m.warn(w));

    let mut resp = Response::new(false);
    resp.changed = f.save_masked(m, &conf.to_string(), &mut resp, |t| PgpoolConf::parse(t).masked())?;
    resp.set("restart_required", restart);
    resp.set("reload_required", reload);
    resp.set("previous", previous);
    resp.set("includes", describe_includes(&conf.includes()));
    resp.msg = Some(match resp.changed {
        false => "pgpool.conf already as asked".to_string(),
        true if restart => "configuration changed; restart required".to_string(),
        true if reload => "configuration changed; reload required".to_string(),
        true => "file attributes changed".to_string(),
    });
    Ok(resp)
}

fn main() {
    ansible_module::main("pgpool_config", run)
}
