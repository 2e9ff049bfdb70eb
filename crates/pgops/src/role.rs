//! `pg_role`: a role with its attributes, SCRAM password and memberships.
//!
//! The password never reaches the server in clear text: the SCRAM-SHA-256 verifier is
//! computed here (as psql's `\password` does) and sent as the literal of
//! `ALTER ROLE ... PASSWORD '<verifier>'`, so `log_statement = all` logs a verifier at most.
//! An unchanged password is recognised by checking the stored verifier against it, so a rerun
//! reports no change; that needs read access to `pg_authid` (a superuser login).

use crate::{apply, connect, diff_text, shown, with_queries, State};
use ansible_module::{fail, Diff, Error, Module, Response, Spec};
use pgclient::{check_name, col, quote_ident, quote_literal, Arg, Db, LoginParams, PgError, Stmt};
use serde::Deserialize;

/// How `member_of` is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Membership {
    /// Grant the listed roles; leave other memberships alone.
    #[default]
    Add,
    /// Grant the listed roles and revoke every other membership.
    Exact,
}

/// The parameters of `pg_role`.
#[derive(Debug, Clone, Deserialize)]
pub struct RoleParams {
    /// The role.
    pub name: String,
    /// Password: clear text (hashed here), a SCRAM-SHA-256 verifier or md5 hash (stored as
    /// given), or `""` to remove the password.
    pub password: Option<String>,
    /// Whether the role exists.
    #[serde(default)]
    pub state: State,
    /// LOGIN (a new role gets LOGIN when this is not given).
    pub login: Option<bool>,
    /// SUPERUSER.
    pub superuser: Option<bool>,
    /// REPLICATION.
    pub replication: Option<bool>,
    /// CREATEDB.
    pub createdb: Option<bool>,
    /// CREATEROLE.
    pub createrole: Option<bool>,
    /// INHERIT.
    pub inherit: Option<bool>,
    /// BYPASSRLS.
    pub bypassrls: Option<bool>,
    /// CONNECTION LIMIT (-1: none).
    pub conn_limit: Option<i32>,
    /// VALID UNTIL, a timestamp or `infinity`.
    pub valid_until: Option<String>,
    /// Roles this role is a member of.
    pub member_of: Option<Vec<String>>,
    /// `add` or `exact`.
    #[serde(default)]
    pub membership: Membership,
    /// Set the password only when the role is created.
    #[serde(default)]
    pub no_password_changes: bool,
}

impl Spec for RoleParams {
    const NO_LOG: &'static [&'static str] = &["password"];
    const ALIASES: &'static [(&'static str, &'static str)] = &[("user", "name"), ("expires", "valid_until")];
}

/// A role as the catalog has it.
#[derive(Debug, Clone, PartialEq)]
struct Current {
    superuser: bool,
    inherit: bool,
    createrole: bool,
    createdb: bool,
    login: bool,
    replication: bool,
    bypassrls: bool,
    conn_limit: i32,
    valid_until: Option<String>,
    member_of: Vec<String>,
    /// `None` when pg_authid could not be read; `Some(None)` for no password.
    password: Option<Option<String>>,
}

