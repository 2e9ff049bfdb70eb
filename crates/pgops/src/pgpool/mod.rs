//! The `pgpool_node` and `pgpool_info` modules: Pgpool-II's backends and watchdog, read and
//! changed over PCP with the [`pcp`] client (no `pcp_*` binaries, no `.pcppass` on the target).

pub mod info;
pub mod node;

use ansible_module::{Error, Spec};
use pcp::{Client, ConnectOptions};
use serde::Deserialize;
use std::time::Duration;

/// The connection parameters both modules take.
#[derive(Debug, Clone, Deserialize)]
pub struct PcpParams {
    /// Host name or address of pgpool's PCP service, or the `pcp_socket_dir` (a path starting
    /// with `/`).
    #[serde(default = "default_host")]
    pub pcp_host: String,
    /// `pcp_port`.
    #[serde(default = "default_port")]
    pub pcp_port: u16,
    /// PCP user (a pcp.conf entry).
    #[serde(default = "default_user")]
    pub pcp_user: String,
    /// Its password.
    pub pcp_password: String,
    /// Seconds for the connection and the authentication together.
    #[serde(default = "default_timeout")]
    pub connect_timeout: u64,
}

fn default_host() -> String {
    "localhost".into()
}
fn default_port() -> u16 {
    9898
}
fn default_user() -> String {
    "pgpool".into()
}
fn default_timeout() -> u64 {
    10
}

impl Spec for PcpParams {
    const NO_LOG: &'static [&'static str] = &["pcp_password"];
}

impl PcpParams {
    /// The client's connection options.
    pub fn options(&self) -> ConnectOptions {
        ConnectOptions {
            host: self.pcp_host.clone(),
            port: self.pcp_port,
            user: self.pcp_user.clone(),
            password: self.pcp_password.clone(),
            timeout: Duration::from_secs(self.connect_timeout.max(1)),
        }
    }

    /// Connects and authenticates.
    pub fn connect(&self) -> Result<Client, Error> {
        Client::connect(&self.options()).map_err(|e| Error::new(e.to_string()))
    }
}
