//! PostgreSQL connections for the pgha modules.
//!
//! The modules take the connection parameters community.postgresql users already know
//! (`login_host`, `login_port`, `login_user`, `login_password`, `login_db`, `ssl_mode`,
//! `ca_cert`, `ssl_cert`, `ssl_key`, `connect_timeout`) as one [`LoginParams`] group, placed
//! first in a module's parameter tuple. [`Db::connect`] turns them into a tokio-postgres connection on a current-thread runtime, so a
//! module stays a small static binary with neither libpq nor Python on the target:
//!
//! - a `login_host` that starts with `/` is a Unix-socket directory (the default is
//!   `/var/run/postgresql`, where Debian and PGDG put the socket), so a module run with
//!   `become_user: postgres` logs in by peer authentication as `psql` would;
//! - with no `login_password`, the password comes from the `.pgpass` file of the effective user
//!   (or `$PGPASSFILE`), looked up as libpq does (a socket connection matches `localhost`);
//! - failures are sorted into what a person can act on: the server is unreachable,
//!   authentication failed, permission denied, or "server is a standby; this needs a primary"
//!   ([`PgError`]).
//!
//! Statements that change something are [`Stmt`]s: values are always bound parameters
//! (`$1`), identifiers go through the one [`quote_ident`], and every statement a module runs is
//! recorded so the module can return `queries`. A statement that has to carry a literal (the
//! SCRAM verifier in `ALTER ROLE ... PASSWORD`, which takes no parameter) is quoted by the one
//! [`quote_literal`] and can be shown in `queries` with the literal masked.
//!
//! TLS: rustls with the ring crypto provider (no OpenSSL, no aws-lc: the static binaries need
//! no C library beyond what ring compiles), TLS 1.2 and 1.3. `ssl_mode` has libpq's six values
//! and meanings ([`SslMode`]); `ca_cert` (alias `ssl_rootcert`), `ssl_cert` and `ssl_key` are
//! PEM files, defaulting as libpq's to `~/.postgresql/root.crt`, `postgresql.crt` and
//! `postgresql.key` of the effective user when those exist. A Unix-socket connection never uses
//! TLS. `prefer` falls back to no TLS when the server has none or the TLS attempt fails (the
//! handshake, or a refusal of the login over TLS), with a warning for a failed handshake;
//! `allow` connects without TLS first and tries TLS when the server refuses. `require` checks
//! no certificate unless a CA file is given (then it checks the chain, as libpq with a root
//! certificate); `verify-ca` checks the chain, not the names; `verify-full` also checks the host
//! against the certificate's subjectAltName (DNS names and IP addresses; unlike libpq, a Common
//! Name alone does not count). A server certificate that is itself in the CA file (a self-signed
//! certificate given as its own CA, which OpenSSL accepts and webpki's chain check does not) is
//! trusted as it is, within its validity dates. SCRAM logins over TLS use channel binding
//! (`tls-server-end-point`). Not supported: encrypted client keys (`sslpassword`), CRLs
//! (`sslcrl`), `sslrootcert=system`, and the `PGSSL*` environment variables. TLS failures are
//! [`PgError::Tls`] with a sentence naming the file, the host or the server setting to fix.
#![deny(missing_docs)]

mod error;
mod login;
pub mod pgpass;
mod quote;
mod session;
mod tls;

pub use error::PgError;
pub use login::{LoginParams, SslMode, Target};
pub use quote::{check_name, quote_ident, quote_literal};
pub use session::{col, Arg, Db, Stmt};
/// Types readable from a column (for [`col`]).
pub use tokio_postgres::types::FromSql;
/// Rows as tokio-postgres returns them.
pub use tokio_postgres::Row;
