//! Files a module manages: read once, compared, diffed, and written atomically with the
//! owner, group and mode asked for; a backup when asked; nothing touched when nothing changes.
//!
//! The file is reached as [`walk`] says: no link planted by a less privileged user is
//! followed, only regular files are read or replaced, and every read and write goes through
//! descriptors (the directory's and the file's), so nothing checked is swapped before use.
//! A path that is a link made by root (or by the owner of its target) is followed: the target
//! is edited, keeping its owner and group (an `owner` or `group` that differs is refused:
//! nothing reached through a link is chowned; give the real path to change them).

use crate::{fail, Diff, Error, Module, Response, Spec};
use serde::Deserialize;
use serde_json::Value;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

pub mod walk;

/// The parameters every file module takes.
#[derive(Debug, Clone, Deserialize)]
pub struct FileParams {
    /// The file to manage.
    pub path: PathBuf,
    /// Create the file when missing (default decided by the module).
    pub create: Option<bool>,
    /// Keep a timestamped copy of the old file before changing it.
    #[serde(default)]
    pub backup: bool,
    /// Octal mode as a string (`'0600'`) or the number YAML makes of `0600`.
    pub mode: Option<Value>,
    /// Owner name or uid.
    pub owner: Option<String>,
    /// Group name or gid.
    pub group: Option<String>,
}

impl Spec for FileParams {
    const ALIASES: &'static [(&'static str, &'static str)] = &[("dest", "path")];
}

/// Module-specific defaults for a managed file.
#[derive(Debug, Clone, Copy)]
pub struct FileDefaults {
    /// Whether a missing file is created when the task does not say.
    pub create: bool,
    /// Mode of a newly created file when the task does not say.
    pub mode: u32,
}

#[derive(Debug, Clone, PartialEq)]
struct Attrs {
    mode: u32,
    uid: u32,
    gid: u32,
}

/// A file read at the start of a module run.
#[derive(Debug)]
pub struct ManagedFile {
    /// The path as given.
    pub path: PathBuf,
    /// The directory that holds the file (after trusted links), open.
    dir: OwnedFd,
    /// The file's name in `dir`.
    name: OsString,
    /// The file itself, open read-only (attribute changes go through it).
    file: Option<File>,
    /// The path the links led to, when the path was a link.
    through_link: Option<PathBuf>,
    original: Option<String>,
    current: Option<Attrs>,
    wanted_mode: Option<u32>,
    wanted_uid: Option<u32>,
    wanted_gid: Option<u32>,
    backup: bool,
    default_mode: u32,
}

impl ManagedFile {
    /// Reads the file named by `params`. A missing file is an error unless creation is allowed;
    /// a link that is not trusted, or anything but a regular file, is refused (see the module
    /// docs).
    pub fn open(params: &FileParams, defaults: FileDefaults) -> Result<ManagedFile, Error> {
        let path = params.path.clone();
        if path.as_os_str().is_empty() {
            return Err(fail!("path must not be empty"));
        }
        let wanted_mode = params.mode.as_ref().map(parse_mode).transpose()?;
        let wanted_uid = params.owner.as_deref().map(lookup_user).transpose()?;
        let wanted_gid = params.group.as_deref().map(lookup_group).transpose()?;
        let loc = walk::locate(&path).map_err(Error::new)?;
        let through_link = (!loc.final_links.is_empty()).then(|| loc.real.clone());
        let (original, current) = match &loc.file {
            Some(f) => {
                let (mode, uid, gid) = walk::attrs_of(f).map_err(|e| fail!("cannot read {}: {e}", path.display()))?;
                let mut bytes = Vec::new();
                (&*f)
                    .read_to_end(&mut bytes)
                    .map_err(|e| fail!("cannot read {}: {e}", path.display()))?;
                let text = String::from_utf8(bytes).map_err(|e| {
                    fail!(
                        "{} is not UTF-8 text (invalid byte at offset {})",
                        path.display(),
                        e.utf8_error().valid_up_to()
                    )
                })?;
                (Some(text), Some(Attrs { mode, uid, gid }))
            }
            None => {
                if !params.create.unwrap_or(defaults.create) {
                    return Err(fail!("{} does not exist; set create: true to create it", path.display()));
                }
                (None, None)
            }
        };
        if let (Some(real), Some(cur)) = (&through_link, &current) {
            let owner_differs = wanted_uid.is_some_and(|u| u != cur.uid);
            let group_differs = wanted_gid.is_some_and(|g| g != cur.gid);
            if owner_differs || group_differs {
                return Err(fail!(
                    "{} is a symbolic link to {}: its owner and group are not changed through a link (owner uid {}, group gid {} now); give the real path to change them",
                    path.display(),
                    real.display(),
                    cur.uid,
                    cur.gid
                ));
            }
        }
        Ok(ManagedFile {
            path,
            dir: loc.dir,
            name: loc.name,
            file: loc.file,
            through_link,
            original,
            current,
            wanted_mode,
            wanted_uid,
            wanted_gid,
            backup: params.backup,
            default_mode: defaults.mode,
        })
    }

