//! The fence's configuration file (JSON, written by the role `pgha.cluster.fence`).

use crate::budget::{Failover, FenceTiming};
use serde::Deserialize;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Another node of the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Its name (inventory name): for messages, and the first host looked up in the password
    /// file.
    pub name: String,
    /// Its IP address: the fence connects to it directly, so a cut-off node never waits for
    /// name resolution.
    pub address: IpAddr,
}

/// What the repmgr mode adds: rejoining a refused or stale former primary as a standby.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejoin {
    /// The unit that rejoins this node (`pgha-fence rejoin`), started by the start guard and
    /// after a stale fence; empty: none is started.
    #[serde(default)]
    pub unit: String,
    /// The `repmgr` program.
    pub repmgr: PathBuf,
    /// repmgr.conf.
    pub config_file: PathBuf,
    /// The conninfo to the current primary without its host (`port=5432 user=repmgr ...`):
    /// `host=<address>` is put in front.
    pub conninfo: String,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// This node's name (for messages).
    pub node: String,
    /// PostgreSQL's systemd unit.
    pub service: String,
    /// The data directory (`standby.signal`, `postmaster.pid`).
    pub data_directory: PathBuf,
    /// PostgreSQL's programs (`pg_ctl`, `pg_controldata`, `postgres`).
    pub bin_directory: PathBuf,
    /// The local server's socket directory.
    #[serde(default = "default_socket_directory")]
    pub socket_directory: PathBuf,
    /// PostgreSQL's port, here and on the other nodes.
    pub port: u16,
    /// The role the fence logs in as locally (peer authentication over the socket).
    #[serde(default = "default_user")]
    pub local_user: String,
    /// The role it logs in as on the other nodes.
    pub peer_user: String,
    /// The database it connects to on the other nodes.
    pub peer_database: String,
    /// The password file for the other nodes (looked up by name, then by address).
    pub passfile: Option<PathBuf>,
    /// The other nodes.
    pub peers: Vec<PeerConfig>,
    /// Ports whose TCP handshake shows that a node is there (PostgreSQL's, and Pgpool-II's or
    /// ssh's); PostgreSQL's own port is always tried.
    #[serde(default)]
    pub reach_ports: Vec<u16>,
    /// Probe interval, probe timeout and margin.
    pub timing: FenceTiming,
    /// The start guard's bound on each question to another node (ms).
    #[serde(default = "default_guard_timeout")]
    pub guard_timeout_ms: u64,
    /// The other side's failover settings.
    pub failover: Failover,
    /// Where the fence keeps its marker (a server it stopped for isolation).
    #[serde(default = "default_state_directory")]
    pub state_directory: PathBuf,
    /// How units are started and stopped (`sudo -n /usr/bin/systemctl`, which the sudo rules
    /// of the roles allow for exactly these units).
    #[serde(default = "default_systemctl")]
    pub systemctl: Vec<String>,
    /// Start the server again once another node answers after an isolation fence (repmgr).
    #[serde(default)]
    pub restart_after_isolation: bool,
    /// Rejoining as a standby (repmgr).
    pub rejoin: Option<Rejoin>,
}

fn default_socket_directory() -> PathBuf {
    PathBuf::from("/var/run/postgresql")
}

fn default_user() -> String {
    "postgres".to_string()
}

fn default_guard_timeout() -> u64 {
    2000
}

fn default_state_directory() -> PathBuf {
    PathBuf::from("/run/pgha-fence")
}

fn default_systemctl() -> Vec<String> {
    ["sudo", "-n", "/usr/bin/systemctl"].map(String::from).to_vec()
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Unreadable.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not the expected JSON.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        source: serde_json::Error,
    },
    /// Inconsistent values.
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        Config::parse(&text, &shown)
    }

    /// Parses and checks a configuration given as text (`origin` names it in messages).
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let cfg: Config = serde_json::from_str(text).map_err(|source| ConfigError::Parse {
            path: origin.to_string(),
            source,
        })?;
        cfg.check()?;
        Ok(cfg)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.peers.is_empty() {
            return Err(ConfigError::Invalid(
                "no peers: the fence needs the other nodes of the cluster".into(),
            ));
        }
        if self.systemctl.is_empty() {
            return Err(ConfigError::Invalid("systemctl must name a program".into()));
        }
        if self.guard_timeout_ms == 0 {
            return Err(ConfigError::Invalid("guard_timeout_ms must be positive".into()));
        }
        let mut names: Vec<&str> = self.peers.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) || names.contains(&self.node.as_str()) {
            return Err(ConfigError::Invalid(format!(
                "peers must be the other nodes, each once (this node is {}; peers: {})",
                self.node,
                names.join(", ")
            )));
        }
        Ok(())
    }

    /// The ports that show a node is there: PostgreSQL's first, then the others, once each.
    pub fn ports(&self) -> Vec<u16> {
        let mut ports = vec![self.port];
        for p in &self.reach_ports {
            if !ports.contains(p) {
                ports.push(*p);
            }
        }
        ports
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const SAMPLE: &str = r#"{
        "node": "postgres1",
        "service": "pgha-postgresql",
        "data_directory": "/data1/pgsql/15/data",
        "bin_directory": "/usr/lib/postgresql/15/bin",
        "port": 5432,
        "peer_user": "postgres",
        "peer_database": "postgres",
        "passfile": "/var/lib/postgresql/.pgpass",
        "peers": [{"name": "postgres2", "address": "10.0.0.182"}, {"name": "postgres3", "address": "10.0.0.183"}],
        "reach_ports": [9999, 5432],
        "timing": {"interval_ms": 500, "probe_timeout_ms": 400, "margin_ms": 500},
        "failover": {"manager": "pgpool", "health_check_period": 1, "health_check_timeout": 2,
                     "health_check_max_retries": 1, "health_check_retry_delay": 1, "connect_timeout": 3000,
                     "failover_on_backend_error": true}
    }"#;

    #[test]
    fn a_pgpool_node_with_defaults() {
        let c = Config::parse(SAMPLE, "sample").unwrap();
        assert_eq!(c.ports(), [5432, 9999]);
        assert_eq!(c.socket_directory, Path::new("/var/run/postgresql"));
        assert_eq!(c.systemctl, ["sudo", "-n", "/usr/bin/systemctl"]);
        assert_eq!(c.guard_timeout_ms, 2000);
        assert!(!c.restart_after_isolation && c.rejoin.is_none());
        assert_eq!(c.peers[1].address, "10.0.0.183".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn peers_are_addresses_not_names() {
        let text = SAMPLE.replace("10.0.0.182", "postgres2");
        let e = Config::parse(&text, "sample").unwrap_err().to_string();
        assert!(e.starts_with("sample: invalid IP address syntax"), "{e}");
    }

    #[test]
    fn this_node_and_duplicates_are_refused_as_peers() {
        let text = SAMPLE.replace("\"postgres3\"", "\"postgres1\"");
        let e = Config::parse(&text, "sample").unwrap_err().to_string();
        assert!(e.contains("this node is postgres1"), "{e}");
        let text = SAMPLE.replace("\"postgres3\"", "\"postgres2\"");
        assert!(Config::parse(&text, "sample").is_err());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = SAMPLE.replace("\"port\": 5432", "\"port\": 5432, \"prot\": 1");
        let e = Config::parse(&text, "sample").unwrap_err().to_string();
        assert!(e.contains("unknown field `prot`"), "{e}");
    }
}
