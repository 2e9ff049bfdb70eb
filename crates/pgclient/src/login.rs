//! The `login_*` parameter group and where a connection goes.

use ansible_module::Spec;
use serde::Deserialize;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The default Unix-socket directory (Debian, Ubuntu and PGDG packages).
pub const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// `ssl_mode`: whether and how the connection uses TLS, with libpq's meaning (see the crate
/// docs for the few differences). A Unix-socket connection never uses TLS, whatever the mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// Without TLS first; with TLS when the server refuses the login without it.
    Allow,
    /// With TLS when the server has it (falling back to no TLS when the server has none or
    /// the TLS attempt fails), without otherwise.
    #[default]
    Prefer,
    /// TLS or fail. The certificate is checked against `ca_cert` when one is given (as libpq
    /// does when it finds a root certificate file), and not at all otherwise.
    Require,
    /// TLS, and the server certificate must chain to `ca_cert`; its names are not checked.
    VerifyCa,
    /// TLS, the server certificate must chain to `ca_cert` and name the host connected to.
    VerifyFull,
}

impl SslMode {
    /// The mode as `ssl_mode` spells it.
    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// The mode from libpq's `sslmode` spelling (a conninfo string's), if it is one.
    pub fn from_libpq(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    /// Whether the server certificate must chain to a CA certificate (and one is needed).
    pub fn verifies_chain(self) -> bool {
        matches!(self, SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

/// The connection parameters every database module takes, named as community.postgresql names
/// them. Put it first in a module's parameter tuple: `(LoginParams, OwnParams)`.
#[derive(Debug, Clone, Deserialize)]
pub struct LoginParams {
    /// Host name or address, or a Unix-socket directory when it starts with `/`.
    /// Default `/var/run/postgresql`.
    pub login_host: Option<String>,
    /// Port (also names the socket file `.s.PGSQL.<port>`).
    #[serde(default = "default_port")]
    pub login_port: u16,
    /// The role to log in as.
    #[serde(default = "default_user")]
    pub login_user: String,
    /// Password; when not given, `~/.pgpass` of the effective user (or `$PGPASSFILE`).
    pub login_password: Option<String>,
    /// Database to connect to; default `postgres`.
    pub login_db: Option<String>,
    /// TLS use.
    #[serde(default)]
    pub ssl_mode: SslMode,
    /// PEM file of the CA certificate(s) the server certificate must chain to (libpq's
    /// `sslrootcert`, alias `ssl_rootcert`). When not given, `~/.postgresql/root.crt` of the
    /// effective user if it exists, as libpq.
    pub ca_cert: Option<String>,
    /// PEM file of the client certificate (libpq's `sslcert`); when neither it nor `ssl_key`
    /// is given, `~/.postgresql/postgresql.crt` if it exists, as libpq.
    pub ssl_cert: Option<String>,
    /// PEM file of the client certificate's private key (libpq's `sslkey`), unencrypted.
    pub ssl_key: Option<String>,
    /// Seconds to wait for the connection (connect and authentication together).
    #[serde(default = "default_timeout")]
    pub connect_timeout: u64,
}

fn default_port() -> u16 {
    5432
}

fn default_user() -> String {
    "postgres".to_string()
}

fn default_timeout() -> u64 {
    10
}

impl Spec for LoginParams {
    const NO_LOG: &'static [&'static str] = &["login_password"];
    const ALIASES: &'static [(&'static str, &'static str)] = &[("login_unix_socket", "login_host"), ("ssl_rootcert", "ca_cert")];
}

impl Default for LoginParams {
    fn default() -> Self {
        LoginParams {
            login_host: None,
            login_port: default_port(),
            login_user: default_user(),
            login_password: None,
            login_db: None,
            ssl_mode: SslMode::default(),
            ca_cert: None,
            ssl_cert: None,
            ssl_key: None,
            connect_timeout: default_timeout(),
        }
    }
}

/// Where a connection goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Unix socket `<dir>/.s.PGSQL.<port>`.
    Socket {
        /// The socket directory.
        dir: PathBuf,
        /// The port in the socket's file name.
        port: u16,
    },
    /// TCP.
    Tcp {
        /// Host name or address.
        host: String,
        /// Port.
        port: u16,
    },
}

impl Target {
    /// The host as `.pgpass` looks it up: the host, or the socket directory (which the
    /// lookup treats as `localhost` when it is the default one, as libpq does).
    pub fn pgpass_host(&self) -> String {
        match self {
            Target::Socket { dir, .. } => dir.display().to_string(),
            Target::Tcp { host, .. } => host.clone(),
        }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        match self {
            Target::Socket { port, .. } | Target::Tcp { port, .. } => *port,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Socket { dir, port } => write!(f, "{}/.s.PGSQL.{port}", dir.display()),
            Target::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Target::Tcp { host, port } => write!(f, "{host}:{port}"),
        }
    }
}

impl LoginParams {
    /// Parameters for a Unix-socket connection as `user` (for tests and internal probes).
    pub fn socket(dir: impl Into<String>, port: u16, user: impl Into<String>) -> LoginParams {
        LoginParams {
            login_host: Some(dir.into()),
            login_port: port,
            login_user: user.into(),
            ..Default::default()
        }
    }

    /// Where the connection goes.
    pub fn target(&self) -> Target {
        let host = self.login_host.as_deref().map(str::trim).filter(|h| !h.is_empty());
        match host {
            None => Target::Socket {
                dir: PathBuf::from(DEFAULT_SOCKET_DIR),
                port: self.login_port,
            },
            Some(h) if h.starts_with('/') => Target::Socket {
                dir: PathBuf::from(h),
                port: self.login_port,
            },
            Some(h) => Target::Tcp {
                host: h.to_string(),
                port: self.login_port,
            },
        }
    }

    /// The database to connect to: `login_db`, or `postgres`.
    pub fn database(&self) -> &str {
        self.login_db.as_deref().filter(|d| !d.is_empty()).unwrap_or("postgres")
    }

    /// The connect timeout (at least one second).
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout.max(1))
    }

