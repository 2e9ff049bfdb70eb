//! `pg_extension`: an extension in a database, at a version, in a schema.

use crate::{apply, connect, with_queries, State};
use ansible_module::{fail, Diff, Error, Module, Response, Spec};
use pgclient::{check_name, col, quote_ident, quote_literal, Arg, Db, LoginParams, PgError, Stmt};
use serde::Deserialize;

/// The parameters of `pg_extension`.
#[derive(Debug, Clone, Deserialize)]
pub struct ExtensionParams {
    /// The extension.
    pub name: String,
    /// Database to work in (default: `login_db`, or `postgres`).
    pub db: Option<String>,
    /// Schema to create it in, or move it to (relocatable extensions only).
    pub schema: Option<String>,
    /// Version to create or update to; `latest` for the default version the server offers.
    pub version: Option<String>,
    /// CASCADE: create the extensions it needs, or drop the objects that depend on it.
    #[serde(default)]
    pub cascade: bool,
    /// Whether it is installed.
    #[serde(default)]
    pub state: State,
}

impl Spec for ExtensionParams {
    const ALIASES: &'static [(&'static str, &'static str)] = &[("ext", "name")];
}

#[derive(Debug, Clone, PartialEq)]
struct Installed {
    version: String,
    schema: String,
    relocatable: bool,
}

fn read(db: &mut Db, name: &str) -> Result<Option<Installed>, PgError> {
    let row = db.query_opt(
        "SELECT e.extversion::text, n.nspname::text, e.extrelocatable FROM pg_catalog.pg_extension e \
         JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1",
        &[Arg::from(name)],
    )?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(Installed {
        version: col(&row, 0)?,
        schema: col(&row, 1)?,
        relocatable: col(&row, 2)?,
    }))
}

fn text(s: &str) -> String {
    s.to_string()
}

/// Runs `pg_extension`.
pub fn run(m: &mut Module, (login, p): (LoginParams, ExtensionParams)) -> Result<Response, Error> {
    check_name("extension", &p.name)?;
    if let Some(s) = &p.schema {
        check_name("schema", s)?;
    }
    let mut db = connect(m, &login, p.db.as_deref())?;
    let result = plan_and_apply(m, &mut db, &p);
    with_queries(&mut db, result)
}

