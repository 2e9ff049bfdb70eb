//! A native client for Pgpool-II's PCP protocol (the one `pcp_node_info`, `pcp_attach_node`
//! and the other `pcp_*` tools speak). The `pgpool_node` / `pgpool_info` modules built on it
//! live in `pgops::pgpool`; this crate knows nothing of Ansible.
//!
//! With it a module needs neither the `pcp_*` binaries nor a `.pcppass` file on the target: the
//! password comes from the task (`no_log`) and never touches the disk.
//!
//! - [`codec`]: the packets. Every packet is a one-byte kind, a big-endian 32-bit length that
//!   counts itself, and a body of NUL-terminated strings. Pure functions, tested without a server.
//! - [`client`]: a blocking connection over TCP or a Unix socket, md5 authentication with the
//!   server's salt, and one method per request ([`client::Client::node_info`],
//!   [`client::Client::attach_node`], ...).
//!
//! Written for Pgpool-II 4.3 (tested against 4.3.5); the protocol has not changed in ways that
//! matter here since 4.2, except that 4.3 added the switchover flag of the promote request.
//! Blocking I/O on purpose: a module makes a handful of round trips, one at a time, so an async
//! runtime would only add size to a static binary.
#![deny(missing_docs)]

pub mod client;
pub mod codec;
mod time;

pub use client::{Client, ConnectOptions};
pub use codec::{BackendStatus, DecodeError, HealthCheckStats, NodeInfo, Role, ServerError, WatchdogInfo, WatchdogNode};

/// What can go wrong talking to Pgpool-II. Messages name the PCP endpoint and never hold the
/// password.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The TCP connection or the Unix socket could not be opened.
    #[error("cannot connect to the Pgpool-II PCP service at {target}: {source} (is pgpool running, and does pcp_listen_addresses/pcp_port match?)")]
    Connect {
        /// `host:port` or the socket path.
        target: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// No answer in time.
    #[error("timed out after {secs} s waiting for the Pgpool-II PCP service at {target} ({what})")]
    Timeout {
        /// `host:port` or the socket path.
        target: String,
        /// What the client was waiting for.
        what: String,
        /// The timeout.
        secs: u64,
    },
    /// Reading or writing failed after the connection was made.
    #[error("lost the connection to the Pgpool-II PCP service at {target}: {source}")]
    Io {
        /// `host:port` or the socket path.
        target: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Pgpool-II closed the connection without saying why.
    #[error("the Pgpool-II PCP service at {target} closed the connection ({what})")]
    Closed {
        /// `host:port` or the socket path.
        target: String,
        /// What the client was waiting for.
        what: String,
    },
    /// The user name or password was refused.
    #[error("PCP authentication failed for user {user:?} at {target}: {reason} (check pcp_user/pcp_password against pcp.conf, which holds md5(password))")]
    Auth {
        /// `host:port` or the socket path.
        target: String,
        /// The PCP user.
        user: String,
        /// Pgpool-II's words.
        reason: String,
    },
    /// Pgpool-II answered a request with an error ("E" packet).
    #[error("Pgpool-II refused {request}: {error}")]
    Server {
        /// The request, e.g. `attach node 1`.
        request: String,
        /// The server's error fields.
        error: Box<ServerError>,
    },
    /// The answer was not what the protocol says (or what this client understands).
    #[error("unexpected answer from Pgpool-II to {request}: {detail}")]
    Protocol {
        /// The request.
        request: String,
        /// What was wrong.
        detail: codec::DecodeError,
    },
    /// A bad argument on the client side (too long a user name, ...).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// The server's error, when Pgpool-II answered with one.
    pub fn server_error(&self) -> Option<&ServerError> {
        match self {
            Error::Server { error, .. } => Some(error.as_ref()),
            _ => None,
        }
    }
}
