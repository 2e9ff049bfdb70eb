//! repmgr's exit codes (`errcode.h` of repmgr 5.3) and what each means for the person who
//! ran the task.

/// One exit code: its name in repmgr's sources and a sentence about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitCode {
    /// The code.
    pub code: i32,
    /// repmgr's name (`ERR_SWITCHOVER_FAIL`).
    pub name: &'static str,
    /// What it means, for a person.
    pub meaning: &'static str,
}

#[rustfmt::skip]
static CODES: &[ExitCode] = &[
    ExitCode { code: 0, name: "SUCCESS", meaning: "success" },
    ExitCode { code: 1, name: "ERR_BAD_CONFIG", meaning: "bad configuration or a failed prerequisite (repmgr.conf, node record, SSH, server state)" },
    ExitCode { code: 2, name: "ERR_BAD_RSYNC", meaning: "rsync failed" },
    ExitCode { code: 3, name: "ERR_BAD_PIDFILE", meaning: "the PID file could not be handled" },
    ExitCode { code: 4, name: "ERR_NO_RESTART", meaning: "the server could not be restarted" },
    ExitCode { code: 5, name: "ERR_LOCAL_COMMAND", meaning: "a local command failed" },
    ExitCode { code: 6, name: "ERR_DB_CONN", meaning: "a database connection could not be made (is the server running, conninfo right, pg_hba.conf and .pgpass in place?)" },
    ExitCode { code: 7, name: "ERR_DB_QUERY", meaning: "a database query failed" },
    ExitCode { code: 8, name: "ERR_PROMOTION_FAIL", meaning: "the standby could not be promoted" },
    ExitCode { code: 9, name: "ERR_MONITORING_TIMEOUT", meaning: "timed out waiting for the node" },
    ExitCode { code: 10, name: "ERR_STR_OVERFLOW", meaning: "a string was too long" },
    ExitCode { code: 11, name: "ERR_FAILOVER_FAIL", meaning: "the failover failed" },
    ExitCode { code: 12, name: "ERR_BAD_SSH", meaning: "the SSH connection to the other node failed (passwordless SSH between the postgres users is needed)" },
    ExitCode { code: 13, name: "ERR_SYS_FAILURE", meaning: "a system call failed" },
    ExitCode { code: 14, name: "ERR_BAD_BASEBACKUP", meaning: "the base backup (pg_basebackup) failed" },
    ExitCode { code: 15, name: "ERR_INTERNAL", meaning: "repmgr hit an internal error" },
    ExitCode { code: 16, name: "ERR_MONITORING_FAIL", meaning: "monitoring failed" },
    ExitCode { code: 17, name: "ERR_BAD_BACKUP_LABEL", meaning: "the backup label could not be read" },
    ExitCode { code: 18, name: "ERR_SWITCHOVER_FAIL", meaning: "the switchover could not be carried out; the cluster should be as it was (check `repmgr cluster show`)" },
    ExitCode { code: 19, name: "ERR_BARMAN", meaning: "a Barman command failed" },
    ExitCode { code: 20, name: "ERR_REGISTRATION_SYNC", meaning: "the node record did not reach the standby in time (--wait-sync)" },
    ExitCode { code: 21, name: "ERR_OUT_OF_MEMORY", meaning: "out of memory" },
    ExitCode { code: 22, name: "ERR_SWITCHOVER_INCOMPLETE", meaning: "the switchover happened (this node was promoted) but the former primary did not rejoin as a standby; rejoin it (repmgr_rejoin) and check `repmgr cluster show`" },
    ExitCode { code: 23, name: "ERR_FOLLOW_FAIL", meaning: "the node could not follow the new primary" },
    ExitCode { code: 24, name: "ERR_REJOIN_FAIL", meaning: "the node could not rejoin the cluster" },
    ExitCode { code: 25, name: "ERR_NODE_STATUS", meaning: "a node is in an unexpected state (some node is unreachable or not what its record says)" },
    ExitCode { code: 26, name: "ERR_REPMGRD_PAUSE", meaning: "repmgrd could not be paused or unpaused" },
    ExitCode { code: 27, name: "ERR_REPMGRD_SERVICE", meaning: "the repmgrd service could not be controlled" },
];

/// The exit code's entry, or `None` for a code repmgr 5.3 does not define (e.g. -1 when
/// killed by a signal).
pub fn lookup(code: i32) -> Option<&'static ExitCode> {
    CODES.iter().find(|c| c.code == code)
}

/// `exit 18 (ERR_SWITCHOVER_FAIL: the switchover could not be ...)`.
pub fn describe(code: i32) -> String {
    match lookup(code) {
        Some(c) => format!("exit {} ({}: {})", c.code, c.name, c.meaning),
        None if code < 0 => "killed by a signal".to_string(),
        None => format!("exit {code} (not a repmgr 5.3 exit code)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_those_of_errcode_h() {
        assert_eq!(lookup(1).unwrap().name, "ERR_BAD_CONFIG");
        assert_eq!(lookup(6).unwrap().name, "ERR_DB_CONN");
        assert_eq!(lookup(18).unwrap().name, "ERR_SWITCHOVER_FAIL");
        assert_eq!(lookup(22).unwrap().name, "ERR_SWITCHOVER_INCOMPLETE");
        assert_eq!(lookup(27).unwrap().name, "ERR_REPMGRD_SERVICE");
        assert!(lookup(28).is_none());
        for (i, c) in CODES.iter().enumerate() {
            assert_eq!(c.code, i as i32, "codes are dense and in order");
        }
    }

    #[test]
    fn descriptions_name_the_code() {
        assert!(describe(22).starts_with("exit 22 (ERR_SWITCHOVER_INCOMPLETE: "));
        assert_eq!(describe(-1), "killed by a signal");
        assert_eq!(describe(99), "exit 99 (not a repmgr 5.3 exit code)");
    }
}
