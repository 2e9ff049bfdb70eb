//! What the fence does to the host: stop the server fast, start units.

use crate::config::Config;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a `systemctl` call may take (a stop waits for the shutdown checkpoint).
const SYSTEMCTL_LIMIT: Duration = Duration::from_secs(120);

/// One line to the journal (stderr under systemd).
pub fn log(msg: impl AsRef<str>) {
    eprintln!("pgha-fence: {}", msg.as_ref());
}

/// The postmaster's PID from `postmaster.pid`, when that process is alive and a PostgreSQL
/// server.
pub fn postmaster_pid(data_directory: &Path) -> Option<i32> {
    pghost::pidfile::running_pid(data_directory)
}

/// Stops the local server fast: SIGINT to the postmaster (fast shutdown: it refuses new
/// connections at once and ends every session), then `systemctl stop` of its unit, so that
/// systemd records it as stopped (and waits for the end). Returns what was done, for the log.
pub fn stop_server(cfg: &Config) -> Vec<String> {
    let mut done = Vec::new();
    match postmaster_pid(&cfg.data_directory) {
        Some(pid) => match kill(Pid::from_raw(pid), Signal::SIGINT) {
            Ok(()) => done.push(format!("SIGINT to the postmaster (pid {pid})")),
            Err(e) => done.push(format!("SIGINT to the postmaster (pid {pid}) failed: {e}")),
        },
        None => done.push("no running postmaster in postmaster.pid".to_string()),
    }
    done.push(systemctl(cfg, &["stop", &cfg.service]));
    done
}

/// Runs `systemctl ARGS` as configured (through sudo), bounded; returns a line for the log.
pub fn systemctl(cfg: &Config, args: &[&str]) -> String {
    let (program, pre) = cfg.systemctl.split_first().expect("checked when loaded");
    let shown = format!("{} {}", cfg.systemctl.join(" "), args.join(" "));
    let child = Command::new(program)
        .args(pre)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return format!("{shown}: cannot run it: {e}"),
    };
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return format!("{shown}: done"),
            Ok(Some(status)) => {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                return format!("{shown}: {status}: {}", err.trim());
            }
            Ok(None) if started.elapsed() > SYSTEMCTL_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return format!("{shown}: no result after {} s, left to systemd", SYSTEMCTL_LIMIT.as_secs());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return format!("{shown}: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pidfile_of_a_process_that_is_not_postgres_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(postmaster_pid(dir.path()), None);
        // This test's own PID: alive, but not a PostgreSQL server.
        std::fs::write(dir.path().join("postmaster.pid"), format!("{}\n/data\n", std::process::id())).unwrap();
        assert_eq!(postmaster_pid(dir.path()), None);
        std::fs::write(dir.path().join("postmaster.pid"), "garbage\n").unwrap();
        assert_eq!(postmaster_pid(dir.path()), None);
    }

    fn with_systemctl(program: &[&str]) -> Config {
        let mut cfg = Config::parse(crate::config::tests::SAMPLE, "sample").unwrap();
        cfg.systemctl = program.iter().map(|s| s.to_string()).collect();
        cfg
    }

    #[test]
    fn systemctl_reports_success_failure_and_a_missing_program() {
        assert_eq!(systemctl(&with_systemctl(&["true"]), &["stop", "x"]), "true stop x: done");
        let line = systemctl(&with_systemctl(&["sh", "-c", "echo 'not allowed' >&2; exit 3"]), &["stop", "x"]);
        assert!(line.contains("exit status: 3: not allowed"), "{line}");
        let line = systemctl(&with_systemctl(&["/nonexistent/systemctl"]), &["start", "x"]);
        assert!(line.contains("cannot run it"), "{line}");
    }
}
