//! The stock files shipped with PostgreSQL 15 (Debian) and Pgpool-II 4.3: read back byte for
//! byte, and edited the way the roles edit them.

use pgconf::hba::{Change, ConnectionType, Format, HbaError, HbaFile, Method, Position, Rule, RuleKey};

const PG_SAMPLE: &str = include_str!("fixtures/hba/pg_hba.conf.sample");
const PG_DEBIAN: &str = include_str!("fixtures/hba/debian-15-main-pg_hba.conf");
const POOL_SAMPLE: &str = include_str!("fixtures/pool/pool_hba.conf.sample");

/// The lines of `after` that are not in `before`, and the reverse (a crude line diff that is
/// enough to show an edit touched only what it should).
fn line_diff(before: &str, after: &str) -> (Vec<String>, Vec<String>) {
    let b: Vec<&str> = before.split_inclusive('\n').collect();
    let a: Vec<&str> = after.split_inclusive('\n').collect();
    let added = a.iter().filter(|l| !b.contains(l)).map(|l| l.to_string()).collect();
    let removed = b.iter().filter(|l| !a.contains(l)).map(|l| l.to_string()).collect();
    (added, removed)
}

#[test]
fn stock_files_round_trip() {
    for (text, format) in [
        (PG_SAMPLE, Format::PgHba),
        (PG_DEBIAN, Format::PgHba),
        (POOL_SAMPLE, Format::PoolHba),
    ] {
        assert_eq!(HbaFile::parse(text, format).to_string(), text);
    }
}

#[test]
fn debian_file_reads_as_postgres_does() {
    let f = HbaFile::parse(PG_DEBIAN, Format::PgHba);
    assert!(f.issues().is_empty(), "{:?}", f.issues());
    let rules: Vec<String> = f.rules().map(|(_, r)| r.to_string()).collect();
    assert_eq!(
        rules,
        [
            "local all postgres peer",
            "local all all peer",
            "host all all 127.0.0.1/32 scram-sha-256",
            "host all all ::1/128 scram-sha-256",
            "local replication all peer",
            "host replication all 127.0.0.1/32 scram-sha-256",
            "host replication all ::1/128 scram-sha-256",
        ]
    );
    let first = f.rules().next().map(|(n, _)| n).unwrap();
    assert_eq!(
        PG_DEBIAN.lines().nth(first - 1).unwrap().trim_end(),
        "local   all             postgres                                peer"
    );
}

#[test]
fn sample_template_lines_are_kept_and_reported() {
    // The build-time sample still has @placeholders@: those lines are invalid, reported with
    // their numbers and kept.
    let f = HbaFile::parse(PG_SAMPLE, Format::PgHba);
    let issues = f.issues();
    assert!(!issues.is_empty());
    for issue in &issues {
        let line = PG_SAMPLE.lines().nth(issue.line - 1).unwrap();
        assert!(line.contains('@'), "line {}: {line}", issue.line);
    }
    assert_eq!(f.to_string(), PG_SAMPLE);
}

#[test]
fn cluster_rules_are_added_in_stock_columns() {
    let mut f = HbaFile::parse(PG_DEBIAN, Format::PgHba);
    for text in ["host all all samenet scram-sha-256", "host replication all samenet scram-sha-256"] {
        let rule = Rule::parse(text, Format::PgHba).unwrap();
        assert!(matches!(f.upsert(&rule, Position::End), Ok(Change::Added { .. })));
        assert_eq!(f.upsert(&rule, Position::End), Ok(Change::Unchanged));
    }
    let after = f.to_string();
    assert!(after.starts_with(PG_DEBIAN));
    let (added, removed) = line_diff(PG_DEBIAN, &after);
    assert!(removed.is_empty());
    assert_eq!(
        added,
        [
            "host    all             all             samenet                 scram-sha-256\n",
            "host    replication     all             samenet                 scram-sha-256\n",
        ]
    );
    // Reading the result again gives the same rules.
    let again = HbaFile::parse(&after, Format::PgHba);
    assert_eq!(again.rules().count(), 9);
    assert!(again.issues().is_empty());
}

