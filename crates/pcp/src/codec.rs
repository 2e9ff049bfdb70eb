//! PCP packets: requests the client sends and the answers it reads, as pure functions.
//!
//! A packet is `kind: u8`, `length: u32` (big-endian, counting its own four bytes but not the
//! kind), then the body. Bodies are NUL-terminated strings, numbers included (`"2\0"`).
//! Answers start with a tag string (`"ArraySize"`, `"NodeInfo"`, `"CommandComplete"`), except
//! the salt (`m`: four raw bytes) and errors (`E`/`N`: fields as in PostgreSQL's
//! ErrorResponse, each a one-letter code and a string, ended by an empty code).
//!
//! What Pgpool-II 4.3 does that is easy to get wrong (read from its `pcp.c` and `pcp_worker.c`):
//! - a promote request's body is `"<id> \0"` followed by one raw byte, `s` (switchover: detach
//!   the primary so that `failover_command` promotes this node) or `n` (only tell pgpool which
//!   node is primary); the answer's kind is `d`, as for detach;
//! - a recovery request is answered with `c`, like attach, and only after the whole online
//!   recovery (`recovery_1st_stage_command`, `pgpool_remote_start`, failback) has finished;
//! - node info for node `-1` returns every configured backend: `ArraySize`, one `NodeInfo`
//!   packet a node, then `CommandComplete`;
//! - the weight is sent unnormalised (`"%f"` of a value scaled to `RAND_MAX`): `pcp_node_info`
//!   divides it by `RAND_MAX`;
//! - the watchdog answer is `"CommandComplete\0"` followed by a JSON document; its `Escalated`
//!   flag belongs to the answering node (whether it holds the delegate IP), and the first node
//!   of `WatchdogNodes` is the answering node itself;
//! - errors of level FATAL (a wrong password, promoting the primary) end the connection after
//!   the `E` packet.

use serde::Serialize;
use serde_json::Value;

/// Largest answer accepted (a watchdog JSON document for 128 nodes is far below this).
pub const MAX_ANSWER: usize = 16 << 20;

/// `RAND_MAX` of glibc: Pgpool-II scales backend weights to it.
const RAND_MAX: f64 = 2_147_483_647.0;

/// Why bytes from Pgpool-II are not the answer the protocol describes. The texts complete
/// "unexpected answer from Pgpool-II to <request>: ".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A length field below 4.
    #[error("packet length {0} is less than the length field itself")]
    LengthTooShort(usize),
    /// A length field above [`MAX_ANSWER`].
    #[error("packet length {0} is over the {MAX_ANSWER}-byte limit")]
    LengthTooLong(usize),
    /// A packet of another kind than the request's answer.
    #[error("a packet of kind {got:?} where {expected:?} was expected")]
    Kind {
        /// The kind read.
        got: char,
        /// The kind the request is answered with.
        expected: char,
    },
    /// The salt packet is shorter than four bytes.
    #[error("the salt has {0} bytes, not 4")]
    Salt(usize),
    /// An answer that starts with another tag.
    #[error("expected {expected}, got {got:?}")]
    Tag {
        /// What was expected (`a NodeInfo packet`).
        expected: &'static str,
        /// The tag read, if any.
        got: Option<String>,
    },
    /// An answer with too few values.
    #[error("{what} has {expected} values, got {got}")]
    Count {
        /// The answer (`a NodeInfo packet`).
        what: &'static str,
        /// How many it must have.
        expected: usize,
        /// How many it has.
        got: usize,
    },
    /// A value that must be a number (or a number in range) is not.
    #[error("{what} is not a number: {value:?}")]
    NotANumber {
        /// Which value (`NodeInfo port`).
        what: String,
        /// The text read.
        value: String,
    },
    /// A number out of its type's range.
    #[error("{what} out of range: {value}")]
    OutOfRange {
        /// Which value.
        what: &'static str,
        /// The text read.
        value: String,
    },
    /// A node info answer with another count of nodes than announced.
    #[error("announced {announced} nodes but sent {sent}")]
    Announced {
        /// The `ArraySize`.
        announced: usize,
        /// The `NodeInfo` packets sent.
        sent: usize,
    },
    /// A node info answer without a node.
    #[error("no node in the answer")]
    NoNode,
    /// The watchdog answer holds no JSON document.
    #[error("expected CommandComplete and a JSON document")]
    NoJson,
    /// The watchdog JSON does not parse.
    #[error("the watchdog JSON does not parse: {0}")]
    Json(#[from] serde_json::Error),
    /// The watchdog JSON lacks a key (or has another type there).
    #[error("the watchdog JSON lacks the {kind} {key}")]
    Missing {
        /// `number`, `string` or `list`.
        kind: &'static str,
        /// The key.
        key: &'static str,
    },
    /// `NodeCount` differs from the nodes listed.
    #[error("the watchdog JSON says NodeCount {said} but lists {listed} nodes")]
    NodeCount {
        /// `NodeCount`.
        said: i64,
        /// The length of `WatchdogNodes`.
        listed: usize,
    },
}

/// The answer's tag is not the `expected` one.
pub(crate) fn tag(expected: &'static str, fields: &[String]) -> DecodeError {
    DecodeError::Tag {
        expected,
        got: fields.first().cloned(),
    }
}

fn not_a_number(what: impl Into<String>, value: &str) -> DecodeError {
    DecodeError::NotANumber {
        what: what.into(),
        value: value.to_string(),
    }
}

