//! Running PostgreSQL's own programs (and repmgr) as the data directory's owner.
//!
//! When the module runs as root, a child switches to the owner's uid, primary gid and
//! supplementary groups (read before the fork) and gets the owner's `HOME`, so `pg_basebackup`
//! and the walreceiver read the same `~/.pgpass`. When the module already runs as the owner,
//! children simply inherit it. Every command is recorded for `commands`.

use crate::{Error, RunAs};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs commands and keeps a record of them.
#[derive(Debug, Default)]
pub struct Runner {
    /// The commands run, shell-quoted, in order.
    pub commands: Vec<String>,
}

/// Quotes a word for display as a shell would need it.
fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./=:,@%+".contains(&b)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The finished command: exit status and what it printed.
#[derive(Debug)]
pub struct Done {
    /// Exit code (-1 when killed by a signal).
    pub rc: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Done {
    /// Whether it exited 0.
    pub fn ok(&self) -> bool {
        self.rc == 0
    }

    fn from(out: Output) -> Done {
        Done {
            rc: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl Runner {
    /// Runs `program args` as `user` (or as this process when `user` is `None`), with a clean
    /// environment plus `env`, from `/`. Values of `env` are not recorded.
    pub fn run(&mut self, user: Option<&RunAs>, program: &Path, args: &[String], env: &[(&str, &str)]) -> Result<Done, Error> {
        let mut shown = vec![shell_word(&program.display().to_string())];
        shown.extend(args.iter().map(|a| shell_word(a)));
        let mut line = shown.join(" ");
        if let Some(u) = user.filter(|u| u.switches()) {
            line = format!("(as {}) {line}", u.name);
        }
        self.commands.push(line);
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .env("PATH", PATH)
            .env("LC_ALL", "C")
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(u) = user {
            cmd.env("HOME", &u.home).env("USER", &u.name).env("LOGNAME", &u.name);
            if u.switches() {
                let (uid, gid, groups) = (u.uid, u.gid, u.groups.clone());
                // SAFETY: between fork and exec only async-signal-safe system calls are made
                // (setgroups, setgid, setuid); the group list was read before the fork.
                unsafe {
                    cmd.pre_exec(move || {
                        nix::unistd::setgroups(&groups).map_err(std::io::Error::from)?;
                        nix::unistd::setgid(gid).map_err(std::io::Error::from)?;
                        nix::unistd::setuid(uid).map_err(std::io::Error::from)?;
                        Ok(())
                    });
                }
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().map_err(|source| Error::Run {
            program: program.to_path_buf(),
            source,
        })?;
        Ok(Done::from(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_quoted_for_display() {
        assert_eq!(shell_word("/usr/bin/pg_ctl"), "/usr/bin/pg_ctl");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }

    #[test]
    fn runs_as_this_user_without_switching() {
        let me = RunAs::owner(nix::unistd::geteuid()).unwrap();
        assert!(!me.switches());
        let mut r = Runner::default();
        let done = r
            .run(
                Some(&me),
                Path::new("/bin/sh"),
                &["-c".into(), "echo $HOME; echo err >&2; exit 3".into()],
                &[],
            )
            .unwrap();
        assert_eq!(done.rc, 3);
        assert_eq!(done.stdout.trim(), me.home.display().to_string());
        assert_eq!(done.stderr.trim(), "err");
        assert_eq!(r.commands, ["/bin/sh -c 'echo $HOME; echo err >&2; exit 3'"]);
    }
}