    /// The TLS mode's name, for messages.
    pub fn ssl_mode_name(&self) -> &'static str {
        self.ssl_mode.name()
    }

    /// The given password, if any (an empty string counts as none, as community.postgresql
    /// treats it).
    pub fn given_password(&self) -> Option<&str> {
        self.login_password.as_deref().filter(|p| !p.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ansible_module::Params;
    use serde_json::json;

    #[test]
    fn defaults_are_the_local_socket_as_postgres() {
        let p = <LoginParams as Params>::parse(&json!({})).unwrap();
        assert_eq!(
            p.target(),
            Target::Socket {
                dir: DEFAULT_SOCKET_DIR.into(),
                port: 5432
            }
        );
        assert_eq!(p.login_user, "postgres");
        assert_eq!(p.database(), "postgres");
        assert_eq!(p.ssl_mode, SslMode::Prefer);
        assert_eq!(p.target().to_string(), "/var/run/postgresql/.s.PGSQL.5432");
        assert_eq!(p.target().pgpass_host(), "/var/run/postgresql");
    }

    #[test]
    fn a_host_name_is_tcp_and_a_path_is_a_socket() {
        let p = <LoginParams as Params>::parse(&json!({"login_host": "10.0.0.181", "login_port": "5433"})).unwrap();
        assert_eq!(p.target().to_string(), "10.0.0.181:5433");
        assert_eq!(p.target().pgpass_host(), "10.0.0.181");
        let p = <LoginParams as Params>::parse(&json!({"login_host": "/tmp/x", "ssl_mode": "disable"})).unwrap();
        assert_eq!(p.target().to_string(), "/tmp/x/.s.PGSQL.5432");
        let e = <LoginParams as Params>::parse(&json!({"ssl_mode": "verify_full"})).unwrap_err();
        assert!(
            e.to_string()
                .contains("must be one of: disable, allow, prefer, require, verify-ca, verify-full"),
            "{e}"
        );
    }

    #[test]
    fn ssl_modes_and_files_read_as_libpq_spells_them() {
        for mode in ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] {
            let p = <LoginParams as Params>::parse(&json!({ "ssl_mode": mode })).unwrap();
            assert_eq!(p.ssl_mode.name(), mode);
            assert_eq!(SslMode::from_libpq(mode), Some(p.ssl_mode));
        }
        assert_eq!(SslMode::from_libpq("verify_full"), None);
        assert!(SslMode::VerifyCa.verifies_chain() && SslMode::VerifyFull.verifies_chain());
        assert!(!SslMode::Require.verifies_chain());
        let p = <LoginParams as Params>::parse(&json!({
            "ssl_mode": "verify-full", "ca_cert": "/etc/ca.pem", "ssl_cert": "/c.pem", "ssl_key": "/k.pem"
        }))
        .unwrap();
        assert_eq!(p.ssl_mode, SslMode::VerifyFull);
        assert_eq!(
            (p.ca_cert.as_deref(), p.ssl_cert.as_deref(), p.ssl_key.as_deref()),
            (Some("/etc/ca.pem"), Some("/c.pem"), Some("/k.pem"))
        );
    }

    #[test]
    fn described_with_the_secret_marked() {
        let mut out = Vec::new();
        <LoginParams as Params>::describe(&mut out);
        let names: Vec<_> = out.iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            [
                "login_host",
                "login_port",
                "login_user",
                "login_password",
                "login_db",
                "ssl_mode",
                "ca_cert",
                "ssl_cert",
                "ssl_key",
                "connect_timeout"
            ]
        );
        assert!(out[3].no_log);
        assert_eq!(out[0].aliases, ["login_unix_socket"]);
        assert_eq!(out[6].aliases, ["ssl_rootcert"]);
    }
}