/// A packet as read from the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The kind byte (`i`, `E`, ...).
    pub kind: u8,
    /// The body, without kind and length.
    pub body: Vec<u8>,
}

/// A packet as bytes: kind, length (counting itself), body.
pub fn encode(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 5);
    out.push(kind);
    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Reads one packet from the start of `buf`: `Ok(None)` when more bytes are needed, else the
/// packet and how many bytes it took.
pub fn decode(buf: &[u8]) -> Result<Option<(Packet, usize)>, DecodeError> {
    if buf.len() < 5 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
    check_length(len)?;
    let total = 1 + len;
    if buf.len() < total {
        return Ok(None);
    }
    Ok(Some((
        Packet {
            kind: buf[0],
            body: buf[5..total].to_vec(),
        },
        total,
    )))
}

/// Whether a packet's length field is acceptable.
pub fn check_length(len: usize) -> Result<(), DecodeError> {
    if len < 4 {
        return Err(DecodeError::LengthTooShort(len));
    }
    if len > MAX_ANSWER {
        return Err(DecodeError::LengthTooLong(len));
    }
    Ok(())
}

/// The body's NUL-terminated strings (a last unterminated piece counts too; bytes that are not
/// UTF-8 are replaced).
pub fn strings(body: &[u8]) -> Vec<String> {
    let mut parts: Vec<&[u8]> = body.split(|&b| b == 0).collect();
    if body.last() == Some(&0) || body.is_empty() {
        parts.pop();
    }
    parts.into_iter().map(|p| String::from_utf8_lossy(p).into_owned()).collect()
}

/// One request to Pgpool-II.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Ask for a salt (`M`).
    Salt,
    /// User name and `md5(md5(md5(password) + user) + salt)` (`R`).
    Auth {
        /// PCP user.
        user: String,
        /// The salted hash in hex.
        hash: String,
    },
    /// Number of configured backends (`L`).
    NodeCount,
    /// One backend, or all with `-1` (`I`).
    NodeInfo(i32),
    /// Health check statistics of one backend (`H`).
    HealthCheckStats(u32),
    /// Attach (fail back) a backend (`C`).
    Attach(u32),
    /// Detach (fail over) a backend (`D`, or `d` to wait for clients to leave first).
    Detach {
        /// Node.
        node: u32,
        /// Wait for every client session to end first.
        gracefully: bool,
    },
    /// Online recovery of a down standby (`O`).
    Recovery(u32),
    /// Make a standby the primary (`J`, or `j` gracefully).
    Promote {
        /// Node.
        node: u32,
        /// Wait for every client session to end first.
        gracefully: bool,
        /// Really switch: detach the current primary so `failover_command` promotes `node`.
        switchover: bool,
    },
    /// Watchdog cluster state, all nodes with `-1` (`W`).
    WatchdogInfo(i32),
    /// Goodbye (`X`); no answer.
    Disconnect,
}

impl Request {
    /// The kind byte.
    pub fn kind(&self) -> u8 {
        match self {
            Request::Salt => b'M',
            Request::Auth { .. } => b'R',
            Request::NodeCount => b'L',
            Request::NodeInfo(_) => b'I',
            Request::HealthCheckStats(_) => b'H',
            Request::Attach(_) => b'C',
            Request::Detach { gracefully: false, .. } => b'D',
            Request::Detach { gracefully: true, .. } => b'd',
            Request::Recovery(_) => b'O',
            Request::Promote { gracefully: false, .. } => b'J',
            Request::Promote { gracefully: true, .. } => b'j',
            Request::WatchdogInfo(_) => b'W',
            Request::Disconnect => b'X',
        }
    }

    /// The kind byte of the answer (`None` for a disconnect).
    pub fn answer_kind(&self) -> Option<u8> {
        Some(match self {
            Request::Salt => b'm',
            Request::Auth { .. } => b'r',
            Request::NodeCount => b'l',
            Request::NodeInfo(_) => b'i',
            Request::HealthCheckStats(_) => b'h',
            Request::Attach(_) | Request::Recovery(_) => b'c',
            Request::Detach { .. } | Request::Promote { .. } => b'd',
            Request::WatchdogInfo(_) => b'w',
            Request::Disconnect => return None,
        })
    }

    /// The body.
    pub fn body(&self) -> Vec<u8> {
        fn cstr(s: &str) -> Vec<u8> {
            let mut v = s.as_bytes().to_vec();
            v.push(0);
            v
        }
        match self {
            Request::Salt | Request::NodeCount | Request::Disconnect => Vec::new(),
            Request::Auth { user, hash } => {
                let mut v = cstr(user);
                v.extend(cstr(hash));
                v
            }
            Request::NodeInfo(n) | Request::WatchdogInfo(n) => cstr(&n.to_string()),
            Request::HealthCheckStats(n) | Request::Attach(n) | Request::Recovery(n) | Request::Detach { node: n, .. } => {
                cstr(&n.to_string())
            }
            Request::Promote { node, switchover, .. } => {
                // "<id> " NUL, then the option byte; the server skips the space and the NUL.
                let mut v = cstr(&format!("{node} "));
                v.push(if *switchover { b's' } else { b'n' });
                v
            }
        }
    }

    /// Kind, length and body.
    pub fn encode(&self) -> Vec<u8> {
        encode(self.kind(), &self.body())
    }

