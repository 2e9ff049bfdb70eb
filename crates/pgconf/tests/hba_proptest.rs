//! Property tests for pg_hba.conf / pool_hba.conf: any text reads back byte for byte, and
//! random edits change only the lines they report.

use pgconf::hba::{Change, Format, HbaFile, Position, Rule, RuleKey};
use proptest::prelude::*;

const CONN: &[&str] = &["local", "host", "hostssl", "hostnossl"];
const DBS: &[&str] = &["all", "db1", "db1,db2", "replication", "\"all\"", "\"my db\""];
const USERS: &[&str] = &["all", "u1", "u1,u2", "+admins", "\"x,y\""];
const ADDRS: &[&str] = &[
    "10.0.0.0/24",
    "10.0.0.0 255.255.255.0",
    "samenet",
    "::1/128",
    "h.example.com",
    "all",
];
const METHODS: &[&str] = &[
    "trust",
    "reject",
    "md5",
    "scram-sha-256",
    "ldap ldapserver=ldap.example.com",
    "pam pamservice=\"pg pool\"",
];

fn rule_text() -> impl Strategy<Value = String> {
    (0..CONN.len(), 0..DBS.len(), 0..USERS.len(), 0..ADDRS.len(), 0..METHODS.len()).prop_map(|(c, d, u, a, m)| {
        if CONN[c] == "local" {
            format!("{} {} {} {}", CONN[c], DBS[d], USERS[u], METHODS[m])
        } else {
            format!("{} {} {} {} {}", CONN[c], DBS[d], USERS[u], ADDRS[a], METHODS[m])
        }
    })
}

/// A rule line written with random separators and maybe a comment or a continuation.
fn rule_line() -> impl Strategy<Value = String> {
    (
        rule_text(),
        prop::sample::select(vec![" ", "  ", "\t", " \t ", "        "]),
        prop::option::of("[ \t]{0,3}#[ -~]{0,10}"),
        any::<bool>(),
    )
        .prop_map(|(text, sep, comment, continued)| {
            let mut line = text.split(' ').collect::<Vec<_>>().join(sep);
            if continued {
                if let Some(pos) = line.find(sep) {
                    line.replace_range(pos..pos + sep.len(), " \\\n  ");
                }
            }
            if let Some(c) = comment {
                line.push_str(&c);
            }
            line
        })
}

fn any_line() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => rule_line(),
        1 => "#[ -~]{0,30}",
        1 => "[ \t]{0,4}",
        2 => "[ -~\t\"#,\\\\éß€😀]{0,40}",
        1 => "(include|include_if_exists|include_dir) [a-z./]{1,10}",
        1 => "[a-z \"\\\\]{0,20}\\\\",
    ]
}

fn file_text() -> impl Strategy<Value = String> {
    (prop::collection::vec(any_line(), 0..20), any::<bool>(), any::<bool>()).prop_map(|(lines, crlf, final_nl)| {
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut text = lines.join(nl).replace('\n', nl).replace("\r\r\n", "\r\n");
        if final_nl && !text.is_empty() {
            text.push_str(nl);
        }
        text
    })
}

#[derive(Debug, Clone)]
enum Op {
    Upsert(String, Position),
    Remove(String),
    /// Change the method of the n-th rule of the file (modulo the count).
    Rewrite(usize, usize),
    /// Remove the n-th rule of the file by its key.
    RemoveExisting(usize),
}

fn position() -> impl Strategy<Value = Position> {
    prop::sample::select(vec![Position::End, Position::Beginning, Position::BeforeFirstReject])
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (rule_text(), position()).prop_map(|(r, p)| Op::Upsert(r, p)),
        1 => rule_text().prop_map(Op::Remove),
        2 => (any::<usize>(), 0..METHODS.len()).prop_map(|(i, m)| Op::Rewrite(i, m)),
        1 => any::<usize>().prop_map(Op::RemoveExisting),
    ]
}

