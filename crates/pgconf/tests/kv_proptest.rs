//! Property tests of the key = value engine: parsing then writing gives the same bytes for
//! any input, and random sets and removes change only the lines they must.

use pgconf::kv::{Dialect, KvFile};
use pgconf::pgpool::Pgpool;
use pgconf::postgresql::Postgresql;
use pgconf::repmgr::Repmgr;
use proptest::prelude::*;

const NAMES: &[&str] = &["port", "Port", "wal_level", "ext.opt", "node_id", "delegate_IP", "x"];

fn name() -> impl Strategy<Value = String> {
    prop::sample::select(NAMES).prop_map(str::to_string)
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,5}",
        "-?[0-9]{1,3}(kB|MB|min|s)?",
        "[a-z_][a-z0-9_]{0,8}",
        "[0-9]\\.[0-9]{1,2}",
        // anything on one line, quotes, backslashes and unicode included
        "[^\n\r]{0,12}",
        "[ '\\\\a-zé☃]{0,8}",
    ]
}

/// A token as it may appear in a file.
fn raw_value() -> impl Strategy<Value = String> {
    prop_oneof![
        value().prop_map(|v| if v.chars().all(|c| c.is_ascii_alphanumeric()) {
            v
        } else {
            format!("'{}'", v.replace('\'', "''"))
        }),
        "'[^\n']{0,6}'",
    ]
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        (name(), raw_value(), "[ \t]{0,3}", "( #[^\n]{0,10})?").prop_map(|(n, v, ws, c)| format!("{ws}{n}{ws}={ws}{v}{c}")),
        (name(), raw_value()).prop_map(|(n, v)| format!("{n} {v}")),
        (name(), raw_value(), "[ \t]{0,2}", "(\t+# [a-z ,]{0,12})?").prop_map(|(n, v, ws, c)| format!("#{ws}{n} = {v}{c}")),
        name().prop_map(|n| format!("#{n}=\t\t # no value")),
        "# [^\n]{0,20}",
        "[ \t]{0,4}",
        // garbage: anything without a newline
        "[^\n]{0,30}",
        "include(_dir|_if_exists)? '[a-z.]{1,5}'",
    ]
}

fn file() -> impl Strategy<Value = String> {
    (prop::collection::vec((line(), any::<bool>()), 0..14), any::<bool>()).prop_map(|(lines, final_newline)| {
        let mut s = String::new();
        for (i, (l, crlf)) in lines.iter().enumerate() {
            s.push_str(l);
            if i + 1 < lines.len() || final_newline {
                s.push_str(if *crlf { "\r\n" } else { "\n" });
            }
        }
        s
    })
}

#[derive(Debug, Clone)]
enum Op {
    Set(String, String),
    Remove(String),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (name(), value()).prop_map(|(n, v)| Op::Set(n, v)),
        1 => name().prop_map(Op::Remove),
    ]
}

/// Whether `line`, alone, is an active or commented-out setting of `name`.
fn belongs<D: Dialect>(line: &str, name: &str) -> bool {
    let alone = KvFile::<D>::parse(line);
    if alone.get(name).is_some() {
        return true;
    }
    let mut probe = alone.clone();
    probe.set(name, "probe").is_ok() && probe.line_count() == 1
}

/// The lines of `text` without their endings (`\r\n` or `\n`).
fn lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n')
        .map(|l| l.trim_end_matches('\n').trim_end_matches('\r').to_string())
        .collect()
}

fn check_ops<D: Dialect>(text: &str, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut conf = KvFile::<D>::parse(text);
    for op in ops {
        let before = conf.to_string();
        let issues = conf.issues().len();
        let old = lines(&before);
        match op {
            Op::Set(n, v) => {
                let result = conf.set(n, v);
                let after = conf.to_string();
                if result.is_err() {
                    prop_assert_eq!(&after, &before);
                    continue;
                }
                // The value is there, or one that means the same (`port = 5` for 4.6).
                let same = |got: Option<String>| got.is_some_and(|g| D::normalize(n, &g) == D::normalize(n, v));
                prop_assert!(same(conf.get(n)), "{:?} != {:?}", conf.get(n), v);
                let reparsed = KvFile::<D>::parse(&after);
                prop_assert!(same(reparsed.get(n)));
                prop_assert!(reparsed.issues().len() <= issues, "set made a bad line: {:?}", after);
                let new = lines(&after);
                prop_assert!(new.len() <= old.len() + 1);
                let mut changed = 0;
                for (a, b) in old.iter().zip(&new) {
                    if a != b {
                        prop_assert!(belongs::<D>(a, n), "{:?} does not set {}", a, n);
                        changed += 1;
                    }
                }
                prop_assert!(changed <= 1, "{} lines changed", changed);
            }
            Op::Remove(n) => {
                let result = conf.remove(n);
                let after = conf.to_string();
                if result.is_err() {
                    prop_assert_eq!(&after, &before);
                    continue;
                }
                prop_assert_eq!(conf.get(n), None);
                let new = lines(&after);
                prop_assert_eq!(new.len(), old.len());
                for (a, b) in old.iter().zip(&new) {
                    if a != b {
                        prop_assert!(KvFile::<D>::parse(a).get(n).is_some());
                        prop_assert_eq!(&b.replacen('#', "", 1), a);
                    }
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_text_round_trips(text in "(?s).{0,200}") {
        prop_assert_eq!(KvFile::<Postgresql>::parse(&text).to_string(), text.clone());
        prop_assert_eq!(KvFile::<Pgpool>::parse(&text).to_string(), text.clone());
        prop_assert_eq!(KvFile::<Repmgr>::parse(&text).to_string(), text);
    }

    #[test]
    fn config_like_text_round_trips(text in file()) {
        prop_assert_eq!(KvFile::<Postgresql>::parse(&text).to_string(), text.clone());
        prop_assert_eq!(KvFile::<Pgpool>::parse(&text).to_string(), text.clone());
        prop_assert_eq!(KvFile::<Repmgr>::parse(&text).to_string(), text);
    }

    #[test]
    fn edits_touch_only_their_lines_postgresql(text in file(), ops in prop::collection::vec(op(), 1..6)) {
        check_ops::<Postgresql>(&text, &ops)?;
    }

    #[test]
    fn edits_touch_only_their_lines_pgpool(text in file(), ops in prop::collection::vec(op(), 1..6)) {
        check_ops::<Pgpool>(&text, &ops)?;
    }

    #[test]
    fn edits_touch_only_their_lines_repmgr(text in file(), ops in prop::collection::vec(op(), 1..6)) {
        check_ops::<Repmgr>(&text, &ops)?;
    }
}