    /// For messages: `attach node 1`.
    pub fn describe(&self) -> String {
        match self {
            Request::Salt => "the md5 salt request".into(),
            Request::Auth { user, .. } => format!("authentication of {user:?}"),
            Request::NodeCount => "node count".into(),
            Request::NodeInfo(-1) => "node info (all nodes)".into(),
            Request::NodeInfo(n) => format!("node info of node {n}"),
            Request::HealthCheckStats(n) => format!("health check stats of node {n}"),
            Request::Attach(n) => format!("attach node {n}"),
            Request::Detach { node, gracefully } => format!("detach node {node}{}", if *gracefully { " gracefully" } else { "" }),
            Request::Recovery(n) => format!("recovery of node {n}"),
            Request::Promote { node, switchover, .. } => {
                format!("promote node {node}{}", if *switchover { " with switchover" } else { "" })
            }
            Request::WatchdogInfo(_) => "watchdog info".into(),
            Request::Disconnect => "disconnect".into(),
        }
    }

    /// The `pcp_*` command line that sends the same request (connection options left out), for
    /// the modules' `commands` result.
    pub fn pcp_command(&self) -> String {
        let g = |b: bool| if b { " -g" } else { "" };
        match self {
            Request::Attach(n) => format!("pcp_attach_node -n {n}"),
            Request::Detach { node, gracefully } => format!("pcp_detach_node{} -n {node}", g(*gracefully)),
            Request::Recovery(n) => format!("pcp_recovery_node -n {n}"),
            Request::Promote {
                node,
                gracefully,
                switchover,
            } => {
                format!(
                    "pcp_promote_node{}{} -n {node}",
                    g(*gracefully),
                    if *switchover { " -s" } else { "" }
                )
            }
            Request::NodeInfo(n) if *n >= 0 => format!("pcp_node_info -n {n}"),
            Request::NodeInfo(_) => "pcp_node_info -a".into(),
            Request::NodeCount => "pcp_node_count".into(),
            Request::HealthCheckStats(n) => format!("pcp_health_check_stats -n {n}"),
            Request::WatchdogInfo(_) => "pcp_watchdog_info".into(),
            other => other.describe(),
        }
    }
}

/// The salted hash of the `R` packet: `md5hex(md5hex(md5hex(password) + user) + salt)`. pcp.conf
/// holds `md5hex(password)`, so the server can compute the same from its file.
pub fn auth_hash(user: &str, password: &str, salt: &[u8; 4]) -> String {
    let stored = pgauth::md5::md5_hex(password.as_bytes());
    let with_user = pgauth::md5::md5_hex(format!("{stored}{user}").as_bytes());
    let mut salted = with_user.into_bytes();
    salted.extend_from_slice(salt);
    pgauth::md5::md5_hex(&salted)
}

/// An `E` (error) or `N` (notice) packet's fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServerError {
    /// `ERROR`, `FATAL`, ...
    pub severity: String,
    /// Pgpool-II's error code (mostly `XX000`).
    pub code: String,
    /// The message.
    pub message: String,
    /// The detail, often the part that says what is wrong.
    pub detail: Option<String>,
    /// A hint.
    pub hint: Option<String>,
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}",
            if self.severity.is_empty() { "ERROR" } else { &self.severity },
            self.message
        )?;
        if let Some(d) = &self.detail {
            write!(f, " ({d})")?;
        }
        if let Some(h) = &self.hint {
            write!(f, " hint: {h}")?;
        }
        Ok(())
    }
}

/// Parses an `E`/`N` body: fields of one code byte and a NUL-terminated string, up to a zero
/// code byte. Unknown codes (file, line, ...) are skipped.
pub fn parse_error(body: &[u8]) -> ServerError {
    let mut e = ServerError::default();
    let mut rest = body;
    while let Some((&code, tail)) = rest.split_first() {
        if code == 0 {
            break;
        }
        let end = tail.iter().position(|&b| b == 0).unwrap_or(tail.len());
        let text = String::from_utf8_lossy(&tail[..end]).into_owned();
        match code {
            b'S' => e.severity = text,
            b'C' => e.code = text,
            b'M' => e.message = text,
            b'D' => e.detail = Some(text),
            b'H' => e.hint = Some(text),
            _ => {}
        }
        rest = tail.get(end + 1..).unwrap_or(&[]);
    }
    if e.message.is_empty() {
        e.message = "no error message".into();
    }
    e
}

/// Pgpool-II's view of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendStatus {
    /// Slot not in use.
    Unused,
    /// Attached, no session has connected yet (`CON_CONNECT_WAIT`).
    Waiting,
    /// Attached and in use.
    Up,
    /// Detached.
    Down,
    /// Detached by a failover that lacked consensus (watchdog); comes back by itself.
    Quarantine,
    /// A status code this client does not know.
    Unknown,
}

impl BackendStatus {
    /// From the status code and the quarantine flag, as `pcp_node_info` names them.
    pub fn from_code(code: i64, quarantine: bool) -> BackendStatus {
        match code {
            0 => BackendStatus::Unused,
            1 => BackendStatus::Waiting,
            2 => BackendStatus::Up,
            3 if quarantine => BackendStatus::Quarantine,
            3 => BackendStatus::Down,
            _ => BackendStatus::Unknown,
        }
    }

