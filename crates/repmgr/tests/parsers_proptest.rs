//! Property tests of the repmgr output parsers: what repmgr prints (formatted here exactly as
//! its C code prints it) parses back to the same values, and no input makes a parser panic.

use proptest::prelude::*;
use repmgr::output::*;

fn level() -> impl Strategy<Value = &'static str> {
    prop::sample::select(LEVELS)
}

/// A message line as repmgr prints it: no newline, no surrounding spaces.
fn message() -> impl Strategy<Value = String> {
    "[^\n\r]{0,30}".prop_map(|s| s.trim().to_string())
}

fn recovery() -> impl Strategy<Value = Recovery> {
    prop_oneof![Just(Recovery::Primary), Just(Recovery::Standby), Just(Recovery::Unknown)]
}

proptest! {
    #[test]
    fn log_round_trips(entries in prop::collection::vec((level(), message(), prop::collection::vec("[A-Za-z0-9/\"'._=-][^\n\r]{0,10}", 0..3)), 0..8)) {
        let mut text = String::new();
        for (l, m, cont) in &entries {
            text.push_str(&format!("{l}: {m}\n"));
            for c in cont {
                text.push_str(&format!("  {c}\n"));
            }
        }
        let parsed = parse_log(&text);
        prop_assert_eq!(parsed.len(), entries.len());
        for (p, (l, m, cont)) in parsed.iter().zip(&entries) {
            prop_assert_eq!(&p.level, l);
            let mut want = m.clone();
            for c in cont {
                if !want.is_empty() {
                    want.push('\n');
                }
                want.push_str(c.trim());
            }
            prop_assert_eq!(&p.text, &want);
        }
        // Every ERROR becomes one problem.
        let errors = entries.iter().filter(|(l, _, _)| matches!(*l, "ERROR" | "CRITICAL" | "ALERT" | "EMERGENCY")).count();
        prop_assert_eq!(problems(&parsed).len(), errors);
    }

    #[test]
    fn log_takes_anything(text in "(?s).{0,300}") {
        let parsed = parse_log(&text);
        for p in &parsed {
            prop_assert!(p.level == "OUTPUT" || LEVELS.contains(&p.level.as_str()));
        }
        let _ = problems(&parsed);
    }

    #[test]
    fn cluster_show_round_trips(rows in prop::collection::vec((1..100_000i32, any::<bool>(), recovery()), 0..10)) {
        let text: String = rows
            .iter()
            .map(|(id, up, rec)| {
                let r = match rec { Recovery::Primary => 0, Recovery::Standby => 1, Recovery::Unknown => -1 };
                format!("{},{},{}\n", id, if *up { 0 } else { -1 }, r)
            })
            .collect();
        let parsed = parse_cluster_show(&text).unwrap();
        prop_assert_eq!(parsed.len(), rows.len());
        for (p, (id, up, rec)) in parsed.iter().zip(&rows) {
            prop_assert_eq!((p.node_id, p.connected, p.recovery), (*id, *up, *rec));
        }
    }

    #[test]
    fn cluster_show_takes_anything(text in "(?s).{0,200}") {
        let _ = parse_cluster_show(&text);
    }

    #[test]
    fn service_status_round_trips(rows in prop::collection::vec((
        1..100_000i32,
        "[a-z ,_-]{1,12}",
        prop::sample::select(NODE_TYPES),
        any::<bool>(),
        -1..=1i32,
        prop_oneof![Just(-1i32), 1..4_000_000i32],
        -1..=1i32,
        0..1000i32,
        -1..100i32,
        "[a-z0-9 ,_-]{0,12}",
    ), 0..6)) {
        let text: String = rows
            .iter()
            .map(|(id, name, t, pg, run, pid, paused, prio, seen, loc)| {
                format!("{},{},{},{},{},{},{},{},{},{}\n", id, name, t, i32::from(*pg), run, pid, paused, prio, seen, loc)
            })
            .collect();
        let parsed = parse_service_status(&text).unwrap();
        prop_assert_eq!(parsed.len(), rows.len());
        for (p, (id, name, t, pg, run, pid, paused, prio, seen, loc)) in parsed.iter().zip(&rows) {
            prop_assert_eq!(p.node_id, *id);
            prop_assert_eq!(&p.node_name, name);
            prop_assert_eq!(p.node_type.as_str(), *t);
            prop_assert_eq!(p.pg_running, *pg);
            prop_assert_eq!(p.repmgrd_running, match run { 1 => Some(true), 0 => Some(false), _ => None });
            prop_assert_eq!(p.repmgrd_pid, (*pid > 0).then_some(*pid));
            prop_assert_eq!(p.paused, match paused { 1 => Some(true), 0 => Some(false), _ => None });
            prop_assert_eq!(p.priority, *prio);
            prop_assert_eq!(p.upstream_last_seen, (*seen >= 0).then_some(*seen));
            prop_assert_eq!(&p.location, loc);
        }
    }

    #[test]
    fn service_status_takes_anything(text in "(?s).{0,200}") {
        let _ = parse_service_status(&text);
    }

    #[test]
    fn node_status_round_trips(rows in prop::collection::vec(("[A-Za-z_ ]{1,20}", prop_oneof![
        "[^\"\n\r]{0,30}".prop_map(|v| (format!("\"{v}\""), v)),
        (0..100i32).prop_map(|n| (n.to_string(), n.to_string())),
    ]), 0..10)) {
        let text: String = rows.iter().map(|(k, (printed, _))| format!("\"{k}\",{printed}\n")).collect();
        let parsed = parse_node_status(&text).unwrap();
        prop_assert_eq!(parsed.len(), rows.len());
        for ((k, v), (key, (_, value))) in parsed.iter().zip(&rows) {
            prop_assert_eq!(k, key);
            prop_assert_eq!(v, value);
        }
    }

    #[test]
    fn node_status_takes_anything(text in "(?s).{0,200}") {
        let _ = parse_node_status(&text);
    }

    #[test]
    fn controldata_round_trips(hints in any::<bool>(), checksum in 0..3u32, state in "[a-z ]{1,20}", extra in prop::collection::vec(("[A-Za-z][A-Za-z ]{0,20}[A-Za-z]", "[^\n\r]{0,20}"), 0..5)) {
        let mut text = format!("Database cluster state:               {}\n", state.trim());
        for (k, v) in &extra {
            text.push_str(&format!("{k}:   {v}\n"));
        }
        text.push_str(&format!("wal_log_hints setting:                {}\n", if hints { "on" } else { "off" }));
        text.push_str(&format!("Data page checksum version:           {checksum}\n"));
        let pairs = parse_controldata(&text);
        prop_assert_eq!(pairs.len(), extra.len() + 3);
        let r = RewindReadiness::from_controldata(&text);
        prop_assert_eq!(r.wal_log_hints, hints);
        prop_assert_eq!(r.data_checksums, checksum > 0);
        prop_assert_eq!(r.possible(), hints || checksum > 0);
        prop_assert_eq!(r.cluster_state.as_deref(), Some(state.trim()).filter(|s| !s.is_empty()));
    }

    #[test]
    fn controldata_takes_anything(text in "(?s).{0,200}") {
        let _ = RewindReadiness::from_controldata(&text);
    }
}
