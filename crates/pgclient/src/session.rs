//! A connection, the statements run over it, and the record of them.

use crate::error::server_has_no_tls;
use crate::login::{LoginParams, SslMode, Target};
use crate::quote::quote_literal;
use crate::tls::Tls;
use crate::PgError;
use bytes::BytesMut;
use std::error::Error as StdError;
use tokio::runtime::Runtime;
use tokio_postgres::config::SslMode as PgSslMode;
use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::{Client, Config, Row};

/// A value bound to a statement parameter (`$1`).
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// `text` (and the other string-like types).
    Text(String),
    /// `boolean`.
    Bool(bool),
    /// `integer`.
    Int(i32),
    /// `bigint`.
    BigInt(i64),
    /// SQL NULL.
    Null,
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_string())
    }
}

impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}

impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Text(s.clone())
    }
}

impl From<bool> for Arg {
    fn from(b: bool) -> Arg {
        Arg::Bool(b)
    }
}

impl From<i32> for Arg {
    fn from(n: i32) -> Arg {
        Arg::Int(n)
    }
}

impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::BigInt(n)
    }
}

impl<T: Into<Arg>> From<Option<T>> for Arg {
    fn from(v: Option<T>) -> Arg {
        v.map(Into::into).unwrap_or(Arg::Null)
    }
}

impl Arg {
    /// The parameter type sent with the value, so a statement needs no separate prepare
    /// round trip.
    fn pg_type(&self) -> Type {
        match self {
            Arg::Text(_) | Arg::Null => Type::TEXT,
            Arg::Bool(_) => Type::BOOL,
            Arg::Int(_) => Type::INT4,
            Arg::BigInt(_) => Type::INT8,
        }
    }

    /// How the value reads in SQL, for `queries`.
    fn shown(&self) -> String {
        match self {
            Arg::Text(s) => quote_literal(s),
            Arg::Bool(b) => b.to_string(),
            Arg::Int(n) => n.to_string(),
            Arg::BigInt(n) => n.to_string(),
            Arg::Null => "NULL".to_string(),
        }
    }
}

type BoxError = Box<dyn StdError + Sync + Send>;

impl ToSql for Arg {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Arg::Text(s) => s.to_sql(ty, out),
            Arg::Bool(b) => b.to_sql(ty, out),
            Arg::Int(n) => n.to_sql(ty, out),
            Arg::BigInt(n) => n.to_sql(ty, out),
            Arg::Null => Ok(IsNull::Yes),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self {
            Arg::Text(s) => s.to_sql_checked(ty, out),
            Arg::Bool(b) => b.to_sql_checked(ty, out),
            Arg::Int(n) => n.to_sql_checked(ty, out),
            Arg::BigInt(n) => n.to_sql_checked(ty, out),
            Arg::Null => Ok(IsNull::Yes),
        }
    }
}

/// One statement that changes something: SQL text with `$n` parameters, their values, and
/// optionally the text to show in `queries` instead (when the SQL carries a literal that must
/// not be shown, such as a password verifier).
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    sql: String,
    args: Vec<Arg>,
    shown: Option<String>,
}

impl Stmt {
    /// A statement with no parameters yet.
    pub fn new(sql: impl Into<String>) -> Stmt {
        Stmt {
            sql: sql.into(),
            args: Vec::new(),
            shown: None,
        }
    }

    /// Binds the next parameter (`$1`, then `$2`, ...).
    pub fn arg(mut self, value: impl Into<Arg>) -> Stmt {
        self.args.push(value.into());
        self
    }

    /// What `queries` shows for this statement instead of its text.
    pub fn shown_as(mut self, text: impl Into<String>) -> Stmt {
        self.shown = Some(text.into());
        self
    }

    /// The SQL text as sent.
    pub fn sql(&self) -> &str {
        &self.sql
    }

    /// The statement as `queries` shows it: the `shown_as` text, or the SQL with each `$n`
    /// replaced by its value as a literal.
    pub fn display(&self) -> String {
        if let Some(s) = &self.shown {
            return s.clone();
        }
        substitute(&self.sql, &self.args)
    }
}

/// Values with their types, as tokio-postgres' `*_typed` calls take them.
fn typed(args: &[Arg]) -> Vec<(&(dyn ToSql + Sync), Type)> {
    args.iter().map(|a| (a as &(dyn ToSql + Sync), a.pg_type())).collect()
}

