//! PostgreSQL 15 itself as the oracle (fails without root and PostgreSQL 15):
//!
//! 1. `postgres -c name=value -C name` accepts or rejects a value and prints its canonical
//!    form; `pg_params::validate` and `normalize` must agree with it.
//! 2. A postgresql.conf written by the editor into a fresh `initdb` directory starts a
//!    server (on a free loopback port) with no error rows in `pg_file_settings`, and
//!    `pg_settings` shows exactly the values we meant.

use std::process::{Command, Output};

use pgconf::pg_params;
use pgconf::postgresql::PostgresqlConf;
use pgtest::Cluster;

/// initdb only (trust): the test writes postgresql.conf and starts the server itself.
fn init(tag: &str) -> Cluster {
    Cluster::build(&format!("pgconf-oracle-{tag}-")).init()
}

/// Runs a PostgreSQL program of the cluster's version as postgres.
fn pg(c: &Cluster, program: &str, args: &[&str]) -> Output {
    pgtest::run_as_postgres(Command::new(c.program(program)).args(args))
}

#[test]
fn validate_and_normalize_agree_with_the_server() {
    let c = init("values");
    let data = c.data();
    let cases = [
        ("shared_buffers", "128MB"),
        ("shared_buffers", "1.5MB"),
        ("shared_buffers", "131072kB"),
        ("shared_buffers", "128mb"),
        ("shared_buffers", "8"),
        ("work_mem", "1.7 MB "),
        ("work_mem", "0x100"),
        ("port", "010"),
        ("port", "08"),
        ("port", "5432.4"),
        ("port", "5432.5"),
        ("port", "5433.5"),
        ("port", "65536"),
        ("statement_timeout", "1.5s"),
        ("statement_timeout", "1d"),
        ("statement_timeout", "10 min"),
        ("checkpoint_timeout", "5min"),
        ("checkpoint_timeout", "29s"),
        ("max_wal_size", "1GB"),
        ("max_wal_size", "100kB"),
        ("wal_keep_size", "1TB"),
        ("vacuum_cost_delay", "1.5ms"),
        ("vacuum_cost_delay", "100us"),
        ("random_page_cost", "1e1"),
        ("random_page_cost", "x"),
        ("hot_standby", "of"),
        ("hot_standby", "o"),
        ("hot_standby", "TR"),
        ("hot_standby", "yes"),
        ("hot_standby", "2"),
        ("wal_level", "Hot_Standby"),
        ("wal_level", "LOGICAL"),
        ("wal_level", "x"),
        ("archive_mode", "always"),
        ("archive_mode", "true"),
        ("wal_compression", "on"),
        ("wal_compression", "lz4"),
        ("synchronous_commit", "1"),
        ("synchronous_commit", "remote_apply"),
        ("log_min_duration_statement", "-1"),
        ("log_min_duration_statement", "250ms"),
        ("log_rotation_age", "1d"),
        ("log_rotation_size", "10MB"),
        ("idle_session_timeout", "1h"),
        ("autovacuum_vacuum_scale_factor", "0.05"),
        ("temp_file_limit", "-1"),
        ("effective_cache_size", "4GB"),
        ("max_connections", "0"),
        ("bgwriter_lru_multiplier", "2.0"),
        ("wal_writer_flush_after", "1MB"),
        ("huge_pages", "try"),
        ("unix_socket_permissions", "0777"),
        ("log_file_mode", "0600"),
        ("listen_addresses", "*"),
        ("archive_command", "cp %p /x/%f"),
        ("max_replication_slots", "10"),
    ];
    let mut mismatches = Vec::new();
    for (name, value) in cases {
        let out = pg(
            &c,
            "postgres",
            &["-D", data.to_str().unwrap(), "-c", &format!("{name}={value}"), "-C", name],
        );
        let server = out
            .status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string());
        let ours = pg_params::validate(name, value, 15)
            .ok()
            .map(|()| pg_params::normalize(name, value));
        if server != ours {
            mismatches.push(format!("{name}={value:?}: server {server:?}, ours {ours:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn server_accepts_the_file_the_editor_writes() {
    let mut c = init("file");
    let port = pgtest::free_port().to_string();
    let path = c.data().join("postgresql.conf");
    let original = std::fs::read_to_string(&path).unwrap();
    let mut conf = PostgresqlConf::parse(&original);
    let socket_dir = c.root().to_str().unwrap().to_string();
    let settings: Vec<(&str, String)> = vec![
        ("listen_addresses", "127.0.0.1".into()),
        ("port", port.clone()),
        ("unix_socket_directories", socket_dir),
        ("archive_mode", "on".into()),
        // quotes, a '#' and a backslash inside a string
        (
            "archive_command",
            "test ! -f '/x/%f' && cp %p \"/x/%f\" # not a comment \\ done".into(),
        ),
        ("archive_cleanup_command", "echo a\\b 'c'".into()),
        ("max_wal_senders", "10".into()),
        ("max_replication_slots", "10".into()),
        ("wal_level", "logical".into()),
        ("hot_standby", "true".into()),
        ("wal_log_hints", "on".into()),
        ("autovacuum", "on".into()),
        ("shared_preload_libraries", "repmgr".into()),
        ("wal_keep_size", "512MB".into()),
        ("work_mem", "1.5MB".into()),
        ("shared_buffers", "64MB".into()),
        ("statement_timeout", "1min".into()),
        ("checkpoint_completion_target", "0.85".into()),
        ("search_path", "\"$user\", public".into()),
        ("log_line_prefix", "%m [%p] %q%u@%d ".into()),
        ("DateStyle", "ISO, DMY".into()),
        ("synchronous_commit", "remote_apply".into()),
        ("repmgr.custom_setting", "it's custom".into()),
    ];
    for (name, value) in &settings {
        let _ = conf.set_checked(name, value, 15).unwrap();
    }
    let written = conf.to_string();
    assert_eq!(PostgresqlConf::parse(&written).issues(), vec![]);
    std::fs::write(&path, &written).unwrap();

    c.start_as_configured(port.parse().unwrap());
    assert_eq!(c.sql("select count(*) from pg_file_settings where error is not null"), "0");
    for (name, value) in &settings {
        let setting = c.sql(&format!(
            "select coalesce((select setting from pg_settings where name = lower('{name}')), current_setting('{name}'))"
        ));
        assert_eq!(setting, pg_params::normalize(name, value), "{name}");
    }

    // Remove a reloadable setting: the built-in default comes back on reload.
    let a = conf.remove_checked("work_mem", 15).unwrap();
    assert!(a.reload_required && !a.restart_required);
    std::fs::write(&path, conf.to_string()).unwrap();
    assert_eq!(c.sql("select pg_reload_conf()"), "t");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(c.sql("select setting from pg_settings where name = 'work_mem'"), "4096");
    assert_eq!(c.sql("select count(*) from pg_file_settings where error is not null"), "0");
    // A restart-only change shows up as pending_restart after a reload.
    let a = conf.set_checked("max_wal_senders", "12", 15).unwrap();
    assert!(a.restart_required);
    std::fs::write(&path, conf.to_string()).unwrap();
    assert_eq!(c.sql("select pg_reload_conf()"), "t");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(c.sql("select pending_restart from pg_settings where name = 'max_wal_senders'"), "t");
}
