//! Parsers of what repmgr 5.3 and `pg_controldata` print.
//!
//! - [`parse_log`]: repmgr's messages (`INFO: ...`, `HINT: ...`, indented continuation lines),
//!   which `--dry-run` uses to say what it found;
//! - [`parse_cluster_show`]: `repmgr cluster show --csv` (`node_id,connection,recovery`);
//! - [`parse_service_status`]: `repmgr service status --csv` (repmgrd per node);
//! - [`parse_node_status`]: `repmgr node status --csv` (`"key","value"` lines);
//! - [`parse_controldata`]: `pg_controldata` (`key: value` lines).
//!
//! Each parser takes any text without panicking; a line it cannot read is an error naming the
//! line, never a silently wrong value.

use serde::Serialize;

/// The prefixes repmgr's logger writes to stderr (`log.c`: `"%s: "`).
pub const LEVELS: &[&str] = &[
    "DEBUG",
    "INFO",
    "NOTICE",
    "WARNING",
    "ERROR",
    "CRITICAL",
    "ALERT",
    "EMERGENCY",
    "HINT",
    "DETAIL",
];

/// One message of repmgr: its level and text (continuation lines joined with `\n`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    /// `INFO`, `NOTICE`, `WARNING`, `ERROR`, `HINT`, `DETAIL`, ... or `OUTPUT` for text that
    /// came before any prefixed line.
    pub level: String,
    /// The message.
    pub text: String,
}

/// Splits repmgr's output into messages. A line that starts with a level and `": "` starts a
/// message; any other non-empty line continues the previous one (repmgr indents the commands
/// it would run on the next line).
pub fn parse_log(text: &str) -> Vec<LogLine> {
    let mut out: Vec<LogLine> = Vec::new();
    for raw in text.lines() {
        let line = raw.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        let prefixed = LEVELS.iter().find_map(|l| {
            line.strip_prefix(l)
                .and_then(|rest| rest.strip_prefix(": ").or_else(|| (rest == ":").then_some("")))
                .map(|rest| (*l, rest))
        });
        match (prefixed, out.last_mut()) {
            (Some((level, rest)), _) => out.push(LogLine {
                level: level.to_string(),
                text: rest.trim().to_string(),
            }),
            (None, Some(last)) => {
                if !last.text.is_empty() {
                    last.text.push('\n');
                }
                last.text.push_str(line.trim());
            }
            (None, None) => out.push(LogLine {
                level: "OUTPUT".to_string(),
                text: line.trim().to_string(),
            }),
        }
    }
    out
}

/// The problems in a log: each `ERROR` (or worse) with the `DETAIL`/`HINT` lines after it,
/// as one sentence each.
pub fn problems(lines: &[LogLine]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut in_problem = false;
    for l in lines {
        match l.level.as_str() {
            "ERROR" | "CRITICAL" | "ALERT" | "EMERGENCY" => {
                out.push(l.text.clone());
                in_problem = true;
            }
            "DETAIL" | "HINT" if in_problem => {
                if let Some(last) = out.last_mut() {
                    last.push_str(&format!(" ({}: {})", l.level.to_lowercase(), l.text));
                }
            }
            _ => in_problem = false,
        }
    }
    out
}

/// A line that is not what the format says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What was being read.
    pub what: &'static str,
    /// 1-based line number.
    pub line: usize,
    /// The line.
    pub text: String,
}

impl std::error::Error for ParseError {}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read line {} of {}: {:?}", self.line, self.what, self.text)
    }
}

/// What `cluster show` found a node's server to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Recovery {
    /// Not in recovery.
    Primary,
    /// In recovery.
    Standby,
    /// Not known (the node could not be reached).
    Unknown,
}

/// One row of `repmgr cluster show --csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClusterShowRow {
    /// The node.
    pub node_id: i32,
    /// Whether repmgr could connect to it.
    pub connected: bool,
    /// What the server is.
    pub recovery: Recovery,
}

fn int(s: &str) -> Option<i32> {
    s.trim().parse().ok()
}

/// Parses `repmgr cluster show --csv`: one `node_id,connection_status,recovery_type` line per
/// node, `0`/`-1` for up/down and `0`/`1`/`-1` for primary/standby/unknown
/// (`repmgr-action-cluster.c`).
pub fn parse_cluster_show(text: &str) -> Result<Vec<ClusterShowRow>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = || ParseError {
            what: "`repmgr cluster show --csv`",
            line: i + 1,
            text: line.to_string(),
        };
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 3 {
            return Err(err());
        }
        let (Some(id), Some(conn), Some(rec)) = (int(f[0]), int(f[1]), int(f[2])) else {
            return Err(err());
        };
        let recovery = match rec {
            0 => Recovery::Primary,
            1 => Recovery::Standby,
            -1 => Recovery::Unknown,
            _ => return Err(err()),
        };
        let connected = match conn {
            0 => true,
            -1 => false,
            _ => return Err(err()),
        };
        out.push(ClusterShowRow {
            node_id: id,
            connected,
            recovery,
        });
    }
    Ok(out)
}

