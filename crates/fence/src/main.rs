//! `pgha-fence COMMAND [--config FILE | --json TEXT]`: see the library's documentation.

use pgha_fence::config::Config;
use pgha_fence::{act, budget, daemon, guard, probe};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

const DEFAULT_CONFIG: &str = "/etc/pgha/fence.json";

const USAGE: &str = "usage: pgha-fence COMMAND [--config FILE | --json TEXT]

commands:
  run          the fence daemon (a systemd service on every node)
  start-guard  exit 1 when another node runs as the primary and this data directory is not a
               standby's (ExecStartPre of PostgreSQL's unit); with repmgr, start the rejoin unit
  rejoin       repmgr: rejoin this stopped former primary as a standby of the current primary
  recover      crash recovery of an uncleanly stopped data directory (prints `recovered`)
  plan         the isolation deadline for these settings, as JSON; exit 1 when none works
  probe        one probe round, as JSON

The configuration is ";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match run(&args) {
        Ok(code) => code,
        Err(msg) => {
            act::log(msg);
            2
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn run(args: &[String]) -> Result<i32, String> {
    let Some((command, rest)) = args.split_first() else {
        return Err(format!("{USAGE}{DEFAULT_CONFIG} unless --config says otherwise"));
    };
    if command == "--version" {
        println!("pgha-fence {}", env!("CARGO_PKG_VERSION"));
        return Ok(0);
    }
    let cfg = match rest {
        [] => Config::load(Path::new(DEFAULT_CONFIG)),
        [flag, file] if flag == "--config" => Config::load(Path::new(file)),
        [flag, text] if flag == "--json" => Config::parse(text, "--json"),
        _ => return Err(format!("{USAGE}{DEFAULT_CONFIG} unless --config says otherwise")),
    };
    let cfg = match cfg {
        Ok(c) => c,
        Err(e) if command == "plan" => {
            print_json(&serde_json::json!({"ok": false, "msg": e.to_string()}));
            return Ok(1);
        }
        Err(e) => return Err(e.to_string()),
    };
    match command.as_str() {
        "run" => Ok(daemon::run(&cfg)),
        "start-guard" => Ok(guard::start_guard(&cfg)),
        "rejoin" => Ok(guard::rejoin(&cfg)),
        "recover" => match guard::recover(&cfg) {
            Ok(ran) => {
                if ran {
                    println!("recovered");
                }
                Ok(0)
            }
            Err(e) => Err(e),
        },
        "plan" => match budget::plan(&cfg.failover, &cfg.timing) {
            Ok(p) => {
                let mut v = p.to_json();
                v["ok"] = true.into();
                v["msg"] = p.to_string().into();
                print_json(&v);
                Ok(0)
            }
            Err(e) => {
                print_json(&serde_json::json!({"ok": false, "msg": e.to_string()}));
                Ok(1)
            }
        },
        "probe" => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the I/O runtime: {e}"))?;
            let ((local, local_error), peers) = rt.block_on(daemon::round(&cfg, Duration::from_millis(cfg.timing.probe_timeout_ms), true));
            let peers: Vec<_> = peers
                .iter()
                .map(|(p, e)| {
                    serde_json::json!({"name": p.name, "reachable": p.reachable, "primary_timeline": p.primary_timeline,
                                       "error": e.as_ref().map(probe::AskError::to_string)})
                })
                .collect();
            print_json(&serde_json::json!({
                "local": format!("{local:?}"),
                "local_error": local_error.as_ref().map(probe::AskError::to_string),
                "peers": peers,
            }));
            Ok(0)
        }
        other => Err(format!(
            "unknown command {other:?}\n{USAGE}{DEFAULT_CONFIG} unless --config says otherwise"
        )),
    }
}

fn print_json(v: &serde_json::Value) {
    println!("{v}");
}
