//! What differs from Pgpool-II 4.3 in 4.2, 4.4, 4.5 and 4.6, kept by hand from diffing
//! `pool_config_variables.c` at tags V4_2_0, V4_3_5, V4_4_0, V4_5_0 and V4_6_0 (rerun
//! gen/pgpool_keys.py on each and diff), plus where the documentation is stricter than the
//! code.

use super::Key;
use super::KeyType::*;
use super::PgpoolVersion as V;
use crate::pg_params::Unit::*;

const V4_2: V = V::new(4, 2);
const V4_3: V = V::new(4, 3);
const V4_4: V = V::new(4, 4);
const V4_5: V = V::new(4, 5);
const V4_6: V = V::new(4, 6);

/// The oldest version the catalog describes.
pub(super) const FIRST: V = V4_2;
/// The newest version the catalog describes.
pub(super) const LAST: V = V4_6;

/// Keys of the 4.3 table that not every version has: (name, first, last).
pub(super) static AVAILABILITY: &[(&str, V, V)] = &[
    // New in 4.3.
    ("failover_on_backend_shutdown", V4_3, LAST),
    ("health_check_test", V4_3, LAST),
    ("prefer_lower_delay_standby", V4_3, LAST),
    ("wd_lost_node_removal_timeout", V4_3, LAST),
    ("wd_no_show_node_removal_timeout", V4_3, LAST),
    ("wd_remove_shutdown_nodes", V4_3, LAST),
    // 4.4 replaced it with unix_socket_directories.
    ("socket_dir", FIRST, V4_3),
];

const fn key(name: &'static str, kind: super::KeyType, restart: bool) -> Key {
    Key {
        name,
        kind,
        indexed: false,
        restart,
        unit: None,
        values: &[],
        min: None,
        max: None,
        deprecated: false,
    }
}

/// Keys that 4.3 does not have, with the version that added them.
pub(super) static ADDED: &[(Key, V)] = &[
    (
        Key {
            unit: Some(Milliseconds),
            min: Some(0),
            max: Some(2_147_483_647),
            ..key("delay_threshold_by_time", Integer, false)
        },
        V4_4,
    ),
    (key("delegate_ip", String, true), V4_4),
    (
        Key {
            min: Some(1),
            ..key("max_spare_children", Integer, false)
        },
        V4_4,
    ),
    (
        Key {
            min: Some(1),
            ..key("min_spare_children", Integer, false)
        },
        V4_4,
    ),
    (
        Key {
            values: &["static", "dynamic"],
            ..key("process_management_mode", Enum, false)
        },
        V4_4,
    ),
    (
        Key {
            values: &["aggressive", "gentle", "lazy"],
            ..key("process_management_strategy", Enum, false)
        },
        V4_4,
    ),
    (key("trusted_server_command", String, false), V4_4),
    (key("unix_socket_directories", List, true), V4_4),
    (key("unix_socket_group", String, true), V4_4),
    (
        Key {
            min: Some(0),
            max: Some(777),
            ..key("unix_socket_permissions", Integer, true)
        },
        V4_4,
    ),
    (key("log_pcp_processes", Bool, false), V4_5),
    // Declared as an enum without values in the code; it is an on/off switch.
    (key("notice_per_node_statement", Bool, false), V4_5),
    (key("user_redirect_preference_list", String, false), V4_5),
    (
        Key {
            values: &["none", "terse", "verbose"],
            ..key("log_backend_messages", Enum, false)
        },
        V4_6,
    ),
];

/// Renamed keys: (old, new, the version that renamed it, whether the old name still works
/// there). 4.4 still reads `delegate_IP` (with a warning); `socket_dir` is ignored.
pub(super) static RENAMED: &[(&str, &str, V, bool)] = &[
    ("delegate_IP", "delegate_ip", V4_4, true),
    ("socket_dir", "unix_socket_directories", V4_4, false),
    ("fail_over_on_backend_error", "failover_on_backend_error", V4_2, true),
];

/// Logging keys that 4.6 made reloadable.
pub(super) static RELOADABLE_FROM_4_6: &[&str] = &[
    "log_directory",
    "log_file_mode",
    "log_filename",
    "log_rotation_age",
    "log_rotation_size",
    "log_truncate_on_rotation",
];

/// Keys the code marks reloadable but the documentation says "can only be set at server
/// start" (the watchdog process reads them once): treated as restart.
pub(super) static DOC_RESTART: &[&str] = &[
    "clear_memqcache_on_escalation",
    "heartbeat_device",
    "heartbeat_hostname",
    "heartbeat_port",
    "hostname",
    "pgpool_port",
    "wd_authkey",
    "wd_de_escalation_command",
    "wd_escalation_command",
    "wd_lifecheck_dbname",
    "wd_lifecheck_password",
    "wd_lifecheck_user",
    "wd_port",
];

/// Backend keys whose existing values cannot change by reload ("New nodes can be added by
/// reloading ... However, the existing values cannot be updated, so you must restart").
pub(super) static BACKEND_FIXED: &[&str] = &["backend_hostname", "backend_port", "backend_data_directory"];
