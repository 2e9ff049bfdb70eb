//! The pgconf oracle tests' throw-away PostgreSQL 15 cluster: the workspace's [`pgtest`] one,
//! with peer authentication for local connections, the given pg_hba.conf, and SSL on (a fresh
//! self-signed certificate) so hostssl rules are valid; on a free loopback port. The tests must
//! run as root; a missing server fails them.

#![allow(dead_code)]

#[allow(unused_imports)]
pub use pgtest::Cluster;

/// initdb, install `hba` as pg_hba.conf, start.
pub fn start(hba: &str) -> pgtest::Cluster {
    Cluster::build("pgconf-oracle-").initdb(&["-A", "peer"]).hba(hba).ssl().start()
}
