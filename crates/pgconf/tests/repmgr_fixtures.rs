//! repmgr.conf: the file seed 001 writes by hand, and a sample-style file with commented-out
//! defaults. Round trips, edits, and repmgr 5.3 itself reading what the editor wrote.

use std::path::Path;
use std::process::Command;

use pgconf::repmgr::{self, RepmgrConf};

const SEED: &str = include_str!("fixtures/repmgr/seed001.repmgr.conf");
const SAMPLE: &str = include_str!("fixtures/repmgr/pgha-sample.repmgr.conf");

#[test]
fn fixtures_round_trip() {
    for text in [SEED, SAMPLE] {
        let conf = RepmgrConf::parse(text);
        assert_eq!(conf.to_string(), text);
        assert_eq!(conf.issues(), vec![]);
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(RepmgrConf::parse(&crlf).to_string(), crlf);
    }
}

#[test]
fn seed_values_are_valid_repmgr_5_3_settings() {
    let conf = RepmgrConf::parse(SEED);
    let settings = conf.settings();
    assert_eq!(settings.len(), 27);
    for s in &settings {
        repmgr::validate(&s.name, &s.value).unwrap_or_else(|e| panic!("line {}: {e}", s.line));
    }
    assert_eq!(conf.get("node_id").as_deref(), Some("1"));
    assert_eq!(conf.get("data_directory").as_deref(), Some("/var/lib/pgsql/12/data"));
    assert_eq!(
        conf.get("follow_command").as_deref(),
        Some("/usr/pgsql-12/bin/repmgr standby follow -f /etc/repmgr/12/repmgr.conf --log-to-file --upstream-node-id=%n")
    );
}

#[test]
fn editing_the_seed_keeps_its_style() {
    let mut conf = RepmgrConf::parse(SEED);
    for (name, value) in [("node_id", "2"), ("node_name", "standby1"), ("use_replication_slots", "true")] {
        let _ = conf.set_checked(name, value).unwrap();
    }
    let after = conf.to_string();
    let diff: Vec<_> = SEED.lines().zip(after.lines()).filter(|(a, b)| a != b).collect();
    assert_eq!(
        diff,
        [("node_id=1", "node_id=2"), ("node_name='primary'", "node_name='standby1'"),],
        "use_replication_slots=yes already means true"
    );
}

fn node(i: u32) -> Vec<(&'static str, String)> {
    vec![
        ("node_id", i.to_string()),
        ("node_name", format!("postgres{i}")),
        // A socket directory that does not exist: repmgr must fail to connect, nothing else.
        (
            "conninfo",
            "host=/nonexistent-pgha-oracle dbname=repmgr user=repmgr connect_timeout=2".into(),
        ),
        ("data_directory", "/data1/pgsql/15/data".into()),
        ("use_replication_slots", "yes".into()),
        ("log_level", "INFO".into()),
        ("failover", "automatic".into()),
        ("reconnect_attempts", "4".into()),
        ("reconnect_interval", "2".into()),
        (
            "promote_command",
            "/usr/bin/repmgr standby promote -f /etc/repmgr.conf --log-to-file".into(),
        ),
        (
            "follow_command",
            "/usr/bin/repmgr standby follow -f /etc/repmgr.conf --log-to-file --upstream-node-id=%n".into(),
        ),
        ("monitoring_history", "yes".into()),
        ("monitor_interval_secs", "5".into()),
        ("connection_check_type", "ping".into()),
        (
            "event_notification_command",
            "/etc/repmgr/failover_promote.sh %n %e %d 'quoted'".into(),
        ),
        ("repmgrd_pid_file", "/var/run/postgresql/repmgrd.pid".into()),
        ("service_start_command", "sudo systemctl start postgresql@15-main".into()),
    ]
}

#[test]
fn sample_defaults_are_uncommented_in_place() {
    let mut conf = RepmgrConf::parse(SAMPLE);
    for (name, value) in node(1) {
        assert!(conf.set_checked(name, &value).unwrap().edit.changed, "{name}");
    }
    let after = conf.to_string();
    assert_eq!(after.lines().count(), SAMPLE.lines().count(), "every key had a default line");
    assert!(after.contains("\nnode_id=1\t\t\t# A unique integer greater than zero\n"));
    assert!(after.contains("\nnode_name='postgres1'\t\t\t# An arbitrary (but unique) string\n"));
    assert!(after.contains("\nuse_replication_slots=yes\t# whether to use physical replication slots\n"));
    assert!(after.contains("\nreconnect_attempts=4\t\t# number of attempts"));
    assert!(after.contains("\nfailover='automatic'\t\t# one of 'automatic', 'manual'\n"));
    assert!(after.contains("%n %e %d ''quoted'''\t# event notifications"));
    let again = RepmgrConf::parse(&after);
    for (name, value) in node(1) {
        assert!(repmgr::validate(name, &value).is_ok());
        let got = again.get(name).unwrap();
        assert_eq!(got, value, "{name}");
    }
}

/// repmgr itself reads the file the editor wrote: `repmgr node status` parses the whole
/// configuration before it connects; with a good file the only error is the connection.
#[test]
fn repmgr_accepts_what_the_editor_writes() {
    let bin = Path::new("/usr/lib/postgresql/15/bin/repmgr");
    // The oracle must run: scripts/setup-host.sh installs repmgr and CI runs as root.
    assert!(
        bin.exists() && is_root(),
        "this oracle test needs root and repmgr at {} (scripts/setup-host.sh)",
        bin.display()
    );
    let dir = std::env::temp_dir().join(format!("pgconf-repmgr-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("repmgr.conf");
    let mut conf = RepmgrConf::parse(SAMPLE);
    for (name, value) in node(2) {
        let _ = conf.set_checked(name, &value).unwrap();
    }
    std::fs::write(&path, conf.to_string()).unwrap();
    let out = Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin)
        .arg("-f")
        .arg(&path)
        .args(["node", "status"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("configuration file"), "{stderr}");
    assert!(!stderr.contains("unknown name/value"), "{stderr}");
    assert!(stderr.contains("/nonexistent-pgha-oracle"), "{stderr}");
    // ERR_DB_CONN; a configuration error would be ERR_BAD_CONFIG (1).
    assert_eq!(out.status.code(), Some(6), "{stderr}");
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}
