//! `pgpass`: entries in libpq's `.pgpass` or Pgpool-II's `.pcppass` password file (see
//! collection/plugins/modules/pgpass.yml).

use crate::file_module::{refuse_line, save};
use ansible_module::file::FileDefaults;
use ansible_module::{fail, Error, FileParams, ManagedFile, Module, Response, Spec, State};
use pgconf::pgpass::{mask_passwords, PassEntry, PassFile, PassFormat};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize, Default, Clone, Copy, PartialEq)]
#[serde(rename_all = "snake_case")]
enum FileFormat {
    #[default]
    Pgpass,
    Pcppass,
}

/// One entry as a task writes it. `*` is the wildcard.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct EntryParams {
    #[serde(default = "wildcard")]
    host: String,
    #[serde(default = "wildcard")]
    port: String,
    database: Option<String>,
    #[serde(alias = "user")]
    username: String,
    password: Option<String>,
}

fn wildcard() -> String {
    "*".into()
}

/// The module's own parameters (the file's are [`FileParams`]).
#[derive(Deserialize)]
pub struct Params {
    entries: Vec<EntryParams>,
    #[serde(default)]
    format: FileFormat,
    #[serde(default)]
    state: State,
}

impl Spec for Params {
    const NO_LOG: &'static [&'static str] = &["password"];
}

const DEFAULTS: FileDefaults = FileDefaults { create: true, mode: 0o600 };

fn entry(e: &EntryParams, format: FileFormat, state: State) -> Result<PassEntry, Error> {
    let password = match (&e.password, state) {
        (Some(p), _) => p.clone(),
        (None, State::Absent) => String::new(),
        (None, State::Present) => return Err(fail!("missing required arguments: password")),
    };
    if state == State::Present && password.is_empty() {
        return Err(fail!("password must not be empty"));
    }
    for (name, v) in [("host", &e.host), ("port", &e.port), ("username", &e.username)] {
        if v.is_empty() {
            return Err(fail!("{name} must not be empty (use '*' for any)"));
        }
    }
    match format {
        FileFormat::Pgpass => {
            let db = e.database.clone().unwrap_or_else(wildcard);
            if db.is_empty() {
                return Err(fail!("database must not be empty (use '*' for any)"));
            }
            Ok(PassEntry::pgpass(&e.host, &e.port, &db, &e.username, &password))
        }
        FileFormat::Pcppass => {
            if e.database.is_some() {
                return Err(fail!("a .pcppass entry has no database; remove database or use format: pgpass"));
            }
            Ok(PassEntry::pcppass(&e.host, &e.port, &e.username, &password))
        }
    }
}

fn describe(line: usize, e: &PassEntry) -> Value {
    let mut v = json!({
        "line": line,
        "host": e.host,
        "port": e.port,
        "username": e.user,
    });
    if let Some(db) = &e.database {
        v["database"] = Value::from(db.clone());
    }
    v
}

/// Runs the module.
pub fn run(m: &mut Module, (file, p): (FileParams, Params)) -> Result<Response, Error> {
    let (format, name) = match p.format {
        FileFormat::Pgpass => (PassFormat::PgPass, ".pgpass"),
        FileFormat::Pcppass => (PassFormat::PcpPass, ".pcppass"),
    };
    // Every entry is checked before the file is touched.
    let wanted: Vec<PassEntry> = p
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| entry(e, p.format, p.state).map_err(|err| fail!("entries[{i}]: {}", err.msg)))
        .collect::<Result<_, _>>()?;

    let f = ManagedFile::open(&file, DEFAULTS)?;
    let mut pass = PassFile::parse(f.content(), format);
    if let Some(issue) = pass.issues().first() {
        return Err(refuse_line(&file.path, issue.line, &issue.error, name));
    }
    for (i, e) in wanted.iter().enumerate() {
        match p.state {
            State::Present => {
                let _ = pass.upsert(e).map_err(|err| fail!("entries[{i}]: {err}"))?;
            }
            State::Absent => {
                let _ = pass.remove(e);
            }
        }
    }

    let mut resp = save(m, &f, &pass.to_string(), |t| mask_passwords(t, format))?;

    // libpq ignores a .pgpass that group or others can read.
    let mode = f.mode();
    if mode & 0o077 != 0 {
        let who = match p.format {
            FileFormat::Pgpass => "libpq ignores it",
            FileFormat::Pcppass => "keep it private",
        };
        m.warn(format!(
            "{} has mode {mode:04o}: it is readable or writable by group or others; {who} (use mode: '0600')",
            file.path.display()
        ));
    }
    resp.set("entries", pass.entries().map(|(n, e)| describe(n, e)).collect::<Vec<_>>());
    resp.msg = Some(if resp.changed {
        format!("{name} entries changed")
    } else {
        format!("{name} entries already as asked")
    });
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{call, file_with};
    use serde_json::json;

    #[test]
    fn entries_are_checked_before_the_file() {
        let e = entry(
            &serde_json::from_value(json!({"username": "u"})).unwrap(),
            FileFormat::Pgpass,
            State::Present,
        )
        .unwrap_err();
        assert_eq!(e.msg, "missing required arguments: password");
        let e = entry(
            &serde_json::from_value(json!({"username": "u", "password": "p", "database": "d"})).unwrap(),
            FileFormat::Pcppass,
            State::Present,
        )
        .unwrap_err();
        assert!(e.msg.starts_with("a .pcppass entry has no database"), "{}", e.msg);
        assert!(entry(
            &serde_json::from_value(json!({"username": "", "password": "p"})).unwrap(),
            FileFormat::Pgpass,
            State::Present
        )
        .is_err());
    }

    #[test]
    fn writes_and_masks_the_diff() {
        let (_d, path) = file_with("# x\n");
        let args = json!({"path": path, "mode": "0644", "entries": [{"host": "db1", "username": "u", "password": "s3:cret"}]});
        let r = call(run, &args, true).unwrap();
        assert_eq!(r.diffs[0].after, "# x\ndb1:*:*:u:********\n");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# x\ndb1:*:*:u:s3\\:cret\n");
        assert_eq!(
            r.extra["entries"],
            json!([{"line": 2, "host": "db1", "port": "*", "database": "*", "username": "u"}])
        );
        assert_eq!(r.msg.as_deref(), Some(".pgpass entries changed"));
    }

    #[test]
    fn a_bad_line_is_refused() {
        let (_d, path) = file_with("a:b\n");
        let e = call(run, &json!({"path": path, "entries": [{"username": "u", "password": "p"}]}), false).unwrap_err();
        assert!(
            e.msg
                .ends_with("(not a valid .pgpass line; fix or remove it first; the file was not changed)"),
            "{}",
            e.msg
        );
    }
}
