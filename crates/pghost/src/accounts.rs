//! Local users and groups, read from /etc/passwd and /etc/group.
//!
//! The modules are static glibc binaries: glibc's `getpwnam` and friends load NSS modules at
//! run time, which a static binary cannot do safely (an unknown name crashed it). PostgreSQL's
//! service accounts are local, so reading the files is enough; directory-service accounts
//! (LDAP, SSSD) are not seen.

use std::path::PathBuf;

/// A local user account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Login name.
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory.
    pub home: PathBuf,
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn parse_passwd(text: &str) -> impl Iterator<Item = Account> + '_ {
    text.lines().filter(|l| !l.starts_with('#')).filter_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() < 7 {
            return None;
        }
        Some(Account {
            name: f[0].to_string(),
            uid: f[2].parse().ok()?,
            gid: f[3].parse().ok()?,
            home: PathBuf::from(f[5]),
        })
    })
}

/// The local user `name`.
pub fn user_by_name(name: &str) -> Option<Account> {
    parse_passwd(&read("/etc/passwd")).find(|a| a.name == name)
}

/// The local user with `uid`.
pub fn user_by_uid(uid: u32) -> Option<Account> {
    parse_passwd(&read("/etc/passwd")).find(|a| a.uid == uid)
}

/// The gid of the local group `name`.
pub fn group_by_name(name: &str) -> Option<u32> {
    read("/etc/group").lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 3 && f[0] == name).then(|| f[2].parse().ok()).flatten()
    })
}

/// The groups of `user`: its primary group and every group that lists it as a member.
pub fn groups_of(user: &Account) -> Vec<u32> {
    let mut out = vec![user.gid];
    for l in read("/etc/group").lines() {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() >= 4 && f[3].split(',').any(|m| m == user.name) {
            if let Ok(gid) = f[2].parse() {
                if !out.contains(&gid) {
                    out.push(gid);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_local_accounts() {
        let root = user_by_name("root").expect("root exists");
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(user_by_uid(0).map(|a| a.name), Some("root".to_string()));
        assert_eq!(group_by_name("root"), Some(0));
        assert!(user_by_name("no-such-user-pgha").is_none());
        assert!(group_by_name("no-such-group-pgha").is_none());
        assert!(groups_of(&root).contains(&0));
    }

    #[test]
    fn skips_malformed_lines() {
        let text = "bad line\nu:x:12:34:U:/home/u:/bin/sh\nv:x:notanumber:1::/:/bin/sh\n";
        let all: Vec<_> = parse_passwd(text).collect();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].home, PathBuf::from("/home/u"));
    }
}