#[test]
fn method_change_touches_one_line() {
    let mut f = HbaFile::parse(PG_DEBIAN, Format::PgHba);
    let rule = Rule::parse("host all all 127.0.0.1/32 md5", Format::PgHba).unwrap();
    let change = f.upsert(&rule, Position::End).unwrap();
    let Change::Updated { line } = change else {
        panic!("expected an update, got {change:?}")
    };
    let after = f.to_string();
    let (added, removed) = line_diff(PG_DEBIAN, &after);
    assert_eq!(added, ["host    all             all             127.0.0.1/32            md5\n"]);
    assert_eq!(
        removed,
        ["host    all             all             127.0.0.1/32            scram-sha-256\n"]
    );
    assert_eq!(after.lines().nth(line - 1).unwrap(), added[0].trim_end());
}

#[test]
fn rule_before_first_reject_and_at_beginning() {
    let text = format!("{PG_DEBIAN}host    all             all             0.0.0.0/0               reject\n");
    let mut f = HbaFile::parse(&text, Format::PgHba);
    let rule = Rule::parse("host all pgpool 10.0.0.0/24 scram-sha-256", Format::PgHba).unwrap();
    let Ok(Change::Added { line }) = f.upsert(&rule, Position::BeforeFirstReject) else {
        panic!("expected an insertion")
    };
    let after = f.to_string();
    let lines: Vec<&str> = after.lines().collect();
    assert_eq!(
        lines[line - 1],
        "host    all             pgpool          10.0.0.0/24             scram-sha-256"
    );
    assert!(lines[line].ends_with("reject"));
    let rules: Vec<Method> = f.rules().map(|(_, r)| r.method).collect();
    assert_eq!(rules[rules.len() - 2], Method::ScramSha256);

    let mut f = HbaFile::parse(PG_DEBIAN, Format::PgHba);
    let rule = Rule::parse("local all admin reject", Format::PgHba).unwrap();
    assert!(f.upsert(&rule, Position::Beginning).unwrap().is_changed());
    let (_, first) = f.rules().next().unwrap();
    assert_eq!(first.connection, ConnectionType::Local);
    assert_eq!(first.method, Method::Reject);
    let (added, removed) = line_diff(PG_DEBIAN, &f.to_string());
    assert_eq!(added.len(), 1);
    assert!(removed.is_empty());
}

#[test]
fn remove_a_stock_rule() {
    let mut f = HbaFile::parse(PG_DEBIAN, Format::PgHba);
    let key = RuleKey::parse("host replication all ::1/128", Format::PgHba).unwrap();
    assert!(f.remove(&key).is_changed());
    let (added, removed) = line_diff(PG_DEBIAN, &f.to_string());
    assert!(added.is_empty());
    assert_eq!(
        removed,
        ["host    replication     all             ::1/128                 scram-sha-256\n"]
    );
}

#[test]
fn pool_sample_reads_and_edits() {
    let mut f = HbaFile::parse(POOL_SAMPLE, Format::PoolHba);
    assert!(f.issues().is_empty());
    assert_eq!(f.rules().count(), 3);
    for text in ["host all pgpool samenet scram-sha-256", "host all postgres samenet scram-sha-256"] {
        let rule = Rule::parse(text, Format::PoolHba).unwrap();
        assert!(f.upsert(&rule, Position::End).unwrap().is_changed());
    }
    let after = f.to_string();
    assert!(after.starts_with(POOL_SAMPLE));
    assert!(after.ends_with(
        "host    all         pgpool      samenet               scram-sha-256\nhost    all         postgres    samenet               scram-sha-256\n"
    ));
    // pool_hba.conf takes neither peer nor hostgssenc.
    assert!(matches!(
        Rule::parse("local all all peer", Format::PoolHba),
        Err(HbaError::MethodNotAllowed { .. })
    ));
}