/// Replaces `$n` outside quoted identifiers and literals with the n-th value.
fn substitute(sql: &str, args: &[Arg]) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.char_indices().peekable();
    let mut quote: Option<char> = None;
    while let Some((_, c)) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' => {
                let mut digits = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    digits.push(d);
                    chars.next();
                }
                match digits
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|i| args.get(i))
                {
                    Some(a) => out.push_str(&a.shown()),
                    None => {
                        out.push('$');
                        out.push_str(&digits);
                    }
                }
            }
            None => out.push(c),
        }
    }
    out
}

/// Reads column `i` of `row` as `T`, with an error that says which column did not fit.
pub fn col<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, i: usize) -> Result<T, PgError> {
    row.try_get(i).map_err(|e| {
        let name = row.columns().get(i).map(|c| c.name().to_string()).unwrap_or_else(|| i.to_string());
        PgError::Other(format!("unexpected value in column {name}: {e}"))
    })
}

/// Why one connection attempt failed.
enum Failure {
    /// No answer within the timeout (seconds).
    Timeout(u64),
    /// TLS failed, in words.
    Tls(String),
    /// tokio-postgres' error.
    Pg(tokio_postgres::Error),
}

impl Failure {
    fn is_tls(&self) -> bool {
        matches!(self, Failure::Tls(_))
    }

    /// The server refused (an error it reported, such as no pg_hba.conf entry).
    fn is_server_error(&self) -> bool {
        matches!(self, Failure::Pg(e) if e.as_db_error().is_some())
    }
}

/// One connection attempt at a time, each within the timeout; the connection's task is
/// spawned on the runtime when it succeeds.
struct Attempt<'a> {
    rt: &'a Runtime,
    cfg: &'a Config,
    timeout: std::time::Duration,
}

impl Attempt<'_> {
    fn plain(&self) -> Result<Client, Failure> {
        let mut cfg = self.cfg.clone();
        cfg.ssl_mode(PgSslMode::Disable);
        self.run(&cfg, Tls::plain())
    }

    fn tls(&self, tls: Tls, mode: PgSslMode) -> Result<Client, Failure> {
        let mut cfg = self.cfg.clone();
        cfg.ssl_mode(mode);
        self.run(&cfg, tls.clone()).map_err(|f| match f {
            Failure::Pg(e) => match tls.failure(&e) {
                Some(why) => Failure::Tls(why),
                None => Failure::Pg(e),
            },
            f => f,
        })
    }

    fn run(&self, cfg: &Config, tls: Tls) -> Result<Client, Failure> {
        let connected = self
            .rt
            .block_on(async { tokio::time::timeout(self.timeout, cfg.connect(tls)).await });
        match connected {
            Err(_) => Err(Failure::Timeout(self.timeout.as_secs())),
            Ok(Err(e)) => Err(Failure::Pg(e)),
            Ok(Ok((client, connection))) => {
                self.rt.spawn(async move {
                    let _ = connection.await;
                });
                Ok(client)
            }
        }
    }
}

