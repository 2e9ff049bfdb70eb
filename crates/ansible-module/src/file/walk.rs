//! Reaching a file without being led somewhere else by a link.
//!
//! The modules run as root on files in directories that less privileged users own (the
//! postgres user's home, a data directory). A plain `open(path)` follows any link such a user
//! planted (`~postgres/.pgpass -> /etc/profile.d/x.sh`), so every component of a path is opened
//! here relative to the descriptor of the directory before it, without following links
//! (`O_NOFOLLOW`, `AT_SYMLINK_NOFOLLOW`), and what is found is judged before it is used:
//!
//! - A **symbolic link** is followed only when its owner is root or owns what it points to
//!   (root made it, or the one who could change the target anyway). A link made by anyone
//!   else, or a link to nothing that root did not make, is refused with a message naming the
//!   link, its owner and its target. This holds for every link on the way, directories
//!   included, and for every link of a chain.
//! - The **final component** must be a regular file (or missing): a FIFO, a device, a socket
//!   or a directory is refused from its `lstat`, before any `open`, and the `open`
//!   (`O_NOFOLLOW | O_NONBLOCK`) is checked to have reached the same inode, so a FIFO swapped
//!   in meanwhile cannot make the module hang.
//! - A regular file with **more than one hard link** is refused when its owner does not own
//!   its directory (a hard link to a root-owned file planted in a user's directory).
//!
//! Writes then go through the directory's descriptor ([`replace`], [`create_new`]): a
//! temporary file created with `O_EXCL | O_NOFOLLOW`, written, `fchown`ed and `fchmod`ed
//! through its own descriptor, and `renameat` over the name (a rename replaces a link, never
//! writes through it). Nothing is checked by path and then used by path again.

use nix::errno::Errno;
use nix::fcntl::{openat, readlinkat, renameat, AtFlags, OFlag};
use nix::sys::stat::{fstatat, FileStat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// Links followed at most, as Linux's `MAXSYMLINKS`.
const MAX_LINKS: usize = 40;

/// A symbolic link met on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Where the link is (its directory resolved).
    pub path: PathBuf,
    /// Its owner.
    pub uid: u32,
    /// What it says.
    pub target: PathBuf,
}

/// Where a path led: the directory holding the final name, and the file when it exists.
#[derive(Debug)]
pub struct Located {
    /// The directory that holds `name`.
    pub dir: OwnedFd,
    /// The directory's owner.
    pub dir_uid: u32,
    /// The final name in `dir`.
    pub name: OsString,
    /// The path with every link resolved, for messages.
    pub real: PathBuf,
    /// The regular file, open read-only; `None` when nothing has that name.
    pub file: Option<File>,
    /// The links whose resolution ended at the final name (the path named a link to the
    /// file, possibly through a chain). Empty when the final component was the file itself.
    pub final_links: Vec<Link>,
}

#[derive(Debug, Clone)]
enum Part {
    Root,
    Parent,
    Name(OsString),
}

fn parts(path: &Path) -> Vec<Part> {
    path.components()
        .filter_map(|c| match c {
            Component::RootDir | Component::Prefix(_) => Some(Part::Root),
            Component::ParentDir => Some(Part::Parent),
            Component::CurDir => None,
            Component::Normal(n) => Some(Part::Name(n.to_os_string())),
        })
        .collect()
}