    /// `up`, `down`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            BackendStatus::Unused => "unused",
            BackendStatus::Waiting => "waiting",
            BackendStatus::Up => "up",
            BackendStatus::Down => "down",
            BackendStatus::Quarantine => "quarantine",
            BackendStatus::Unknown => "unknown",
        }
    }

    /// Attached: `up` or `waiting`.
    pub fn is_attached(self) -> bool {
        matches!(self, BackendStatus::Up | BackendStatus::Waiting)
    }
}

/// A backend's role as Pgpool-II sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Main node (native replication or raw mode).
    Main,
    /// Other node (native replication or raw mode).
    Replica,
    /// Streaming replication primary.
    Primary,
    /// Streaming replication standby.
    Standby,
    /// A code this client does not know.
    Unknown,
}

impl Role {
    fn from_code(code: i64) -> Role {
        match code {
            0 => Role::Main,
            1 => Role::Replica,
            2 => Role::Primary,
            3 => Role::Standby,
            _ => Role::Unknown,
        }
    }

    /// `primary`, `standby`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Main => "main",
            Role::Replica => "replica",
            Role::Primary => "primary",
            Role::Standby => "standby",
            Role::Unknown => "unknown",
        }
    }
}

/// One backend, with the columns of `SHOW pool_nodes`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeInfo {
    /// Backend number (`backend_hostnameN`).
    pub node_id: u32,
    /// `backend_hostnameN`.
    pub hostname: String,
    /// `backend_portN`.
    pub port: u16,
    /// Pgpool-II's status of the node.
    pub status: BackendStatus,
    /// Whether the node is quarantined.
    pub quarantine: bool,
    /// What Pgpool-II found by connecting to PostgreSQL (`up`, `down`, `unknown`).
    pub pg_status: String,
    /// Pgpool-II's role of the node.
    pub role: Role,
    /// What PostgreSQL itself says (`primary`, `standby`, `unknown`).
    pub pg_role: String,
    /// Load-balance weight, normalised as `SHOW pool_nodes` shows it.
    pub lb_weight: f64,
    /// Replication delay (bytes, or seconds with `delay_threshold_by_time`).
    pub replication_delay: u64,
    /// `state` from `pg_stat_replication` on the primary (empty when unknown).
    pub replication_state: String,
    /// `sync_state` from `pg_stat_replication` (empty when unknown).
    pub replication_sync_state: String,
    /// When the status last changed, ISO 8601 UTC.
    pub last_status_change: String,
    /// The same as seconds since the epoch.
    pub last_status_change_epoch: i64,
}

/// Parses a `NodeInfo` answer's strings (tag included) into the node `node_id`.
pub fn parse_node_info(node_id: u32, fields: &[String]) -> Result<NodeInfo, DecodeError> {
    if fields.first().map(String::as_str) != Some("NodeInfo") {
        return Err(tag("a NodeInfo packet", fields));
    }
    if fields.len() < 13 {
        return Err(DecodeError::Count {
            what: "a NodeInfo packet",
            expected: 12,
            got: fields.len().saturating_sub(1),
        });
    }
    let f = &fields[1..];
    let num = |i: usize, what: &str| -> Result<i64, DecodeError> {
        f[i].trim()
            .parse::<i64>()
            .map_err(|_| not_a_number(format!("NodeInfo {what}"), &f[i]))
    };
    let port = u16::try_from(num(1, "port")?).map_err(|_| DecodeError::OutOfRange {
        what: "NodeInfo port",
        value: f[1].clone(),
    })?;
    let quarantine = num(3, "quarantine flag")? != 0;
    let weight: f64 = f[5].trim().parse().map_err(|_| not_a_number("NodeInfo weight", &f[5]))?;
    let delay: u64 = f[8].trim().parse().map_err(|_| not_a_number("NodeInfo replication delay", &f[8]))?;
    let changed = num(11, "status change time")?;
    Ok(NodeInfo {
        node_id,
        hostname: f[0].clone(),
        port,
        status: BackendStatus::from_code(num(2, "status")?, quarantine),
        quarantine,
        pg_status: f[4].clone(),
        role: Role::from_code(num(6, "role")?),
        pg_role: f[7].clone(),
        lb_weight: ((weight / RAND_MAX) * 1e6).round() / 1e6,
        replication_delay: delay,
        replication_state: f[9].clone(),
        replication_sync_state: f[10].clone(),
        last_status_change: crate::time::iso_utc(changed),
        last_status_change_epoch: changed,
    })
}

/// Parses the count of an `ArraySize` packet.
pub fn parse_array_size(fields: &[String]) -> Result<usize, DecodeError> {
    match fields {
        [t, n, ..] if t == "ArraySize" => n.trim().parse().map_err(|_| not_a_number("ArraySize", n)),
        _ => Err(tag("an ArraySize packet", fields)),
    }
}

/// Parses a node count answer (`CommandComplete`, count).
pub fn parse_node_count(fields: &[String]) -> Result<u32, DecodeError> {
    match fields {
        [t, n, ..] if t == "CommandComplete" => n.trim().parse().map_err(|_| not_a_number("node count", n)),
        _ => Err(tag("CommandComplete and a count", fields)),
    }
}

