//! Oracle test: libpq (psql with `PGPASSFILE`) picks from a `.pgpass` exactly the password
//! `PassFile::lookup` predicts, before and after edits by this crate.
//!
//! Needs root and the PostgreSQL 15 server; fails without them.

#[path = "hba_support/mod.rs"]
mod hba_support;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use hba_support::start;
use pgconf::pgpass::{Change, PassEntry, PassFile, PassFormat};
use pgtest::bindir;

/// The server's port, set once it runs.
static PORT: OnceLock<u16> = OnceLock::new();

/// Whether psql logs in with the password libpq takes from `pgpass`.
fn login(pgpass: &Path, host: &str, db: &str, user: &str) -> bool {
    let out = Command::new(bindir().join("psql"))
        .args([
            "-h",
            host,
            "-p",
            &PORT.get().expect("the server runs").to_string(),
            "-d",
            db,
            "-U",
            user,
            "-XAtqw",
            "-c",
            "select 1",
        ])
        .env("PGPASSFILE", pgpass)
        .env_remove("PGPASSWORD")
        .output()
        .expect("run psql");
    out.status.success()
}

fn write_pgpass(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write pgpass");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
}

#[test]
fn libpq_reads_pgpass_as_we_do() {
    let cluster = start("local all postgres peer\nlocal all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n");
    PORT.set(cluster.port()).expect("one server");
    let passwords = [("r1", "right:pw\\x"), ("r2", "r2 pass"), ("r3", "#not a comment")];
    for (role, pw) in passwords {
        cluster.sql(&format!("CREATE ROLE {role} LOGIN PASSWORD '{}'", pw.replace('\'', "''")));
    }
    cluster.sql("CREATE DATABASE db1");
    let socket = cluster.root().display().to_string();
    let port = cluster.port().to_string();
    let text = format!(
        "# comment line\r\n\
         127.0.0.1:{port}:db1:r1:wrong\\:one\r\n\
         127.0.0.1:{port}:*:r1:right\\:pw\\\\x\r\n\
         \r\n\
         {socket}:{port}:*:r1:socket-wrong\r\n\
         *:*:postgres:r2:r2 pass\r\n\
         *:*:*:r2:r2 wrong\r\n\
         *:{port}:*:r3:#not a comment:ignored field\r\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pgpass");
    let mut file = PassFile::parse(&text, PassFormat::PgPass);
    assert_eq!(file.to_string(), text);
    assert!(file.issues().is_empty());

    let hosts = ["127.0.0.1", socket.as_str()];
    let queries: Vec<(&str, &str, &str)> = hosts
        .iter()
        .flat_map(|h| {
            ["postgres", "db1"]
                .into_iter()
                .flat_map(move |db| ["r1", "r2", "r3"].into_iter().map(move |u| (*h, db, u)))
        })
        .collect();
    let check = |file: &PassFile, stage: &str| {
        write_pgpass(&path, &file.to_string());
        let mut successes = 0;
        for (host, db, user) in &queries {
            let real = passwords.iter().find(|(r, _)| r == user).map(|(_, p)| p.to_string());
            let predicted = file.lookup(host, &port, db, user);
            let ok = login(&path, host, db, user);
            assert_eq!(
                ok,
                predicted == real,
                "{stage}: host {host} db {db} user {user}: libpq login {ok}, we predict {predicted:?}\n{file}"
            );
            successes += usize::from(ok);
        }
        successes
    };
    let before = check(&file, "as written");
    assert!(
        before > 0 && before < queries.len(),
        "the file should let some logins in and not others"
    );

    // Fix the wrong entries with the editor; libpq must follow.
    for (host, db, user, pw) in [
        ("127.0.0.1", "db1", "r1", "right:pw\\x"),
        (socket.as_str(), "*", "r1", "right:pw\\x"),
        ("*", "*", "r2", "r2 pass"),
    ] {
        let change = file.upsert(&PassEntry::pgpass(host, &port, db, user, pw)).unwrap();
        assert!(change.is_changed());
    }
    // r2 for db1 now comes from a new line placed before the '*:*:*:r2' wildcard.
    assert_eq!(check(&file, "after upserts"), queries.len());
    let removed = file.remove(&PassEntry::pgpass("*", &port, "*", "r3", ""));
    assert!(matches!(&removed, Change::Removed { lines } if lines.len() == 1), "{removed:?}");
    let after = check(&file, "after removing r3");
    assert_eq!(after, queries.len() - 4);
}