fn io_err(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

fn open_at(dir: Option<&OwnedFd>, name: &OsStr, flags: OFlag, mode: Mode) -> Result<OwnedFd, Errno> {
    let raw = openat(dir.map(|d| d.as_raw_fd()), name, flags | OFlag::O_CLOEXEC, mode)?;
    // SAFETY: `openat` just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

fn open_dir_at(dir: Option<&OwnedFd>, name: &OsStr, nofollow: bool) -> Result<OwnedFd, Errno> {
    let mut flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY;
    if nofollow {
        flags |= OFlag::O_NOFOLLOW;
    }
    open_at(dir, name, flags, Mode::empty())
}

fn fstat_fd(fd: &OwnedFd) -> Result<FileStat, Errno> {
    nix::sys::stat::fstat(fd.as_raw_fd())
}

fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

/// "a FIFO", "a character device": what a non-regular file is, for messages.
fn kind_name(st: &FileStat) -> &'static str {
    match kind(st) {
        SFlag::S_IFDIR => "a directory",
        SFlag::S_IFIFO => "a FIFO (named pipe)",
        SFlag::S_IFCHR => "a character device",
        SFlag::S_IFBLK => "a block device",
        SFlag::S_IFSOCK => "a socket",
        SFlag::S_IFLNK => "a symbolic link",
        _ => "not a regular file",
    }
}

/// The state of a walk: the directory reached so far and the links being resolved.
struct Walk<'a> {
    shown: &'a Path,
    dir: OwnedFd,
    dir_uid: u32,
    real: PathBuf,
    /// Links whose expansion is not finished, with the queue length at which it is.
    pending: Vec<(Link, usize)>,
    followed: usize,
}

impl Walk<'_> {
    fn set_dir(&mut self, dir: OwnedFd) -> Result<(), String> {
        let st = fstat_fd(&dir).map_err(|e| format!("cannot read {}: {}", self.real.display(), io_err(e)))?;
        self.dir = dir;
        self.dir_uid = st.st_uid;
        Ok(())
    }

    /// Judges the links whose expansion ended at what was just reached (`owner`: its owner;
    /// `None`: nothing is there). Returns them.
    fn settle(&mut self, remaining: usize, owner: Option<u32>) -> Result<Vec<Link>, String> {
        let mut done = Vec::new();
        while self.pending.last().is_some_and(|(_, end)| *end >= remaining) {
            let Some((link, _)) = self.pending.pop() else { break };
            let trusted = match owner {
                Some(uid) => link.uid == 0 || link.uid == uid,
                None => link.uid == 0,
            };
            if !trusted {
                return Err(untrusted(self.shown, &link, owner));
            }
            done.push(link);
        }
        Ok(done)
    }
}

fn untrusted(shown: &Path, link: &Link, owner: Option<u32>) -> String {
    let what = if link.path == shown {
        format!("{} is a symbolic link", shown.display())
    } else {
        format!("{} leads through the symbolic link {}", shown.display(), link.path.display())
    };
    match owner {
        Some(uid) => format!(
            "{what} (owned by uid {}) to {}, which is owned by uid {uid}: a link is followed only when root or the owner of its target made it; refusing to follow it (remove the link, or give the real path)",
            link.uid,
            link.target.display()
        ),
        None => format!(
            "{what} (owned by uid {}) to {}, which does not exist: only a link made by root is followed to create a file; refusing to follow it (remove the link, or give the real path)",
            link.uid,
            link.target.display()
        ),
    }
}

/// Walks to `path` as the module docs say; the final component must be a regular file or
/// missing (its directory must exist).
pub fn locate(path: &Path) -> Result<Located, String> {
    walk(path, false)
}

/// Opens the directory `path` with the same rules as [`locate`] (every link on the way judged).
pub fn locate_dir(path: &Path) -> Result<OwnedFd, String> {
    walk(path, true).map(|l| l.dir)
}

