//! The password from `.pgpass` when none is given, found as libpq finds it.

use crate::login::Target;
use pgconf::pgpass::{PassFile, PassFormat};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// The password file libpq would read: `$PGPASSFILE`, or `.pgpass` in the home directory of
/// the effective user (from the password database, so a module run with `become_user` reads
/// that user's file whatever `$HOME` says).
pub fn passfile() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PGPASSFILE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    crate::tls::home_dir().map(|h| h.join(".pgpass"))
}

/// Looks up the password for a connection. Returns it (or `None`) and a sentence saying where
/// it looked, for the message when the server asks for a password anyway. A file that others
/// can read is skipped with a warning, as libpq does.
pub(crate) fn password_for(target: &Target, database: &str, user: &str, warnings: &mut Vec<String>) -> (Option<String>, String) {
    let Some(path) = passfile() else {
        return (None, "no login_password, and no home directory to find .pgpass in".to_string());
    };
    let shown = path.display().to_string();
    let Ok(meta) = std::fs::metadata(&path) else {
        return (None, format!("no login_password, and no password file {shown}"));
    };
    if !meta.is_file() {
        return (None, format!("no login_password, and {shown} is not a plain file"));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        warnings.push(format!(
            "password file {shown} has group or world access; permissions should be u=rw (0600) or less, so it was not used"
        ));
        return (None, format!("no login_password, and {shown} was skipped for its permissions"));
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => return (None, format!("no login_password, and {shown} could not be read: {e}")),
    };
    let file = PassFile::parse(&text, PassFormat::PgPass);
    let host = target.pgpass_host();
    let port = target.port().to_string();
    match file.lookup(&host, &port, database, user) {
        Some(p) => (Some(p), format!("the password came from {shown}")),
        None => (
            None,
            format!("no login_password, and no line of {shown} matches {host}:{port}:{database}:{user}"),
        ),
    }
}
