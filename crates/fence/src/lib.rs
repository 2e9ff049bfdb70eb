//! `pgha-fence`: keeps a PostgreSQL primary from running beside another one, for both HA
//! managers of pgha (Pgpool-II and repmgr).
//!
//! One static program, three jobs:
//!
//! - **the fence** (`pgha-fence run`, a systemd service on every node): a probe round every
//!   interval asks the local server for its role and timeline, and every other node, in
//!   parallel and each within a hard bound (connect *and* statement), whether it is there and
//!   whether it is a primary. A primary that no other node has answered for the **isolation
//!   deadline** is stopped (fast shutdown), as is a primary that sees another primary on a later
//!   timeline ([`decide`]). The deadline is computed from the other side's failover settings so
//!   that the server has stopped strictly before the other side can promote a standby
//!   ([`budget`]); settings that leave no room are refused, with the figures.
//! - **the start guard** (`pgha-fence start-guard`, `ExecStartPre` of PostgreSQL's unit): refuses
//!   to start a primary's data directory while another node runs as the primary; with repmgr it
//!   starts the rejoin unit instead ([`guard`]).
//! - for repmgr, **rejoin** and **recover**: a refused or fenced former primary becomes a
//!   standby of the current primary (`repmgr node rejoin --force-rewind`, after single-user
//!   crash recovery when the directory was not shut down cleanly).
//!
//! It speaks PostgreSQL's wire protocol through tokio-postgres (no libpq), reaches the other
//! nodes by IP address (a cut-off node never waits for name resolution), reads passwords from a
//! `.pgpass` file, and stops the server by signalling the postmaster (it runs as the server's
//! OS user) before `systemctl stop` through the sudo rule the roles write.
#![deny(missing_docs)]

pub mod act;
pub mod budget;
pub mod config;
pub mod daemon;
pub mod decide;
pub mod guard;
pub mod probe;
