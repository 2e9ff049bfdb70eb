//! Unit tests of the hba module: tokenizer, records, identity, edits and layout.

use super::record::{cidr_bits, numeric_host};
use super::*;

fn pg(text: &str) -> HbaFile<'static> {
    HbaFile::parse(text, Format::PgHba)
}

fn rule(text: &str) -> Rule {
    Rule::parse(text, Format::PgHba).unwrap()
}

fn values(tokens: &[Token]) -> Vec<(&str, bool)> {
    tokens.iter().map(|t| (t.value(), t.is_quoted())).collect()
}

#[test]
fn tokenizer_follows_postgres() {
    let t = tokenize(r#"host "my db",b , c "a""b" x#y z"#, Format::PgHba).unwrap();
    let fields: Vec<Vec<(String, bool)>> = t
        .fields
        .iter()
        .map(|f| f.tokens.iter().map(|t| (t.token.value.clone(), t.token.quoted)).collect())
        .collect();
    assert_eq!(
        fields,
        vec![
            vec![("host".into(), false)],
            vec![("my db".into(), true), ("b".into(), false)],
            // "b ," ends the field at the blank: ",c" starts a new one.
            vec![("c".into(), false)],
            vec![("a\"b".into(), true)],
            vec![("x".into(), false)],
        ]
    );
    assert_eq!(t.comment, Some(r#"host "my db",b , c "a""b" x"#.len()));
    // A quote later in a token does not make it quoted: a"ll" is the keyword all.
    let t = tokenize(r#"a"ll" "#, Format::PgHba).unwrap();
    assert!(t.fields[0].tokens[0].token.is_keyword("all"));
    let pool = Format::PoolHba;
    assert_eq!(tokenize(&"x".repeat(255), pool).map(|t| t.fields.len()), Ok(1));
    assert_eq!(tokenize(&"x".repeat(256), pool).map(|_| ()), Err(HbaError::TokenTooLong));
    let pg = Format::PgHba;
    assert_eq!(tokenize(&"x".repeat(10239), pg).map(|t| t.fields.len()), Ok(1));
    assert_eq!(tokenize(&"x".repeat(10240), pg).map(|_| ()), Err(HbaError::TokenTooLong));
}

#[test]
fn parses_rules_of_every_shape() {
    let r = rule("local all postgres peer");
    assert_eq!(r.connection, ConnectionType::Local);
    assert_eq!(r.address, None);
    assert_eq!(r.method, Method::Peer);
    let r = rule(r#"hostssl "db one",+admins,@dbs.txt,/^x\d$ "all",u 10.1.2.0 255.255.255.0 cert clientcert=verify-full map="a b""c""#);
    assert_eq!(
        values(&r.databases),
        vec![("db one", true), ("+admins", false), ("@dbs.txt", false), (r"/^x\d$", false)]
    );
    assert_eq!(values(&r.users), vec![("all", true), ("u", false)]);
    assert_eq!(
        r.address,
        Some(Address::Ip {
            addr: "10.1.2.0".parse().unwrap(),
            mask: Mask::Netmask("255.255.255.0".parse().unwrap())
        })
    );
    assert_eq!(
        r.options,
        vec![AuthOption::new("clientcert", "verify-full"), AuthOption::new("map", "a b\"c")]
    );
    let r = rule("host replication repl ::1/128 scram-sha-256 # comment");
    assert_eq!(r.address.map(|a| a.to_string()).as_deref(), Some("::1/128"));
    for (text, address) in [
        ("host all all samenet md5", Address::SameNet),
        ("host all all samehost md5", Address::SameHost),
        ("host all all all md5", Address::All),
        ("host all all .example.com md5", Address::Hostname(".example.com".into())),
        ("host all all db1.example.com md5", Address::Hostname("db1.example.com".into())),
        (r#"host all all "samenet" md5"#, Address::Hostname("samenet".into())),
    ] {
        assert_eq!(rule(text).address, Some(address), "{text}");
    }
    for ct in ["hostgssenc", "hostnogssenc", "hostnossl"] {
        assert!(Rule::parse(&format!("{ct} all all 0.0.0.0/0 reject"), Format::PgHba).is_ok());
    }
}

#[test]
fn rejects_what_postgres_rejects() {
    for (text, error) in [
        ("hots all all 1.2.3.4/32 md5", HbaError::InvalidConnectionType("hots".into())),
        ("host all", HbaError::MissingField("user")),
        ("host all all", HbaError::MissingField("address")),
        ("host all all 10.0.0.1 md5", HbaError::InvalidNetmask("md5".into())),
        ("host all all 10.0.0.1", HbaError::MissingField("netmask")),
        ("host all all 10.0.0.0/33 md5", HbaError::InvalidCidr("10.0.0.0/33".into())),
        ("host all all foo/24 md5", HbaError::HostnameWithCidr("foo/24".into())),
        ("host all all 10.0.0.1 ffff:: md5", HbaError::MaskFamilyMismatch),
        ("host all all 1.2.3.4/32,5.6.7.8/32 md5", HbaError::MultipleValues("address")),
        ("host all all 1.2.3.4/32 krb5", HbaError::InvalidMethod("krb5".into())),
        (
            "host all all 1.2.3.4/32 md5,trust",
            HbaError::MultipleValues("authentication method"),
        ),
        (
            "host all all 1.2.3.4/32 ldap ldapserver",
            HbaError::OptionNotNameValue("ldapserver".into()),
        ),
        ("local,host all all trust", HbaError::MultipleValues("connection type")),
        ("include a b", HbaError::BadInclude),
    ] {
        assert_eq!(Rule::parse(text, Format::PgHba).err(), Some(error), "{text}");
    }
    for text in ["host all all 1.2.3.4/32 peer", "local all all gss", "host all all 1.2.3.4/32 cert"] {
        assert!(
            matches!(Rule::parse(text, Format::PgHba), Err(HbaError::MethodNotAllowed { .. })),
            "{text}"
        );
    }
}

#[test]
fn pool_hba_format() {
    let pool = |t: &str| Rule::parse(t, Format::PoolHba);
    assert!(pool("local all all trust").is_ok());
    assert!(pool("host all pgpool 10.0.0.0/24 scram-sha-256").is_ok());
    assert!(pool("hostssl all all 0.0.0.0/0 cert").is_ok());
    assert!(pool("host all all 0.0.0.0/0 password").is_ok());
    assert!(pool("host all all 0.0.0.0/0 pam pamservice=pgpool").is_ok());
    assert_eq!(
        pool("hostgssenc all all 0.0.0.0/0 trust").err(),
        Some(HbaError::InvalidConnectionType("hostgssenc".into()))
    );
    assert!(matches!(pool("local all all peer"), Err(HbaError::MethodNotAllowed { .. })));
    assert!(matches!(
        pool("host all all 1.2.3.4/32 ident"),
        Err(HbaError::MethodNotAllowed { .. })
    ));
    let f = HbaFile::parse("include other.conf\nlocal all all trust \\\n", Format::PoolHba);
    // No include directives and no continuation in pool_hba.conf: the backslash is an
    // option without '='.
    assert_eq!(
        f.issues(),
        vec![
            Issue {
                line: 1,
                error: HbaError::InvalidConnectionType("include".into())
            },
            Issue {
                line: 2,
                error: HbaError::OptionNotNameValue("\\".into())
            },
        ]
    );
    assert!(f.includes().is_empty());
}

#[test]
fn continuation_lines_and_numbers() {
    let text = "# c\nhost all all \\\n   127.0.0.1/32 \\\n trust\nlocal all all peer\nbad line\n";
    let f = pg(text);
    assert_eq!(f.to_string(), text);
    let rules: Vec<(usize, String)> = f.rules().map(|(n, r)| (n, r.to_string())).collect();
    assert_eq!(
        rules,
        vec![
            (2, "host all all 127.0.0.1/32 trust".to_owned()),
            (5, "local all all peer".to_owned())
        ]
    );
    assert_eq!(
        f.issues(),
        vec![Issue {
            line: 6,
            error: HbaError::InvalidConnectionType("bad".into())
        }]
    );
    // A comment ending in a backslash swallows the next line, as in PostgreSQL.
    let f = pg("# note \\\nhost all all 0.0.0.0/0 trust\n");
    assert_eq!(f.rules().count(), 0);
    // The backslash must be past the previous join point.
    let f = pg("local all all \\\\\n\ntrust\n");
    assert_eq!(f.issues().len(), 2);
}

#[test]
fn includes_are_noticed() {
    let f = pg("include_dir conf.d\ninclude \"extra rules.conf\"\ninclude_if_exists x\nlocal all all peer\n");
    let inc: Vec<(usize, IncludeKind, &str)> = f.includes().iter().map(|(n, i)| (*n, i.kind, i.path.as_str())).collect();
    assert_eq!(
        inc,
        vec![
            (1, IncludeKind::Directory, "conf.d"),
            (2, IncludeKind::File, "extra rules.conf"),
            (3, IncludeKind::FileIfExists, "x"),
        ]
    );
    assert!(f.issues().is_empty());
    let mut f = f;
    let r = rule("host all all 10.0.0.0/8 md5");
    assert_eq!(f.upsert(&r, Position::Beginning), Ok(Change::Added { line: 1 }));
}

#[test]
fn identity_normalises_lists_quotes_and_masks() {
    let key = |t: &str| RuleKey::parse(t, Format::PgHba).unwrap();
    assert_eq!(
        key("host a,b x,y 10.0.0.0/24"),
        key(r#"host "b",a y,"x" 10.0.0.0 255.255.255.0 md5"#)
    );
    assert_eq!(key("host all all db.EXAMPLE.com"), key("host all all DB.example.com"));
    assert_ne!(key("host all all 10.0.0.5/24"), key("host all all 10.0.0.0/24"));
    assert_ne!(key("host all all 10.0.0.0/24"), key("hostssl all all 10.0.0.0/24"));
    assert_ne!(key("host all all 10.0.0.0/24"), key(r#"host "all" all 10.0.0.0/24"#));
    assert_ne!(key("host +g all all"), key(r#"host "+g" all all"#));
    assert_eq!(key("local all postgres"), rule("local all postgres peer").key());
    assert_eq!(
        key("host all all ::1/128"),
        key("host all all 0:0:0::1 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
    );
    assert_eq!(
        RuleKey::parse("host all all", Format::PgHba),
        Err(HbaError::MissingField("address"))
    );
    assert_eq!(
        RuleKey::parse("host all all 10.0.0.1", Format::PgHba),
        Err(HbaError::MissingField("netmask"))
    );
    assert_eq!(RuleKey::parse("", Format::PgHba), Err(HbaError::MissingField("connection type")));
}

#[test]
fn upsert_changes_method_in_place() {
    let text = "# head\nhost    all   all   10.0.0.0 255.255.255.0   md5   # keep me\r\nlocal all all peer\n";
    let mut f = pg(text);
    let r = rule("host all all 10.0.0.0/24 scram-sha-256");
    assert_eq!(f.upsert(&r, Position::End), Ok(Change::Updated { line: 2 }));
    assert_eq!(
        f.to_string(),
        "# head\nhost    all   all   10.0.0.0 255.255.255.0   scram-sha-256   # keep me\r\nlocal all all peer\n"
    );
    assert_eq!(f.upsert(&r, Position::End), Ok(Change::Unchanged));
    let with_opts = rule("host all all 10.0.0.0/24 ldap ldapserver=ldap.example.com ldapprefix=\"cn=\"");
    assert_eq!(f.upsert(&with_opts, Position::End), Ok(Change::Updated { line: 2 }));
    assert!(f
        .to_string()
        .contains("255.255.255.0   ldap ldapserver=ldap.example.com ldapprefix=cn=   # keep me\r\n"));
    let reordered = rule("host all all 10.0.0.0/24 ldap ldapprefix=cn= ldapserver=ldap.example.com");
    assert_eq!(f.upsert(&reordered, Position::End), Ok(Change::Unchanged));
}

#[test]
fn upsert_rewrites_a_continued_rule_on_one_line() {
    let mut f = pg("host all all \\\n 10.0.0.0/8 trust # c\nlocal all all peer\n");
    let r = rule("host all all 10.0.0.0/8 md5");
    assert_eq!(f.upsert(&r, Position::End), Ok(Change::Updated { line: 1 }));
    assert_eq!(f.to_string(), "host all all 10.0.0.0/8 md5 # c\nlocal all all peer\n");
    assert_eq!(f.rules().map(|(n, _)| n).collect::<Vec<_>>(), vec![1, 2]);
}

#[test]
fn insert_positions() {
    let text = "# top\n\nlocal all all peer\nhost all all 0.0.0.0/0 reject\nhost all all ::/0 reject\n# end\n";
    let r = rule("host db u 10.0.0.1/32 md5");
    let mut f = pg(text);
    assert_eq!(f.upsert(&r, Position::Beginning), Ok(Change::Added { line: 3 }));
    assert_eq!(
        f.rules().next().map(|(_, r)| r.to_string()).as_deref(),
        Some("host db u 10.0.0.1/32 md5")
    );
    let mut f = pg(text);
    assert_eq!(f.upsert(&r, Position::BeforeFirstReject), Ok(Change::Added { line: 4 }));
    let mut f = pg(text);
    assert_eq!(f.upsert(&r, Position::End), Ok(Change::Added { line: 7 }));
    assert!(f.to_string().starts_with(text));
    let mut f = pg("local all all peer\n");
    assert_eq!(f.upsert(&r, Position::BeforeFirstReject), Ok(Change::Added { line: 2 }));
    let mut f = pg("");
    assert_eq!(f.upsert(&r, Position::Beginning), Ok(Change::Added { line: 1 }));
    // No final line break: the new last line has none either.
    let mut f = pg("local all all peer");
    assert!(f.upsert(&r, Position::End).unwrap().is_changed());
    assert_eq!(f.to_string(), "local all all peer\nhost db u 10.0.0.1/32 md5");
    // CRLF files get CRLF lines.
    let mut f = pg("local all all peer\r\n");
    assert!(f.upsert(&r, Position::End).unwrap().is_changed());
    assert_eq!(f.to_string(), "local all all peer\r\nhost db u 10.0.0.1/32 md5\r\n");
}

#[test]
fn new_lines_follow_the_file_layout() {
    // PostgreSQL's stock columns.
    let stock = "local   all             all                                     peer\nhost    all             all             127.0.0.1/32            scram-sha-256\n";
    let mut f = pg(stock);
    let r = rule("host replication repl samenet scram-sha-256");
    assert!(f.upsert(&r, Position::End).unwrap().is_changed());
    assert!(f
        .to_string()
        .ends_with("\nhost    replication     repl            samenet                 scram-sha-256\n"));
    let r = rule("local db u md5");
    assert!(f.upsert(&r, Position::End).unwrap().is_changed());
    assert!(f
        .to_string()
        .ends_with("\nlocal   db              u                                       md5\n"));
    // Compact files stay compact.
    let mut f = pg("local all all peer\nhost all all 127.0.0.1/32 md5\n");
    assert!(f.upsert(&rule("host a b 10.0.0.0/8 trust"), Position::End).unwrap().is_changed());
    assert!(f.to_string().ends_with("\nhost a b 10.0.0.0/8 trust\n"));
    // Tab-aligned files get tabs.
    let mut f = pg("local\tall\t\tall\t\t\t\tpeer\nhost\tall\t\tall\t\t127.0.0.1/32\t\tmd5\n");
    assert!(f.upsert(&rule("host db u 10.0.0.0/8 trust"), Position::End).unwrap().is_changed());
    assert!(f.to_string().ends_with("\nhost\tdb\t\tu\t\t10.0.0.0/8\t\ttrust\n"), "{f}");
    // No rules: stock columns of the format.
    let mut f = HbaFile::parse("# empty\n", Format::PoolHba);
    assert!(f
        .upsert(
            &Rule::parse("host all pgpool 0.0.0.0/0 scram-sha-256", Format::PoolHba).unwrap(),
            Position::End
        )
        .unwrap()
        .is_changed());
    assert_eq!(
        f.to_string(),
        "# empty\nhost    all         pgpool      0.0.0.0/0             scram-sha-256\n"
    );
    // Long fields still get a separator.
    let mut f = pg("");
    assert!(f
        .upsert(
            &rule("host a_very_long_database_name_here another_long_user_name_x 2001:db8:1234:5678::/64 md5"),
            Position::End
        )
        .unwrap()
        .is_changed());
    assert_eq!(f.rules().count(), 1);
}

#[test]
fn upsert_refuses_unwritable_rules() {
    let mut f = pg("local all all peer\n");
    let mut r = rule("local all all trust");
    r.address = Some(Address::All);
    assert_eq!(f.upsert(&r, Position::End), Err(HbaError::UnexpectedAddress));
    let r = Rule::parse("host all all 0.0.0.0/0 peer", Format::PoolHba);
    assert!(r.is_err());
    let mut r = rule("host all all 0.0.0.0/0 trust");
    r.method = Method::Peer;
    assert!(matches!(f.upsert(&r, Position::End), Err(HbaError::MethodNotAllowed { .. })));
    let mut r = rule("host all all 0.0.0.0/0 trust");
    r.users = vec![Token::literal("a\nb")];
    assert_eq!(f.upsert(&r, Position::End), Err(HbaError::LineBreak));
    assert_eq!(f.to_string(), "local all all peer\n");
    // An existing line at the end of the file that ends with a backslash would swallow a
    // new line: refused, file unchanged.
    let mut f = pg("local all all peer \\");
    assert_eq!(
        f.upsert(&rule("host a b 10.0.0.0/8 trust"), Position::End),
        Err(HbaError::NotRepresentable)
    );
    assert_eq!(f.to_string(), "local all all peer \\");
}

#[test]
fn tokens_with_odd_characters_round_trip() {
    let mut f = pg("");
    let r = Rule {
        connection: ConnectionType::Host,
        databases: vec![
            Token::literal("all"),
            Token::new("+my group"),
            Token::literal("a\"b,c d#e"),
            Token::new("x\\"),
        ],
        users: vec![Token::new("@users file"), Token::new("")],
        address: Some(Address::Hostname("samenet".into())),
        method: Method::Ldap,
        options: vec![
            AuthOption::new("ldapsearchfilter", "(uid=$username) # x"),
            AuthOption::new("ldapbasedn", ""),
        ],
    };
    assert!(f.upsert(&r, Position::End).unwrap().is_changed());
    let (_, back) = f.rules().next().unwrap();
    assert_eq!(back.key(), r.key());
    // Values that need quotes come back quoted, which only matters for keywords and
    // prefixes, and those keep their meaning.
    let mut expected = r.clone();
    expected.databases[3] = Token::literal("x\\");
    expected.users[1] = Token::literal("");
    assert_eq!(back, expected);
    assert_eq!(f.upsert(&r, Position::End), Ok(Change::Unchanged));
}

#[test]
fn remove_by_key() {
    let mut f = pg("local all all peer\nhost all all 10.0.0.0/8 md5\n# x\nhost all all 10.0.0.0 255.0.0.0 trust\n");
    let key = RuleKey::parse("host all all 10.0.0.0/8", Format::PgHba).unwrap();
    assert_eq!(f.remove(&key), Change::Removed { lines: vec![2, 4] });
    assert_eq!(f.to_string(), "local all all peer\n# x\n");
    assert_eq!(f.remove(&key), Change::Unchanged);
    let mut f = pg("local all all \\\n peer\nhost a b c.d trust\n");
    let key = RuleKey::parse("local all all", Format::PgHba).unwrap();
    assert_eq!(f.remove(&key), Change::Removed { lines: vec![1] });
    assert_eq!(f.to_string(), "host a b c.d trust\n");
}

#[test]
fn numeric_hosts_as_glibc_reads_them() {
    let v4 = |s: &str| numeric_host(s).map(|(ip, _)| ip.to_string());
    assert_eq!(v4("127.1").as_deref(), Some("127.0.0.1"));
    assert_eq!(v4("0x7f.1").as_deref(), Some("127.0.0.1"));
    assert_eq!(v4("012.0.0.1").as_deref(), Some("10.0.0.1"));
    assert_eq!(v4("10").as_deref(), Some("0.0.0.10"));
    assert_eq!(v4("1.2.65535").as_deref(), Some("1.2.255.255"));
    assert_eq!(v4("1.2.65536"), None);
    assert_eq!(v4("256.1.1.1"), None);
    assert_eq!(v4("08.1.1.1"), None);
    assert_eq!(v4("1..1"), None);
    assert_eq!(v4("+1.2.3.4"), None);
    assert_eq!(v4("db1.example.com"), None);
    assert_eq!(v4("1.2.3.4.5"), None);
    assert_eq!(numeric_host("fe80::1%lo"), Some(("fe80::1".parse().unwrap(), Some("lo"))));
    assert_eq!(numeric_host("1.2.3.4%lo"), None);
    assert_eq!(cidr_bits("24", 32), Some(24));
    assert_eq!(cidr_bits("+8", 32), Some(8));
    assert_eq!(cidr_bits("-0", 32), Some(0));
    assert_eq!(cidr_bits("008", 32), Some(8));
    assert_eq!(cidr_bits(" 8", 32), Some(8));
    assert_eq!(cidr_bits("", 32), None);
    assert_eq!(cidr_bits("33", 32), None);
    assert_eq!(cidr_bits("-1", 32), None);
    assert_eq!(cidr_bits("8 ", 32), None);
    assert_eq!(cidr_bits("128", 128), Some(128));
    assert_eq!(cidr_bits("99999999999999999999", 128), None);
    let r = rule("host all all fe80::1%eth0/64 md5");
    assert_eq!(r.address.as_ref().map(|a| a.to_string()).as_deref(), Some("fe80::1%eth0/64"));
    assert_ne!(r.key(), rule("host all all fe80::1/64 md5").key());
    assert_eq!(rule(r#"host all all "" md5"#).address, Some(Address::Hostname(String::new())));
}

#[test]
fn options_are_checked_per_method() {
    let err = |t: &str| Rule::parse(t, Format::PgHba).err();
    assert_eq!(
        err("host all all 1.2.3.4/32 md5 foo=bar"),
        Some(HbaError::UnknownOption("foo".into()))
    );
    assert!(matches!(err("host all all 1.2.3.4/32 md5 map=x"), Some(HbaError::BadOption { .. })));
    assert!(matches!(
        err("host all all 1.2.3.4/32 md5 clientcert=verify-ca"),
        Some(HbaError::BadOption { .. })
    ));
    assert!(matches!(
        err("hostssl all all 1.2.3.4/32 cert clientcert=verify-ca"),
        Some(HbaError::BadOption { .. })
    ));
    assert!(matches!(
        err("hostssl all all 1.2.3.4/32 md5 clientname=XN"),
        Some(HbaError::BadOption { .. })
    ));
    assert!(matches!(
        err("host all all 1.2.3.4/32 ldap ldapserver=x"),
        Some(HbaError::MissingOption { .. })
    ));
    assert!(matches!(
        err("host all all 1.2.3.4/32 ldap ldapprefix=x ldapbasedn=y"),
        Some(HbaError::MissingOption { .. })
    ));
    assert!(matches!(
        err(r#"host all all 1.2.3.4/32 radius radiusservers="a,b" radiussecrets="x,y,z""#),
        Some(HbaError::MissingOption { .. })
    ));
    assert!(matches!(
        err("host all all 1.2.3.4/32 radius radiussecrets=x"),
        Some(HbaError::MissingOption { .. })
    ));
    assert_eq!(err("local all all ident map=m"), None);
    assert_eq!(
        err("hostssl all all 1.2.3.4/32 scram-sha-256 clientcert=verify-full clientname=DN"),
        None
    );
    assert_eq!(err("host all all 1.2.3.4/32 ldap ldapurl=ldap://x/dc=y"), None);
    assert_eq!(
        err("host all all 1.2.3.4/32 radius radiusservers=\"a,b\" radiussecrets=s radiusports=\"1812,1813\""),
        None
    );
    let pool = |t: &str| Rule::parse(t, Format::PoolHba).err();
    assert_eq!(pool("host all all 1.2.3.4/32 pam pamservice=pgpool"), None);
    assert_eq!(pool("host all all 1.2.3.4/32 ldap ldapserver=x backend_use_passwd=1"), None);
    assert_eq!(
        pool("host all all 1.2.3.4/32 md5 map=x"),
        Some(HbaError::UnknownOption("map".into()))
    );
    assert!(matches!(
        pool("host all all 1.2.3.4/32 md5 pamservice=x"),
        Some(HbaError::BadOption { .. })
    ));
}

#[test]
fn token_parse_list() {
    let list = Token::parse_list(r#"db1,"my db",+admins"#).unwrap();
    assert_eq!(values(&list), vec![("db1", false), ("my db", true), ("+admins", false)]);
    assert!(Token::parse_list("a b").is_err());
    assert!(Token::parse_list("").is_err());
    assert_eq!(Address::parse("10.0.0.0/24").unwrap().to_string(), "10.0.0.0/24");
    assert_eq!(Address::parse("10.0.0.1"), Err(HbaError::MissingField("netmask")));
}

#[test]
fn a_line_is_a_few_words() {
    assert!(std::mem::size_of::<Line>() <= 32, "{}", std::mem::size_of::<Line>());
}

#[test]
fn pieces_are_runs_of_the_text_read_and_the_lines_written() {
    let text = "local all all peer\nhost all all 10.0.0.0/8 md5\n# end\n";
    let mut f = HbaFile::parse_borrowed(text, Format::PgHba);
    // Unedited: the text read itself, not a copy.
    let pieces: Vec<&str> = f.pieces().collect();
    assert_eq!(pieces, [text]);
    assert_eq!(pieces[0].as_ptr(), text.as_ptr());
    assert_eq!(
        f.upsert(&rule("host all all 10.0.0.0/8 trust"), Position::End),
        Ok(Change::Updated { line: 2 })
    );
    assert_eq!(
        f.pieces().collect::<Vec<_>>(),
        ["local all all peer\n", "host all all 10.0.0.0/8 trust\n", "# end\n"]
    );
    assert!(f.upsert(&rule("local db u md5"), Position::End).unwrap().is_changed());
    assert_eq!(f.pieces().count(), 4);
    assert_eq!(f.pieces().collect::<String>(), f.to_string());
    assert_eq!(
        f.to_string(),
        "local all all peer\nhost all all 10.0.0.0/8 trust\n# end\nlocal db u md5\n"
    );
}

#[test]
fn rules_matching_reads_only_the_rules_asked_for() {
    let f = pg("local all all peer\nhost a b 10.0.0.0/8 md5\nhost b,a b 10.0.0.0 255.0.0.0 trust\nhost a b samenet md5\n");
    let keys = [
        RuleKey::parse("host a b 10.0.0.0/8", Format::PgHba).unwrap(),
        RuleKey::parse("local all all", Format::PgHba).unwrap(),
    ];
    let found: Vec<(usize, String)> = f.rules_matching(&keys).map(|(n, r)| (n, r.to_string())).collect();
    assert_eq!(
        found,
        [(1, "local all all peer".to_owned()), (2, "host a b 10.0.0.0/8 md5".to_owned())]
    );
    let key = RuleKey::parse("host a,b b 10.0.0.0/8", Format::PgHba).unwrap();
    assert_eq!(f.find(&key).map(|(n, r)| (n, r.method)), Some((3, Method::Trust)));
    // Equal keys have equal digests, whatever the order and repetition of the names.
    let same = RuleKey::parse("host b,a,b b,b 10.0.0.0 255.0.0.0", Format::PgHba).unwrap();
    assert_eq!(same, key);
    assert_eq!(same.digest(), key.digest());
}