    /// Whether the file existed.
    pub fn exists(&self) -> bool {
        self.original.is_some()
    }

    /// The text read (empty for a file that does not exist yet).
    pub fn content(&self) -> &str {
        self.original.as_deref().unwrap_or("")
    }

    /// The mode the file has (or will have when created).
    pub fn mode(&self) -> u32 {
        self.wanted_attrs().mode
    }

    /// Where the path led when it was a link to the file.
    pub fn through_link(&self) -> Option<&Path> {
        self.through_link.as_deref()
    }

    /// Writes `new` if it differs (or the attributes do), honouring check and diff mode.
    /// Returns whether anything changed. Sets `backup_file` when a backup was made.
    pub fn save(&self, module: &Module, new: &str, resp: &mut Response) -> Result<bool, Error> {
        self.save_parts(module, &[new], resp, None)
    }

    /// Like [`save`](Self::save), with `mask` applied to both sides of the diff: files that
    /// hold secrets are diffed with the secrets replaced.
    pub fn save_masked(&self, module: &Module, new: &str, resp: &mut Response, mask: impl Fn(&str) -> String) -> Result<bool, Error> {
        self.save_parts(module, &[new], resp, Some(&mask))
    }

    /// Like [`save_masked`](Self::save_masked) (no mask: `None`), with the new text given as
    /// consecutive parts: an editor's runs of unchanged lines and the lines it wrote. The
    /// parts are compared with the file and written one after the other; they are joined
    /// only for a diff.
    pub fn save_parts(
        &self,
        module: &Module,
        parts: &[&str],
        resp: &mut Response,
        mask: Option<&dyn Fn(&str) -> String>,
    ) -> Result<bool, Error> {
        let content_changed = match &self.original {
            Some(old) => !equals_joined(old, parts),
            None => true,
        };
        let wanted = self.wanted_attrs();
        let attrs_changed = match &self.current {
            Some(cur) => *cur != wanted,
            None => false,
        };
        let path = self.path.display().to_string();
        if content_changed && module.diff {
            let new = parts.concat();
            let (before, after) = match mask {
                Some(mask) => (mask(self.content()), mask(&new)),
                None => (self.content().to_owned(), new),
            };
            resp.diff(Diff::file(&path, before, after));
        }
        if attrs_changed && module.diff {
            if let Some(cur) = &self.current {
                resp.diff(Diff {
                    before: cur.describe(),
                    after: wanted.describe(),
                    before_header: Some(format!("{path} (attributes)")),
                    after_header: Some(format!("{path} (attributes)")),
                });
            }
        }
        if !(content_changed || attrs_changed) {
            return Ok(false);
        }
        if module.check_mode {
            return Ok(true);
        }
        if content_changed {
            if let (true, Some(old), Some(cur)) = (self.backup, &self.original, &self.current) {
                let backup = self.backup_name();
                walk::create_new(&self.dir, &backup, old.as_bytes(), cur.mode, Some(cur.uid), Some(cur.gid))
                    .map_err(|e| fail!("cannot back up {path}: {e}"))?;
                let dir = match &self.through_link {
                    Some(real) => real.parent(),
                    None => self.path.parent(),
                };
                let shown = dir.unwrap_or(Path::new("")).join(&backup);
                resp.set("backup_file", shown.display().to_string());
            }
            let bytes: Vec<&[u8]> = parts.iter().map(|p| p.as_bytes()).collect();
            walk::replace_parts(&self.dir, &self.name, &bytes, wanted.mode, Some(wanted.uid), Some(wanted.gid))
                .map_err(|e| fail!("cannot write {path}: {e}"))?;
        } else if let Some(f) = &self.file {
            set_attrs(f, &wanted).map_err(|e| fail!("cannot set the attributes of {path}: {e}"))?;
        }
        Ok(true)
    }