fn physical(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

fn without_nl(line: &str) -> &str {
    line.strip_suffix('\n').unwrap_or(line)
}

/// Whether `sub` is `full` with some lines deleted (order kept).
fn is_subsequence(sub: &[&str], full: &[&str]) -> bool {
    let mut it = full.iter();
    sub.iter().all(|s| it.any(|f| f == s))
}

fn check_edit(before: &str, after: &str, change: &Change) {
    let b = physical(before);
    let a = physical(after);
    match change {
        Change::Unchanged => assert_eq!(before, after),
        Change::Added { line } => {
            let i = line - 1;
            assert_eq!(a.len(), b.len() + 1);
            for k in 0..i {
                if k + 1 == b.len() && i == b.len() {
                    // The old last line may have gained its line break.
                    assert_eq!(without_nl(a[k]).trim_end_matches('\r'), without_nl(b[k]).trim_end_matches('\r'));
                } else {
                    assert_eq!(a[k], b[k], "line {} changed", k + 1);
                }
            }
            assert_eq!(&a[i + 1..], &b[i..]);
        }
        Change::Updated { line } => {
            let i = line - 1;
            assert_eq!(&a[..i], &b[..i]);
            let after_count = a.len() - i - 1;
            assert_eq!(&a[i + 1..], &b[b.len() - after_count..]);
        }
        Change::Moved { .. } => panic!("pg_hba edits never move a rule"),
        Change::Removed { lines } => {
            assert!(!lines.is_empty());
            assert!(a.len() < b.len());
            assert!(is_subsequence(&a, &b));
            for l in lines {
                assert!(!a.contains(&b[l - 1]) || b.iter().filter(|x| **x == b[l - 1]).count() > 1);
            }
        }
    }
}

fn rules_of(f: &HbaFile) -> Vec<(usize, Rule)> {
    f.rules().map(|(n, r)| (n, r.clone())).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_round_trips(text in file_text(), pool in any::<bool>()) {
        let format = if pool { Format::PoolHba } else { Format::PgHba };
        let f = HbaFile::parse(&text, format);
        prop_assert_eq!(f.to_string(), text);
    }

    #[test]
    fn any_bytes_round_trip(text in "\\PC{0,200}", pool in any::<bool>()) {
        let format = if pool { Format::PoolHba } else { Format::PgHba };
        prop_assert_eq!(HbaFile::parse(&text, format).to_string(), text);
    }

    #[test]
    fn edits_touch_only_their_lines(text in file_text(), ops in prop::collection::vec(op(), 1..6), pool in any::<bool>()) {
        let format = if pool { Format::PoolHba } else { Format::PgHba };
        let mut f = HbaFile::parse(&text, format);
        for op in ops {
            let before = f.to_string();
            let before_rules = rules_of(&f);
            let op = match op {
                Op::Rewrite(i, m) if !before_rules.is_empty() => {
                    let (_, mut rule) = before_rules[i % before_rules.len()].clone();
                    let with_method = if rule.connection == pgconf::hba::ConnectionType::Local {
                        format!("local all all {}", METHODS[m])
                    } else {
                        format!("host all all all {}", METHODS[m])
                    };
                    let Ok(template) = Rule::parse(&with_method, format) else { continue };
                    rule.method = template.method;
                    rule.options = template.options;
                    Op::Upsert(rule.to_string(), Position::End)
                }
                Op::RemoveExisting(i) if !before_rules.is_empty() => {
                    Op::Remove(before_rules[i % before_rules.len()].1.to_string())
                }
                Op::Rewrite(..) | Op::RemoveExisting(_) => continue,
                op => op,
            };
            match op {
                Op::Upsert(text, position) => {
                    let Ok(rule) = Rule::parse(&text, format) else { continue };
                    match f.upsert(&rule, position) {
                        Ok(change) => {
                            let after = f.to_string();
                            check_edit(&before, &after, &change);
                            // The rule is now in force, and a second run changes nothing.
                            prop_assert!(f.find(&rule.key()).is_some_and(|(_, r)| r.method == rule.method));
                            prop_assert_eq!(f.upsert(&rule, position), Ok(Change::Unchanged));
                        }
                        Err(_) => prop_assert_eq!(f.to_string(), before),
                    }
                }
                Op::Rewrite(..) | Op::RemoveExisting(_) => unreachable!(),
                Op::Remove(text) => {
                    let Ok(key) = RuleKey::parse(&text, format) else { continue };
                    let change = f.remove(&key);
                    let after = f.to_string();
                    check_edit(&before, &after, &change);
                    let expected: Vec<Rule> = before_rules.iter().filter(|(_, r)| r.key() != key).map(|(_, r)| r.clone()).collect();
                    if change.is_changed() {
                        prop_assert_eq!(rules_of(&f).into_iter().map(|(_, r)| r).collect::<Vec<_>>(), expected);
                    }
                    prop_assert!(f.find(&key).is_none() || !change.is_changed());
                }
            }
            // What is in memory is what a fresh read of the text gives.
            let again = HbaFile::parse(&f.to_string(), format);
            prop_assert_eq!(rules_of(&again), rules_of(&f));
            prop_assert_eq!(again.issues(), f.issues());
        }
    }
}