/// Health check statistics of one backend (`pcp_health_check_stats`, `SHOW pool_health_check_stats`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthCheckStats {
    /// Backend number.
    pub node_id: u32,
    /// Host name.
    pub hostname: String,
    /// Port.
    pub port: u16,
    /// Pgpool-II's status (`up`, `down`, ...).
    pub status: String,
    /// Role (`primary`, `standby`, ...).
    pub role: String,
    /// When the status last changed (as Pgpool-II formats it, local time of the server).
    pub last_status_change: Option<String>,
    /// Health checks run.
    pub total_count: u64,
    /// Of which succeeded.
    pub success_count: u64,
    /// Of which failed.
    pub fail_count: u64,
    /// Skipped (node down, or health check off for the node).
    pub skip_count: u64,
    /// Retries.
    pub retry_count: u64,
    /// Average retries per check.
    pub average_retry_count: f64,
    /// Most retries in one check.
    pub max_retry_count: u64,
    /// Longest check, milliseconds.
    pub max_health_check_duration: u64,
    /// Shortest check, milliseconds.
    pub min_health_check_duration: u64,
    /// Average check, milliseconds.
    pub average_health_check_duration: f64,
    /// Last check.
    pub last_health_check: Option<String>,
    /// Last successful check.
    pub last_successful_health_check: Option<String>,
    /// Last skipped check.
    pub last_skip_health_check: Option<String>,
    /// Last failed check.
    pub last_failed_health_check: Option<String>,
}

/// Parses a health check stats answer's strings (tag included).
pub fn parse_health_check_stats(fields: &[String]) -> Result<HealthCheckStats, DecodeError> {
    if fields.first().map(String::as_str) != Some("CommandComplete") {
        return Err(tag("CommandComplete", fields));
    }
    if fields.len() < 21 {
        return Err(DecodeError::Count {
            what: "health check stats",
            expected: 20,
            got: fields.len().saturating_sub(1),
        });
    }
    let f = &fields[1..];
    let date = |i: usize| Some(f[i].trim().to_string()).filter(|s| !s.is_empty());
    let count = |i: usize| -> Result<u64, DecodeError> {
        let s = f[i].trim();
        if s.is_empty() {
            return Ok(0);
        }
        s.parse().map_err(|_| not_a_number(format!("health check stats value {i}"), s))
    };
    let float = |i: usize| -> Result<f64, DecodeError> {
        let s = f[i].trim();
        if s.is_empty() {
            return Ok(0.0);
        }
        s.parse().map_err(|_| not_a_number(format!("health check stats value {i}"), s))
    };
    Ok(HealthCheckStats {
        node_id: f[0].trim().parse().map_err(|_| not_a_number("health check stats node id", &f[0]))?,
        hostname: f[1].clone(),
        port: f[2].trim().parse().map_err(|_| not_a_number("health check stats port", &f[2]))?,
        status: f[3].clone(),
        role: f[4].clone(),
        last_status_change: date(5),
        total_count: count(6)?,
        success_count: count(7)?,
        fail_count: count(8)?,
        skip_count: count(9)?,
        retry_count: count(10)?,
        average_retry_count: float(11)?,
        max_retry_count: count(12)?,
        max_health_check_duration: count(13)?,
        min_health_check_duration: count(14)?,
        average_health_check_duration: float(15)?,
        last_health_check: date(16),
        last_successful_health_check: date(17),
        last_skip_health_check: date(18),
        last_failed_health_check: date(19),
    })
}

/// One watchdog node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatchdogNode {
    /// `pgpool_node_id` of the node (`-1` when unknown).
    pub id: i64,
    /// Watchdog node name (`host:port Linux host`).
    pub name: String,
    /// Host name or address.
    pub host: String,
    /// Pgpool-II port.
    pub pgpool_port: i64,
    /// Watchdog port.
    pub wd_port: i64,
    /// `wd_priority`.
    pub priority: i64,
    /// State code.
    pub state: i64,
    /// `LEADER`, `STANDBY`, `DEAD`, `LOST`, `SHUTDOWN`, ...
    pub state_name: String,
    /// Membership code.
    pub membership: i64,
    /// `MEMBER`, `REVOKED-SHUTDOWN`, ...
    pub membership_status: String,
    /// `delegate_IP` as the node has it configured (`None` when not set).
    pub delegate_ip: Option<String>,
    /// The node that answered (the first one of the list).
    pub is_local: bool,
    /// Whether it is the leader.
    pub is_leader: bool,
}

/// The watchdog cluster as one node sees it (`pcp_watchdog_info -v`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WatchdogInfo {
    /// Nodes in the answer.
    pub node_count: i64,
    /// Other nodes configured.
    pub remote_node_count: i64,
    /// Other nodes that are members (not revoked).
    pub member_remote_node_count: i64,
    /// Other nodes alive (standing by the leader).
    pub alive_remote_node_count: i64,
    /// Votes needed for a quorum.
    pub nodes_required_for_quorum: i64,
    /// `1` quorum exists, `0` on the edge, `-1` absent, `-2` no leader.
    pub quorum_status: i64,
    /// The same in words, as `pcp_watchdog_info -v` prints it (`QUORUM EXIST`, ...).
    pub quorum_state: String,
    /// The leader's node name (`None` when there is no leader).
    pub leader_node_name: Option<String>,
    /// The leader's host name.
    pub leader_host_name: Option<String>,
    /// Whether the answering node has escalated, i.e. holds the delegate IP.
    pub local_node_escalated: bool,
    /// The node known to hold the delegate IP: the answering node when it has escalated, else
    /// `None` (this node does not know; with a quorum the leader holds it).
    pub vip_holder: Option<String>,
    /// The answering node's `delegate_IP` (`None` when not set).
    pub delegate_ip: Option<String>,
    /// Every node, the answering one first.
    pub nodes: Vec<WatchdogNode>,
}