/// An open connection on its own current-thread runtime, with the record of the statements
/// run over it.
pub struct Db {
    rt: Runtime,
    client: Client,
    target: String,
    user: String,
    database: String,
    queries: Vec<String>,
    warnings: Vec<String>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("target", &self.target)
            .field("user", &self.user)
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl Db {
    /// Connects as the parameters say, to `login_db` (default `postgres`).
    pub fn connect(login: &LoginParams) -> Result<Db, PgError> {
        Self::connect_to(login, login.database())
    }

    /// Connects as the parameters say, to `database`.
    pub fn connect_to(login: &LoginParams, database: &str) -> Result<Db, PgError> {
        let target = login.target();
        let shown_target = target.to_string();
        // TLS as ssl_mode says, over TCP only: a Unix socket never uses TLS (as with libpq),
        // so its files are not even read.
        let tls = match &target {
            Target::Socket { .. } => None,
            Target::Tcp { .. } => Tls::new(login, crate::tls::home_dir().as_deref())?,
        };
        let mut warnings = Vec::new();
        let (password, hint) = match login.given_password() {
            Some(p) => (Some(p.to_string()), "login_password was given".to_string()),
            None => crate::pgpass::password_for(&target, database, &login.login_user, &mut warnings),
        };
        let mut cfg = tokio_postgres::Config::new();
        match &target {
            Target::Socket { dir, port } => {
                cfg.host_path(dir).port(*port);
            }
            Target::Tcp { host, port } => {
                cfg.host(host).port(*port);
            }
        }
        cfg.user(&login.login_user)
            .dbname(database)
            .application_name("pgha")
            .connect_timeout(login.timeout());
        if let Some(p) = &password {
            cfg.password(p.as_bytes());
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| PgError::Other(format!("cannot start the I/O runtime: {e}")))?;
        let attempt = Attempt {
            rt: &rt,
            cfg: &cfg,
            timeout: login.timeout(),
        };
        let fail = |f: Failure| match f {
            Failure::Timeout(secs) => PgError::Unreachable {
                target: shown_target.clone(),
                reason: format!("no answer within {secs} s (connect_timeout)"),
            },
            Failure::Pg(e) => PgError::from_connect(e, &shown_target, &login.login_user, database, &hint, login.ssl_mode.name()),
            Failure::Tls(reason) => PgError::Tls {
                target: shown_target.clone(),
                reason,
            },
        };
        let client = match (tls, login.ssl_mode) {
            (None, _) | (Some(_), SslMode::Disable) => attempt.plain().map_err(fail)?,
            (Some(tls), SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull) => {
                attempt.tls(tls, PgSslMode::Require).map_err(fail)?
            }
            // libpq's prefer: TLS if the server has it; when the TLS attempt fails (the
            // handshake, or the server refuses the login over TLS), once more without TLS.
            (Some(tls), SslMode::Prefer) => match attempt.tls(tls.clone(), PgSslMode::Prefer) {
                Ok(c) => c,
                Err(f) if f.is_tls() || (f.is_server_error() && tls.used()) => {
                    let why = match f {
                        Failure::Tls(why) => Some(why),
                        _ => None,
                    };
                    match (attempt.plain(), why) {
                        (Ok(c), Some(why)) => {
                            warnings.push(format!(
                                "connected to {shown_target} without TLS (ssl_mode=prefer), because TLS failed: {why}"
                            ));
                            c
                        }
                        (Ok(c), None) => c,
                        (Err(f), Some(why)) => {
                            return Err(PgError::Tls {
                                target: shown_target.clone(),
                                reason: format!("{why}; and without TLS (ssl_mode=prefer): {}", fail(f)),
                            })
                        }
                        (Err(f), None) => return Err(fail(f)),
                    }
                }
                Err(f) => return Err(fail(f)),
            },
            // libpq's allow: without TLS first; when the server refuses that login, with TLS.
            (Some(tls), SslMode::Allow) => match attempt.plain() {
                Ok(c) => c,
                Err(Failure::Pg(e)) if e.as_db_error().is_some() => match attempt.tls(tls, PgSslMode::Require) {
                    Ok(c) => c,
                    // No TLS on the server either: the refusal without TLS is the news.
                    Err(Failure::Pg(e2)) if server_has_no_tls(&e2) => return Err(fail(Failure::Pg(e))),
                    Err(f) => return Err(fail(f)),
                },
                Err(f) => return Err(fail(f)),
            },
        };
        Ok(Db {
            rt,
            client,
            target: shown_target,
            user: login.login_user.clone(),
            database: database.to_string(),
            queries: Vec::new(),
            warnings,
        })
    }

    /// Where this connection goes, for messages.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The login user.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The connected database.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Reads rows; not recorded in `queries` (for reading the current state). Parameters go
    /// with their types, so each statement is one round trip.
    pub fn query(&mut self, sql: &str, args: &[Arg]) -> Result<Vec<Row>, PgError> {
        let params = typed(args);
        let client = &self.client;
        self.rt
            .block_on(client.query_typed(sql, &params))
            .map_err(|e| PgError::from_query(e, &self.target))
    }

    /// Reads at most one row; not recorded.
    pub fn query_opt(&mut self, sql: &str, args: &[Arg]) -> Result<Option<Row>, PgError> {
        Ok(self.query(sql, args)?.into_iter().next())
    }

    /// Reads a column of the first row of `sql` with a typed getter, failing clearly.
    pub fn query_value<T>(&mut self, sql: &str, args: &[Arg]) -> Result<T, PgError>
    where
        T: for<'a> tokio_postgres::types::FromSql<'a>,
    {
        let row = self
            .query_opt(sql, args)?
            .ok_or_else(|| PgError::Other(format!("no row from: {sql}")))?;
        row.try_get(0)
            .map_err(|e| PgError::Other(format!("unexpected result from {sql}: {e}")))
    }

    /// Runs a statement that changes something, recording it in `queries` first (so a failed
    /// statement is in the record too). Returns the number of rows affected.
    pub fn run(&mut self, stmt: &Stmt) -> Result<u64, PgError> {
        self.queries.push(stmt.display());
        let client = &self.client;
        let result = if stmt.args.is_empty() {
            // Simple protocol: one round trip, and fine for statements that cannot run inside
            // a transaction block or be prepared (CREATE DATABASE, ALTER SYSTEM).
            self.rt.block_on(client.batch_execute(&stmt.sql)).map(|_| 0)
        } else {
            let params = typed(&stmt.args);
            self.rt.block_on(client.execute_typed(&stmt.sql, &params))
        };
        result.map_err(|e| PgError::from_query(e, &self.target))
    }

    /// Runs a statement that changes something and returns its rows (`SELECT pg_promote()`),
    /// recording it in `queries` first.
    pub fn run_query(&mut self, stmt: &Stmt) -> Result<Vec<Row>, PgError> {
        self.queries.push(stmt.display());
        let params = typed(&stmt.args);
        let client = &self.client;
        self.rt
            .block_on(client.query_typed(&stmt.sql, &params))
            .map_err(|e| PgError::from_query(e, &self.target))
    }

    /// Records the statements and, unless `check_mode`, runs them, inside one transaction
    /// when `transaction` is set (all or nothing).
    pub fn apply(&mut self, stmts: &[Stmt], check_mode: bool, transaction: bool) -> Result<(), PgError> {
        if check_mode {
            self.queries.extend(stmts.iter().map(Stmt::display));
            return Ok(());
        }
        let wrap = transaction && stmts.len() > 1;
        if wrap {
            self.control("BEGIN")?;
        }
        for s in stmts {
            if let Err(e) = self.run(s) {
                if wrap {
                    let _ = self.control("ROLLBACK");
                }
                return Err(e);
            }
        }
        if wrap {
            self.control("COMMIT")?;
        }
        Ok(())
    }

    fn control(&mut self, sql: &str) -> Result<(), PgError> {
        let client = &self.client;
        self.rt
            .block_on(client.batch_execute(sql))
            .map_err(|e| PgError::from_query(e, &self.target))
    }

    /// Waits for an async operation on this connection's runtime (for callers that need
    /// tokio-postgres directly, such as timeouts around a long call).
    pub fn block_on<F: std::future::Future>(&self, fut: F) -> F::Output {
        self.rt.block_on(fut)
    }

    /// The tokio-postgres client, for [`Db::block_on`].
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Statements recorded so far (run, or planned in check mode), as `queries` shows them.
    pub fn queries(&self) -> &[String] {
        &self.queries
    }

    /// Takes the recorded statements.
    pub fn take_queries(&mut self) -> Vec<String> {
        std::mem::take(&mut self.queries)
    }

    /// Warnings from connecting (an unsafe `.pgpass`, for example).
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// Whether the server is in recovery (a standby).
    pub fn in_recovery(&mut self) -> Result<bool, PgError> {
        self.query_value("SELECT pg_catalog.pg_is_in_recovery()", &[])
    }

    /// Fails with "server is a standby; this needs a primary" when the server is in recovery.
    pub fn require_primary(&mut self) -> Result<(), PgError> {
        if self.in_recovery()? {
            return Err(PgError::Standby(self.target.clone()));
        }
        Ok(())
    }

    /// `server_version_num` (150004 for 15.4).
    pub fn server_version_num(&mut self) -> Result<i32, PgError> {
        let v: String = self.query_value("SELECT pg_catalog.current_setting('server_version_num')", &[])?;
        v.trim()
            .parse()
            .map_err(|_| PgError::Other(format!("unexpected server_version_num {v:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_show_values_as_literals() {
        let s = Stmt::new("SELECT pg_create_physical_replication_slot($1, $2)").arg("s'1").arg(true);
        assert_eq!(s.display(), "SELECT pg_create_physical_replication_slot('s''1', true)");
        let s = Stmt::new(r#"ALTER ROLE "a$1" CONNECTION LIMIT $1"#).arg(5);
        assert_eq!(s.display(), r#"ALTER ROLE "a$1" CONNECTION LIMIT 5"#);
        let s = Stmt::new("SELECT $1, '$2', $10").arg(Arg::Null);
        assert_eq!(s.display(), "SELECT NULL, '$2', $10");
    }

    #[test]
    fn shown_text_replaces_secrets() {
        let s = Stmt::new("ALTER ROLE \"a\" PASSWORD 'SCRAM-SHA-256$...'").shown_as("ALTER ROLE \"a\" PASSWORD '********'");
        assert_eq!(s.display(), "ALTER ROLE \"a\" PASSWORD '********'");
        assert!(s.sql().contains("SCRAM"));
    }
}