/// The node types of repmgr 5.3 (`get_node_type_string`).
pub const NODE_TYPES: &[&str] = &["primary", "standby", "witness", "bdr", "unknown"];

/// One row of `repmgr service status --csv`: repmgrd on a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceStatusRow {
    /// The node.
    pub node_id: i32,
    /// Its name.
    pub node_name: String,
    /// `primary`, `standby`, `witness`, ...
    pub node_type: String,
    /// Whether its PostgreSQL server answers.
    pub pg_running: bool,
    /// Whether repmgrd runs there (`None` when PostgreSQL does not answer, so nobody knows).
    pub repmgrd_running: Option<bool>,
    /// repmgrd's PID (`None` when unknown).
    pub repmgrd_pid: Option<i32>,
    /// Whether repmgrd is paused (`None` when unknown).
    pub paused: Option<bool>,
    /// The node's priority.
    pub priority: i32,
    /// Seconds since repmgrd last saw the upstream (`None` when unknown).
    pub upstream_last_seen: Option<i32>,
    /// The node's location.
    pub location: String,
}

fn tri(v: i32) -> Option<bool> {
    match v {
        1 => Some(true),
        0 => Some(false),
        _ => None,
    }
}

/// Parses `repmgr service status --csv`: `id,name,type,pg_running,repmgrd_running,pid,paused,
/// priority,upstream_last_seen,location` (`repmgr-action-service.c`). repmgr does not quote,
/// so a name or location with a comma is found by the known type and the six numbers
/// between them.
pub fn parse_service_status(text: &str) -> Result<Vec<ServiceStatusRow>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = || ParseError {
            what: "`repmgr service status --csv`",
            line: i + 1,
            text: line.to_string(),
        };
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < 10 {
            return Err(err());
        }
        let id = int(f[0]).ok_or_else(err)?;
        // The type: the first field from index 2 that is a node type followed by six numbers.
        let t = (2..=f.len() - 8)
            .find(|&t| NODE_TYPES.contains(&f[t]) && f[t + 1..t + 7].iter().all(|x| int(x).is_some()))
            .ok_or_else(err)?;
        let n: Vec<i32> = f[t + 1..t + 7].iter().filter_map(|x| int(x)).collect();
        let pg_running = match n[0] {
            1 => true,
            0 => false,
            _ => return Err(err()),
        };
        out.push(ServiceStatusRow {
            node_id: id,
            node_name: f[1..t].join(","),
            node_type: f[t].to_string(),
            pg_running,
            repmgrd_running: tri(n[1]),
            repmgrd_pid: Some(n[2]).filter(|p| *p > 0),
            paused: tri(n[3]),
            priority: n[4],
            upstream_last_seen: Some(n[5]).filter(|s| *s >= 0),
            location: f[t + 7..].join(","),
        });
    }
    Ok(out)
}

/// Parses `repmgr node status --csv`: `"key","value"` lines, and raw numbers such as
/// `"max_wal_senders",10` or `"inactive_replication_slots",1,"slot_a"` (the rest of the line,
/// as printed). repmgr does not escape quotes inside values: the value is everything between
/// the first `",` and the line's end, without its outer quotes.
pub fn parse_node_status(text: &str) -> Result<Vec<(String, String)>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = || ParseError {
            what: "`repmgr node status --csv`",
            line: i + 1,
            text: line.to_string(),
        };
        let rest = line.strip_prefix('"').ok_or_else(err)?;
        let (key, value) = rest.split_once("\",").ok_or_else(err)?;
        let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
            Some(inner) if !inner.contains("\",\"") => inner,
            _ => value,
        };
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

/// `pg_controldata`'s report as `(key, value)` pairs in order.
pub fn parse_controldata(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// What pg_rewind needs from a data directory, as `pg_controldata` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RewindReadiness {
    /// `wal_log_hints setting: on`.
    pub wal_log_hints: bool,
    /// `Data page checksum version` above 0.
    pub data_checksums: bool,
    /// `Database cluster state` (`shut down`, `in production`, `shut down in recovery`, ...).
    pub cluster_state: Option<String>,
}

impl RewindReadiness {
    /// Reads it from `pg_controldata` output.
    pub fn from_controldata(text: &str) -> RewindReadiness {
        let pairs = parse_controldata(text);
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        RewindReadiness {
            wal_log_hints: get("wal_log_hints setting") == Some("on"),
            data_checksums: get("Data page checksum version")
                .and_then(|v| v.parse::<u32>().ok())
                .is_some_and(|v| v > 0),
            cluster_state: get("Database cluster state").filter(|s| !s.is_empty()).map(str::to_string),
        }
    }