    /// `<name>.<pid>.<UTC timestamp>~`, as Ansible's `backup_local` names it, beside the file.
    fn backup_name(&self) -> OsString {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut name = self.name.clone();
        name.push(format!(".{}.{}~", std::process::id(), utc_stamp(secs)));
        name
    }

    fn wanted_attrs(&self) -> Attrs {
        let cur = self.current.clone().unwrap_or(Attrs {
            mode: self.default_mode,
            uid: nix::unistd::geteuid().as_raw(),
            gid: nix::unistd::getegid().as_raw(),
        });
        Attrs {
            mode: self.wanted_mode.unwrap_or(cur.mode),
            uid: self.wanted_uid.unwrap_or(cur.uid),
            gid: self.wanted_gid.unwrap_or(cur.gid),
        }
    }
}

impl Attrs {
    fn describe(&self) -> String {
        format!("mode: {:04o}\nowner: {}\ngroup: {}\n", self.mode, self.uid, self.gid)
    }
}

/// Whether `parts`, joined, are `text` (without joining them).
pub fn equals_joined(text: &str, parts: &[&str]) -> bool {
    if parts.iter().map(|p| p.len()).sum::<usize>() != text.len() {
        return false;
    }
    let mut rest = text;
    parts.iter().all(|p| match rest.strip_prefix(p) {
        Some(r) => {
            rest = r;
            true
        }
        None => false,
    })
}

/// Reads a regular file reached as [`walk`] says (a key file, say): no untrusted link is
/// followed, no FIFO or device opened.
pub fn read_regular(path: &Path) -> Result<Vec<u8>, String> {
    let loc = walk::locate(path)?;
    let mut f = loc.file.ok_or_else(|| format!("{} does not exist", path.display()))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(bytes)
}

/// Ansible's modes: a number is the mode itself (YAML `0600` is 384), a string is octal.
pub fn parse_mode(v: &Value) -> Result<u32, Error> {
    let mode = match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => u32::from_str_radix(s.trim().trim_start_matches("0o"), 8).ok(),
        _ => None,
    };
    match mode {
        Some(m) if m <= 0o7777 => Ok(m),
        _ => Err(fail!(
            "mode must be an octal number such as '0600' (symbolic modes are not supported), got: {v}"
        )),
    }
}

fn lookup_user(name: &str) -> Result<u32, Error> {
    if let Ok(uid) = name.parse::<u32>() {
        return Ok(uid);
    }
    pghost::accounts::user_by_name(name)
        .map(|u| u.uid)
        .ok_or_else(|| fail!("owner '{name}' is not a user on this host"))
}

fn lookup_group(name: &str) -> Result<u32, Error> {
    if let Ok(gid) = name.parse::<u32>() {
        return Ok(gid);
    }
    pghost::accounts::group_by_name(name).ok_or_else(|| fail!("group '{name}' is not a group on this host"))
}

fn set_attrs(f: &File, a: &Attrs) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::os::unix::fs::fchown(f, Some(a.uid), Some(a.gid))?;
    f.set_permissions(std::fs::Permissions::from_mode(a.mode))
}

/// Writes `data` to `path` atomically: a temporary file in the same directory, fsync, then
/// rename over the old file, then fsync of the directory. Readers see the old or the new
/// file, never a half-written one. The directory is reached as [`walk`] says (no untrusted
/// link on the way); a link at `path` itself is replaced, not written through.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| io::Error::other("no file name"))?;
    let dir = walk::locate_dir(dir).map_err(io::Error::other)?;
    walk::replace(&dir, name, data, mode, uid, gid)
}