fn walk(path: &Path, want_dir: bool) -> Result<Located, String> {
    let shown = path;
    let cwd = open_dir_at(None, OsStr::new("."), false).map_err(|e| format!("cannot open the current directory: {}", io_err(e)))?;
    let cwd_uid = fstat_fd(&cwd)
        .map_err(|e| format!("cannot read the current directory: {}", io_err(e)))?
        .st_uid;
    let mut w = Walk {
        shown,
        dir: cwd,
        dir_uid: cwd_uid,
        real: std::env::current_dir().unwrap_or_default(),
        pending: Vec::new(),
        followed: 0,
    };
    let mut queue: VecDeque<Part> = parts(path).into();
    let is_dir = |w: Walk| -> Result<Located, String> {
        if want_dir {
            Ok(Located {
                dir: w.dir,
                dir_uid: w.dir_uid,
                name: OsString::new(),
                real: w.real,
                file: None,
                final_links: Vec::new(),
            })
        } else {
            Err(format!("{} is a directory, not a file", shown.display()))
        }
    };
    if queue.is_empty() {
        return is_dir(w);
    }
    while let Some(part) = queue.pop_front() {
        let name = match part {
            Part::Root => {
                let d = open_dir_at(None, OsStr::new("/"), false).map_err(|e| format!("cannot open /: {}", io_err(e)))?;
                w.real = PathBuf::from("/");
                w.set_dir(d)?;
                w.settle(queue.len(), Some(w.dir_uid))?;
                if queue.is_empty() {
                    return is_dir(w);
                }
                continue;
            }
            Part::Parent => {
                let d = open_dir_at(Some(&w.dir), OsStr::new(".."), true)
                    .map_err(|e| format!("cannot open {}/..: {}", w.real.display(), io_err(e)))?;
                w.real.pop();
                w.set_dir(d)?;
                w.settle(queue.len(), Some(w.dir_uid))?;
                if queue.is_empty() {
                    return is_dir(w);
                }
                continue;
            }
            Part::Name(n) => n,
        };
        let last = queue.is_empty();
        let here = w.real.join(&name);
        let st = match fstatat(Some(w.dir.as_raw_fd()), name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::ENOENT) if last => {
                w.settle(queue.len(), None)?;
                return Ok(Located {
                    dir: w.dir,
                    dir_uid: w.dir_uid,
                    name,
                    real: here,
                    file: None,
                    final_links: Vec::new(),
                });
            }
            Err(Errno::ENOENT) => {
                let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
                return Err(format!(
                    "the directory {} of {} does not exist ({} is missing)",
                    parent.display(),
                    shown.display(),
                    here.display()
                ));
            }
            Err(e) => return Err(format!("cannot reach {}: {}", here.display(), io_err(e))),
        };
        if kind(&st) == SFlag::S_IFLNK {
            w.followed += 1;
            if w.followed > MAX_LINKS {
                return Err(format!("{}: too many levels of symbolic links", shown.display()));
            }
            let target = PathBuf::from(
                readlinkat(Some(w.dir.as_raw_fd()), name.as_os_str())
                    .map_err(|e| format!("cannot read the link {}: {}", here.display(), io_err(e)))?,
            );
            let link = Link {
                path: here,
                uid: st.st_uid,
                target: target.clone(),
            };
            w.pending.push((link, queue.len()));
            for p in parts(&target).into_iter().rev() {
                queue.push_front(p);
            }
            if target.as_os_str().is_empty() {
                return Err(format!(
                    "{}: the link {} is empty",
                    shown.display(),
                    w.pending[w.pending.len() - 1].0.path.display()
                ));
            }
            continue;
        }
        if !last || (want_dir && kind(&st) == SFlag::S_IFDIR) {
            if kind(&st) != SFlag::S_IFDIR {
                return Err(format!(
                    "{} is {}, not a directory (on the way to {})",
                    here.display(),
                    kind_name(&st),
                    shown.display()
                ));
            }
            let d = open_dir_at(Some(&w.dir), &name, true).map_err(|e| format!("cannot open {}: {}", here.display(), io_err(e)))?;
            let st2 = fstat_fd(&d).map_err(|e| format!("cannot read {}: {}", here.display(), io_err(e)))?;
            if (st2.st_dev, st2.st_ino) != (st.st_dev, st.st_ino) {
                return Err(format!("{} changed while being opened; try again", here.display()));
            }
            w.dir = d;
            w.dir_uid = st2.st_uid;
            w.real = here;
            w.settle(queue.len(), Some(st2.st_uid))?;
            if last {
                return is_dir(w);
            }
            continue;
        }
        // The final component.
        if kind(&st) != SFlag::S_IFREG {
            return Err(not_regular(shown, &here, &st));
        }
        let fd = open_at(
            Some(&w.dir),
            &name,
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::ELOOP => format!("{} changed to a symbolic link while being opened; refusing it", here.display()),
            e => format!("cannot open {}: {}", shown.display(), io_err(e)),
        })?;
        let st2 = fstat_fd(&fd).map_err(|e| format!("cannot read {}: {}", shown.display(), io_err(e)))?;
        if kind(&st2) != SFlag::S_IFREG || (st2.st_dev, st2.st_ino) != (st.st_dev, st.st_ino) {
            return Err(format!("{} changed while being opened; refusing it (try again)", here.display()));
        }
        let final_links = w.settle(0, Some(st2.st_uid))?;
        if st2.st_nlink > 1 && st2.st_uid != w.dir_uid {
            return Err(format!(
                "{} has {} hard links and is owned by uid {} while its directory is owned by uid {}: refusing it (a hard link there could be another file; remove the extra links)",
                shown.display(),
                st2.st_nlink,
                st2.st_uid,
                w.dir_uid
            ));
        }
        return Ok(Located {
            dir: w.dir,
            dir_uid: w.dir_uid,
            name,
            real: here,
            file: Some(File::from(fd)),
            final_links,
        });
    }
    is_dir(w)
}

