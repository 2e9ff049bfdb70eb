//! Stock postgresql.conf files: Debian's sample and cluster file, and what initdb writes
//! into PGDATA (the EL/PGDG layout). Byte-identical round trips and the edits the roles make.

use pgconf::kv::IncludeKind;
use pgconf::postgresql::PostgresqlConf;

const SAMPLE: &str = include_str!("fixtures/postgresql/debian15.postgresql.conf.sample");
const DEBIAN_MAIN: &str = include_str!("fixtures/postgresql/debian15-main.postgresql.conf");
const INITDB: &str = include_str!("fixtures/postgresql/el-style-initdb15.postgresql.conf");
const ALL: [&str; 3] = [SAMPLE, DEBIAN_MAIN, INITDB];

/// (line number, old, new) of every line that differs; both texts must have the same count.
fn changed_lines(old: &str, new: &str) -> Vec<(usize, String, String)> {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    assert_eq!(a.len(), b.len(), "line count changed");
    a.iter()
        .zip(&b)
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| (i + 1, x.to_string(), y.to_string()))
        .collect()
}

#[test]
fn stock_files_round_trip_byte_for_byte() {
    for text in ALL {
        let conf = PostgresqlConf::parse(text);
        assert_eq!(conf.to_string(), text);
        assert_eq!(conf.issues(), vec![]);
        // The same with CRLF line endings and without the final newline.
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(PostgresqlConf::parse(&crlf).to_string(), crlf);
        assert_eq!(PostgresqlConf::parse(&crlf).issues(), vec![]);
        let trimmed = text.trim_end_matches('\n');
        assert_eq!(PostgresqlConf::parse(trimmed).to_string(), trimmed);
    }
}

#[test]
fn debian_cluster_file_settings_and_include_dir() {
    let conf = PostgresqlConf::parse(DEBIAN_MAIN);
    assert_eq!(conf.get("port").as_deref(), Some("5432"));
    assert_eq!(conf.get("data_directory").as_deref(), Some("/var/lib/postgresql/15/main"));
    assert_eq!(conf.get("log_line_prefix").as_deref(), Some("%m [%p] %q%u@%d "));
    assert_eq!(conf.get("wal_level"), None);
    let inc = conf.includes();
    assert_eq!(inc.len(), 1);
    assert_eq!(inc[0].kind, IncludeKind::Directory);
    assert_eq!(inc[0].path, "conf.d");
    assert_eq!(
        DEBIAN_MAIN.lines().nth(inc[0].line - 1).map(|l| l.starts_with("include_dir")),
        Some(true)
    );
    assert!(conf.settings().iter().all(|s| s.name != "include_dir"));
}

#[test]
fn setting_wal_level_uncomments_the_stock_line() {
    let mut conf = PostgresqlConf::parse(SAMPLE);
    let a = conf.set_checked("wal_level", "logical", 15).unwrap();
    assert!(a.edit.changed && a.restart_required);
    let changes = changed_lines(SAMPLE, &conf.to_string());
    assert_eq!(changes.len(), 1);
    let (_, old, new) = &changes[0];
    assert!(old.starts_with("#wal_level = replica\t"), "{old:?}");
    assert_eq!(new, &old.replacen("#wal_level = replica", "wal_level = logical", 1));
    assert!(new.ends_with("# minimal, replica, or logical"));
}

/// The settings seed 000 makes by hand, as the pg_config module will.
const SEED_000: &[(&str, &str)] = &[
    ("listen_addresses", "*"),
    ("archive_mode", "on"),
    ("archive_command", "cp %p /data1/pgsql/15/archive/%f"),
    ("max_wal_senders", "10"),
    ("max_replication_slots", "10"),
    ("wal_level", "replica"),
    ("hot_standby", "on"),
    ("wal_log_hints", "on"),
    ("autovacuum", "on"),
];

#[test]
fn seed_settings_change_one_line_each_and_are_idempotent() {
    for text in ALL {
        let mut conf = PostgresqlConf::parse(text);
        let mut restart = false;
        for (name, value) in SEED_000 {
            let a = conf.set_checked(name, value, 15).unwrap();
            assert!(a.edit.changed, "{name}");
            restart |= a.restart_required;
        }
        assert!(restart);
        let after = conf.to_string();
        let changes = changed_lines(text, &after);
        assert_eq!(changes.len(), SEED_000.len());
        for ((_, old, new), (name, _)) in changes.iter().zip(sorted_by_position(text)) {
            assert!(old.starts_with(&format!("#{name} = ")), "{old:?}");
            assert!(new.starts_with(&format!("{name} = ")), "{new:?}");
        }
        assert!(after.contains("\nlisten_addresses = '*'\t\t# what IP address(es) to listen on;\n"));
        assert!(after.contains("\narchive_command = 'cp %p /data1/pgsql/15/archive/%f'\t\t# command to use"));
        assert!(after.contains("\nmax_wal_senders = 10\t\t# max number of walsender processes\n"));
        assert!(after.contains("\nhot_standby = on\t\t\t# \"off\" disallows queries during recovery\n"));
        assert_eq!(PostgresqlConf::parse(&after).issues(), vec![]);

        // Second run: nothing changes, whatever the spelling.
        for (name, value) in SEED_000 {
            let value = match *value {
                "on" => "true",
                "10" => "0xA",
                v => v,
            };
            let a = conf.set_checked(name, value, 15).unwrap();
            assert!(!a.edit.changed && !a.restart_required && !a.reload_required, "{name}");
        }
        assert_eq!(conf.to_string(), after);
    }
}

fn sorted_by_position(text: &str) -> Vec<(&'static str, &'static str)> {
    let mut v: Vec<_> = SEED_000
        .iter()
        .map(|&(n, val)| (text.find(&format!("\n#{n} = ")).unwrap_or(usize::MAX), (n, val)))
        .collect();
    v.sort();
    v.into_iter().map(|(_, p)| p).collect()
}

#[test]
fn repmgr_seed_settings() {
    let mut conf = PostgresqlConf::parse(INITDB);
    for (name, value) in [
        ("shared_preload_libraries", "repmgr"),
        ("wal_keep_size", "512MB"),
        ("max_connections", "200"),
    ] {
        assert!(conf.set_checked(name, value, 15).unwrap().edit.changed, "{name}");
    }
    let after = conf.to_string();
    assert!(after.contains("\nshared_preload_libraries = 'repmgr'\t# (change requires restart)\n"));
    assert!(after.contains("\nwal_keep_size = 512MB\t\t# in megabytes; 0 disables\n"));
    assert!(after.contains("\nmax_connections = 200\t\t\t# (change requires restart)\n"));
    assert_eq!(changed_lines(INITDB, &after).len(), 3);
    // wal_keep_segments belongs to PostgreSQL 12 only.
    assert!(conf.set_checked("wal_keep_segments", "32", 15).is_err());
}

#[test]
fn remove_and_append() {
    let mut conf = PostgresqlConf::parse(INITDB);
    let a = conf.remove_checked("max_connections", 15).unwrap();
    assert_eq!(a.edit.previous.as_deref(), Some("100"));
    assert!(a.restart_required);
    let changes = changed_lines(INITDB, &conf.to_string());
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].2, format!("#{}", changes[0].1));

    let mut conf = PostgresqlConf::parse(SAMPLE);
    let a = conf.set_checked("repmgr.some_setting", "x y", 15).unwrap();
    assert!(a.reload_required);
    let after = conf.to_string();
    assert_eq!(after, format!("{SAMPLE}repmgr.some_setting = 'x y'\n"));
}
