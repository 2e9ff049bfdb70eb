//! PostgreSQL connections for the pgha modules.
//!
//! The modules take the connection parameters community.postgresql users already know
//! (`login_host`, `login_port`, `login_user`, `login_password`, `login_db`, `ssl_mode`,
//! `connect_timeout`) as one [`LoginParams`] group, placed first in a module's parameter tuple.
//! [`Db::connect`] turns them into a tokio-postgres connection on a current-thread runtime, so a
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
//! TLS: this crate links no TLS library, to keep the module binaries small. `ssl_mode` takes
//! `disable`, `allow` and `prefer` (all three connect without TLS, as libpq's `prefer` does
//! against a server without SSL); `require` fails with a message saying so. Use the Unix socket,
//! or a network that needs no TLS (the cluster's own), or an SSH tunnel.
#![deny(missing_docs)]

mod error;
mod login;
pub mod pgpass;
mod quote;
mod session;

pub use error::PgError;
pub use login::{LoginParams, SslMode, Target};
pub use quote::{check_name, quote_ident, quote_literal};
pub use session::{col, Arg, Db, Stmt};
/// Types readable from a column (for [`col`]).
pub use tokio_postgres::types::FromSql;
/// Rows as tokio-postgres returns them.
pub use tokio_postgres::Row;
