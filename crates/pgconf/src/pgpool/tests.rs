use super::*;

const V43: PgpoolVersion = PgpoolVersion::new(4, 3);
const V44: PgpoolVersion = PgpoolVersion::new(4, 4);

fn backend(host: &str) -> Backend {
    Backend {
        hostname: host.to_string(),
        port: 5432,
        weight: 1.0,
        data_directory: Some("/data1/pgsql/15/data".to_string()),
        flag: Some("ALLOW_TO_FAILOVER".to_string()),
        application_name: Some(host.to_string()),
    }
}

fn node(host: &str) -> WatchdogNode {
    WatchdogNode {
        hostname: host.to_string(),
        wd_port: 9000,
        pgpool_port: 9999,
        heartbeat_hostname: Some(host.to_string()),
        heartbeat_port: Some(9694),
        heartbeat_device: Some(String::new()),
    }
}

#[test]
fn versions_parse() {
    assert_eq!("4.3".parse::<PgpoolVersion>(), Ok(V43));
    assert_eq!("4.3.5".parse::<PgpoolVersion>(), Ok(V43));
    assert!("4".parse::<PgpoolVersion>().is_err());
    assert!("4.x".parse::<PgpoolVersion>().is_err());
    assert!(validate("port", "9999", PgpoolVersion::new(3, 7)).is_err());
}

#[test]
fn delegate_ip_spelling_depends_on_version() {
    assert_eq!(validate("delegate_IP", "10.0.0.180", V43), Ok(vec![]));
    let w = validate("delegate_ip", "10.0.0.180", V43).unwrap();
    assert_eq!(w.len(), 1);
    assert!(w[0].contains("ignores \"delegate_ip\"") && w[0].contains("delegate_IP"), "{w:?}");
    assert_eq!(validate("delegate_ip", "10.0.0.180", V44), Ok(vec![]));
    let w = validate("delegate_IP", "10.0.0.180", V44).unwrap();
    assert!(w[0].contains("deprecated") && w[0].contains("delegate_ip"), "{w:?}");
    let w = validate("socket_dir", "/tmp", V44).unwrap();
    assert!(w[0].contains("unix_socket_directories"), "{w:?}");
    let w = validate("unix_socket_directories", "/tmp", V43).unwrap();
    assert!(w[0].contains("socket_dir"), "{w:?}");
    let w = validate("wd_remove_shutdown_nodes", "on", PgpoolVersion::new(4, 2)).unwrap();
    assert!(w[0].contains("does not know"), "{w:?}");
}

#[test]
fn unknown_keys_and_bad_values_fail() {
    match validate("Port", "9999", V43) {
        Err(PgpoolError::Unknown { hint, .. }) => assert_eq!(hint.as_deref(), Some("port")),
        other => panic!("{other:?}"),
    }
    assert!(validate("backend_hostnme0", "x", V43).is_err());
    assert!(validate("backend_hostname", "x", V43).is_err(), "an index is required");
    assert!(validate("backend_port0", "70000", V43).is_err());
    assert!(validate("use_watchdog", "maybe", V43).is_err());
    assert!(validate("wd_lifecheck_method", "Heartbeat", V43).is_ok());
    assert!(validate("wd_lifecheck_method", "carrier_pigeon", V43).is_err());
    assert!(validate("wd_interval", "10s", V43).is_ok());
    assert!(validate("health_check_period0", "10", V43).is_ok());
    assert!(validate("health_check_period", "10", V43).is_ok());
    assert!(validate("backend_weight1", "0.5", V43).is_ok());
}

#[test]
fn restart_or_reload() {
    assert!(restart_required("port", V43, Some("9999"), Some("9998")));
    assert!(!restart_required("health_check_period", V43, None, Some("5")));
    assert!(restart_required("log_directory", V43, None, Some("/x")));
    assert!(!restart_required("log_directory", PgpoolVersion::new(4, 6), None, Some("/x")));
    assert!(!restart_required("backend_hostname3", V43, None, Some("h")));
    assert!(restart_required("backend_hostname3", V43, Some("a"), Some("b")));
    assert!(!restart_required("backend_weight3", V43, Some("1"), Some("0")));
    assert!(restart_required("hostname0", V43, None, Some("h")), "docs: server start");
    assert!(restart_required("wd_escalation_command", V43, None, Some("x")));
}

