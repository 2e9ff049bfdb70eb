//! What went wrong, sorted into what a person can act on.

use tokio_postgres::error::{DbError, SqlState};

/// Whether the server answered the TLS request with "no" (it runs with `ssl = off`).
pub(crate) fn server_has_no_tls(e: &tokio_postgres::Error) -> bool {
    // tokio-postgres' words when the server declines the SSLRequest under sslmode=require.
    std::error::Error::source(e).is_some_and(|s| s.to_string() == "server does not support TLS")
}

/// A failure talking to PostgreSQL. Messages never hold a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// No connection could be made: nothing listens there, the socket is missing, the host is
    /// unknown, or the attempt timed out.
    #[error("cannot connect to PostgreSQL at {target}: {reason}")]
    Unreachable {
        /// Where the connection went (`/var/run/postgresql/.s.PGSQL.5432`, `10.0.0.181:5432`).
        target: String,
        /// Why it failed.
        reason: String,
    },
    /// The server refused the login: wrong password, no password, no matching pg_hba.conf
    /// entry, or peer authentication as another OS user.
    #[error("authentication failed for user \"{user}\" at {target}: {reason}")]
    AuthFailed {
        /// The login user.
        user: String,
        /// Where the connection went.
        target: String,
        /// The server's words, or which password source was missing.
        reason: String,
    },
    /// The database to connect to does not exist.
    #[error("database \"{db}\" does not exist at {target} (set login_db to an existing database)")]
    NoDatabase {
        /// The database.
        db: String,
        /// Where the connection went.
        target: String,
    },
    /// The login user lacks a privilege the statement needs.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The statement changes something and the server is in recovery.
    #[error("server is a standby; this needs a primary ({0} is in recovery)")]
    Standby(String),
    /// TLS failed: the server has none and the mode requires it, the server certificate is
    /// not accepted, the server refused the client certificate, or the handshake broke.
    #[error("cannot connect to PostgreSQL at {target} over TLS: {reason}")]
    Tls {
        /// Where the connection went.
        target: String,
        /// What to fix.
        reason: String,
    },
    /// Bad parameter values found before anything was sent.
    #[error("{0}")]
    BadInput(String),
    /// Any other error the server reported, with its SQLSTATE, detail and hint.
    #[error("{0}")]
    Server(String),
    /// The connection broke or the runtime failed.
    #[error("{0}")]
    Other(String),
}

impl PgError {
    /// The SQLSTATE-free description of a server error: `ERROR: msg (SQLSTATE x); DETAIL: ...;
    /// HINT: ...`.
    pub(crate) fn describe_db(db: &DbError) -> String {
        let mut s = format!("{}: {} (SQLSTATE {})", db.severity(), db.message(), db.code().code());
        if let Some(d) = db.detail() {
            s.push_str("; DETAIL: ");
            s.push_str(d);
        }
        if let Some(h) = db.hint() {
            s.push_str("; HINT: ");
            s.push_str(h);
        }
        s
    }

    /// Sorts an error from a statement (not from connecting).
    pub(crate) fn from_query(e: tokio_postgres::Error, target: &str) -> PgError {
        match e.as_db_error() {
            Some(db) if *db.code() == SqlState::INSUFFICIENT_PRIVILEGE => PgError::PermissionDenied(Self::describe_db(db)),
            Some(db) if *db.code() == SqlState::READ_ONLY_SQL_TRANSACTION => PgError::Standby(target.to_string()),
            Some(db) => PgError::Server(Self::describe_db(db)),
            None if e.is_closed() => PgError::Other(format!("the connection to {target} was closed: {e}")),
            None => PgError::Other(format!("{e}")),
        }
    }

    /// Sorts an error from connecting with `ssl_mode` (its name).
    pub(crate) fn from_connect(
        e: tokio_postgres::Error,
        target: &str,
        user: &str,
        db_name: &str,
        password_hint: &str,
        ssl_mode: &str,
    ) -> PgError {
        if server_has_no_tls(&e) {
            return PgError::Tls {
                target: target.to_string(),
                reason: format!("server does not support TLS (ssl=off) but ssl_mode={ssl_mode}"),
            };
        }
        if let Some(db) = e.as_db_error() {
            let code = db.code();
            if *code == SqlState::INVALID_PASSWORD || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
                return PgError::AuthFailed {
                    user: user.to_string(),
                    target: target.to_string(),
                    reason: db.message().to_string(),
                };
            }
            if *code == SqlState::INVALID_CATALOG_NAME {
                return PgError::NoDatabase {
                    db: db_name.to_string(),
                    target: target.to_string(),
                };
            }
            return PgError::Unreachable {
                target: target.to_string(),
                reason: Self::describe_db(db),
            };
        }
        let cause = std::error::Error::source(&e).map(|c| c.to_string()).unwrap_or_default();
        let text = format!("{e} {cause}");
        if text.contains("password missing") {
            return PgError::AuthFailed {
                user: user.to_string(),
                target: target.to_string(),
                reason: format!("the server asks for a password and none was given ({password_hint})"),
            };
        }
        let mut reason = if cause.is_empty() { e.to_string() } else { cause };
        if text.contains("os error 2") || text.contains("os error 111") {
            reason.push_str(" (is the server running, and are login_host and login_port right?)");
        }
        PgError::Unreachable {
            target: target.to_string(),
            reason,
        }
    }
}
