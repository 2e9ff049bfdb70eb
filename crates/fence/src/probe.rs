//! Questions to PostgreSQL servers and TCP ports, each with a hard bound.
//!
//! Everything here is a future that owns its socket: a bound ([`tokio::time::timeout`]) drops
//! it, and with it the connection, whatever state the exchange is in. So a server that accepts
//! a connection and then stalls (in authentication, or in the statement) costs one probe
//! timeout and nothing more. SQL goes over tokio-postgres (the wire protocol; no libpq), with
//! its connection driven inside the same future rather than spawned beside it, so that nothing
//! outlives the bound. Other nodes are reached by IP address: no name is resolved.

use crate::config::{Config, PeerConfig};
use crate::decide::{Local, Peer};
use futures_util::future::{self, Either, FutureExt};
use pgconf::pgpass::{PassFile, PassFormat};
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Config as PgConfig, NoTls, SimpleQueryMessage};

/// Whether a server is in recovery, and its current timeline when not: one statement, one
/// evaluation of `pg_is_in_recovery()`.
pub const ROLE_SQL: &str = "SELECT s.r::text, CASE WHEN s.r THEN NULL \
     ELSE pg_catalog.substr(pg_catalog.pg_walfile_name(pg_catalog.pg_current_wal_lsn()), 1, 8) END \
     FROM (SELECT pg_catalog.pg_is_in_recovery() AS r) s";

/// A server's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Not in recovery, on this timeline.
    Primary {
        /// The timeline of its current WAL position.
        timeline: u32,
    },
    /// In recovery.
    Standby,
}

/// Why a question got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AskError {
    /// No answer within the bound.
    #[error("no answer within {0} ms")]
    Timeout(u64),
    /// No server runs there, or it is starting or shutting down.
    #[error("not running: {0}")]
    NotRunning(String),
    /// Anything else (authentication, permissions, an unexpected answer).
    #[error("{0}")]
    Other(String),
}

/// Where a question goes and as whom.
#[derive(Debug, Clone)]
pub struct Target {
    cfg: PgConfig,
}

impl Target {
    /// A server's Unix socket, logging in as `user` (peer authentication).
    pub fn socket(dir: &Path, port: u16, user: &str) -> Target {
        let mut cfg = PgConfig::new();
        cfg.host_path(dir).port(port).user(user).dbname("postgres");
        Target::common(cfg)
    }

    /// A server by address, with the password (if any) from `passfile`, looked up by each of
    /// `pass_hosts` in turn.
    pub fn tcp(address: IpAddr, port: u16, user: &str, database: &str, passfile: Option<&Path>, pass_hosts: &[&str]) -> Target {
        let mut cfg = PgConfig::new();
        cfg.host(address.to_string()).port(port).user(user).dbname(database);
        if let Some(pw) = passfile.and_then(|f| password(f, pass_hosts, port, database, user)) {
            cfg.password(pw);
        }
        Target::common(cfg)
    }

    /// A peer of the fence's configuration, its password looked up by its name, then its address.
    pub fn peer(cfg: &Config, p: &PeerConfig) -> Target {
        let address = p.address.to_string();
        Target::tcp(
            p.address,
            cfg.port,
            &cfg.peer_user,
            &cfg.peer_database,
            cfg.passfile.as_deref(),
            &[p.name.as_str(), address.as_str()],
        )
    }

    fn common(mut cfg: PgConfig) -> Target {
        // No TLS, on purpose: the fence asks its peers one read-only question over the
        // cluster's own network (by address, with no name to check a certificate against), and
        // stays a small daemon without a TLS stack. The modules' connections (pgclient) do TLS.
        cfg.application_name("pgha-fence")
            .ssl_mode(tokio_postgres::config::SslMode::Disable)
            .keepalives(false);
        Target { cfg }
    }
}

