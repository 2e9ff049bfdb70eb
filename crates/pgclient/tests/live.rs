//! pgclient against a real throwaway PostgreSQL server: sockets and TCP, passwords from the
//! parameters and from a .pgpass file, the error kinds, recorded statements, quoting, and
//! all-or-nothing plans.
//!
//! Needs root (the server runs as the postgres user) and the PostgreSQL server binaries
//! (`/usr/lib/postgresql/<v>/bin`); without them the test says so and passes.

use pgclient::{quote_ident, Arg, Db, LoginParams, PgError, Stmt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Server {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl Server {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    fn sock(&self) -> String {
        self.dir.path().join("sock").display().to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", &self.data().display().to_string(), "-m", "immediate", "-w", "stop"],
        );
    }
}

fn as_postgres(program: &Path, args: &[&str]) -> std::process::Output {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(program)
        .args(args)
        .output()
        .expect("runuser")
}

fn bindir() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").exists())
        .collect();
    found.sort();
    found.pop()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start() -> Option<Server> {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: needs root to run a server as postgres");
        return None;
    }
    let Some(bin) = bindir() else {
        eprintln!("skipped: no PostgreSQL server binaries");
        return None;
    };
    let dir = tempfile::Builder::new().prefix("pgclient-live-").tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir(dir.path().join("sock")).unwrap();
    let chown = |p: &Path| Command::new("chown").args(["postgres:postgres"]).arg(p).status().unwrap();
    chown(dir.path());
    chown(&dir.path().join("sock"));
    let srv = Server {
        dir,
        bin,
        port: free_port(),
    };
    let data = srv.data().display().to_string();
    let out = as_postgres(
        &srv.bin.join("initdb"),
        &[
            "-D",
            &data,
            "-A",
            "trust",
            "--auth-host=scram-sha-256",
            "-U",
            "postgres",
            "--no-sync",
        ],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let conf = format!(
        "port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\n",
        srv.port,
        srv.sock()
    );
    std::fs::write(srv.data().join("postgresql.auto.conf"), conf).unwrap();
    let log = srv.dir.path().join("log").display().to_string();
    let out = as_postgres(&srv.bin.join("pg_ctl"), &["-D", &data, "-l", &log, "-w", "start"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    Some(srv)
}

fn tcp(port: u16, user: &str, password: Option<&str>) -> LoginParams {
    LoginParams {
        login_host: Some("127.0.0.1".into()),
        login_port: port,
        login_user: user.into(),
        login_password: password.map(str::to_string),
        connect_timeout: 5,
        ..Default::default()
    }
}

#[test]
fn against_a_real_server() {
    let Some(srv) = start() else { return };
    let sock = LoginParams::socket(srv.sock(), srv.port, "postgres");

    // Socket, recorded statements with bound values, hostile names quoted exactly.
    let mut db = Db::connect(&sock).unwrap();
    assert!(!db.in_recovery().unwrap());
    db.require_primary().unwrap();
    assert!(db.server_version_num().unwrap() >= 120000);
    let hostile = r#"x"; DROP ROLE postgres; --"#;
    let plan = [
        Stmt::new(format!("CREATE ROLE {} LOGIN", quote_ident(hostile))),
        Stmt::new(format!("CREATE ROLE {} LOGIN PASSWORD 'Live-Pw-1'", quote_ident("app")))
            .shown_as("CREATE ROLE \"app\" LOGIN PASSWORD '***'"),
        Stmt::new("SELECT pg_catalog.pg_create_physical_replication_slot($1, $2)")
            .arg("live_slot")
            .arg(true),
    ];
    db.apply(&plan, false, true).unwrap();
    assert_eq!(
        db.queries(),
        [
            r#"CREATE ROLE "x""; DROP ROLE postgres; --" LOGIN"#,
            "CREATE ROLE \"app\" LOGIN PASSWORD '***'",
            "SELECT pg_catalog.pg_create_physical_replication_slot('live_slot', true)"
        ]
    );
    let n: i64 = db
        .query_value(
            "SELECT count(*) FROM pg_roles WHERE rolname = $1 OR rolname = $2",
            &[Arg::from(hostile), Arg::from("postgres")],
        )
        .unwrap();
    assert_eq!(n, 2);

    // Check mode records without running; a failing plan leaves nothing behind.
    db.take_queries();
    db.apply(&[Stmt::new("CREATE ROLE never")], true, true).unwrap();
    assert_eq!(db.queries(), ["CREATE ROLE never"]);
    let bad = [Stmt::new("CREATE ROLE half_done"), Stmt::new("CREATE ROLE \"app\"")];
    let e = db.apply(&bad, false, true).unwrap_err();
    assert!(e.to_string().contains("already exists"), "{e}");
    let left: i64 = db
        .query_value("SELECT count(*) FROM pg_roles WHERE rolname IN ('never', 'half_done')", &[])
        .unwrap();
    assert_eq!(left, 0, "the plan is all or nothing");
    drop(db);

    // TCP with a password, wrong password, no password, permission denied.
    let mut app = Db::connect(&tcp(srv.port, "app", Some("Live-Pw-1"))).unwrap();
    let e = app.run(&Stmt::new("CREATE ROLE nope SUPERUSER")).unwrap_err();
    assert!(matches!(e, PgError::PermissionDenied(_)), "{e:?}");
    let e = Db::connect(&tcp(srv.port, "app", Some("wrong"))).unwrap_err();
    assert!(
        matches!(e, PgError::AuthFailed { .. }) && e.to_string().contains("password authentication failed"),
        "{e}"
    );

    // .pgpass through PGPASSFILE: used at 0600, skipped when others can read it.
    let passfile = srv.dir.path().join("pgpass");
    std::fs::write(&passfile, format!("# comment\n127.0.0.1:{}:*:app:Live-Pw-1\n", srv.port)).unwrap();
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::env::set_var("PGPASSFILE", &passfile);
    Db::connect(&tcp(srv.port, "app", None)).unwrap();
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = Db::connect(&tcp(srv.port, "app", None)).unwrap_err();
    assert!(e.to_string().contains("skipped for its permissions"), "{e}");
    std::fs::write(&passfile, "otherhost:*:*:app:x\n").unwrap();
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o600)).unwrap();
    let e = Db::connect(&tcp(srv.port, "app", None)).unwrap_err();
    assert!(
        e.to_string().contains("asks for a password and none was given") && e.to_string().contains("no line of"),
        "{e}"
    );
    std::env::remove_var("PGPASSFILE");

    // Unreachable, missing database, TLS required.
    let e = Db::connect(&tcp(free_port(), "app", None)).unwrap_err();
    assert!(
        matches!(e, PgError::Unreachable { .. }) && e.to_string().contains("Connection refused"),
        "{e}"
    );
    let mut nodb = sock.clone();
    nodb.login_db = Some("no_such_db".into());
    assert!(matches!(Db::connect(&nodb).unwrap_err(), PgError::NoDatabase { .. }));
    let mut tls = sock.clone();
    tls.ssl_mode = pgclient::SslMode::Require;
    assert!(matches!(Db::connect(&tls).unwrap_err(), PgError::TlsUnsupported(_)));
}