/// `YYYY-MM-DD@HH:MM:SS` in UTC.
fn utc_stamp(secs: u64) -> String {
    let (date, time) = crate::time::utc_parts(secs);
    format!("{date}@{time}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn params(path: &Path) -> FileParams {
        FileParams {
            path: path.to_path_buf(),
            create: None,
            backup: false,
            mode: None,
            owner: None,
            group: None,
        }
    }

    const DEF: FileDefaults = FileDefaults {
        create: false,
        mode: 0o600,
    };

    #[test]
    fn stamp_is_civil_utc() {
        assert_eq!(utc_stamp(0), "1970-01-01@00:00:00");
        assert_eq!(utc_stamp(1_795_434_600), "2026-11-23@11:50:00");
    }

    #[test]
    fn missing_file_needs_create() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.conf");
        let err = ManagedFile::open(&params(&p), DEF).unwrap_err();
        assert!(err.msg.contains("does not exist; set create: true"), "{}", err.msg);
        let mut fp = params(&p);
        fp.create = Some(true);
        let f = ManagedFile::open(&fp, DEF).unwrap();
        assert!(!f.exists());
    }

    #[test]
    fn save_writes_atomically_keeps_mode_and_backs_up() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hba.conf");
        fs::write(&p, "old\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        let mut fp = params(&p);
        fp.backup = true;
        let f = ManagedFile::open(&fp, DEF).unwrap();
        let m = Module {
            diff: true,
            ..Default::default()
        };
        let mut r = Response::new(false);
        assert!(f.save(&m, "new\n", &mut r).unwrap());
        assert_eq!(fs::read_to_string(&p).unwrap(), "new\n");
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o7777, 0o640);
        let backup = r.extra["backup_file"].as_str().unwrap().to_string();
        assert_eq!(fs::read_to_string(backup).unwrap(), "old\n");
        assert_eq!(r.diffs[0].before, "old\n");
        // Nothing left behind but the file and its backup.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn parts_are_compared_diffed_and_written_in_order() {
        assert!(equals_joined("abc", &["a", "", "bc"]));
        assert!(equals_joined("", &[]));
        assert!(!equals_joined("abc", &["ab", "d"]) && !equals_joined("abc", &["abc", "d"]) && !equals_joined("abc", &["a"]));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("hba.conf");
        fs::write(&p, "one\ntwo\n").unwrap();
        let mut fp = params(&p);
        fp.backup = true;
        let f = ManagedFile::open(&fp, DEF).unwrap();
        let m = Module {
            diff: true,
            ..Default::default()
        };
        let mut r = Response::new(false);
        assert!(!f.save_parts(&m, &["one\n", "two\n"], &mut r, None).unwrap());
        assert!(r.diffs.is_empty() && !r.extra.contains_key("backup_file"));
        assert!(f.save_parts(&m, &["one\n", "2\n", "three\n"], &mut r, None).unwrap());
        assert_eq!(fs::read_to_string(&p).unwrap(), "one\n2\nthree\n");
        assert_eq!(
            (r.diffs[0].before.as_str(), r.diffs[0].after.as_str()),
            ("one\ntwo\n", "one\n2\nthree\n")
        );
        let backup = r.extra["backup_file"].as_str().unwrap().to_string();
        assert_eq!(fs::read_to_string(backup).unwrap(), "one\ntwo\n");
        let mut r = Response::new(false);
        let upper = |s: &str| s.to_uppercase();
        let f = ManagedFile::open(&params(&p), DEF).unwrap();
        assert!(f
            .save_parts(
                &Module {
                    check_mode: true,
                    diff: true,
                    ..Default::default()
                },
                &["x"],
                &mut r,
                Some(&upper)
            )
            .unwrap());
        assert_eq!((r.diffs[0].before.as_str(), r.diffs[0].after.as_str()), ("ONE\n2\nTHREE\n", "X"));
        assert_eq!(fs::read_to_string(&p).unwrap(), "one\n2\nthree\n");
    }

    #[test]
    fn check_mode_touches_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, "a").unwrap();
        let f = ManagedFile::open(&params(&p), DEF).unwrap();
        let m = Module {
            check_mode: true,
            ..Default::default()
        };
        assert!(f.save(&m, "b", &mut Response::new(false)).unwrap());
        assert_eq!(fs::read_to_string(&p).unwrap(), "a");
        assert!(!f.save(&m, "a", &mut Response::new(false)).unwrap());
    }

    #[test]
    fn writes_through_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.conf");
        let link = dir.path().join("link.conf");
        fs::write(&real, "a\n").unwrap();
        std::os::unix::fs::symlink("real.conf", &link).unwrap();
        let f = ManagedFile::open(&params(&link), DEF).unwrap();
        f.save(&Module::default(), "b\n", &mut Response::new(false)).unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "b\n");
    }

    fn chown_link(link: &Path, uid: u32) {
        std::os::unix::fs::lchown(link, Some(uid), None).unwrap();
    }

    #[test]
    fn a_link_planted_by_another_user_is_refused_and_nothing_changes() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        fs::create_dir(&home).unwrap();
        std::os::unix::fs::chown(&home, Some(65534), Some(65534)).unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "root's\n").unwrap();
        let link = home.join(".pgpass");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        chown_link(&link, 65534);
        let mut fp = params(&link);
        fp.owner = Some("65534".into());
        fp.create = Some(true);
        let err = ManagedFile::open(&fp, DEF).unwrap_err();
        assert!(err.msg.contains("is a symbolic link (owned by uid 65534)"), "{}", err.msg);
        // Dangling: the link would create a file where its owner cannot.
        let link2 = home.join(".pcppass");
        std::os::unix::fs::symlink(dir.path().join("profile.sh"), &link2).unwrap();
        chown_link(&link2, 65534);
        let err = ManagedFile::open(&params(&link2), DEF).unwrap_err();
        assert!(err.msg.contains("which does not exist"), "{}", err.msg);
        assert_eq!(fs::read_to_string(&victim).unwrap(), "root's\n");
        assert_eq!(fs::metadata(&victim).unwrap().uid(), 0);
        assert!(!dir.path().join("profile.sh").exists());
    }

    #[test]
    fn no_chown_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.conf");
        fs::write(&real, "a\n").unwrap();
        let link = dir.path().join("link.conf");
        std::os::unix::fs::symlink("real.conf", &link).unwrap();
        let mut fp = params(&link);
        fp.owner = Some("65534".into());
        let err = ManagedFile::open(&fp, DEF).unwrap_err();
        assert!(err.msg.contains("not changed through a link"), "{}", err.msg);
        fp.owner = Some("0".into());
        assert!(ManagedFile::open(&fp, DEF).is_ok());
    }

    #[test]
    fn fifo_and_device_are_refused_in_check_mode_too() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let err = ManagedFile::open(&params(&fifo), DEF).unwrap_err();
        assert!(err.msg.contains("FIFO"), "{}", err.msg);
        let err = ManagedFile::open(&params(Path::new("/dev/null")), DEF).unwrap_err();
        assert!(err.msg.contains("character device"), "{}", err.msg);
    }

    #[test]
    fn write_atomic_replaces_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "v").unwrap();
        let link = dir.path().join("auto.conf");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        write_atomic(&link, b"new", 0o600, None, None).unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "v");
        assert_eq!(fs::read_to_string(&link).unwrap(), "new");
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_file());
    }

    #[test]
    fn mode_change_alone_is_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        fs::write(&p, "a").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        let mut fp = params(&p);
        fp.mode = Some(Value::String("0600".into()));
        let f = ManagedFile::open(&fp, DEF).unwrap();
        assert!(f.save(&Module::default(), "a", &mut Response::new(false)).unwrap());
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o7777, 0o600);
        let f = ManagedFile::open(&fp, DEF).unwrap();
        assert!(!f.save(&Module::default(), "a", &mut Response::new(false)).unwrap());
    }

    #[test]
    fn modes_parse_like_ansible() {
        assert_eq!(parse_mode(&Value::from(384)).unwrap(), 0o600);
        assert_eq!(parse_mode(&Value::from("0640")).unwrap(), 0o640);
        assert!(parse_mode(&Value::from("u=rw")).is_err());
    }
}
