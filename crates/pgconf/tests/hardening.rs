//! Issue 12 items 2 and 5 at the library level: no editor writes a NUL or another control
//! character into a file, and secret values are masked in what a diff may show.

use pgconf::hba::{Format, HbaError, HbaFile, Position, Rule};
use pgconf::pcp::PcpConf;
use pgconf::pgpass::{PassEntry, PassFile, PassFormat};
use pgconf::pgpool::PgpoolConf;
use pgconf::pool_passwd::PoolPasswd;
use pgconf::postgresql::PostgresqlConf;
use pgconf::repmgr::RepmgrConf;

#[test]
fn kv_files_refuse_control_characters() {
    let mut pg = PostgresqlConf::parse("a = 1\n");
    for v in ["/bin/true\0rm -rf /", "x\u{1b}y", "x\u{7f}"] {
        let e = pg.set("archive_command", v).unwrap_err().to_string();
        assert!(e.contains("control character"), "{e}");
    }
    let mut pool = PgpoolConf::parse("");
    assert!(pool.set("health_check_user", "a\0b").is_err());
    let mut rep = RepmgrConf::parse("");
    assert!(rep.set("conninfo", "host=a\0").is_err());
    // Tabs and escaped line breaks stay possible where the format can carry them.
    assert!(pg.set("archive_command", "a\tb").unwrap().changed);
    assert_eq!(pg.to_string(), "a = 1\narchive_command = 'a\tb'\n");
}

#[test]
fn hba_refuses_nul_in_comment_and_values() {
    let mut f = HbaFile::parse("local all all peer\nhost all all 0.0.0.0/0 reject\n", Format::PgHba);
    let r = Rule::parse("host all app 10.0.0.0/8 scram-sha-256", Format::PgHba).unwrap();
    assert_eq!(f.upsert_commented(&r, Position::End, Some("x\0")), Err(HbaError::ControlChar));
    let mut bad = r.clone();
    bad.users = vec![pgconf::hba::Token::new("a\0b")];
    assert_eq!(f.upsert(&bad, Position::End), Err(HbaError::ControlChar));
    assert_eq!(f.to_string(), "local all all peer\nhost all all 0.0.0.0/0 reject\n");
}

#[test]
fn password_files_refuse_control_characters() {
    let mut p = PassFile::parse("", PassFormat::PgPass);
    assert!(p.upsert(&PassEntry::pgpass("h", "5432", "*", "u", "pw\0x")).is_err());
    assert!(p.upsert(&PassEntry::pgpass("h\u{1}", "5432", "*", "u", "pw")).is_err());
    let mut pp = PoolPasswd::parse("");
    assert!(pp.upsert("u\0", "TEXTpw").is_err());
    assert!(pp.upsert("u", "TEXTp\0w").is_err());
    let mut pcp = PcpConf::parse("");
    assert!(pcp.upsert("u\0", "0123456789abcdef0123456789abcdef").is_err());
    assert_eq!(p.to_string() + &pp.to_string() + &pcp.to_string(), "");
}

#[test]
fn conninfo_and_password_settings_are_masked() {
    let text = "#primary_conninfo = 'host=old password=oldpw'\nprimary_conninfo = 'host=db1 user=repl password=''a b'' port=5432'\t# x\nport = 5432\n";
    let c = PostgresqlConf::parse(text);
    let m = c.masked();
    assert_eq!(
        m,
        "#primary_conninfo = 'host=old password=********'\nprimary_conninfo = 'host=db1 user=repl password=******** port=5432'\t# x\nport = 5432\n"
    );
    let s = c.secrets();
    assert!(s.contains(&"oldpw".to_string()) && s.contains(&"a b".to_string()), "{s:?}");

    let r = RepmgrConf::parse("conninfo='host=a password=topsecret'\n");
    assert_eq!(r.masked(), "conninfo='host=a password=********'\n");
    let p = PgpoolConf::parse("sr_check_password = 'AESxyz'\nhealth_check_password0 = ''\nwd_authkey = 'k3y'\nport = 9999\n");
    assert_eq!(
        p.masked(),
        "sr_check_password = '********'\nhealth_check_password0 = ''\nwd_authkey = '********'\nport = 9999\n"
    );
    assert_eq!(p.secrets(), ["AESxyz", "k3y"]);
}
