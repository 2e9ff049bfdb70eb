//! Property tests for the colon-separated files (.pgpass, .pcppass, pool_passwd, pcp.conf):
//! any text reads back byte for byte; random upserts and removals change only the lines they
//! report; `.pgpass` lookups agree with a plain model of libpq's rule.

use pgconf::pcp::PcpConf;
use pgconf::pgpass::{Change, PassEntry, PassFile, PassFormat};
use pgconf::pool_passwd::PoolPasswd;
use proptest::prelude::*;

fn physical(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

fn trim_nl(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

/// Checks that `after` differs from `before` only as `change` says (every logical line is one
/// physical line in these formats).
fn check_edit(before: &str, after: &str, change: &Change) -> Result<(), TestCaseError> {
    let b = physical(before);
    let a = physical(after);
    match change {
        Change::Unchanged => prop_assert_eq!(before, after),
        Change::Added { line } => {
            let i = line - 1;
            prop_assert_eq!(a.len(), b.len() + 1);
            for k in 0..i {
                if k + 1 == b.len() && i == b.len() {
                    prop_assert_eq!(trim_nl(a[k]), trim_nl(b[k]));
                } else {
                    prop_assert_eq!(a[k], b[k]);
                }
            }
            prop_assert_eq!(&a[i + 1..], &b[i..]);
        }
        Change::Updated { line } => {
            let i = line - 1;
            prop_assert_eq!(a.len(), b.len());
            for k in (0..a.len()).filter(|k| *k != i) {
                prop_assert_eq!(a[k], b[k]);
            }
        }
        Change::Moved { from, to } => {
            // The entry left line `from` and stands, rewritten, at line `to` (< from).
            let (from, to) = (*from, *to);
            prop_assert!(to < from);
            prop_assert_eq!(a.len(), b.len());
            prop_assert_eq!(&a[..to - 1], &b[..to - 1]);
            prop_assert_eq!(&a[to..from], &b[to - 1..from - 1]);
            prop_assert_eq!(&a[from..], &b[from..]);
        }
        Change::Removed { lines } => {
            let expected: Vec<&str> = b
                .iter()
                .enumerate()
                .filter(|(k, _)| !lines.contains(&(k + 1)))
                .map(|(_, l)| *l)
                .collect();
            prop_assert_eq!(a, expected);
        }
    }
    Ok(())
}

fn file_of(lines: Vec<String>, crlf: bool, final_nl: bool) -> String {
    let nl = if crlf { "\r\n" } else { "\n" };
    let mut text = lines.join(nl);
    if final_nl && !text.is_empty() {
        text.push_str(nl);
    }
    text
}

const HOSTS: &[&str] = &["*", "localhost", "10.0.0.1", "h:x", "#h", "back\\slash"];
const PORTS: &[&str] = &["*", "5432", "9898"];
const DBS: &[&str] = &["*", "postgres", "replication"];
const USERS: &[&str] = &["*", "repl", "pgpool", "u:1"];

fn entry(format: PassFormat) -> impl Strategy<Value = PassEntry> {
    (
        prop::sample::select(HOSTS),
        prop::sample::select(PORTS),
        prop::sample::select(DBS),
        prop::sample::select(USERS),
        "[ -~]{0,12}",
    )
        .prop_map(move |(h, p, d, u, pw)| match format {
            PassFormat::PgPass => PassEntry::pgpass(h, p, d, u, &pw),
            PassFormat::PcpPass => PassEntry::pcppass(h, p, u, &pw),
        })
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace(':', "\\:")
}

fn pass_line(format: PassFormat) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => entry(format).prop_map(move |e| {
            let mut fields = vec![escape(&e.host), escape(&e.port)];
            if let Some(d) = &e.database { fields.push(escape(d)); }
            fields.push(escape(&e.user));
            fields.push(escape(&e.password));
            let mut line = fields.join(":");
            if line.starts_with('#') { line.insert(0, '\\'); }
            line
        }),
        1 => "#[ -~]{0,20}",
        1 => "[ \t]{0,3}",
        2 => "[ -~éß😀]{0,30}",
    ]
}

fn format() -> impl Strategy<Value = PassFormat> {
    prop::sample::select(vec![PassFormat::PgPass, PassFormat::PcpPass])
}

/// libpq's rule on parsed entries: the first entry whose fields are `*` or equal.
fn model_lookup(f: &PassFile, host: &str, port: &str, db: &str, user: &str) -> Option<String> {
    let ok = |field: &str, value: &str| field == "*" || field == value;
    f.entries()
        .map(|(_, e)| e)
        .find(|e| ok(&e.host, host) && ok(&e.port, port) && e.database.as_deref().is_none_or(|d| ok(d, db)) && ok(&e.user, user))
        .map(|e| e.password.clone())
}