impl Current {
    fn flags(&self) -> [(&'static str, bool); 7] {
        [
            ("login", self.login),
            ("superuser", self.superuser),
            ("replication", self.replication),
            ("createdb", self.createdb),
            ("createrole", self.createrole),
            ("inherit", self.inherit),
            ("bypassrls", self.bypassrls),
        ]
    }
}

fn keyword(attr: &str, on: bool) -> String {
    let k = attr.to_ascii_uppercase();
    if on {
        k
    } else {
        format!("NO{k}")
    }
}

fn read(db: &mut Db, name: &str, with_password: bool) -> Result<Option<Current>, PgError> {
    let Some(row) = db.query_opt(
        "SELECT r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication, r.rolbypassrls, \
         r.rolconnlimit, r.rolvaliduntil::text, ARRAY(SELECT g.rolname::text FROM pg_catalog.pg_auth_members m \
         JOIN pg_catalog.pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1) \
         FROM pg_catalog.pg_roles r WHERE r.rolname = $1",
        &[Arg::from(name)],
    )?
    else {
        return Ok(None);
    };
    let get = |i: usize| -> Result<bool, PgError> { col(&row, i) };
    let password = if !with_password {
        None
    } else {
        match db.query_opt(
            "SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = $1",
            &[Arg::from(name)],
        ) {
            Ok(Some(r)) => Some(col::<Option<String>>(&r, 0)?),
            Ok(None) => Some(None),
            Err(PgError::PermissionDenied(_)) => None,
            Err(e) => return Err(e),
        }
    };
    Ok(Some(Current {
        superuser: get(0)?,
        inherit: get(1)?,
        createrole: get(2)?,
        createdb: get(3)?,
        login: get(4)?,
        replication: get(5)?,
        bypassrls: get(6)?,
        conn_limit: col(&row, 7)?,
        valid_until: col(&row, 8)?,
        member_of: col(&row, 9)?,
        password,
    }))
}

/// What to store for the password: `None` for no password, or the verifier/hash text.
fn stored_form(password: &str) -> Result<Option<String>, Error> {
    if password.is_empty() {
        return Ok(None);
    }
    if is_hashed(password) {
        return Ok(Some(password.to_string()));
    }
    let v = pgauth::scram::ScramVerifier::generate(password).map_err(|e| fail!("cannot compute the SCRAM verifier: {e}"))?;
    Ok(Some(v.to_string()))
}

/// A password given already hashed: a SCRAM-SHA-256 verifier, or `md5` + 32 hex digits.
fn is_hashed(password: &str) -> bool {
    pgauth::scram::is_verifier(password)
        || (password.len() == 35 && password.starts_with("md5") && password[3..].bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether the stored password already is what `password` asks for.
fn password_matches(stored: Option<&str>, password: &str) -> bool {
    match stored {
        None => password.is_empty(),
        Some(s) if password.is_empty() => s.is_empty(),
        Some(s) if is_hashed(password) => s == password,
        Some(s) => pgauth::scram::is_verifier(s) && pgauth::scram::verifies(password, s),
    }
}

fn password_stmt(name: &str, stored: &Option<String>) -> Stmt {
    let role = quote_ident(name);
    match stored {
        None => Stmt::new(format!("ALTER ROLE {role} PASSWORD NULL")),
        Some(v) => {
            Stmt::new(format!("ALTER ROLE {role} PASSWORD {}", quote_literal(v))).shown_as(format!("ALTER ROLE {role} PASSWORD '********'"))
        }
    }
}

fn diff_of(name: &str, c: Option<&Current>, password_note: &str) -> String {
    let Some(c) = c else {
        return String::new();
    };
    let mut fields: Vec<(&str, String)> = vec![("name", name.to_string())];
    for (k, v) in c.flags() {
        fields.push((k, v.to_string()));
    }
    fields.push(("conn_limit", c.conn_limit.to_string()));
    fields.push(("valid_until", shown(&c.valid_until)));
    fields.push(("member_of", format!("[{}]", c.member_of.join(", "))));
    fields.push(("password", password_note.to_string()));
    diff_text(&fields)
}

/// Runs `pg_role`.
pub fn run(m: &mut Module, (login, p): (LoginParams, RoleParams)) -> Result<Response, Error> {
    check_name("role", &p.name)?;
    for g in p.member_of.iter().flatten() {
        check_name("role", g)?;
    }
    if p.conn_limit.is_some_and(|n| n < -1) {
        return Err(fail!("conn_limit must be -1 (no limit) or more, got {}", p.conn_limit.unwrap_or(0)));
    }
    let mut db = connect(m, &login, None)?;
    let result = plan_and_apply(m, &mut db, &p);
    with_queries(&mut db, result)
}

fn plan_and_apply(m: &mut Module, db: &mut Db, p: &RoleParams) -> Result<Response, Error> {
    let current = read(db, &p.name, p.password.is_some() && !p.no_password_changes)?;
    let role = quote_ident(&p.name);
    let mut plan = Vec::new();
    let mut after = current.clone();
    let mut password_note_before = "unchanged";
    let mut password_note_after = "unchanged";

    match (p.state, &current) {
        (State::Absent, None) => {}
        (State::Absent, Some(_)) => {
            plan.push(Stmt::new(format!("DROP ROLE {role}")));
            after = None;
        }
        (State::Present, None) => {
            let mut attrs = Vec::new();
            let wanted = [
                ("login", Some(p.login.unwrap_or(true))),
                ("superuser", p.superuser),
                ("replication", p.replication),
                ("createdb", p.createdb),
                ("createrole", p.createrole),
                ("inherit", p.inherit),
                ("bypassrls", p.bypassrls),
            ];
            for (k, v) in wanted {
                if let Some(v) = v {
                    attrs.push(keyword(k, v));
                }
            }
            if let Some(n) = p.conn_limit {
                attrs.push(format!("CONNECTION LIMIT {n}"));
            }
            if let Some(v) = &p.valid_until {
                attrs.push(format!("VALID UNTIL {}", quote_literal(v)));
            }
            plan.push(Stmt::new(format!("CREATE ROLE {role} WITH {}", attrs.join(" "))));
            if let Some(pw) = &p.password {
                plan.push(password_stmt(&p.name, &stored_form(pw)?));
                password_note_after = if pw.is_empty() { "none" } else { "set" };
            }
            password_note_before = "";
            let groups = p.member_of.clone().unwrap_or_default();
            check_groups(m, db, &groups)?;
            for g in &groups {
                plan.push(Stmt::new(format!("GRANT {} TO {role}", quote_ident(g))));
            }
            let defaults = Current {
                superuser: p.superuser.unwrap_or(false),
                inherit: p.inherit.unwrap_or(true),
                createrole: p.createrole.unwrap_or(false),
                createdb: p.createdb.unwrap_or(false),
                login: p.login.unwrap_or(true),
                replication: p.replication.unwrap_or(false),
                bypassrls: p.bypassrls.unwrap_or(false),
                conn_limit: p.conn_limit.unwrap_or(-1),
                valid_until: p.valid_until.clone(),
                member_of: groups,
                password: None,
            };
            after = Some(defaults);
        }
        (State::Present, Some(cur)) => {
            let mut next = cur.clone();
            let mut attrs = Vec::new();
            let wanted = [
                ("login", p.login, cur.login),
                ("superuser", p.superuser, cur.superuser),
                ("replication", p.replication, cur.replication),
                ("createdb", p.createdb, cur.createdb),
                ("createrole", p.createrole, cur.createrole),
                ("inherit", p.inherit, cur.inherit),
                ("bypassrls", p.bypassrls, cur.bypassrls),
            ];
            for (k, want, have) in wanted {
                if let Some(w) = want.filter(|w| *w != have) {
                    attrs.push(keyword(k, w));
                }
            }
            next.login = p.login.unwrap_or(cur.login);
            next.superuser = p.superuser.unwrap_or(cur.superuser);
            next.replication = p.replication.unwrap_or(cur.replication);
            next.createdb = p.createdb.unwrap_or(cur.createdb);
            next.createrole = p.createrole.unwrap_or(cur.createrole);
            next.inherit = p.inherit.unwrap_or(cur.inherit);
            next.bypassrls = p.bypassrls.unwrap_or(cur.bypassrls);
            if let Some(n) = p.conn_limit.filter(|n| *n != cur.conn_limit) {
                attrs.push(format!("CONNECTION LIMIT {n}"));
                next.conn_limit = n;
            }
            if let Some(v) = &p.valid_until {
                if !same_time(db, v, &cur.valid_until)? {
                    attrs.push(format!("VALID UNTIL {}", quote_literal(v)));
                    next.valid_until = Some(v.clone());
                }
            }
            if !attrs.is_empty() {
                plan.push(Stmt::new(format!("ALTER ROLE {role} WITH {}", attrs.join(" "))));
            }
            if let Some(pw) = p.password.as_ref().filter(|_| !p.no_password_changes) {
                match &cur.password {
                    Some(stored) if password_matches(stored.as_deref(), pw) => {}
                    stored => {
                        if stored.is_none() {
                            m.warn(format!(
                                "cannot read pg_authid as {} (it needs a superuser), so the password of {} is set on every run",
                                db.user(),
                                p.name
                            ));
                        }
                        plan.push(password_stmt(&p.name, &stored_form(pw)?));
                        password_note_before = "old";
                        password_note_after = if pw.is_empty() { "none" } else { "new" };
                    }
                }
            }
            if let Some(groups) = &p.member_of {
                check_groups(m, db, groups)?;
                if p.membership == Membership::Exact {
                    for g in cur.member_of.iter().filter(|g| !groups.contains(g)) {
                        plan.push(Stmt::new(format!("REVOKE {} FROM {role}", quote_ident(g))));
                    }
                    next.member_of.retain(|g| groups.contains(g));
                }
                for g in groups.iter().filter(|g| !cur.member_of.contains(g)) {
                    plan.push(Stmt::new(format!("GRANT {} TO {role}", quote_ident(g))));
                    next.member_of.push(g.clone());
                }
                next.member_of.sort();
                next.member_of.dedup();
            }
            after = Some(next);
        }
    }

    let changed = apply(m, db, &plan, true)?;
    let mut resp = Response::new(changed)
        .msg(summary(p, &current, changed, m.check_mode))
        .with("role", &p.name)
        .with("state", if after.is_some() { "present" } else { "absent" });
    if m.diff && changed {
        resp.diff(Diff {
            before: diff_of(&p.name, current.as_ref(), password_note_before),
            after: diff_of(&p.name, after.as_ref(), password_note_after),
            before_header: Some(format!("role {}", p.name)),
            after_header: Some(format!("role {}", p.name)),
        });
    }
    Ok(resp)
}

fn summary(p: &RoleParams, current: &Option<Current>, changed: bool, check: bool) -> String {
    let verb = |done: &str, would: &str| if check { would.to_string() } else { done.to_string() };
    match (changed, p.state, current) {
        (false, _, _) => format!("role {} is as wanted", p.name),
        (true, State::Absent, _) => format!("role {} {}", p.name, verb("dropped", "would be dropped")),
        (true, State::Present, None) => format!("role {} {}", p.name, verb("created", "would be created")),
        (true, State::Present, Some(_)) => format!("role {} {}", p.name, verb("updated", "would be updated")),
    }
}

/// Fails (or warns in check mode, where an earlier task may have been skipped) when a role of
/// `member_of` does not exist.
fn check_groups(m: &mut Module, db: &mut Db, groups: &[String]) -> Result<(), Error> {
    if groups.is_empty() {
        return Ok(());
    }
    let mut missing = Vec::new();
    for g in groups {
        if db
            .query_opt("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1", &[Arg::from(g)])?
            .is_none()
        {
            missing.push(g.clone());
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let text = format!("member_of names roles that do not exist: {}", missing.join(", "));
    if m.check_mode {
        m.warn(text);
        Ok(())
    } else {
        Err(Error::new(text))
    }
}

/// Whether `wanted` (a VALID UNTIL value) is the timestamp already stored, as the server reads it.
fn same_time(db: &mut Db, wanted: &str, stored: &Option<String>) -> Result<bool, PgError> {
    let Some(stored) = stored else {
        return Ok(false);
    };
    if stored == "infinity" {
        return Ok(wanted.trim().eq_ignore_ascii_case("infinity"));
    }
    db.query_value(
        "SELECT $1::text::timestamptz = $2::text::timestamptz",
        &[Arg::from(wanted), Arg::from(stored.as_str())],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_passwords_are_recognised() {
        assert!(is_hashed("md5aa7bb6fc2700e717ae61ec5c1567469c"));
        assert!(!is_hashed("md5-not-a-hash"));
        let v = pgauth::scram::ScramVerifier::generate("pw").unwrap().to_string();
        assert!(is_hashed(&v));
        assert!(password_matches(Some(&v), "pw"));
        assert!(!password_matches(Some(&v), "other"));
        assert!(password_matches(Some(&v), &v));
        assert!(password_matches(None, ""));
        assert!(!password_matches(None, "pw"));
        assert!(
            !password_matches(Some("md5aa7bb6fc2700e717ae61ec5c1567469c"), "pw"),
            "md5 is upgraded to SCRAM"
        );
    }

    #[test]
    fn password_statement_hides_the_verifier() {
        let s = password_stmt("a\"b", &Some("SCRAM-SHA-256$4096:abc$def:ghi".into()));
        assert_eq!(s.sql(), "ALTER ROLE \"a\"\"b\" PASSWORD 'SCRAM-SHA-256$4096:abc$def:ghi'");
        assert_eq!(s.display(), "ALTER ROLE \"a\"\"b\" PASSWORD '********'");
    }
}
