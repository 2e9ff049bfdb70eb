//! The start guard (`ExecStartPre` of PostgreSQL's unit) and, for repmgr, rejoining a former
//! primary as a standby.

use crate::act::{log, postmaster_pid, systemctl};
use crate::config::Config;
use crate::probe::{self, AskError, Role, Target};
use futures_util::future;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The other nodes that answer as a primary, asked in parallel, each within the guard's bound.
/// Nodes that do not answer are skipped (a node that cannot be asked cannot be a reason to
/// refuse; the fence catches a primary started beside a promoted one once it can see it).
pub fn primaries(cfg: &Config) -> Result<Vec<(String, std::net::IpAddr, u32)>, String> {
    let limit = Duration::from_millis(cfg.guard_timeout_ms);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the I/O runtime: {e}"))?;
    let asked = rt.block_on(future::join_all(cfg.peers.iter().map(|p| {
        let target = Target::peer(cfg, p);
        async move { probe::role(&target, limit).await }
    })));
    let mut found = Vec::new();
    for (p, a) in cfg.peers.iter().zip(asked) {
        match a {
            Ok(Role::Primary { timeline }) => found.push((p.name.clone(), p.address, timeline)),
            Ok(Role::Standby) | Err(AskError::Timeout(_)) | Err(AskError::NotRunning(_)) => {}
            Err(e) => log(format!("{}: {e}", p.name)),
        }
    }
    Ok(found)
}

/// `pgha-fence start-guard`: exit status 0 lets the server start; 1 refuses (another node
/// runs as the primary and this data directory is not a standby's). With a rejoin unit
/// configured (repmgr), a refusal starts it.
pub fn start_guard(cfg: &Config) -> i32 {
    let data = cfg.data_directory.display();
    if cfg.data_directory.join("standby.signal").exists() {
        return 0;
    }
    let found = match primaries(cfg) {
        Ok(f) => f,
        Err(e) => {
            log(e);
            return 1;
        }
    };
    let Some((primary, _, timeline)) = found.first() else {
        return 0;
    };
    match cfg.rejoin.as_ref().map(|r| r.unit.as_str()).filter(|u| !u.is_empty()) {
        Some(unit) => {
            log(format!(
                "refusing to start {data} as a primary: {primary} runs as the primary (timeline {timeline}); rejoining as its standby ({unit})"
            ));
            log(systemctl(cfg, &["start", "--no-block", unit]));
        }
        None => log(format!(
            "refusing to start {data} as a primary: {primary} runs as the primary (timeline {timeline}); \
             recover this node as a standby (recover_node.yml)"
        )),
    }
    1
}

/// `pgha-fence recover`: crash recovery of a data directory that was not shut down cleanly
/// (repmgr refuses to rejoin one), in single-user mode. Prints `recovered` when it ran.
pub fn recover(cfg: &Config) -> Result<bool, String> {
    let out = Command::new(cfg.bin_directory.join("pg_controldata"))
        .arg(&cfg.data_directory)
        .env("LANG", "C")
        .env("LC_ALL", "C")
        .output()
        .map_err(|e| format!("cannot run pg_controldata: {e}"))?;
    if !out.status.success() {
        return Err(format!("pg_controldata: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let state = text
        .lines()
        .find_map(|l| l.strip_prefix("Database cluster state:"))
        .map(str::trim)
        .ok_or("pg_controldata shows no cluster state")?;
    if matches!(state, "shut down" | "shut down in recovery") {
        return Ok(false);
    }
    log(format!(
        "crash recovery of {} (state: {state}) in single-user mode",
        cfg.data_directory.display()
    ));
    let status = Command::new(cfg.bin_directory.join("postgres"))
        .args(["--single", "-D"])
        .arg(&cfg.data_directory)
        .args(["-c", "archive_mode=off", "template1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run postgres --single: {e}"))?;
    if !status.success() {
        return Err(format!("postgres --single: {status}"));
    }
    Ok(true)
}

/// `pgha-fence rejoin` (repmgr): a stopped former primary becomes a standby of the current
/// primary: crash recovery if needed, then `repmgr node rejoin --force-rewind` (which writes
/// standby.signal and starts the server through its unit). Only returns on failure or when
/// there is nothing to do.
pub fn rejoin(cfg: &Config) -> i32 {
    let Some(r) = &cfg.rejoin else {
        log("no rejoin settings in the configuration (repmgr only)");
        return 2;
    };
    if let Some(pid) = postmaster_pid(&cfg.data_directory) {
        log(format!("the server runs (pid {pid}): nothing to rejoin"));
        return 0;
    }
    if cfg.data_directory.join("standby.signal").exists() {
        log(format!("already a standby: starting {}", cfg.service));
        let line = systemctl(cfg, &["start", &cfg.service]);
        log(&line);
        return if line.ends_with(": done") { 0 } else { 1 };
    }
    let primary = match primaries(cfg) {
        Ok(f) if !f.is_empty() => f[0].clone(),
        Ok(_) => {
            log("no other node runs as the primary: nothing to rejoin");
            return 1;
        }
        Err(e) => {
            log(e);
            return 1;
        }
    };
    if let Err(e) = recover(cfg) {
        log(format!("crash recovery failed: {e}"));
        return 1;
    }
    let conninfo = format!("host={} {}", primary.1, r.conninfo);
    log(format!("repmgr node rejoin --force-rewind from {} ({})", primary.0, primary.1));
    let e = Command::new(&r.repmgr)
        .arg("-f")
        .arg(&r.config_file)
        .args(["node", "rejoin", "-d", &conninfo, "--force-rewind", "--verbose"])
        .exec();
    log(format!("cannot run {}: {e}", r.repmgr.display()));
    1
}