    /// Whether pg_rewind can work on this data directory.
    pub fn possible(&self) -> bool {
        self.wal_log_hints || self.data_checksums
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Printed by repmgr 5.3.3 on this machine (`standby clone --dry-run`, `standby switchover`).
    const CLONE_DRY_RUN: &str = "NOTICE: destination directory \"/tmp/rx/p2/data\" provided
INFO: connecting to source node
DETAIL: connection string is: host=127.0.0.1 port=55431 user=repmgr dbname=repmgr
DETAIL: current installation size is 29 MB
NOTICE: standby will attach to upstream node 1
HINT: consider using the -c/--fast-checkpoint option
INFO: would execute:
  /usr/lib/postgresql/15/bin/pg_basebackup -l \"repmgr base backup\"  -D /tmp/rx/p2/data -h 127.0.0.1 -p 55431 -U repmgr -X stream 
INFO: all prerequisites for \"standby clone\" are met
";

    #[test]
    fn log_lines_keep_levels_and_continuations() {
        let l = parse_log(CLONE_DRY_RUN);
        assert_eq!(l.len(), 8);
        assert_eq!(l[0].level, "NOTICE");
        assert_eq!(l[2].level, "DETAIL");
        assert_eq!(
            l[6].text,
            "would execute:\n/usr/lib/postgresql/15/bin/pg_basebackup -l \"repmgr base backup\"  -D /tmp/rx/p2/data -h 127.0.0.1 -p 55431 -U repmgr -X stream"
        );
        assert_eq!(l[7].text, "all prerequisites for \"standby clone\" are met");
        assert!(problems(&l).is_empty());
        let first = parse_log("something odd\nERROR: x");
        assert_eq!(first[0].level, "OUTPUT");
    }

    #[test]
    fn problems_carry_their_details_and_hints() {
        let l = parse_log(
            "NOTICE: checking switchover on node \"n1\" (ID: 1) in --dry-run mode
ERROR: switchover must be executed from the standby node to be promoted
DETAIL: this node (ID: 1) is the primary
INFO: unrelated
HINT: not attached",
        );
        assert_eq!(
            problems(&l),
            ["switchover must be executed from the standby node to be promoted (detail: this node (ID: 1) is the primary)"]
        );
    }

    #[test]
    fn cluster_show_csv() {
        let rows = parse_cluster_show("1,0,0\n2,0,1\n3,-1,-1\n").unwrap();
        assert_eq!(
            rows[2],
            ClusterShowRow {
                node_id: 3,
                connected: false,
                recovery: Recovery::Unknown
            }
        );
        assert_eq!(rows[1].recovery, Recovery::Standby);
        assert!(rows[0].connected);
        let e = parse_cluster_show("1,0,0\nWARNING: x\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(parse_cluster_show("1,0,7").is_err());
    }

    #[test]
    fn service_status_csv() {
        let rows = parse_service_status(
            "1,n1,primary,1,0,-1,0,100,-1,default\n2,n2,standby,1,1,4242,0,100,1,default\n3,a,b,witness,0,-1,-1,-1,0,-1,dc,1\n",
        )
        .unwrap();
        assert_eq!(rows[0].repmgrd_running, Some(false));
        assert_eq!(rows[0].repmgrd_pid, None);
        assert_eq!(rows[1].repmgrd_pid, Some(4242));
        assert_eq!(rows[1].upstream_last_seen, Some(1));
        assert_eq!(rows[2].node_name, "a,b");
        assert_eq!(rows[2].location, "dc,1");
        assert!(!rows[2].pg_running && rows[2].repmgrd_running.is_none() && rows[2].paused.is_none());
        assert!(parse_service_status("1,n1,primary,1,0").is_err());
        assert!(parse_service_status("1,n1,nothing,1,0,-1,0,100,-1,default").is_err());
    }

    #[test]
    fn node_status_csv() {
        let kv = parse_node_status(
            "\"Node name\",\"n2\"\n\"Role\",\"standby\"\n\"Upstream node\",\"n1 (ID: 1)\"\n\"max_wal_senders\",10\n\"inactive_replication_slots\",1,\"s\"\n",
        )
        .unwrap();
        assert_eq!(kv[0], ("Node name".into(), "n2".into()));
        assert_eq!(kv[2].1, "n1 (ID: 1)");
        assert_eq!(kv[3].1, "10");
        assert_eq!(kv[4].1, "1,\"s\"");
        assert!(parse_node_status("Role,standby").is_err());
    }

    #[test]
    fn controldata_tells_whether_rewind_works() {
        let t = "pg_control version number:            1300\nDatabase cluster state:               shut down\nwal_log_hints setting:                off\nData page checksum version:           0\n";
        let r = RewindReadiness::from_controldata(t);
        assert!(!r.possible());
        assert_eq!(r.cluster_state.as_deref(), Some("shut down"));
        assert!(RewindReadiness::from_controldata(&t.replace("setting:                off", "setting: on")).possible());
        assert!(RewindReadiness::from_controldata(&t.replace("version:           0", "version: 1")).possible());
    }
}
