//! Oracle test: PostgreSQL 15 itself reads the pg_hba.conf this crate writes (through the
//! `pg_hba_file_rules` view, which parses the file on disk at every query): no line in error,
//! and every rule as this crate says; and for a file of broken lines, PostgreSQL reports errors
//! on exactly the lines this crate reports.
//!
//! Needs root and the PostgreSQL 15 server; fails without them.

mod hba_support;

use std::collections::BTreeSet;
use std::net::IpAddr;

use hba_support::{start, Cluster};
use pgconf::hba::{Address, Format, HbaFile, Mask, Position, Rule, RuleKey, Token};

const DEBIAN: &str = include_str!("fixtures/hba/debian-15-main-pg_hba.conf");
const SEP: char = '\u{1f}';

/// One row of pg_hba_file_rules.
#[derive(Debug)]
struct Row {
    line: usize,
    kind: String,
    databases: Vec<String>,
    users: Vec<String>,
    address: String,
    netmask: String,
    method: String,
    options: Vec<String>,
    error: String,
}

fn rows(cluster: &Cluster) -> Vec<Row> {
    let out = cluster.sql(
        "SELECT line_number, coalesce(type, ''), \
         coalesce(array_to_string(database, E'\\x1f'), ''), \
         coalesce(array_to_string(user_name, E'\\x1f'), ''), \
         coalesce(address, ''), coalesce(netmask, ''), coalesce(auth_method, ''), \
         coalesce(array_to_string(options, E'\\x1f'), ''), coalesce(error, '') \
         FROM pg_hba_file_rules ORDER BY line_number",
    );
    let split = |s: &str| -> Vec<String> {
        if s.is_empty() {
            Vec::new()
        } else {
            s.split(SEP).map(str::to_owned).collect()
        }
    };
    out.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            assert_eq!(f.len(), 9, "unexpected row {l:?}");
            Row {
                line: f[0].parse().expect("line number"),
                kind: f[1].to_owned(),
                databases: split(f[2]),
                users: split(f[3]),
                address: f[4].to_owned(),
                netmask: f[5].to_owned(),
                method: f[6].to_owned(),
                options: split(f[7]),
                error: f[8].to_owned(),
            }
        })
        .collect()
}

fn mask_text(addr: &IpAddr, prefix: u8) -> String {
    match addr {
        IpAddr::V4(_) => {
            let bits = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
            std::net::Ipv4Addr::from(bits).to_string()
        }
        IpAddr::V6(_) => {
            let bits = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix)) };
            std::net::Ipv6Addr::from(bits).to_string()
        }
    }
}

/// The names PostgreSQL lists for a field: `@file` tokens expanded.
fn expand(tokens: &[Token]) -> Vec<String> {
    tokens
        .iter()
        .flat_map(|t| match (t.is_quoted(), t.value()) {
            (false, "@dbs.txt") => vec!["db1".to_owned(), "db2".to_owned()],
            (false, "@users.txt") => vec!["u1".to_owned(), "u 2".to_owned()],
            (_, v) => vec![v.to_owned()],
        })
        .collect()
}

