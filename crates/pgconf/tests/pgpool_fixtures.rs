//! Pgpool-II 4.3.5's stock pgpool.conf sample (Debian's /usr/share/doc/pgpool2/examples,
//! identical to /etc/pgpool2/pgpool.conf as installed): round trip, catalog cross-check,
//! and the edits seed 000 makes.

use pgconf::kv::KvFile;
use pgconf::pgpool::{self, Backend, PgpoolConf, PgpoolVersion, WatchdogNode};

const SAMPLE: &str = include_str!("fixtures/pgpool/debian-4.3.5.pgpool.conf.sample");
const V43: PgpoolVersion = PgpoolVersion::new(4, 3);

fn changed_lines(old: &str, new: &str) -> Vec<(String, String)> {
    old.lines()
        .zip(new.lines())
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn sample_round_trips() {
    let conf = PgpoolConf::parse(SAMPLE);
    assert_eq!(conf.to_string(), SAMPLE);
    assert_eq!(conf.issues(), vec![]);
    let crlf = SAMPLE.replace('\n', "\r\n");
    assert_eq!(PgpoolConf::parse(&crlf).to_string(), crlf);
    assert_eq!(conf.get("backend_clustering_mode").as_deref(), Some("streaming_replication"));
}

/// Every key the sample shows, set or commented out, is one Pgpool-II 4.3 reads: the
/// generated catalog and the real sample agree.
#[test]
fn every_sample_key_is_in_the_4_3_catalog() {
    let mut names = Vec::new();
    for line in SAMPLE.lines() {
        // The sample comments defaults out as `#name = value`, prose as `# Text`.
        let body = line.strip_prefix('#').unwrap_or(line);
        if !body.starts_with(|c: char| c.is_ascii_lowercase()) {
            continue;
        }
        // Parse the line uncommented; only settings yield a name.
        for s in PgpoolConf::parse(body).settings() {
            names.push(s.name);
        }
    }
    assert!(names.len() > 150, "{}", names.len());
    let unknown: Vec<_> = names.iter().filter(|n| pgpool::lookup(n, V43).is_none()).collect();
    assert_eq!(unknown, Vec::<&String>::new());
    assert!(names.iter().any(|n| n == "delegate_IP"));
    assert!(pgpool::lookup("delegate_ip", V43).is_none());
}

fn seed_backends() -> Vec<Backend> {
    (1..=3)
        .map(|i| Backend {
            hostname: format!("postgres{i}"),
            port: 5432,
            weight: 1.0,
            data_directory: Some("/data1/pgsql/15/data".into()),
            flag: Some("ALLOW_TO_FAILOVER".into()),
            application_name: Some(format!("postgres{i}")),
        })
        .collect()
}

fn seed_nodes() -> Vec<WatchdogNode> {
    (1..=3)
        .map(|i| WatchdogNode {
            hostname: format!("postgres{i}"),
            wd_port: 9000,
            pgpool_port: 9999,
            heartbeat_hostname: Some(format!("postgres{i}")),
            heartbeat_port: Some(9694),
            heartbeat_device: Some(String::new()),
        })
        .collect()
}

#[test]
fn seed_backends_and_watchdog_on_the_sample() {
    let mut conf = PgpoolConf::parse(SAMPLE);
    let r = conf.set_backends(&seed_backends(), V43).unwrap();
    assert_eq!(r.changes.len(), 18);
    let w = conf.set_watchdog_nodes(&seed_nodes(), V43).unwrap();
    assert!(w.restart_required);
    assert_eq!(w.changes.len(), 18);
    for (name, value) in [
        ("listen_addresses", "*"),
        ("use_watchdog", "on"),
        ("delegate_IP", "10.0.0.180"),
        ("wd_lifecheck_method", "heartbeat"),
        ("wd_interval", "2"),
        ("wd_heartbeat_keepalive", "2"),
        ("wd_heartbeat_deadtime", "6"),
        ("if_up_cmd", "/usr/bin/sudo /sbin/ip addr add $_IP_$/24 dev eth0 label eth0:0"),
        ("arping_cmd", "/usr/bin/sudo /usr/bin/arping -U $_IP_$ -w 1 -I eth0"),
    ] {
        let a = conf.set_checked(name, value, V43).unwrap();
        assert!(a.edit.changed && a.warnings.is_empty(), "{name}");
    }
    let after = conf.to_string();
    assert_eq!(PgpoolConf::parse(&after).issues(), vec![]);

    // Backends 0 and 1 and watchdog nodes 0-2 reuse the sample's lines; backend 2 is new.
    let appended: Vec<&str> = after.lines().skip(SAMPLE.lines().count()).collect();
    assert_eq!(
        appended,
        [
            "backend_hostname2 = 'postgres3'",
            "backend_port2 = 5432",
            "backend_weight2 = 1",
            "backend_data_directory2 = '/data1/pgsql/15/data'",
            "backend_flag2 = 'ALLOW_TO_FAILOVER'",
            "backend_application_name2 = 'postgres3'",
        ]
    );
    let changes = changed_lines(SAMPLE, &after);
    assert!(changes.contains(&("#backend_hostname0 = 'host1'".into(), "backend_hostname0 = 'postgres1'".into())));
    assert!(changes.contains(&("hostname0 = ''".into(), "hostname0 = 'postgres1'".into())));
    assert!(changes.contains(&("#heartbeat_device2 = ''".into(), "heartbeat_device2 = ''".into())));
    assert!(changes.contains(&("#delegate_IP = ''".into(), "delegate_IP = '10.0.0.180'".into())));
    assert_eq!(changes.len(), 12 + 18 + 9);

    // Idempotent.
    let mut again = KvFile::parse(&after);
    assert!(!again.set_backends(&seed_backends(), V43).unwrap().changed());
    assert!(!again.set_watchdog_nodes(&seed_nodes(), V43).unwrap().changed());
    assert!(!again.set_checked("use_watchdog", "true", V43).unwrap().edit.changed);
    assert_eq!(again.to_string(), after);

    // Two nodes: the third's keys are commented out, nothing else moves.
    let r = again.set_backends(&seed_backends()[..2], V43).unwrap();
    assert!(r.restart_required);
    let shrunk = again.to_string();
    let diff = changed_lines(&after, &shrunk);
    assert_eq!(diff.len(), 6);
    assert!(diff.iter().all(|(a, b)| *b == format!("#{a}") && a.contains('2')));
}
