//! pgclient's TLS against real PostgreSQL servers, one with `ssl = on` and one without, and
//! certificates made for the test by openssl (pgtest::pki): each `ssl_mode` with the right CA,
//! a CA that did not sign the server certificate, a certificate that does not name the host,
//! a self-signed server certificate given as its own CA, client certificates, and libpq's
//! fallbacks (`prefer`, `allow`).
//!
//! Logins over TCP use SCRAM: over TLS the server offers SCRAM-SHA-256-PLUS and tokio-postgres
//! takes it when the TLS stream gives the channel binding (the hash of the server certificate),
//! so a wrong hash would fail every password login here. The first server certificate is
//! signed with SHA-384 to check that the hash follows the certificate's signature algorithm.
//!
//! Needs root (the server runs as postgres), the PostgreSQL server programs and openssl.

use pgclient::{Db, LoginParams, PgError, SslMode};
use pgtest::pki::{CertFiles, Pki};
use pgtest::Cluster;
use std::path::Path;

const HBA: &str = "\
local all all trust
hostssl all certuser 127.0.0.1/32 cert
hostssl all tlsonly 127.0.0.1/32 scram-sha-256
hostnossl all tlsonly 127.0.0.1/32 reject
hostnossl all plainonly 127.0.0.1/32 scram-sha-256
hostssl all plainonly 127.0.0.1/32 reject
host all all 127.0.0.1/32 scram-sha-256
";

fn login(port: u16, host: &str, user: &str, mode: SslMode, ca: Option<&Path>) -> LoginParams {
    LoginParams {
        login_host: Some(host.into()),
        login_port: port,
        login_user: user.into(),
        login_password: Some("Tls-Pw-1".into()),
        ssl_mode: mode,
        ca_cert: ca.map(|p| p.display().to_string()),
        connect_timeout: 5,
        ..Default::default()
    }
}

/// Whether this session runs over TLS, as the server sees it.
fn ssl_in_use(db: &mut Db) -> bool {
    db.query_value(
        "SELECT ssl FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()",
        &[],
    )
    .unwrap()
}

fn connect(l: &LoginParams) -> Db {
    Db::connect(l).unwrap_or_else(|e| panic!("{} {:?}: {e}", l.ssl_mode.name(), l.ca_cert))
}

fn tls_error(l: &LoginParams) -> String {
    match Db::connect(l) {
        Err(e @ PgError::Tls { .. }) => e.to_string(),
        Err(e) => panic!("expected a TLS error, got {e:?}"),
        Ok(_) => panic!("{} {:?} connected", l.ssl_mode.name(), l.ca_cert),
    }
}

fn serve(srv: &Cluster, cert: &CertFiles) {
    srv.install_file("server.crt", &cert.cert, 0o644);
    srv.install_file("server.key", &cert.key, 0o600);
    srv.reload();
}

