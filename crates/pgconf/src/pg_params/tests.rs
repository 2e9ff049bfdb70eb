use super::*;

#[test]
fn booleans_like_parse_bool() {
    for (v, want) in [
        ("on", Some(true)),
        ("ON", Some(true)),
        ("of", Some(false)),
        ("off", Some(false)),
        ("o", None),
        ("t", Some(true)),
        ("TrU", Some(true)),
        ("truee", None),
        ("y", Some(true)),
        ("n", Some(false)),
        ("1", Some(true)),
        ("0", Some(false)),
        ("10", None),
        ("", None),
        (" on", None),
    ] {
        assert_eq!(parse_bool(v), want, "{v:?}");
    }
}

#[test]
fn integers_with_units_are_normalized_to_the_base_unit() {
    for (name, value, want) in [
        ("shared_buffers", "128MB", "16384"),
        ("shared_buffers", "131072kB", "16384"),
        ("shared_buffers", "16384", "16384"),
        ("shared_buffers", "1.5MB", "192"),
        ("work_mem", "1.7 MB ", "1741"),
        ("work_mem", "4MB", "4096"),
        ("max_wal_size", "1GB", "1024"),
        ("checkpoint_timeout", "5min", "300"),
        ("checkpoint_timeout", "1h", "3600"),
        ("statement_timeout", "1.5s", "1500"),
        ("statement_timeout", "0x10", "16"),
        ("port", "010", "8"),
        ("port", " +5432", "5432"),
        ("vacuum_cost_delay", "1.5ms", "1.5"),
        ("autovacuum_vacuum_scale_factor", "0.20", "0.2"),
        ("hot_standby", "TRUE", "on"),
        ("wal_level", "Hot_Standby", "replica"),
        ("wal_level", "LOGICAL", "logical"),
        ("wal_compression", "on", "pglz"),
        ("archive_mode", "yes", "on"),
        ("listen_addresses", " * ", " * "),
        ("no_such", "x", "x"),
        ("shared_buffers", "garbage", "garbage"),
    ] {
        assert_eq!(normalize(name, value), want, "{name} = {value}");
    }
}

#[test]
fn validate_checks_types_units_and_ranges() {
    for (name, value) in [
        ("shared_buffers", "128MB"),
        ("shared_buffers", "1.5GB"),
        ("max_connections", "100"),
        ("port", "5432"),
        ("wal_level", "replica"),
        ("synchronous_commit", "remote_apply"),
        ("archive_command", "test ! -f /a/%f && cp %p /a/%f"),
        ("shared_preload_libraries", "repmgr"),
        ("repmgr.whatever", "x"),
        ("pg_stat_statements.max", "10000"),
        ("DateStyle", "iso, mdy"),
        ("datestyle", "iso, mdy"),
        ("log_min_duration_statement", "-1"),
        ("hot_standby", "on"),
        ("wal_keep_size", "1GB"),
    ] {
        assert_eq!(validate(name, value, 15), Ok(()), "{name} = {value}");
    }
    for (name, value) in [
        ("shared_buffers", "128mb"),
        ("shared_buffers", "8"),
        ("port", "65536"),
        ("port", "08"),
        ("port", "5432MB"),
        ("port", ""),
        ("max_connections", "0"),
        ("hot_standby", "maybe"),
        ("wal_level", "archive2"),
        ("checkpoint_timeout", "5 minutes"),
        ("random_page_cost", "x"),
        ("work_mem", "1e40"),
    ] {
        assert!(
            matches!(validate(name, value, 15), Err(ParamError::InvalidValue { .. })),
            "{name} = {value}"
        );
    }
    assert_eq!(validate("bogus", "1", 15), Err(ParamError::Unknown { name: "bogus".into() }));
    assert!(matches!(validate("block_size", "8192", 15), Err(ParamError::ReadOnly { .. })));
    assert!(matches!(
        validate("port", "1", 11),
        Err(ParamError::UnsupportedVersion { major: 11 })
    ));
}

#[test]
fn versions_differ() {
    assert_eq!(validate("wal_keep_segments", "32", 12), Ok(()));
    let e = validate("wal_keep_segments", "32", 13).unwrap_err();
    assert!(e.to_string().contains("wal_keep_size"), "{e}");
    assert!(validate("wal_keep_size", "512MB", 12).is_err());
    assert_eq!(validate("wal_keep_size", "512MB", 13), Ok(()));
    assert!(validate("debug_parallel_query", "on", 15).is_err());
    assert_eq!(validate("debug_parallel_query", "on", 16), Ok(()));
    assert_eq!(validate("force_parallel_mode", "on", 15), Ok(()));
    assert!(validate("force_parallel_mode", "on", 16).is_err());
    assert!(validate("stats_temp_directory", "x", 15).is_err());
    assert_eq!(validate("stats_temp_directory", "x", 14), Ok(()));
    assert!(validate("archive_library", "x", 14).is_err());
    assert_eq!(validate("transaction_timeout", "5s", 17), Ok(()));
    assert!(validate("wal_compression", "lz4", 14).is_err());
    assert_eq!(validate("wal_compression", "on", 14), Ok(()));
    assert_eq!(validate("wal_compression", "lz4", 15), Ok(()));
    assert_eq!(lookup("wal_keep_segments", 13), None);
    assert_eq!(lookup("WAL_KEEP_SIZE", 13).map(|p| p.unit), Some(Some(Unit::Megabytes)));
}

#[test]
fn restart_or_reload() {
    for name in [
        "shared_preload_libraries",
        "wal_level",
        "max_wal_senders",
        "max_replication_slots",
        "archive_mode",
        "listen_addresses",
        "port",
        "max_connections",
        "shared_buffers",
        "wal_log_hints",
        "hot_standby",
    ] {
        for major in FIRST_MAJOR..=LAST_MAJOR {
            assert!(restart_required(name, major), "{name} {major}");
        }
    }
    for name in [
        "archive_command",
        "work_mem",
        "log_min_duration_statement",
        "autovacuum",
        "max_wal_size",
        "repmgr.x",
        "unknown_thing",
    ] {
        assert!(!restart_required(name, 15), "{name}");
    }
    assert!(restart_required("primary_conninfo", 12));
    assert!(!restart_required("primary_conninfo", 13));
    assert!(restart_required("restore_command", 13));
    assert!(!restart_required("restore_command", 14));
    assert!(!restart_required("wal_keep_segments", 15));
    assert!(restart_required("reserved_connections", 16));
}

#[test]
fn catalog_is_consistent() {
    let mut names: Vec<&str> = pg15::PG15.iter().map(|r| r.name).collect();
    let n = names.len();
    names.sort_unstable_by_key(|n| n.to_ascii_lowercase());
    names.dedup_by_key(|n| n.to_ascii_lowercase());
    assert_eq!(n, names.len(), "duplicate names");
    assert!(n > 300);
    for &(name, since, until) in versions::AVAILABILITY {
        assert!(pg15::PG15.iter().any(|r| r.name == name), "{name} not in the 15 table");
        assert!(since <= until && (since..=until).contains(&15));
    }
    for p in versions::EXTRA {
        assert!(!pg15::PG15.iter().any(|r| r.name == p.name), "{} is in the 15 table", p.name);
        assert!(!(p.since..=p.until).contains(&15), "{}", p.name);
    }
    for (name, _) in versions::HINTS {
        assert!(find(name).is_some(), "{name}");
    }
    for r in pg15::PG15 {
        if r.vartype == VarType::Enum {
            assert!(!r.values.is_empty(), "{}", r.name);
        }
        assert_eq!(find(r.name).map(|p| p.name), Some(r.name));
    }
}