fn not_regular(shown: &Path, here: &Path, st: &FileStat) -> String {
    let what = kind_name(st);
    if here == shown {
        format!("{} is {what}, not a regular file: refusing to read or replace it", shown.display())
    } else {
        format!(
            "{} leads to {}, which is {what}, not a regular file: refusing to read or replace it",
            shown.display(),
            here.display()
        )
    }
}

fn temp_name(name: &OsStr, what: &str) -> OsString {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut s = OsString::from(".");
    s.push(name);
    s.push(format!(".{}.{nanos}.{what}", std::process::id()));
    s
}

/// Creates `name` in `dir` (it must not exist, and a link there is not followed) with `data`,
/// owner and mode set through the new file's own descriptor, and synced.
pub fn create_new(dir: &OwnedFd, name: &OsStr, data: &[u8], mode: u32, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    create_new_parts(dir, name, &[data], mode, uid, gid)
}

/// [`create_new`] with the data given as consecutive parts, written one after the other.
pub fn create_new_parts(dir: &OwnedFd, name: &OsStr, parts: &[&[u8]], mode: u32, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    let fd = open_at(
        Some(dir),
        name,
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW,
        Mode::from_bits_truncate(0o600),
    )
    .map_err(io_err)?;
    let mut f = File::from(fd);
    let result = (|| {
        for part in parts {
            f.write_all(part)?;
        }
        std::os::unix::fs::fchown(&f, uid, gid)?;
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.sync_all()
    })();
    if result.is_err() {
        let _ = unlinkat(Some(dir.as_raw_fd()), name, UnlinkatFlags::NoRemoveDir);
    }
    result
}

/// Replaces `name` in `dir` atomically: a new temporary file ([`create_new`]), renamed over
/// the name, then the directory synced. Readers see the old or the new file, never a
/// half-written one; a link at `name` is replaced, not written through.
pub fn replace(dir: &OwnedFd, name: &OsStr, data: &[u8], mode: u32, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    replace_parts(dir, name, &[data], mode, uid, gid)
}

/// [`replace`] with the data given as consecutive parts (written one after the other into the
/// temporary file: the whole text is never put together in memory).
pub fn replace_parts(dir: &OwnedFd, name: &OsStr, parts: &[&[u8]], mode: u32, uid: Option<u32>, gid: Option<u32>) -> io::Result<()> {
    let tmp = temp_name(name, "tmp");
    create_new_parts(dir, &tmp, parts, mode, uid, gid)?;
    let raw = dir.as_raw_fd();
    if let Err(e) = renameat(Some(raw), tmp.as_os_str(), Some(raw), name) {
        let _ = unlinkat(Some(raw), tmp.as_os_str(), UnlinkatFlags::NoRemoveDir);
        return Err(io_err(e));
    }
    nix::unistd::fsync(raw).map_err(io_err)
}