/// The password for a connection from a `.pgpass`-format file: the first of `hosts` that has a
/// matching line. An unreadable file, or one that others may read (libpq skips those too),
/// gives none (the server then says what it misses).
pub fn password(passfile: &Path, hosts: &[&str], port: u16, database: &str, user: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(passfile).ok()?;
    if !meta.is_file() || meta.permissions().mode() & 0o077 != 0 {
        return None;
    }
    let text = std::fs::read_to_string(passfile).ok()?;
    let file = PassFile::parse(&text, PassFormat::PgPass);
    let port = port.to_string();
    hosts.iter().find_map(|h| file.lookup(h, &port, database, user))
}

/// Asks a server for its role, within `limit`.
pub async fn role(target: &Target, limit: Duration) -> Result<Role, AskError> {
    match tokio::time::timeout(limit, ask_role(target)).await {
        Ok(r) => r,
        Err(_) => Err(AskError::Timeout(limit.as_millis() as u64)),
    }
}

async fn ask_role(target: &Target) -> Result<Role, AskError> {
    let (client, connection) = target.cfg.connect(NoTls).await.map_err(classify)?;
    let query = client.simple_query(ROLE_SQL);
    // Drive the connection and the statement together: whichever ends first decides, and both
    // are dropped with this future.
    let messages = match future::select(Box::pin(query), connection.boxed()).await {
        Either::Left((r, _)) => r.map_err(classify)?,
        Either::Right((r, _)) => {
            return Err(match r {
                Err(e) => classify(e),
                Ok(()) => AskError::Other("the server closed the connection".into()),
            })
        }
    };
    let row = messages
        .into_iter()
        .find_map(|m| match m {
            SimpleQueryMessage::Row(r) => Some(r),
            _ => None,
        })
        .ok_or_else(|| AskError::Other("no row from the role query".into()))?;
    parse_role(row.get(0), row.get(1))
}

/// The role from the two columns of [`ROLE_SQL`].
pub fn parse_role(in_recovery: Option<&str>, walfile_timeline: Option<&str>) -> Result<Role, AskError> {
    match (in_recovery, walfile_timeline) {
        (Some("true"), _) => Ok(Role::Standby),
        (Some("false"), Some(tli)) if tli.len() == 8 => u32::from_str_radix(tli, 16)
            .map(|timeline| Role::Primary { timeline })
            .map_err(|_| AskError::Other(format!("unexpected timeline {tli:?}"))),
        other => Err(AskError::Other(format!("unexpected answer to the role query: {other:?}"))),
    }
}

/// Sorts a tokio-postgres error: a server that is not there, or starting or shutting down,
/// is "not running"; the rest is reported as it is.
fn classify(e: tokio_postgres::Error) -> AskError {
    if let Some(code) = e.code() {
        if *code == SqlState::CANNOT_CONNECT_NOW || *code == SqlState::ADMIN_SHUTDOWN {
            return AskError::NotRunning(e.to_string());
        }
    }
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if matches!(io.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused) {
                return AskError::NotRunning(io.to_string());
            }
        }
        source = s.source();
    }
    match e.as_db_error() {
        Some(db) => AskError::Other(format!("{}: {}", db.code().code(), db.message())),
        None => AskError::Other(e.to_string()),
    }
}

/// Whether a TCP handshake with `address` completes on any of `ports` within `limit`.
pub async fn handshake(address: IpAddr, ports: &[u16], limit: Duration) -> bool {
    let attempts = ports.iter().map(|&p| {
        async move {
            tokio::net::TcpStream::connect(SocketAddr::new(address, p))
                .await
                .map(drop)
                .map_err(drop)
        }
        .boxed()
    });
    if ports.is_empty() {
        return false;
    }
    matches!(tokio::time::timeout(limit, future::select_ok(attempts)).await, Ok(Ok(_)))
}

/// The local server, as a round sees it.
pub async fn local(cfg: &Config, limit: Duration) -> (Local, Option<AskError>) {
    let target = Target::socket(&cfg.socket_directory, cfg.port, &cfg.local_user);
    match role(&target, limit).await {
        Ok(Role::Primary { timeline }) => (Local::Primary { timeline }, None),
        Ok(Role::Standby) => (Local::Standby, None),
        Err(AskError::NotRunning(_)) => (Local::Down, None),
        Err(e) => (Local::Unknown, Some(e)),
    }
}