const RULES: &[(&str, Position)] = &[
    ("host all all 10.0.0.0/24 scram-sha-256", Position::End),
    ("host all all samenet scram-sha-256", Position::End),
    ("host replication all samenet scram-sha-256", Position::End),
    (
        r#"hostssl db1,"my db","a,b" +admins,"all" 2001:db8::/32 md5 clientcert=verify-ca"#,
        Position::End,
    ),
    ("hostnossl sameuser all 192.168.1.0 255.255.255.0 password", Position::End),
    (
        "hostgssenc samerole all ::1 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00 gss include_realm=0 krb_realm=EXAMPLE.COM",
        Position::End,
    ),
    ("hostnogssenc replication repl samehost scram-sha-256", Position::End),
    ("host all all ::/0 reject", Position::End),
    ("host all all .example.com trust", Position::BeforeFirstReject),
    ("host all all db1.example.com md5", Position::BeforeFirstReject),
    ("host @dbs.txt @users.txt all ident map=omicron", Position::BeforeFirstReject),
    (
        r#"host "/^db\d$" all 10.1.0.0/16 ldap ldapserver=ldap.example.com ldapprefix="cn=" ldapsuffix=", dc=example, dc=net""#,
        Position::BeforeFirstReject,
    ),
    (
        r#"host all all 10.2.0.0/16 radius radiusservers="127.0.0.1,127.0.0.2" radiussecrets="s1,s2""#,
        Position::BeforeFirstReject,
    ),
    (
        "hostssl all all 0.0.0.0/0 cert clientcert=verify-full map=certmap",
        Position::BeforeFirstReject,
    ),
    (r#"local all "pg user" pam pamservice=postgresql"#, Position::Beginning),
    ("host all all 127.0.0.1/32 md5", Position::End), // updates a stock line in place
];

#[test]
fn postgres_reads_our_pg_hba_as_we_do() {
    // The stock Debian file plus a continued rule and a trailing comment written by hand.
    let base = format!("{DEBIAN}host    all             \"continued user\" \\\n                127.0.0.2/32            trust   # kept\n");
    let mut file = HbaFile::parse(&base, Format::PgHba);
    for (text, position) in RULES {
        let rule = Rule::parse(text, Format::PgHba).unwrap_or_else(|e| panic!("{text}: {e}"));
        let change = file.upsert(&rule, *position).unwrap();
        assert!(change.is_changed(), "{text}");
    }
    // Update the continued rule (rewritten on one line, comment kept) and remove one.
    let continued = Rule::parse(r#"host all "continued user" 127.0.0.2/32 reject"#, Format::PgHba).unwrap();
    assert!(file.upsert(&continued, Position::End).unwrap().is_changed());
    let key = RuleKey::parse("host all all ::1/128", Format::PgHba).unwrap();
    assert!(file.remove(&key).is_changed());
    let text = file.to_string();
    assert!(
        text.contains("host    all             \"continued user\" 127.0.0.2/32           reject   # kept\n"),
        "{text}"
    );
    assert!(file.issues().is_empty());

    let cluster = start("local all postgres peer\n");
    cluster.write_file("dbs.txt", "db1\ndb2\n");
    cluster.write_file("users.txt", "u1, \"u 2\"\n");
    cluster.write_hba(&text);
    let rows = rows(&cluster);
    let errors: Vec<&Row> = rows.iter().filter(|r| !r.error.is_empty()).collect();
    assert!(errors.is_empty(), "PostgreSQL found errors: {errors:#?}\n{text}");
    let ours: Vec<(usize, Rule)> = file.rules().collect();
    assert_eq!(
        rows.iter().map(|r| r.line).collect::<Vec<_>>(),
        ours.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        "{text}"
    );
    for (row, (line, rule)) in rows.iter().zip(&ours) {
        let ctx = format!("line {line}: {rule}");
        assert_eq!(row.kind, rule.connection.as_str(), "{ctx}");
        assert_eq!(row.method, rule.method.as_str(), "{ctx}");
        assert_eq!(row.databases, expand(&rule.databases), "{ctx}");
        assert_eq!(row.users, expand(&rule.users), "{ctx}");
        let (address, netmask) = match &rule.address {
            None => (String::new(), String::new()),
            Some(Address::All) => ("all".to_owned(), String::new()),
            Some(Address::SameHost) => ("samehost".to_owned(), String::new()),
            Some(Address::SameNet) => ("samenet".to_owned(), String::new()),
            Some(Address::Hostname(h)) => (h.clone(), String::new()),
            Some(Address::Ip {
                addr,
                mask: Mask::Prefix(p),
            }) => (addr.to_string(), mask_text(addr, *p)),
            Some(Address::Ip {
                addr,
                mask: Mask::Netmask(m),
            }) => (addr.to_string(), m.to_string()),
            Some(Address::ScopedIp {
                addr,
                zone,
                mask: Mask::Prefix(p),
            }) => (format!("{addr}%{zone}"), mask_text(&IpAddr::V6(*addr), *p)),
            Some(Address::ScopedIp {
                addr,
                zone,
                mask: Mask::Netmask(m),
            }) => (format!("{addr}%{zone}"), m.to_string()),
        };
        assert_eq!(row.address, address, "{ctx}");
        assert_eq!(row.netmask, netmask, "{ctx}");
        let theirs: BTreeSet<&str> = row.options.iter().filter_map(|o| o.split_once('=')).map(|(n, _)| n).collect();
        // PostgreSQL lists include_realm only when it is on.
        let mine: BTreeSet<&str> = rule
            .options
            .iter()
            .map(|o| o.name.as_str())
            .filter(|n| *n != "include_realm")
            .collect();
        assert!(mine.is_subset(&theirs), "{ctx}: options {:?} vs {:?}", rule.options, row.options);
        // Values PostgreSQL shows as written.
        for o in &rule.options {
            if ["ldapserver", "ldapprefix", "ldapsuffix", "map", "pamservice", "krb_realm"].contains(&o.name.as_str()) {
                assert!(row.options.contains(&format!("{}={}", o.name, o.value)), "{ctx}: {:?}", row.options);
            }
        }
    }
}

#[test]
fn postgres_rejects_the_lines_we_reject() {
    let long = "d".repeat(10239);
    let longer = "d".repeat(10240);
    let lines = [
        "local all postgres peer".to_owned(),
        "host all all 10.0.0.0/33 md5".to_owned(),
        "host all all 10.0.0.0/24 md5".to_owned(),
        "host all all foo.example.com/24 md5".to_owned(),
        "host all all 10.0.0.1 ffff:: md5".to_owned(),
        "host all all 10.0.0.1 md5".to_owned(),
        "host all all 10.0.0.1".to_owned(),
        "host all all 1.2.3.4/32,5.6.7.8/32 md5".to_owned(),
        "host all all 1.2.3.4/32 krb5".to_owned(),
        "host all all 1.2.3.4/32 md5,trust".to_owned(),
        "host all all 1.2.3.4/32 ldap ldapserver".to_owned(),
        "local,host all all trust".to_owned(),
        "hots all all 1.2.3.4/32 md5".to_owned(),
        "host all".to_owned(),
        "host all all 1.2.3.4/32 peer".to_owned(),
        "local all all gss".to_owned(),
        "host all all 1.2.3.4/32 cert".to_owned(),
        "hostssl all all 1.2.3.4/32 cert".to_owned(),
        "hostgssenc all all 1.2.3.4/32 md5".to_owned(),
        format!("host {long} all 1.2.3.4/32 md5"),
        format!("host {longer} all 1.2.3.4/32 md5"),
        "host all all \\\n   1.2.3.4/33 md5".to_owned(),
        "host all all \\\n   1.2.3.4/32 md5 # fine".to_owned(),
        "# a comment \\\nhost all all 1.2.3.4/33 md5".to_owned(),
        "host \"all\" all \"samenet\" trust".to_owned(),
        "host all all 10.0.0.0 255.255.0.255 md5".to_owned(),
        "host all all \"\" md5".to_owned(),
        "host all all 1.2.3.4/ md5".to_owned(),
        "host all all 1.2.3.4/+8 md5".to_owned(),
        "host all all 1.2.3.4/-0 md5".to_owned(),
        "host all all 1.2.3.4/08 md5".to_owned(),
        "host all all 127.1/32 md5".to_owned(),
        "host all all 0x7f.1 255.0.0.0 md5".to_owned(),
        "host all all ::ffff:10.0.0.1/128 \"md5\"".to_owned(),
        "host all all fe80::1%lo/128 md5".to_owned(),
        "\"host\" all all 1.2.3.4/32 md5".to_owned(),
        "host all all 1.2.3.4/32 md5 map=".to_owned(),
        "host all all 1.2.3.4/32 md5 foo=bar".to_owned(),
        "host all all 1.2.3.4/32 md5 clientcert=verify-ca".to_owned(),
        "hostssl all all 1.2.3.4/32 cert clientcert=verify-ca".to_owned(),
        "hostssl all all 1.2.3.4/32 scram-sha-256 clientcert=verify-full clientname=DN".to_owned(),
        "host all all 1.2.3.4/32 ldap ldapserver=ldap.example.com".to_owned(),
        "host all all 1.2.3.4/32 ldap ldapserver=x ldapprefix=cn= ldapbasedn=dc=x".to_owned(),
        "host all all 1.2.3.4/32 ldap ldapserver=x ldapbasedn=dc=x ldapsearchattribute=uid ldapsearchfilter=(uid=$username)".to_owned(),
        "host all all 1.2.3.4/32 ldap ldapserver=x ldapbasedn=dc=x ldapsearchattribute=uid".to_owned(),
        "host all all 1.2.3.4/32 ldap \"ldapurl=ldap://ldap.example.net/dc=example,dc=net?uid?sub\"".to_owned(),
        "host all all 1.2.3.4/32 radius radiusservers=\"127.0.0.1,127.0.0.2\" radiussecrets=\"a,b,c\"".to_owned(),
        "host all all 1.2.3.4/32 radius radiusservers=127.0.0.1".to_owned(),
        "host all all 1.2.3.4/32 radius radiusservers=\"127.0.0.1,127.0.0.2\" radiussecrets=s radiusports=\"1812,1813\"".to_owned(),
        "host all all 1.2.3.4/32 md5 krb_realm=X".to_owned(),
        "host all all 1.2.3.4/32 gss krb_realm=X include_realm=1 map=m".to_owned(),
        "host all all 1.2.3.4/32 md5 pam_use_hostname=1".to_owned(),
        "local all all ident map=m".to_owned(),
        "host all all 1.2.3.4/32 ident map=m".to_owned(),
    ];
    // PostgreSQL 15 refuses these values but sets no error message, so pg_hba_file_rules shows
    // no error for them (the server still fails to load such a file); they go last and are
    // checked to be reported by us.
    let quiet = [
        "hostssl all all 1.2.3.4/32 md5 clientcert=maybe".to_owned(),
        "hostssl all all 1.2.3.4/32 md5 clientname=XN".to_owned(),
    ];
    let before_quiet = lines.join("\n").split('\n').count();
    let quiet_lines: BTreeSet<usize> = (before_quiet + 1..=before_quiet + quiet.len()).collect();
    let text = lines.iter().chain(&quiet).cloned().collect::<Vec<_>>().join("\n") + "\n";
    let file = HbaFile::parse(&text, Format::PgHba);
    let ours: BTreeSet<usize> = file.issues().iter().map(|i| i.line).collect();
    // The server does not start with errors in pg_hba.conf: start it with a good file, then
    // put the broken one in place (the view reads the file on disk).
    let cluster = start("local all postgres peer\n");
    cluster.write_hba(&text);
    let theirs: BTreeSet<usize> = rows(&cluster).iter().filter(|r| !r.error.is_empty()).map(|r| r.line).collect();
    let ours_shown: BTreeSet<usize> = ours.difference(&quiet_lines).copied().collect();
    assert_eq!(ours_shown, theirs, "{:#?}", rows(&cluster));
    assert!(quiet_lines.is_subset(&ours));
    // And the good ones read the same.
    let good: Vec<usize> = rows(&cluster)
        .iter()
        .filter(|r| r.error.is_empty() && !quiet_lines.contains(&r.line))
        .map(|r| r.line)
        .collect();
    assert_eq!(good, file.rules().map(|(n, _)| n).collect::<Vec<_>>());
}
