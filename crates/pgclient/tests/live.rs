//! pgclient against a real throwaway PostgreSQL server: sockets and TCP, passwords from the
//! parameters and from a .pgpass file, the error kinds, recorded statements, quoting, and
//! all-or-nothing plans.
//!
//! Needs root (the server runs as the postgres user) and the PostgreSQL server binaries; without
//! them the test fails, as the other oracle tests do.

use pgclient::{quote_ident, Arg, Db, LoginParams, PgError, Stmt};
use pgtest::Cluster;
use std::os::unix::fs::PermissionsExt;

fn start() -> Cluster {
    Cluster::build("pgclient-live-")
        .initdb(&["-A", "trust", "--auth-host=scram-sha-256"])
        .start()
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
    let srv = start();
    let sock = LoginParams::socket(srv.root().display().to_string(), srv.port(), "postgres");

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
    let mut app = Db::connect(&tcp(srv.port(), "app", Some("Live-Pw-1"))).unwrap();
    let e = app.run(&Stmt::new("CREATE ROLE nope SUPERUSER")).unwrap_err();
    assert!(matches!(e, PgError::PermissionDenied(_)), "{e:?}");
    let e = Db::connect(&tcp(srv.port(), "app", Some("wrong"))).unwrap_err();
    assert!(
        matches!(e, PgError::AuthFailed { .. }) && e.to_string().contains("password authentication failed"),
        "{e}"
    );

    // .pgpass through PGPASSFILE: used at 0600, skipped when others can read it.
    let passfile = srv.root().join("pgpass");
    std::fs::write(&passfile, format!("# comment\n127.0.0.1:{}:*:app:Live-Pw-1\n", srv.port())).unwrap();
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::env::set_var("PGPASSFILE", &passfile);
    Db::connect(&tcp(srv.port(), "app", None)).unwrap();
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = Db::connect(&tcp(srv.port(), "app", None)).unwrap_err();
    assert!(e.to_string().contains("skipped for its permissions"), "{e}");
    std::fs::write(&passfile, "otherhost:*:*:app:x\n").unwrap();
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o600)).unwrap();
    let e = Db::connect(&tcp(srv.port(), "app", None)).unwrap_err();
    assert!(
        e.to_string().contains("asks for a password and none was given") && e.to_string().contains("no line of"),
        "{e}"
    );
    std::env::remove_var("PGPASSFILE");

    // Unreachable, missing database; a Unix socket never uses TLS, whatever ssl_mode says (as
    // libpq), so its TLS options are not even read (tests/tls.rs has the TLS cases).
    let e = Db::connect(&tcp(pgtest::free_port(), "app", None)).unwrap_err();
    assert!(
        matches!(e, PgError::Unreachable { .. }) && e.to_string().contains("Connection refused"),
        "{e}"
    );
    let mut nodb = sock.clone();
    nodb.login_db = Some("no_such_db".into());
    assert!(matches!(Db::connect(&nodb).unwrap_err(), PgError::NoDatabase { .. }));
    let mut tls = sock.clone();
    tls.ssl_mode = pgclient::SslMode::VerifyFull;
    tls.ca_cert = Some("/nonexistent/ca.pem".into());
    Db::connect(&tls).unwrap();
}
