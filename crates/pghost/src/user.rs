//! The user PostgreSQL's programs run as: the owner of the data directory.
//!
//! A module runs as root (`become: true`) or as the owner itself. As root, children switch to
//! the owner's uid, primary gid and supplementary groups (read before the fork, see
//! [`crate::command`]); as anyone else the module refuses, since neither PostgreSQL nor its
//! tools may run as another user. [`AsUser`] takes the owner's uid as effective uid for a
//! while, so a Unix-socket login is peer-authenticated as the owner and libpq-style lookups
//! find the owner's `~/.pgpass`.

use crate::{accounts, Error};
use nix::unistd::{Gid, Uid};
use std::path::{Path, PathBuf};

/// A user that commands run as.
#[derive(Debug, Clone)]
pub struct RunAs {
    /// Login name.
    pub name: String,
    /// uid.
    pub uid: Uid,
    /// Primary gid.
    pub gid: Gid,
    /// Home directory.
    pub home: PathBuf,
    pub(crate) groups: Vec<Gid>,
    switch: bool,
}

impl RunAs {
    /// The user owning `uid`, and whether children must switch to it (only when this process
    /// runs as root and `uid` is someone else). Fails when it would need to switch and cannot.
    pub fn owner(uid: Uid) -> Result<RunAs, Error> {
        let user = accounts::user_by_uid(uid.as_raw()).ok_or(Error::NoUserWithUid(uid.as_raw()))?;
        let me = nix::unistd::geteuid();
        let switch = uid != me;
        if switch && !me.is_root() {
            return Err(Error::NotRootNorOwner {
                me: me.as_raw(),
                name: user.name,
                uid: uid.as_raw(),
            });
        }
        let groups = if switch {
            accounts::groups_of(&user).into_iter().map(Gid::from_raw).collect()
        } else {
            Vec::new()
        };
        Ok(RunAs {
            name: user.name,
            uid,
            gid: Gid::from_raw(user.gid),
            home: user.home,
            groups,
            switch,
        })
    }

    /// The owner of `path` (a data directory), as [`RunAs::owner`].
    pub fn owner_of(path: &Path) -> Result<RunAs, Error> {
        RunAs::owner(Uid::from_raw(crate::datadir::owner_uid(path)?))
    }

    /// The user by name (`owner` of a data directory still to be made).
    pub fn by_name(name: &str) -> Result<RunAs, Error> {
        let user = accounts::user_by_name(name).ok_or_else(|| Error::NoSuchUser(name.to_string()))?;
        RunAs::owner(Uid::from_raw(user.uid))
    }

    /// Whether the process must switch to this user for children (it runs as root).
    pub fn switches(&self) -> bool {
        self.switch
    }

    /// Takes this user's uid as effective uid until the guard is dropped (nothing when the
    /// process already runs as this user).
    pub fn effective(&self) -> Result<AsUser, Error> {
        if !self.switches() {
            return Ok(AsUser { restore: false });
        }
        nix::unistd::seteuid(self.uid).map_err(|source| Error::Switch {
            user: self.name.clone(),
            source,
        })?;
        Ok(AsUser { restore: true })
    }
}

/// Runs with another user's uid as effective uid; root again on drop.
#[derive(Debug)]
#[must_use = "the effective uid goes back to root when the guard is dropped"]
pub struct AsUser {
    restore: bool,
}

impl Drop for AsUser {
    fn drop(&mut self) {
        if self.restore {
            let _ = nix::unistd::seteuid(Uid::from_raw(0));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_user_needs_no_switch() {
        let me = RunAs::owner(nix::unistd::geteuid()).unwrap();
        assert!(!me.switches());
        let _g = me.effective().unwrap();
        assert_eq!(nix::unistd::geteuid(), me.uid);
        assert!(matches!(RunAs::by_name("no-such-user-pgha"), Err(Error::NoSuchUser(_))));
        let t = tempfile::tempdir().unwrap();
        assert_eq!(RunAs::owner_of(t.path()).unwrap().uid, me.uid);
        let e = Error::NotRootNorOwner {
            me: 1000,
            name: "postgres".into(),
            uid: 26,
        };
        assert_eq!(
            e.to_string(),
            "this module runs as uid 1000, but the data directory belongs to postgres (uid 26); run it as root (become: true) or as postgres"
        );
    }
}