fn plan_and_apply(m: &mut Module, db: &mut Db, p: &ExtensionParams) -> Result<Response, Error> {
    let current = read(db, &p.name)?;
    let ext = quote_ident(&p.name);
    let cascade = if p.cascade { " CASCADE" } else { "" };
    let mut plan = Vec::new();
    let mut after: Option<(String, String)> = current.as_ref().map(|c| (c.version.clone(), c.schema.clone()));
    match (p.state, &current) {
        (State::Absent, None) => {}
        (State::Absent, Some(_)) => {
            plan.push(Stmt::new(format!("DROP EXTENSION {ext}{cascade}")));
            after = None;
        }
        (State::Present, None) => {
            let default_version: Option<String> = db
                .query_opt(
                    "SELECT default_version::text FROM pg_catalog.pg_available_extensions WHERE name = $1",
                    &[Arg::from(p.name.as_str())],
                )?
                .and_then(|r| r.try_get(0).ok());
            let Some(default_version) = default_version else {
                return Err(fail!(
                    "extension {} is not available on the server at {} (install the package that provides it)",
                    p.name,
                    db.target()
                ));
            };
            let version = match p.version.as_deref() {
                None | Some("latest") => None,
                Some(v) => Some(v.to_string()),
            };
            if let Some(v) = &version {
                let versions = available_versions(db, &p.name)?;
                if !versions.contains(v) {
                    return Err(fail!(
                        "extension {} has no version {v} on this server; available: {}",
                        p.name,
                        versions.join(", ")
                    ));
                }
            }
            let mut sql = format!("CREATE EXTENSION {ext}");
            if let Some(s) = &p.schema {
                sql.push_str(&format!(" SCHEMA {}", quote_ident(s)));
            }
            if let Some(v) = &version {
                sql.push_str(&format!(" VERSION {}", quote_literal(v)));
            }
            sql.push_str(cascade);
            plan.push(Stmt::new(sql));
            after = Some((
                version.unwrap_or(default_version),
                p.schema.clone().unwrap_or_else(|| text("(default)")),
            ));
        }
        (State::Present, Some(cur)) => {
            let target = match p.version.as_deref() {
                None => None,
                Some("latest") => db
                    .query_opt(
                        "SELECT default_version::text FROM pg_catalog.pg_available_extensions WHERE name = $1",
                        &[Arg::from(p.name.as_str())],
                    )?
                    .and_then(|r| r.try_get::<_, String>(0).ok()),
                Some(v) => Some(v.to_string()),
            };
            if let Some(v) = target.filter(|v| *v != cur.version) {
                let path: Option<String> = db
                    .query_opt(
                        "SELECT path FROM pg_catalog.pg_extension_update_paths($1) WHERE source = $2 AND target = $3",
                        &[Arg::from(p.name.as_str()), Arg::from(cur.version.as_str()), Arg::from(v.as_str())],
                    )?
                    .and_then(|r| r.try_get(0).ok());
                if path.is_none() {
                    return Err(fail!(
                        "extension {} cannot go from version {} to {v}: the server has no update path (available: {})",
                        p.name,
                        cur.version,
                        available_versions(db, &p.name)?.join(", ")
                    ));
                }
                plan.push(Stmt::new(format!("ALTER EXTENSION {ext} UPDATE TO {}", quote_literal(&v))));
                after = Some((v, cur.schema.clone()));
            }
            if let Some(s) = p.schema.as_ref().filter(|s| **s != cur.schema) {
                if !cur.relocatable {
                    return Err(fail!(
                        "extension {} is in schema {} and is not relocatable; drop it (state: absent) to create it in {s}",
                        p.name,
                        cur.schema
                    ));
                }
                plan.push(Stmt::new(format!("ALTER EXTENSION {ext} SET SCHEMA {}", quote_ident(s))));
                if let Some(a) = after.as_mut() {
                    a.1 = s.clone();
                }
            }
        }
    }
    let changed = apply(m, db, &plan, true)?;
    let verb = if !changed {
        "is as wanted"
    } else {
        match (p.state, &current, m.check_mode) {
            (State::Absent, _, false) => "dropped",
            (State::Absent, _, true) => "would be dropped",
            (State::Present, None, false) => "created",
            (State::Present, None, true) => "would be created",
            (State::Present, Some(_), false) => "updated",
            (State::Present, Some(_), true) => "would be updated",
        }
    };
    let mut resp = Response::new(changed)
        .msg(format!("extension {} in database {} {verb}", p.name, db.database()))
        .with("extension", &p.name)
        .with("db", db.database())
        .with("state", if after.is_some() { "present" } else { "absent" })
        .with("prev_version", current.as_ref().map(|c| c.version.clone()));
    resp.set("version", after.as_ref().map(|a| a.0.clone()));
    if m.diff && changed {
        let show = |v: &Option<(String, String)>| match v {
            None => String::new(),
            Some((ver, schema)) => format!("name: {}\nversion: {ver}\nschema: {schema}\n", p.name),
        };
        resp.diff(Diff {
            before: show(&current.as_ref().map(|c| (c.version.clone(), c.schema.clone()))),
            after: show(&after),
            before_header: Some(format!("extension {} in {}", p.name, db.database())),
            after_header: Some(format!("extension {} in {}", p.name, db.database())),
        });
    }
    Ok(resp)
}

fn available_versions(db: &mut Db, name: &str) -> Result<Vec<String>, PgError> {
    Ok(db
        .query(
            "SELECT version::text FROM pg_catalog.pg_available_extension_versions WHERE name = $1 ORDER BY 1",
            &[Arg::from(name)],
        )?
        .iter()
        .filter_map(|r| r.try_get(0).ok())
        .collect())
}