/// Another node, as a round sees it: a handshake on any of its ports and, when `ask_role`,
/// its role, in parallel, each within `limit`. Isolation is decided on the handshake alone;
/// the role (a login and a statement on the peer's server) only finds a newer primary, so the
/// daemon asks it less often than it knocks.
pub async fn peer(cfg: &Config, p: &PeerConfig, limit: Duration, ask_role: bool) -> (Peer, Option<AskError>) {
    let ports = cfg.ports();
    let asking = async {
        if ask_role {
            Some(role(&Target::peer(cfg, p), limit).await)
        } else {
            None
        }
    };
    let (reached, asked) = future::join(handshake(p.address, &ports, limit), asking).await;
    let (primary_timeline, error, answered_sql) = match asked {
        Some(Ok(Role::Primary { timeline })) => (Some(timeline), None, true),
        Some(Ok(Role::Standby)) => (None, None, true),
        Some(Err(e)) => (None, Some(e), false),
        None => (None, None, false),
    };
    (
        Peer {
            name: p.name.clone(),
            reachable: reached || answered_sql,
            primary_timeline,
        },
        error,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_from_the_query_columns() {
        assert_eq!(parse_role(Some("true"), None), Ok(Role::Standby));
        assert_eq!(parse_role(Some("false"), Some("0000000A")), Ok(Role::Primary { timeline: 10 }));
        assert!(parse_role(Some("false"), None).is_err());
        assert!(parse_role(Some("false"), Some("XYZ")).is_err());
        assert!(parse_role(None, None).is_err());
    }

    #[test]
    fn passwords_are_looked_up_by_name_then_address() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pgpass");
        std::fs::write(
            &f,
            "postgres2:5432:postgres:postgres:by-name\n10.0.0.183:5432:*:postgres:by-address\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            password(&f, &["postgres2"], 5432, "postgres", "postgres"),
            None,
            "others may read it"
        );
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            password(&f, &["postgres2", "10.0.0.182"], 5432, "postgres", "postgres").as_deref(),
            Some("by-name")
        );
        assert_eq!(
            password(&f, &["postgres3", "10.0.0.183"], 5432, "postgres", "postgres").as_deref(),
            Some("by-address")
        );
        assert_eq!(password(&f, &["postgres3", "10.0.0.183"], 5433, "postgres", "postgres"), None);
        assert_eq!(password(&dir.path().join("missing"), &["x"], 5432, "postgres", "postgres"), None);
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
    }

    #[test]
    fn a_listener_that_accepts_and_then_says_nothing_costs_one_timeout() {
        // A "server" that completes the TCP handshake (the kernel does) and never answers the
        // startup message: the SQL question ends at the bound, the handshake counts.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let addr: IpAddr = "127.0.0.1".parse().unwrap();
        let target = Target::tcp(addr, port, "postgres", "postgres", None, &[]);
        let started = std::time::Instant::now();
        let (asked, reached) = rt().block_on(async {
            future::join(
                role(&target, Duration::from_millis(300)),
                handshake(addr, &[port], Duration::from_millis(300)),
            )
            .await
        });
        let took = started.elapsed();
        assert_eq!(asked, Err(AskError::Timeout(300)));
        assert!(reached);
        assert!(took >= Duration::from_millis(300) && took < Duration::from_millis(1000), "{took:?}");
        drop(listener);
    }

    #[test]
    fn a_closed_port_is_not_running_and_not_reached() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let addr: IpAddr = "127.0.0.1".parse().unwrap();
        let target = Target::tcp(addr, port, "postgres", "postgres", None, &[]);
        let (asked, reached) = rt().block_on(async {
            future::join(
                role(&target, Duration::from_millis(500)),
                handshake(addr, &[port], Duration::from_millis(500)),
            )
            .await
        });
        assert!(matches!(asked, Err(AskError::NotRunning(_))), "{asked:?}");
        assert!(!reached);
        // A missing socket directory: not running either.
        let target = Target::socket(Path::new("/nonexistent-pgha-fence"), 5432, "postgres");
        let asked = rt().block_on(role(&target, Duration::from_millis(500)));
        assert!(matches!(asked, Err(AskError::NotRunning(_))), "{asked:?}");
    }
}
