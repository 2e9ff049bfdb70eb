//! pgpass: entries in libpq's `.pgpass` or Pgpool-II's `.pcppass` password file.

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

#[derive(Deserialize)]
struct Params {
    entries: Vec<EntryParams>,
    #[serde(default)]
    format: FileFormat,
    #[serde(default)]
    state: State,
}

impl Spec for Params {
    const NO_LOG: &'static [&'static str] = &["password"];
}

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

fn run(m: &mut Module, (file, p): (FileParams, Params)) -> Result<Response, Error> {
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

    let f = ManagedFile::open(&file, FileDefaults { create: true, mode: 0o600 })?;
    let mut pass = PassFile::parse(f.content(), format);
    if let Some(issue) = pass.issues().first() {
        return Err(fail!(
            "{}: line {}: {} (not a valid {name} line; fix or remove it first; the file was not changed)",
            file.path.display(),
            issue.line,
            issue.error
        ));
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

    let mut resp = Response::new(false);
    let text = pass.to_string();
    resp.changed = f.save_masked(m, &text, &mut resp, |t| mask_passwords(t, format))?;

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

fn main() {
    ansible_module::main("pgpass", run)
}
