//! What a PostgreSQL data directory holds, and making one for its owner.

use crate::pidfile::{self, PidFile};
use crate::user::RunAs;
use crate::Error;
use pgconf::postgresql::PostgresqlConf;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// What is at a data directory's path.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// Nothing.
    Missing,
    /// An empty directory.
    Empty,
    /// Files that are not a PostgreSQL data directory (no `PG_VERSION`).
    Other,
    /// A PostgreSQL data directory.
    Cluster(Cluster),
}

/// A PostgreSQL data directory as found.
#[derive(Debug, PartialEq, Eq)]
pub struct Cluster {
    /// Its server's pidfile, when the server runs.
    pub running: Option<PidFile>,
    /// `standby.signal` exists.
    pub standby_signal: bool,
    /// `recovery.signal` exists.
    pub recovery_signal: bool,
    /// `primary_conninfo` (postgresql.auto.conf, then postgresql.conf), when not empty.
    pub conninfo: Option<String>,
    /// `primary_slot_name`, likewise.
    pub slot: Option<String>,
    /// The text of postgresql.auto.conf (empty when there is none).
    pub auto_conf: String,
}

impl Cluster {
    /// Whether it starts (or runs) in recovery: `standby.signal` or `recovery.signal`.
    pub fn is_standby(&self) -> bool {
        self.standby_signal || self.recovery_signal
    }
}

/// A setting as the server would read it from these two files: postgresql.auto.conf first,
/// then postgresql.conf (includes are not followed); empty values count as unset.
fn setting(dir: &Path, auto: &PostgresqlConf, name: &str) -> Option<String> {
    auto.get(name)
        .or_else(|| {
            fs::read_to_string(dir.join("postgresql.conf"))
                .ok()
                .and_then(|t| PostgresqlConf::parse(&t).get(name))
        })
        .filter(|s| !s.is_empty())
}

/// Looks at `dir` without following a symlink at its path.
pub fn inspect(dir: &Path) -> Result<Found, Error> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Missing),
        Err(e) => return Err(Error::io("read", dir)(e)),
    };
    if !meta.is_dir() {
        return Err(Error::NotADirectory(dir.to_path_buf()));
    }
    let mut entries = fs::read_dir(dir).map_err(Error::io("list", dir))?;
    if entries.next().is_none() {
        return Ok(Found::Empty);
    }
    if !dir.join("PG_VERSION").exists() {
        return Ok(Found::Other);
    }
    let auto_conf = fs::read_to_string(dir.join("postgresql.auto.conf")).unwrap_or_default();
    let auto = PostgresqlConf::parse(&auto_conf);
    Ok(Found::Cluster(Cluster {
        running: pidfile::running(dir),
        standby_signal: dir.join("standby.signal").exists(),
        recovery_signal: dir.join("recovery.signal").exists(),
        conninfo: setting(dir, &auto, "primary_conninfo"),
        slot: setting(dir, &auto, "primary_slot_name"),
        auto_conf,
    }))
}

/// The major version in `PG_VERSION` (`"15"`), when there is one.
pub fn major_version(dir: &Path) -> Option<String> {
    fs::read_to_string(dir.join("PG_VERSION")).ok().map(|v| v.trim().to_string())
}

/// The uid owning `dir`.
pub fn owner_uid(dir: &Path) -> Result<u32, Error> {
    Ok(fs::metadata(dir).map_err(Error::io("read", dir))?.uid())
}

/// Creates `dir` (its parent must exist) owned by `owner`, mode 0700.
pub fn create(dir: &Path, owner: &RunAs) -> Result<(), Error> {
    fs::create_dir(dir).map_err(Error::io("create", dir))?;
    nix::unistd::chown(dir, Some(owner.uid), Some(owner.gid)).map_err(|source| Error::Chown {
        path: dir.to_path_buf(),
        user: owner.name.clone(),
        source,
    })?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(Error::io("set the mode of", dir))
}

/// Sets mode 0700 unless the mode is 0700 or 0750: PostgreSQL starts from no other.
pub fn fix_mode(dir: &Path) -> Result<(), Error> {
    let mode = fs::metadata(dir).map_err(Error::io("read", dir))?.mode() & 0o7777;
    if mode != 0o700 && mode != 0o750 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(Error::io("set the mode of", dir))?;
    }
    Ok(())
}

/// Removes everything inside `dir` (a symlink is removed, not followed).
pub fn empty(dir: &Path) -> Result<(), Error> {
    let rd = fs::read_dir(dir).map_err(Error::io("list", dir))?;
    for entry in rd {
        let entry = entry.map_err(Error::io("list", dir))?;
        let path = entry.path();
        let is_dir = fs::symlink_metadata(&path).map(|m| m.is_dir()).unwrap_or(false);
        let res = if is_dir {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        res.map_err(Error::io("remove", &path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_tells_what_is_there() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("pgdata");
        assert_eq!(inspect(&d).unwrap(), Found::Missing);
        fs::create_dir(&d).unwrap();
        assert_eq!(inspect(&d).unwrap(), Found::Empty);
        fs::write(d.join("x"), "").unwrap();
        assert_eq!(inspect(&d).unwrap(), Found::Other);
        fs::write(d.join("PG_VERSION"), "15\n").unwrap();
        fs::write(d.join("standby.signal"), "").unwrap();
        fs::write(d.join("postgresql.conf"), "primary_slot_name = 'from_conf'\n").unwrap();
        fs::write(
            d.join("postgresql.auto.conf"),
            "primary_conninfo = 'host=h port=5433 user=repl'\nprimary_slot_name = 's'\n",
        )
        .unwrap();
        let Found::Cluster(c) = inspect(&d).unwrap() else { panic!() };
        assert!(c.is_standby() && c.standby_signal && !c.recovery_signal && c.running.is_none());
        assert_eq!(c.slot.as_deref(), Some("s"));
        assert_eq!(c.conninfo.as_deref(), Some("host=h port=5433 user=repl"));
        assert_eq!(major_version(&d).as_deref(), Some("15"));
        fs::write(d.join("postgresql.auto.conf"), "").unwrap();
        let Found::Cluster(c) = inspect(&d).unwrap() else { panic!() };
        assert_eq!((c.slot.as_deref(), c.conninfo), (Some("from_conf"), None));
        assert!(matches!(inspect(&d.join("x")), Err(Error::NotADirectory(_))));
    }

    #[test]
    fn makes_fixes_and_empties() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("pgdata");
        let me = RunAs::owner(nix::unistd::geteuid()).unwrap();
        create(&d, &me).unwrap();
        assert_eq!(fs::metadata(&d).unwrap().mode() & 0o7777, 0o700);
        assert_eq!(owner_uid(&d).unwrap(), me.uid.as_raw());
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
        fix_mode(&d).unwrap();
        assert_eq!(fs::metadata(&d).unwrap().mode() & 0o7777, 0o700);
        fs::create_dir(d.join("sub")).unwrap();
        fs::write(d.join("sub/f"), "").unwrap();
        std::os::unix::fs::symlink(t.path(), d.join("link")).unwrap();
        empty(&d).unwrap();
        assert_eq!(inspect(&d).unwrap(), Found::Empty);
        assert!(t.path().exists());
        let e = create(&d, &me).unwrap_err().to_string();
        assert!(e.starts_with(&format!("cannot create {}: ", d.display())), "{e}");
    }
}