#[test]
fn tls_modes_against_real_servers() {
    let pki = Pki::new();
    let ca1 = pki.ca("ca1");
    let ca2 = pki.ca("ca2");
    let good = pki.server(&ca1, "good", "DNS:localhost,IP:127.0.0.1", "sha384");
    let other = pki.server(&ca1, "other", "DNS:otherhost", "sha256");
    let client = pki.client(&ca1, "client", "certuser");
    let stranger = pki.client(&ca2, "stranger", "certuser");

    let srv = {
        let mut c = Cluster::build("pgclient-tls-")
            .initdb(&["-A", "trust", "--auth-host=scram-sha-256"])
            .hba(HBA)
            .conf("ssl = on")
            .conf("ssl_cert_file = 'server.crt'")
            .conf("ssl_key_file = 'server.key'")
            .conf("ssl_ca_file = 'ca1.crt'")
            .init();
        c.install_file("server.crt", &good.cert, 0o644);
        c.install_file("server.key", &good.key, 0o600);
        c.install_file("ca1.crt", &ca1.cert, 0o644);
        c.start();
        c
    };
    srv.sql(
        "CREATE ROLE app LOGIN PASSWORD 'Tls-Pw-1'; CREATE ROLE tlsonly LOGIN PASSWORD 'Tls-Pw-1'; \
         CREATE ROLE plainonly LOGIN PASSWORD 'Tls-Pw-1'; CREATE ROLE certuser LOGIN",
    );
    let port = srv.port();
    let at = |host: &str, user: &str, mode: SslMode, ca: Option<&CertFiles>| login(port, host, user, mode, ca.map(|c| c.cert.as_path()));
    let ip = "127.0.0.1";

    // verify-full: the right CA and a name the certificate has (its IP address, its DNS name).
    let mut db = connect(&at(ip, "app", SslMode::VerifyFull, Some(&ca1)));
    assert!(ssl_in_use(&mut db), "verify-full runs over TLS");
    assert!(db.take_warnings().is_empty());
    drop(db);
    assert!(ssl_in_use(&mut connect(&at("localhost", "app", SslMode::VerifyFull, Some(&ca1)))));

    // A CA that did not sign the server certificate.
    let ca2_file = ca2.cert.display().to_string();
    for mode in [SslMode::VerifyFull, SslMode::VerifyCa, SslMode::Require] {
        let e = tls_error(&at(ip, "app", mode, Some(&ca2)));
        assert!(
            e.contains(&format!("the server certificate is not signed by the CA in {ca2_file}")),
            "{}: {e}",
            mode.name()
        );
        assert!(
            e.starts_with(&format!("cannot connect to PostgreSQL at 127.0.0.1:{port} over TLS: ")),
            "{e}"
        );
    }

    // verify-ca and require: TLS, and require checks nothing without a CA.
    assert!(ssl_in_use(&mut connect(&at(ip, "app", SslMode::VerifyCa, Some(&ca1)))));
    assert!(ssl_in_use(&mut connect(&at(ip, "app", SslMode::Require, None))));
    assert!(ssl_in_use(&mut connect(&at(ip, "app", SslMode::Require, Some(&ca1)))));

    // prefer: TLS when the server has it; when the TLS attempt fails (here the CA), once more
    // without TLS, with a warning; when the server refuses the login over TLS, without TLS.
    assert!(ssl_in_use(&mut connect(&at(ip, "app", SslMode::Prefer, None))));
    let mut db = connect(&at(ip, "app", SslMode::Prefer, Some(&ca2)));
    assert!(!ssl_in_use(&mut db));
    let w = db.take_warnings();
    assert!(
        w.len() == 1 && w[0].contains("without TLS (ssl_mode=prefer), because TLS failed: the server certificate is not signed by the CA"),
        "{w:?}"
    );
    assert!(!ssl_in_use(&mut connect(&at(ip, "plainonly", SslMode::Prefer, None))));
    let e = Db::connect(&at(ip, "tlsonly", SslMode::Prefer, Some(&ca2)))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not signed by the CA") && e.contains("and without TLS (ssl_mode=prefer)") && e.contains("no encryption"),
        "{e}"
    );

    // disable: no TLS even though the server has it; allow: without TLS first, with TLS when
    // the server refuses that.
    assert!(!ssl_in_use(&mut connect(&at(ip, "app", SslMode::Disable, None))));
    assert!(!ssl_in_use(&mut connect(&at(ip, "app", SslMode::Allow, None))));
    assert!(ssl_in_use(&mut connect(&at(ip, "tlsonly", SslMode::Allow, None))));
    let e = Db::connect(&at(ip, "tlsonly", SslMode::Disable, None)).unwrap_err();
    assert!(
        matches!(e, PgError::AuthFailed { .. }) && e.to_string().contains("no encryption"),
        "{e}"
    );

    // Client certificates (hba `cert`): the right one logs in; none is refused by the server;
    // one from another CA is rejected in the handshake; a key others can read is refused here.
    let mut cert_login = at(ip, "certuser", SslMode::VerifyFull, Some(&ca1));
    cert_login.login_password = None;
    cert_login.ssl_cert = Some(client.cert.display().to_string());
    cert_login.ssl_key = Some(client.key.display().to_string());
    let mut db = connect(&cert_login);
    assert!(ssl_in_use(&mut db));
    let dn: String = db
        .query_value(
            "SELECT client_dn FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()",
            &[],
        )
        .unwrap();
    assert_eq!(dn, "/CN=certuser");
    drop(db);
    let mut no_cert = cert_login.clone();
    no_cert.ssl_cert = None;
    no_cert.ssl_key = None;
    let e = Db::connect(&no_cert).unwrap_err();
    assert!(
        matches!(e, PgError::AuthFailed { .. }) && e.to_string().contains("requires a valid client certificate"),
        "{e}"
    );
    let mut wrong = cert_login.clone();
    wrong.ssl_cert = Some(stranger.cert.display().to_string());
    wrong.ssl_key = Some(stranger.key.display().to_string());
    let e = tls_error(&wrong);
    assert!(
        e.contains("UnknownCA") && e.contains(&format!("is the client certificate {} signed by a CA", stranger.cert.display())),
        "{e}"
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&client.key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Db::connect(&cert_login).unwrap_err();
        assert!(
            matches!(e, PgError::BadInput(_))
                && e.to_string()
                    .starts_with(&format!("ssl_key {} has group or world access", client.key.display())),
            "{e}"
        );
        std::fs::set_permissions(&client.key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    // The CA file: required by verify-*, read only over TCP (a socket never uses TLS).
    if !Path::new("/root/.postgresql/root.crt").exists() {
        let e = Db::connect(&at(ip, "app", SslMode::VerifyFull, None)).unwrap_err();
        assert!(
            matches!(e, PgError::BadInput(_)) && e.to_string().starts_with("ssl_mode=verify-full needs ca_cert"),
            "{e}"
        );
    }
    let junk = pki.dir().join("junk.pem");
    std::fs::write(&junk, "junk\n").unwrap();
    let e = Db::connect(&login(port, ip, "app", SslMode::VerifyCa, Some(&junk))).unwrap_err();
    assert!(
        e.to_string().contains(&format!("ca_cert {} holds no certificate", junk.display())),
        "{e}"
    );
    let mut sock = LoginParams::socket(srv.root().display().to_string(), port, "postgres");
    sock.ssl_mode = SslMode::VerifyFull;
    assert!(!ssl_in_use(&mut connect(&sock)));

    // A certificate for another name: verify-full names both, verify-ca does not mind.
    serve(&srv, &other);
    let e = tls_error(&at(ip, "app", SslMode::VerifyFull, Some(&ca1)));
    assert!(
        e.contains("the server certificate does not name 127.0.0.1: it names otherhost"),
        "{e}"
    );
    assert!(ssl_in_use(&mut connect(&at(ip, "app", SslMode::VerifyCa, Some(&ca1)))));

    // A self-signed server certificate with CA:TRUE (what `openssl req -x509` makes, as in the
    // PostgreSQL documentation's recipe), given as its own CA: trusted as it is, names checked.
    let own = pki.self_signed(
        "own",
        "localhost",
        "basicConstraints = critical, CA:TRUE\nsubjectAltName = DNS:localhost",
    );
    serve(&srv, &own);
    assert!(ssl_in_use(&mut connect(&at("localhost", "app", SslMode::VerifyFull, Some(&own)))));
    let e = tls_error(&at(ip, "app", SslMode::VerifyFull, Some(&own)));
    assert!(e.contains("does not name 127.0.0.1: it names localhost"), "{e}");
    let e = tls_error(&at(ip, "app", SslMode::VerifyCa, Some(&ca1)));
    assert!(e.contains("is a CA certificate (basicConstraints CA:TRUE)"), "{e}");
    drop(srv);

    // A server without TLS.
    let plain = Cluster::build("pgclient-notls-").start();
    let at = |user: &str, mode: SslMode, ca: Option<&CertFiles>| login(plain.port(), ip, user, mode, ca.map(|c| c.cert.as_path()));
    for mode in [SslMode::Require, SslMode::VerifyFull] {
        let e = tls_error(&at("postgres", mode, Some(&ca1)));
        assert!(
            e.ends_with(&format!("server does not support TLS (ssl=off) but ssl_mode={}", mode.name())),
            "{e}"
        );
    }
    for mode in [SslMode::Prefer, SslMode::Allow, SslMode::Disable] {
        let mut db = connect(&at("postgres", mode, None));
        assert!(!ssl_in_use(&mut db), "{}", mode.name());
        assert!(db.take_warnings().is_empty());
    }
}
