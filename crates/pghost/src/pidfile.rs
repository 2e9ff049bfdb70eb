//! `postmaster.pid`: which process runs a data directory, and where it listens.
//!
//! PostgreSQL writes the PID on line 1, the port on line 4 and the first Unix-socket directory
//! on line 5. A pidfile left behind by a crash names a dead process, or one a later process
//! reuses: a server counts as running only when the process is alive and is `postgres` (or
//! `postmaster`) by `/proc/<pid>/comm`.

use std::fs;
use std::path::Path;

/// What `postmaster.pid` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidFile {
    /// The postmaster's PID.
    pub pid: i32,
    /// The port (5432 when the line is missing).
    pub port: u16,
    /// The first Unix-socket directory, when it listens on one.
    pub socket_dir: Option<String>,
}

/// Reads `dir/postmaster.pid`; `None` when there is none or it does not parse.
pub fn read(dir: &Path) -> Option<PidFile> {
    let text = fs::read_to_string(dir.join("postmaster.pid")).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let pid: i32 = lines.first()?.trim().parse().ok()?;
    let port: u16 = lines.get(3).and_then(|p| p.trim().parse().ok()).unwrap_or(5432);
    let socket_dir = lines.get(4).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    Some(PidFile { pid, port, socket_dir })
}

/// The pidfile of `dir` when its server is running.
pub fn running(dir: &Path) -> Option<PidFile> {
    read(dir).filter(|p| alive(p.pid))
}

/// The PID of the server running `dir`.
pub fn running_pid(dir: &Path) -> Option<i32> {
    running(dir).map(|p| p.pid)
}

/// Whether `pid` is alive and a PostgreSQL server.
pub fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) | Err(nix::errno::Errno::EPERM) => {}
        Err(_) => return false,
    }
    match fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(comm) => {
            let c = comm.trim();
            c.starts_with("postgres") || c.starts_with("postmaster")
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pid_port_and_socket() {
        let t = tempfile::tempdir().unwrap();
        assert_eq!(read(t.path()), None);
        let me = std::process::id() as i32;
        fs::write(
            t.path().join("postmaster.pid"),
            format!("{me}\n/d\n1700000000\n5433\n/tmp\n*\n  1 2\nready\n"),
        )
        .unwrap();
        let p = read(t.path()).unwrap();
        assert_eq!((p.pid, p.port, p.socket_dir.as_deref()), (me, 5433, Some("/tmp")));
        // This test process is alive but is not a PostgreSQL server.
        assert_eq!(running_pid(t.path()), None);
        fs::write(t.path().join("postmaster.pid"), "999999999\n").unwrap();
        assert_eq!(read(t.path()).map(|p| (p.port, p.socket_dir)), Some((5432, None)));
        assert!(!alive(999_999_999) && !alive(0));
    }
}
