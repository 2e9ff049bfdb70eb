//! `pg_database`: a database with its owner, encoding and locale.
//!
//! Encoding and locale are fixed when a database is created: a database that exists with
//! other values is reported as an error (drop and re-create it), never silently accepted.

use crate::{apply, connect, diff_text, with_queries, State};
use ansible_module::{fail, Diff, Error, Module, Response, Spec};
use pgclient::{check_name, col, quote_ident, quote_literal, Arg, Db, LoginParams, PgError, Stmt};
use serde::Deserialize;

/// The parameters of `pg_database`.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseParams {
    /// The database.
    pub name: String,
    /// Owner role (default: the login user, at creation).
    pub owner: Option<String>,
    /// Encoding at creation (`UTF8`).
    pub encoding: Option<String>,
    /// LC_COLLATE at creation.
    pub lc_collate: Option<String>,
    /// LC_CTYPE at creation.
    pub lc_ctype: Option<String>,
    /// Template to copy at creation (`template0` to pick another encoding or locale).
    pub template: Option<String>,
    /// Whether the database exists.
    #[serde(default)]
    pub state: State,
    /// With `state: absent`, drop it even with sessions connected (`WITH (FORCE)`).
    #[serde(default)]
    pub force: bool,
}

impl Spec for DatabaseParams {
    const ALIASES: &'static [(&'static str, &'static str)] = &[("db", "name")];
}

#[derive(Debug, Clone, PartialEq)]
struct Current {
    owner: String,
    encoding: String,
    collate: String,
    ctype: String,
}

fn read(db: &mut Db, name: &str) -> Result<Option<Current>, PgError> {
    let Some(row) = db.query_opt(
        "SELECT pg_catalog.pg_get_userbyid(datdba)::text, pg_catalog.pg_encoding_to_char(encoding)::text, datcollate::text, datctype::text \
         FROM pg_catalog.pg_database WHERE datname = $1",
        &[Arg::from(name)],
    )?
    else {
        return Ok(None);
    };
    Ok(Some(Current {
        owner: col(&row, 0)?,
        encoding: col(&row, 1)?,
        collate: col(&row, 2)?,
        ctype: col(&row, 3)?,
    }))
}

fn diff_of(name: &str, c: Option<&Current>) -> String {
    match c {
        None => String::new(),
        Some(c) => diff_text(&[
            ("name", name.to_string()),
            ("owner", c.owner.clone()),
            ("encoding", c.encoding.clone()),
            ("lc_collate", c.collate.clone()),
            ("lc_ctype", c.ctype.clone()),
        ]),
    }
}

/// Runs `pg_database`.
pub fn run(m: &mut Module, (login, p): (LoginParams, DatabaseParams)) -> Result<Response, Error> {
    check_name("database", &p.name)?;
    if let Some(o) = &p.owner {
        check_name("owner role", o)?;
    }
    if let Some(t) = &p.template {
        check_name("template database", t)?;
    }
    let mut db = connect(m, &login, None)?;
    let result = plan_and_apply(m, &mut db, &p);
    with_queries(&mut db, result)
}

fn plan_and_apply(m: &mut Module, db: &mut Db, p: &DatabaseParams) -> Result<Response, Error> {
    let current = read(db, &p.name)?;
    let name = quote_ident(&p.name);
    let mut plan = Vec::new();
    let mut after = current.clone();
    match (p.state, &current) {
        (State::Absent, None) => {}
        (State::Absent, Some(_)) => {
            if p.name == db.database() {
                return Err(fail!(
                    "cannot drop {} while connected to it: set login_db to another database",
                    p.name
                ));
            }
            let force = if p.force { " WITH (FORCE)" } else { "" };
            plan.push(Stmt::new(format!("DROP DATABASE {name}{force}")));
            after = None;
        }
        (State::Present, None) => {
            let mut sql = format!("CREATE DATABASE {name}");
            if let Some(o) = &p.owner {
                sql.push_str(&format!(" OWNER {}", quote_ident(o)));
            }
            if let Some(t) = &p.template {
                sql.push_str(&format!(" TEMPLATE {}", quote_ident(t)));
            }
            if let Some(e) = &p.encoding {
                sql.push_str(&format!(" ENCODING {}", quote_literal(e)));
            }
            if let Some(c) = &p.lc_collate {
                sql.push_str(&format!(" LC_COLLATE {}", quote_literal(c)));
            }
            if let Some(c) = &p.lc_ctype {
                sql.push_str(&format!(" LC_CTYPE {}", quote_literal(c)));
            }
            plan.push(Stmt::new(sql));
            after = Some(Current {
                owner: p.owner.clone().unwrap_or_else(|| db.user().to_string()),
                encoding: p.encoding.clone().unwrap_or_else(|| "(as the template)".into()),
                collate: p.lc_collate.clone().unwrap_or_else(|| "(as the template)".into()),
                ctype: p.lc_ctype.clone().unwrap_or_else(|| "(as the template)".into()),
            });
        }
        (State::Present, Some(cur)) => {
            if let Some(e) = &p.encoding {
                let same: bool = db.query_value(
                    "SELECT pg_catalog.pg_char_to_encoding($1) = pg_catalog.pg_char_to_encoding($2)",
                    &[Arg::from(e.as_str()), Arg::from(cur.encoding.as_str())],
                )?;
                if !same {
                    return Err(fail!(
                        "database {} exists with encoding {}, not {e}; the encoding of a database cannot change (drop and re-create it)",
                        p.name,
                        cur.encoding
                    ));
                }
            }
            for (what, want, have) in [("lc_collate", &p.lc_collate, &cur.collate), ("lc_ctype", &p.lc_ctype, &cur.ctype)] {
                if let Some(w) = want.as_ref().filter(|w| *w != have) {
                    return Err(fail!(
                        "database {} exists with {what} {have}, not {w}; the locale of a database cannot change (drop and re-create it)",
                        p.name
                    ));
                }
            }
            if let Some(o) = p.owner.as_ref().filter(|o| **o != cur.owner) {
                plan.push(Stmt::new(format!("ALTER DATABASE {name} OWNER TO {}", quote_ident(o))));
                after = Some(Current {
                    owner: o.clone(),
                    ..cur.clone()
                });
            }
        }
    }
    let changed = apply(m, db, &plan, false)?;
    let verb = match (&current, p.state) {
        (_, _) if !changed => "is as wanted",
        (None, State::Present) if m.check_mode => "would be created",
        (None, State::Present) => "created",
        (_, State::Absent) if m.check_mode => "would be dropped",
        (_, State::Absent) => "dropped",
        (Some(_), State::Present) if m.check_mode => "would be updated",
        (Some(_), State::Present) => "updated",
    };
    let mut resp = Response::new(changed)
        .msg(format!("database {} {verb}", p.name))
        .with("database", &p.name)
        .with("state", if after.is_some() { "present" } else { "absent" });
    if let Some(a) = &after {
        resp.set("owner", &a.owner);
    }
    if m.diff && changed {
        resp.diff(Diff {
            before: diff_of(&p.name, current.as_ref()),
            after: diff_of(&p.name, after.as_ref()),
            before_header: Some(format!("database {}", p.name)),
            after_header: Some(format!("database {}", p.name)),
        });
    }
    Ok(resp)
}