#[test]
fn keys_are_case_sensitive_and_strings_quoted() {
    let mut c = PgpoolConf::parse("#delegate_IP = ''\n");
    assert_eq!(c.get("delegate_ip"), None);
    let a = c.set_checked("delegate_IP", "10.0.0.180", V43).unwrap();
    assert!(a.edit.changed && a.restart_required && a.warnings.is_empty());
    assert_eq!(c.to_string(), "delegate_IP = '10.0.0.180'\n");
    let a = c.set_checked("delegate_ip", "10.0.0.180", V43).unwrap();
    assert_eq!(a.warnings.len(), 1);
    assert_eq!(c.to_string(), "delegate_IP = '10.0.0.180'\ndelegate_ip = '10.0.0.180'\n");
    let mut c = PgpoolConf::parse("");
    assert!(c.set_checked("port", "9999", V43).unwrap().edit.changed);
    assert!(c.set_checked("use_watchdog", "on", V43).unwrap().edit.changed);
    assert!(
        c.set_checked("backend_clustering_mode", "streaming_replication", V43)
            .unwrap()
            .edit
            .changed
    );
    assert_eq!(
        c.to_string(),
        "port = 9999\nuse_watchdog = on\nbackend_clustering_mode = 'streaming_replication'\n"
    );
    assert!(!c.set_checked("use_watchdog", "true", V43).unwrap().edit.changed);
    assert!(c.set("if_up_cmd", "echo 'x'").is_err());
}

#[test]
fn raw_strings_keep_backslashes() {
    let c = PgpoolConf::parse("arping_cmd = '/usr/bin/sudo a\\b \\'x'\n");
    assert_eq!(c.get("arping_cmd").as_deref(), Some("/usr/bin/sudo a\\b \\'x"));
}

#[test]
fn backends_are_written_and_stale_ones_commented_out() {
    let sample = "#backend_hostname0 = 'host1'\n#backend_port0 = 5432\n#backend_weight0 = 1\n\
                  #backend_data_directory0 = '/data'\n#backend_flag0 = 'ALLOW_TO_FAILOVER'\n\
                  #backend_application_name0 = 'server0'\n";
    let mut c = PgpoolConf::parse(sample);
    let hosts = [backend("postgres1"), backend("postgres2"), backend("postgres3")];
    let r = c.set_backends(&hosts, V43).unwrap();
    assert!(r.changed() && r.reload_required && !r.restart_required, "{r:?}");
    assert_eq!(r.changes.len(), 18);
    let text = c.to_string();
    assert!(text.starts_with("backend_hostname0 = 'postgres1'\nbackend_port0 = 5432\nbackend_weight0 = 1\n"));
    assert_eq!(c.get("backend_hostname2").as_deref(), Some("postgres3"));
    assert!(c.issues().is_empty());

    // Same list again: nothing to do.
    let r = c.set_backends(&hosts, V43).unwrap();
    assert!(!r.changed() && !r.reload_required && !r.restart_required);
    assert_eq!(c.to_string(), text);

    // Shrink: index 2 is commented out; restart.
    let r = c.set_backends(&hosts[..2], V43).unwrap();
    assert!(r.restart_required && !r.reload_required);
    assert_eq!(r.changes.len(), 6);
    assert!(r.changes.iter().all(|k| k.key.ends_with('2') && k.value.is_none()));
    assert_eq!(c.get("backend_hostname2"), None);
    assert!(c.to_string().contains("#backend_hostname2 = 'postgres3'\n"));

    // Grow back: the commented lines come back in place.
    let r = c.set_backends(&hosts, V43).unwrap();
    assert!(r.reload_required);
    assert_eq!(c.to_string(), text);

    // Changing an existing backend's host needs a restart.
    let mut moved = hosts.clone();
    moved[1].hostname = "postgres9".into();
    moved[1].application_name = None;
    let r = c.set_backends(&moved, V43).unwrap();
    assert!(r.restart_required);
    assert_eq!(c.get("backend_application_name1"), None);
}

#[test]
fn bad_backend_leaves_file_alone() {
    let mut c = PgpoolConf::parse("x = 1\n");
    let mut b = backend("p1");
    b.port = 80;
    assert!(c.set_backends(&[b], V43).is_err());
    assert_eq!(c.to_string(), "x = 1\n");
}

#[test]
fn watchdog_nodes() {
    let mut c = PgpoolConf::parse("hostname0 = 'old'\nhostname5 = 'gone'\nwd_port5 = 9000\n");
    let r = c
        .set_watchdog_nodes(&[node("postgres1"), node("postgres2"), node("postgres3")], V43)
        .unwrap();
    assert!(r.restart_required);
    let text = c.to_string();
    assert!(
        text.starts_with("hostname0 = 'postgres1'\n#hostname5 = 'gone'\n#wd_port5 = 9000\n"),
        "{text}"
    );
    assert!(text.contains("heartbeat_device2 = ''\n"));
    assert!(text.contains("heartbeat_port1 = 9694\n"));
}

#[test]
fn generated_catalog_is_sane() {
    assert!(keys43::KEYS_4_3.len() > 150);
    for (k, _, _) in all_keys() {
        assert!(!k.name.is_empty());
        if k.kind == KeyType::Enum {
            assert!(!k.values.is_empty(), "{}", k.name);
        }
    }
    for name in versions::DOC_RESTART.iter().chain(versions::BACKEND_FIXED) {
        assert!(any_version(name).is_some() || any_version(&format!("{name}0")).is_some(), "{name}");
    }
}