fn not_set(s: &str) -> Option<String> {
    match s {
        "" | "Not_Set" | "Not Set" => None,
        s => Some(s.to_string()),
    }
}

/// Parses a watchdog info answer's body (`"CommandComplete\0"` + JSON).
pub fn parse_watchdog_info(body: &[u8]) -> Result<WatchdogInfo, DecodeError> {
    const TAG: &[u8] = b"CommandComplete\0";
    let json = body.strip_prefix(TAG).ok_or(DecodeError::NoJson)?;
    let json = json.strip_suffix(&[0]).unwrap_or(json);
    let root: Value = serde_json::from_slice(json)?;
    let get_int = |v: &Value, key: &'static str| -> Result<i64, DecodeError> {
        v.get(key)
            .and_then(Value::as_i64)
            .ok_or(DecodeError::Missing { kind: "number", key })
    };
    let get_str = |v: &Value, key: &'static str| -> Result<String, DecodeError> {
        v.get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or(DecodeError::Missing { kind: "string", key })
    };
    let list = root.get("WatchdogNodes").and_then(Value::as_array).ok_or(DecodeError::Missing {
        kind: "list",
        key: "WatchdogNodes",
    })?;
    let node_count = get_int(&root, "NodeCount")?;
    if node_count != list.len() as i64 {
        return Err(DecodeError::NodeCount {
            said: node_count,
            listed: list.len(),
        });
    }
    let quorum_status = get_int(&root, "QuorumStatus")?;
    let leader = not_set(&get_str(&root, "LeaderNodeName")?);
    let escalated = get_int(&root, "Escalated")? != 0;
    let mut nodes = Vec::with_capacity(list.len());
    for (i, n) in list.iter().enumerate() {
        let name = get_str(n, "NodeName")?;
        nodes.push(WatchdogNode {
            id: get_int(n, "ID")?,
            is_leader: leader.as_deref() == Some(name.as_str()),
            name,
            host: get_str(n, "HostName")?,
            pgpool_port: get_int(n, "PgpoolPort")?,
            wd_port: get_int(n, "WdPort")?,
            priority: get_int(n, "Priority")?,
            state: get_int(n, "State")?,
            state_name: get_str(n, "StateName")?,
            membership: n.get("Membership").and_then(Value::as_i64).unwrap_or(0),
            membership_status: n
                .get("MembershipString")
                .and_then(Value::as_str)
                .unwrap_or("NOT-Available")
                .to_string(),
            delegate_ip: not_set(&get_str(n, "DelegateIP")?),
            is_local: i == 0,
        });
    }
    let local = nodes.first();
    Ok(WatchdogInfo {
        node_count,
        remote_node_count: get_int(&root, "RemoteNodeCount")?,
        member_remote_node_count: root.get("MemberRemoteNodeCount").and_then(Value::as_i64).unwrap_or(-1),
        alive_remote_node_count: get_int(&root, "AliveNodeCount")?,
        nodes_required_for_quorum: root.get("NodesRequireForQuorum").and_then(Value::as_i64).unwrap_or(-1),
        quorum_status,
        quorum_state: match quorum_status {
            1 => "QUORUM EXIST",
            0 => "QUORUM IS ON THE EDGE",
            -1 => "QUORUM ABSENT",
            -2 => "NO LEADER NODE",
            _ => "UNKNOWN",
        }
        .to_string(),
        leader_node_name: leader,
        leader_host_name: not_set(&get_str(&root, "LeaderHostName")?),
        local_node_escalated: escalated,
        vip_holder: if escalated { local.map(|n| n.name.clone()) } else { None },
        delegate_ip: local.and_then(|n| n.delegate_ip.clone()),
        nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn node_info_body(fields: &[&str]) -> Vec<u8> {
        let mut v = Vec::new();
        for f in fields {
            v.extend_from_slice(f.as_bytes());
            v.push(0);
        }
        v
    }

    #[test]
    fn requests_are_framed_as_pcp_c_frames_them() {
        assert_eq!(Request::Salt.encode(), b"M\0\0\0\x04");
        assert_eq!(Request::NodeInfo(1).encode(), b"I\0\0\0\x061\0");
        assert_eq!(Request::NodeInfo(-1).encode(), b"I\0\0\0\x07-1\0");
        assert_eq!(Request::Attach(12).encode(), b"C\0\0\0\x0712\0");
        assert_eq!(Request::Detach { node: 1, gracefully: true }.encode(), b"d\0\0\0\x061\0");
        assert_eq!(Request::Recovery(2).encode(), b"O\0\0\0\x062\0");
        // "1 " NUL 's': length 4 + 4 body bytes, as _pcp_promote_node computes it.
        assert_eq!(
            Request::Promote {
                node: 1,
                gracefully: false,
                switchover: true
            }
            .encode(),
            b"J\0\0\0\x081 \0s"
        );
        assert_eq!(
            Request::Promote {
                node: 3,
                gracefully: true,
                switchover: false
            }
            .encode(),
            b"j\0\0\0\x083 \0n"
        );
        assert_eq!(Request::Disconnect.encode(), b"X\0\0\0\x04");
        let auth = Request::Auth {
            user: "pgpool".into(),
            hash: "ab".into(),
        }
        .encode();
        assert_eq!(auth, b"R\0\0\0\x0epgpool\0ab\0");
    }

    #[test]
    fn answers_are_matched_to_requests() {
        assert_eq!(Request::Recovery(1).answer_kind(), Some(b'c'));
        assert_eq!(
            Request::Promote {
                node: 1,
                gracefully: false,
                switchover: false
            }
            .answer_kind(),
            Some(b'd')
        );
        assert_eq!(Request::Disconnect.answer_kind(), None);
        assert_eq!(
            Request::Promote {
                node: 2,
                gracefully: true,
                switchover: true
            }
            .pcp_command(),
            "pcp_promote_node -g -s -n 2"
        );
    }

    #[test]
    fn auth_hash_is_md5_of_pcp_conf_hash_user_and_salt() {
        // md5("pw") = 8fe4c114...; the salted chain computed independently with Python's hashlib:
        // md5(md5(md5("pw").hex + "pgpool").hex + b"\x01\x02\x03\x04").hex
        assert_eq!(auth_hash("pgpool", "pw", &[1, 2, 3, 4]), "7fba155eedbc32a55ce60ee67282468a");
    }

    #[test]
    fn decode_waits_for_whole_packets() {
        let p = encode(b'c', b"CommandComplete\0");
        assert_eq!(decode(&p[..3]).unwrap(), None);
        assert_eq!(decode(&p[..p.len() - 1]).unwrap(), None);
        let (pkt, used) = decode(&p).unwrap().unwrap();
        assert_eq!((pkt.kind, used), (b'c', p.len()));
        assert_eq!(strings(&pkt.body), ["CommandComplete"]);
        assert!(matches!(decode(b"c\0\0\0\x02"), Err(DecodeError::LengthTooShort(2))));
        let e = decode(b"c\x7f\0\0\0").unwrap_err();
        assert!(matches!(e, DecodeError::LengthTooLong(_)), "{e}");
    }

    #[test]
    fn error_fields_as_pgpool_sends_them() {
        let body = b"SFATAL\0CXX000\0Mauthentication failed\0Dusername and/or password does not match\0Fpcp_worker.c\0L1352\0\0";
        let e = parse_error(body);
        assert_eq!(e.severity, "FATAL");
        assert_eq!(e.code, "XX000");
        assert_eq!(e.message, "authentication failed");
        assert_eq!(e.detail.as_deref(), Some("username and/or password does not match"));
        assert_eq!(
            e.to_string(),
            "FATAL: authentication failed (username and/or password does not match)"
        );
        assert_eq!(parse_error(b"").message, "no error message");
    }

    #[test]
    fn node_info_as_pcp_worker_sends_it() {
        let body = node_info_body(&[
            "NodeInfo",
            "127.0.0.1",
            "5433",
            "2",
            "0",
            "up",
            "1073741823.500000",
            "3",
            "standby",
            "0",
            "streaming",
            "async",
            "1700000000",
        ]);
        let n = parse_node_info(1, &strings(&body)).unwrap();
        assert_eq!(n.hostname, "127.0.0.1");
        assert_eq!(n.port, 5433);
        assert_eq!(n.status, BackendStatus::Up);
        assert_eq!(n.role, Role::Standby);
        assert_eq!(n.lb_weight, 0.5);
        assert_eq!(n.replication_state, "streaming");
        assert_eq!(n.last_status_change, "2023-11-14T22:13:20Z");
        let quarantined = node_info_body(&["NodeInfo", "h", "1", "3", "1", "down", "0", "2", "primary", "0", "", "", "0"]);
        let q = parse_node_info(0, &strings(&quarantined)).unwrap();
        assert_eq!(
            (q.status, q.role, q.replication_state.as_str()),
            (BackendStatus::Quarantine, Role::Primary, "")
        );
        let e = parse_node_info(0, &strings(&node_info_body(&["NodeInfo", "h", "x"]))).unwrap_err();
        assert_eq!(e.to_string(), "a NodeInfo packet has 12 values, got 2");
        let e = parse_node_info(
            0,
            &strings(&node_info_body(&[
                "NodeInfo", "h", "99999", "2", "0", "up", "1", "2", "p", "0", "", "", "0",
            ])),
        )
        .unwrap_err();
        assert!(matches!(e, DecodeError::OutOfRange { what: "NodeInfo port", .. }), "{e}");
    }

    #[test]
    fn health_check_stats() {
        let mut f = vec![
            "CommandComplete",
            "0",
            "127.0.0.1",
            "5432",
            "up",
            "primary",
            "2024-01-01 10:00:00",
            "10",
            "9",
            "1",
            "0",
            "2",
            "0.200000",
            "1",
            "12",
            "3",
            "5.500000",
            "2024-01-01 10:00:10",
            "2024-01-01 10:00:10",
            "",
            "2024-01-01 10:00:05",
        ];
        let s = parse_health_check_stats(&strings(&node_info_body(&f))).unwrap();
        assert_eq!(
            (s.node_id, s.total_count, s.fail_count, s.max_health_check_duration),
            (0, 10, 1, 12)
        );
        assert_eq!(s.average_health_check_duration, 5.5);
        assert_eq!(s.last_skip_health_check, None);
        f.truncate(10);
        let e = parse_health_check_stats(&strings(&node_info_body(&f))).unwrap_err();
        assert!(matches!(e, DecodeError::Count { expected: 20, got: 9, .. }), "{e}");
    }

    #[test]
    fn watchdog_json_of_a_three_node_cluster() {
        let json = r#"{"RemoteNodeCount":2,"MemberRemoteNodeCount":2,"NodesRequireForQuorum":2,"QuorumStatus":1,
            "AliveNodeCount":2,"Escalated":1,"LeaderNodeName":"10.0.0.181:9999 Linux postgres1","LeaderHostName":"10.0.0.181",
            "NodeCount":3,"WatchdogNodes":[
            {"ID":0,"State":4,"Membership":0,"MembershipString":"MEMBER","NodeName":"10.0.0.181:9999 Linux postgres1","HostName":"10.0.0.181","StateName":"LEADER","DelegateIP":"10.0.0.180","WdPort":9000,"PgpoolPort":9999,"Priority":1},
            {"ID":1,"State":7,"Membership":0,"MembershipString":"MEMBER","NodeName":"10.0.0.182:9999 Linux postgres2","HostName":"10.0.0.182","StateName":"STANDBY","DelegateIP":"10.0.0.180","WdPort":9000,"PgpoolPort":9999,"Priority":1},
            {"ID":2,"State":8,"Membership":0,"MembershipString":"MEMBER","NodeName":"Not_Set","HostName":"10.0.0.183","StateName":"LOST","DelegateIP":"Not_Set","WdPort":9000,"PgpoolPort":9999,"Priority":1}]}"#;
        let mut body = b"CommandComplete\0".to_vec();
        body.extend_from_slice(json.as_bytes());
        body.push(0);
        let w = parse_watchdog_info(&body).unwrap();
        assert_eq!(w.quorum_state, "QUORUM EXIST");
        assert_eq!(w.leader_host_name.as_deref(), Some("10.0.0.181"));
        assert_eq!(w.vip_holder.as_deref(), Some("10.0.0.181:9999 Linux postgres1"));
        assert_eq!(w.delegate_ip.as_deref(), Some("10.0.0.180"));
        assert!(w.nodes[0].is_local && w.nodes[0].is_leader && !w.nodes[1].is_leader);
        assert_eq!(w.nodes[2].delegate_ip, None);
        let bad = br#"CommandComplete{"NodeCount":2,"WatchdogNodes":[]}"#;
        assert!(matches!(parse_watchdog_info(bad), Err(DecodeError::NoJson)));
        let bad = b"CommandComplete\0{\"NodeCount\":2,\"WatchdogNodes\":[]}";
        let e = parse_watchdog_info(bad).unwrap_err();
        assert_eq!(e.to_string(), "the watchdog JSON says NodeCount 2 but lists 0 nodes");
    }

    proptest! {
        #[test]
        fn decode_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&buf);
        }

        #[test]
        fn encode_then_decode_is_identity(kind in any::<u8>(), body in proptest::collection::vec(any::<u8>(), 0..300), extra in proptest::collection::vec(any::<u8>(), 0..8)) {
            let mut wire = encode(kind, &body);
            let len = wire.len();
            wire.extend_from_slice(&extra);
            let (p, used) = decode(&wire).unwrap().unwrap();
            prop_assert_eq!(used, len);
            prop_assert_eq!(p, Packet { kind, body });
        }

        #[test]
        fn parsers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_error(&body);
            let fields = strings(&body);
            let _ = parse_node_info(0, &fields);
            let _ = parse_health_check_stats(&fields);
            let _ = parse_array_size(&fields);
            let _ = parse_node_count(&fields);
            let _ = parse_watchdog_info(&body);
        }

        #[test]
        fn node_info_fields_round_trip(host in "[a-z0-9.-]{1,40}", port in 1u16.., status in 0i64..4, quarantine in any::<bool>(),
                                       role in 0i64..4, delay in any::<u64>(), state in "[a-z]{0,12}", changed in 0i64..4_000_000_000) {
            let port_s = port.to_string();
            let status_s = status.to_string();
            let q = if quarantine { "1" } else { "0" };
            let role_s = role.to_string();
            let delay_s = delay.to_string();
            let changed_s = changed.to_string();
            let body = node_info_body(&["NodeInfo", &host, &port_s, &status_s, q, "up", "2147483647.000000", &role_s, "primary", &delay_s, &state, "async", &changed_s]);
            let n = parse_node_info(7, &strings(&body)).unwrap();
            prop_assert_eq!(n.hostname, host);
            prop_assert_eq!(n.port, port);
            prop_assert_eq!(n.quarantine, quarantine);
            prop_assert_eq!(n.replication_delay, delay);
            prop_assert_eq!(n.replication_state, state);
            prop_assert_eq!(n.lb_weight, 1.0);
            prop_assert_eq!(n.last_status_change_epoch, changed);
            prop_assert_eq!(n.status.is_attached(), status == 1 || status == 2);
        }

        #[test]
        fn error_fields_round_trip(msg in "[^\0]{0,80}", detail in proptest::option::of("[^\0]{0,80}")) {
            let mut body = b"SERROR\0CXX000\0".to_vec();
            body.push(b'M'); body.extend_from_slice(msg.as_bytes()); body.push(0);
            if let Some(d) = &detail { body.push(b'D'); body.extend_from_slice(d.as_bytes()); body.push(0); }
            body.extend_from_slice(b"Fx.c\0L1\0\0");
            let e = parse_error(&body);
            prop_assert_eq!(e.severity, "ERROR");
            prop_assert_eq!(e.message, if msg.is_empty() { "no error message".to_string() } else { msg });
            prop_assert_eq!(e.detail, detail);
        }
    }
}