/// Text made of lines that look like the files' own (entries, comments, blanks, garbage) or
/// anything at all, each ended by LF, CR LF, a lone CR or nothing.
fn line_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z*#\\\\:]{0,6}:[0-9*]{0,4}:[a-z*]{0,4}:[a-z:]{0,4}:[ -~]{0,8}",
        "[a-z]{1,6}:[0-9a-f]{32}",
        "#[ -~]{0,10}",
        "[ \t]{0,3}",
        "(?s).{0,12}",
    ];
    let ending = prop::sample::select(vec!["\n", "\r\n", "\r", ""]);
    prop::collection::vec((piece, ending), 0..10).prop_map(|v| v.into_iter().map(|(p, e)| format!("{p}{e}")).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Parse then write gives the same bytes, for all four formats, over multi-line text.
    #[test]
    fn every_line_format_round_trips(text in prop_oneof!["(?s).{0,200}".boxed(), line_text().boxed()]) {
        prop_assert_eq!(PassFile::parse(&text, PassFormat::PgPass).to_string(), text.clone());
        prop_assert_eq!(PassFile::parse(&text, PassFormat::PcpPass).to_string(), text.clone());
        prop_assert_eq!(PoolPasswd::parse(&text).to_string(), text.clone());
        prop_assert_eq!(PcpConf::parse(&text).to_string(), text);
    }

    #[test]
    fn pass_files_round_trip(text in "\\PC{0,200}", fmt in format()) {
        prop_assert_eq!(PassFile::parse(&text, fmt).to_string(), text);
    }

    #[test]
    fn pass_file_edits(
        fmt in format(),
        lines in prop::collection::vec(pass_line(PassFormat::PgPass), 0..12),
        crlf in any::<bool>(),
        final_nl in any::<bool>(),
        ops in prop::collection::vec((any::<bool>(), entry(PassFormat::PgPass)), 1..8),
    ) {
        let text = file_of(lines, crlf && fmt == PassFormat::PgPass, final_nl);
        let mut f = PassFile::parse(&text, fmt);
        for (upsert, e) in ops {
            let e = match fmt {
                PassFormat::PgPass => e,
                PassFormat::PcpPass => PassEntry { database: None, ..e },
            };
            let before = f.to_string();
            let change = if upsert { f.upsert(&e).unwrap() } else { f.remove(&e) };
            check_edit(&before, &f.to_string(), &change)?;
            if upsert {
                prop_assert_eq!(f.find(&e).map(|(_, x)| x.password.clone()), Some(e.password.clone()));
                // Whatever wildcard lines exist, libpq now finds the new password for exactly
                // this connection (if it names no wildcard itself).
                if [&e.host, &e.port, &e.user].iter().all(|v| *v != "*") && e.database.as_deref() != Some("*") && !e.host.is_empty() {
                    let db = e.database.clone().unwrap_or_default();
                    prop_assert_eq!(f.lookup(&e.host, &e.port, &db, &e.user), Some(e.password.clone()));
                }
                prop_assert_eq!(f.upsert(&e), Ok(Change::Unchanged));
            } else {
                prop_assert!(f.find(&e).is_none());
            }
            let again = PassFile::parse(&f.to_string(), fmt);
            prop_assert_eq!(again.entries().count(), f.entries().count());
        }
    }

    #[test]
    fn pgpass_lookup_matches_model(
        lines in prop::collection::vec(pass_line(PassFormat::PgPass), 0..12),
        crlf in any::<bool>(),
        host in prop::sample::select(HOSTS),
        port in prop::sample::select(PORTS),
        db in prop::sample::select(DBS),
        user in prop::sample::select(USERS),
    ) {
        let f = PassFile::parse(&file_of(lines, crlf, true), PassFormat::PgPass);
        prop_assert_eq!(f.lookup(host, port, db, user), model_lookup(&f, host, port, db, user));
    }

    #[test]
    fn pool_passwd_round_trip_and_edits(
        text in "\\PC{0,200}",
        lines in prop::collection::vec(prop_oneof![
            3 => ("[a-z:]{1,6}", prop::sample::select(vec!["md5", "AES", "TEXT", ""]), "[ -~]{1,20}")
                .prop_map(|(u, k, s)| format!("{}:{k}{}", escape(&u), escape(&s))),
            1 => "#[ -~]{0,10}",
            1 => "[ -~]{0,20}",
        ], 0..10),
        crlf in any::<bool>(),
        final_nl in any::<bool>(),
        ops in prop::collection::vec((any::<bool>(), "[a-z:]{1,6}", "(md5|AES|TEXT)?[ -~]{1,20}"), 1..8),
    ) {
        prop_assert_eq!(PoolPasswd::parse(&text).to_string(), text);
        let mut f = PoolPasswd::parse(&file_of(lines, crlf, final_nl));
        for (upsert, user, secret) in ops {
            let before = f.to_string();
            let change = if upsert { f.upsert(&user, &secret).unwrap() } else { f.remove(&user) };
            check_edit(&before, &f.to_string(), &change)?;
            if upsert {
                prop_assert_eq!(f.get(&user).map(|e| e.secret.clone()), Some(secret.clone()));
                prop_assert_eq!(f.upsert(&user, &secret), Ok(Change::Unchanged));
            } else {
                prop_assert!(f.get(&user).is_none());
            }
            let again = PoolPasswd::parse(&f.to_string());
            prop_assert_eq!(again.entries().count(), f.entries().count());
        }
    }

    #[test]
    fn pcp_conf_round_trip_and_edits(
        text in "\\PC{0,200}",
        lines in prop::collection::vec(prop_oneof![
            3 => ("[a-z]{1,6}", "[0-9a-f]{32}").prop_map(|(u, h)| format!("{u}:{h}")),
            1 => "#[ -~]{0,10}",
            1 => "[ -~]{0,20}",
        ], 0..10),
        final_nl in any::<bool>(),
        ops in prop::collection::vec((any::<bool>(), "[a-z]{1,6}", "[0-9a-f]{32}"), 1..8),
    ) {
        prop_assert_eq!(PcpConf::parse(&text).to_string(), text);
        let mut f = PcpConf::parse(&file_of(lines, false, final_nl));
        for (upsert, user, hash) in ops {
            let before = f.to_string();
            let change = if upsert { f.upsert(&user, &hash).unwrap() } else { f.remove(&user) };
            check_edit(&before, &f.to_string(), &change)?;
            if upsert {
                prop_assert_eq!(f.get(&user).map(|e| e.hash.clone()), Some(hash.clone()));
                prop_assert_eq!(f.upsert(&user, &hash), Ok(Change::Unchanged));
            } else {
                prop_assert!(f.get(&user).is_none());
            }
        }
    }
}