/// The owner, group and mode of an open file.
pub fn attrs_of(f: &File) -> io::Result<(u32, u32, u32)> {
    let m = f.metadata()?;
    Ok((m.mode() & 0o7777, m.uid(), m.gid()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn plain_file_and_missing_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, "x").unwrap();
        let l = locate(&p).unwrap();
        assert!(l.file.is_some() && l.final_links.is_empty());
        let l = locate(&d.path().join("g")).unwrap();
        assert!(l.file.is_none());
        let e = locate(&d.path().join("no/g")).unwrap_err();
        assert!(e.contains("does not exist"), "{e}");
    }

    #[test]
    fn root_owned_links_are_followed_chains_included() {
        // The tests run as root: links made here are root's.
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("real")).unwrap();
        std::fs::write(d.path().join("real/f"), "x").unwrap();
        symlink("real", d.path().join("dirlink")).unwrap();
        symlink("dirlink/f", d.path().join("l1")).unwrap();
        symlink(d.path().join("l1"), d.path().join("l2")).unwrap();
        let l = locate(&d.path().join("l2")).unwrap();
        assert_eq!(l.final_links.len(), 2);
        assert!(l.real.ends_with("real/f"), "{}", l.real.display());
        // A dangling link made by root leads to a file to create.
        symlink("real/new", d.path().join("dangling")).unwrap();
        let l = locate(&d.path().join("dangling")).unwrap();
        assert!(l.file.is_none() && l.name == "new");
    }

    #[test]
    fn links_of_others_are_refused() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("target"), "x").unwrap();
        let link = d.path().join("link");
        symlink("target", &link).unwrap();
        std::os::unix::fs::lchown(&link, Some(65534), None).unwrap();
        let e = locate(&link).unwrap_err();
        assert!(
            e.contains("is a symbolic link (owned by uid 65534)") && e.contains("owned by uid 0"),
            "{e}"
        );
        // The same link to nothing.
        std::fs::remove_file(d.path().join("target")).unwrap();
        let e = locate(&link).unwrap_err();
        assert!(e.contains("which does not exist"), "{e}");
        // A directory link of another user on the way.
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("sub/f"), "x").unwrap();
        let dl = d.path().join("dl");
        symlink("sub", &dl).unwrap();
        std::os::unix::fs::lchown(&dl, Some(65534), None).unwrap();
        let e = locate(&dl.join("f")).unwrap_err();
        assert!(e.contains("leads through the symbolic link"), "{e}");
    }

    #[test]
    fn a_link_of_the_targets_owner_is_followed() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("target");
        std::fs::write(&t, "x").unwrap();
        std::os::unix::fs::chown(&t, Some(65534), None).unwrap();
        let link = d.path().join("link");
        symlink("target", &link).unwrap();
        std::os::unix::fs::lchown(&link, Some(65534), None).unwrap();
        assert_eq!(locate(&link).unwrap().final_links.len(), 1);
    }

    #[test]
    fn fifo_and_devices_are_refused_without_opening() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        nix::unistd::mkfifo(&fifo, Mode::from_bits_truncate(0o600)).unwrap();
        let e = locate(&fifo).unwrap_err();
        assert!(e.contains("is a FIFO (named pipe), not a regular file"), "{e}");
        let e = locate(Path::new("/dev/null")).unwrap_err();
        assert!(e.contains("is a character device"), "{e}");
        let e = locate(d.path()).unwrap_err();
        assert!(e.contains("is a directory"), "{e}");
    }

    #[test]
    fn hard_link_to_a_file_of_another_owner_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let sub = d.path().join("home");
        std::fs::create_dir(&sub).unwrap();
        std::os::unix::fs::chown(&sub, Some(65534), None).unwrap();
        let t = d.path().join("rootfile");
        std::fs::write(&t, "x").unwrap();
        std::fs::hard_link(&t, sub.join("f")).unwrap();
        let e = locate(&sub.join("f")).unwrap_err();
        assert!(e.contains("hard links"), "{e}");
    }

    #[test]
    fn replace_replaces_a_link_instead_of_writing_through_it() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("target");
        std::fs::write(&t, "old").unwrap();
        symlink("target", d.path().join("name")).unwrap();
        let dir = locate_dir(d.path()).unwrap();
        replace(&dir, OsStr::new("name"), b"new", 0o640, None, None).unwrap();
        assert_eq!(std::fs::read_to_string(&t).unwrap(), "old");
        let m = std::fs::symlink_metadata(d.path().join("name")).unwrap();
        assert!(m.file_type().is_file() && m.mode() & 0o7777 == 0o640);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 2);
    }
}
