//! The local host as the pgha modules see it: who the accounts are, what a data directory
//! holds, whether its server runs, where PostgreSQL's programs are, how to run them as the data
//! directory's owner, and libpq `key=value` connection strings.
//!
//! `pg_basebackup_standby` (in `pgops`) and the repmgr modules (in `repmgr`) do the same things
//! to the same host; they share this crate so each check is written, and fixed, once. The
//! Ansible protocol crate reads owners and groups here too. Nothing here knows about Ansible:
//! failures are [`Error`]s whose messages say what to do, which the modules pass on as they are.
//!
//! - [`accounts`]: users and groups from /etc/passwd and /etc/group (static binaries cannot
//!   use NSS).
//! - [`datadir`]: what a data directory holds (missing, empty, other files, a cluster with its
//!   signal files and replication settings), its major version, making one for its owner.
//! - [`pidfile`]: `postmaster.pid` and whether its server is alive.
//! - [`bindir`]: where the installed PostgreSQL versions keep their programs.
//! - [`user`]: the user that owns a data directory, the refusal to run as anyone else unless
//!   root, and a guard that takes its uid as effective uid for a while.
//! - [`command`]: running a program as that user, recorded for `commands`.
//! - [`conninfo`]: parsing, writing and masking `primary_conninfo`-style strings.
#![deny(missing_docs)]

pub mod accounts;
pub mod bindir;
pub mod command;
pub mod conninfo;
pub mod datadir;
pub mod pidfile;
pub mod user;

pub use command::{Done, Runner};
pub use user::RunAs;

use std::path::PathBuf;

/// What can go wrong on the local host. Messages name the path or the user and what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No local user by this name.
    #[error("there is no local user {0} on this host")]
    NoSuchUser(String),
    /// No local user owns this uid.
    #[error("no local user has uid {0} (the owner of the data directory)")]
    NoUserWithUid(u32),
    /// Running as neither root nor the owner: children could not switch to the owner.
    #[error(
        "this module runs as uid {me}, but the data directory belongs to {name} (uid {uid}); run it as root (become: true) or as {name}"
    )]
    NotRootNorOwner {
        /// This process's effective uid.
        me: u32,
        /// The owner's name.
        name: String,
        /// The owner's uid.
        uid: u32,
    },
    /// `seteuid` to the owner failed.
    #[error("cannot switch to {user}: {source}")]
    Switch {
        /// The user.
        user: String,
        /// The system's error.
        source: nix::Error,
    },
    /// A program could not be started.
    #[error("cannot run {}: {source}", program.display())]
    Run {
        /// The program.
        program: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// A file system call failed: `cannot <what> <path>: <error>`.
    #[error("cannot {what} {}: {source}", path.display())]
    Io {
        /// What was tried: `read`, `list`, `create`, `remove`, `set the mode of`.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// `chown` failed.
    #[error("cannot give {} to {user}: {source}", path.display())]
    Chown {
        /// The path.
        path: PathBuf,
        /// The new owner.
        user: String,
        /// The system's error.
        source: nix::Error,
    },
    /// A data directory path names something that is not a directory.
    #[error("{} exists and is not a directory", .0.display())]
    NotADirectory(PathBuf),
}

impl Error {
    /// `map_err(Error::io("read", path))`.
    pub(crate) fn io(what: &'static str, path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.to_path_buf();
        move |source| Error::Io { what, path, source }
    }
}
