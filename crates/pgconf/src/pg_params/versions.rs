//! What differs from PostgreSQL 15 in 12, 13, 14, 16 and 17, kept by hand from the release
//! notes (the generated table in `pg15.rs` describes 15 only). Not exhaustive for
//! debugging/developer parameters; complete for the settings an HA cluster uses.

use super::Context::*;
use super::Unit::*;
use super::VarType::*;
use super::{Param, FIRST_MAJOR, LAST_MAJOR};

/// Parameters of the 15 table that do not exist in every version 12-17: (name, since,
/// until). Everything else in the 15 table exists in 12-17.
pub(super) static AVAILABILITY: &[(&str, u32, u32)] = &[
    // New in 13.
    ("autovacuum_vacuum_insert_scale_factor", 13, 17),
    ("autovacuum_vacuum_insert_threshold", 13, 17),
    ("backtrace_functions", 13, 17),
    ("enable_incremental_sort", 13, 17),
    ("hash_mem_multiplier", 13, 17),
    ("ignore_invalid_pages", 13, 17),
    ("log_min_duration_sample", 13, 17),
    ("log_parameter_max_length", 13, 17),
    ("log_parameter_max_length_on_error", 13, 17),
    ("log_statement_sample_rate", 13, 17),
    ("logical_decoding_work_mem", 13, 17),
    ("maintenance_io_concurrency", 13, 17),
    ("max_slot_wal_keep_size", 13, 17),
    ("wal_keep_size", 13, 17), // was wal_keep_segments
    ("wal_receiver_create_temp_slot", 13, 17),
    ("wal_skip_threshold", 13, 17),
    // New in 14.
    ("client_connection_check_interval", 14, 17),
    ("compute_query_id", 14, 17),
    ("debug_discard_caches", 14, 17),
    ("default_toast_compression", 14, 17),
    ("enable_async_append", 14, 17),
    ("enable_memoize", 14, 17),
    ("huge_page_size", 14, 17),
    ("idle_session_timeout", 14, 17),
    ("in_hot_standby", 14, 17),
    ("log_recovery_conflict_waits", 14, 17),
    ("min_dynamic_shared_memory", 14, 17),
    ("recovery_init_sync_method", 14, 17),
    ("remove_temp_files_after_crash", 14, 17),
    ("ssl_crl_dir", 14, 17),
    ("track_wal_io_timing", 14, 17),
    ("vacuum_failsafe_age", 14, 17),
    ("vacuum_multixact_failsafe_age", 14, 17),
    // New in 15.
    ("archive_library", 15, 17),
    ("log_startup_progress_interval", 15, 17),
    ("recovery_prefetch", 15, 17),
    ("shared_memory_size", 15, 17),
    ("shared_memory_size_in_huge_pages", 15, 17),
    ("stats_fetch_consistency", 15, 17),
    ("wal_decode_buffer_size", 15, 17),
    // Gone in 16.
    ("force_parallel_mode", 12, 15), // renamed debug_parallel_query
    ("lc_collate", 12, 15),
    ("lc_ctype", 12, 15),
    ("promote_trigger_file", 12, 15),
    ("vacuum_defer_cleanup_age", 12, 15),
    // Gone in 17.
    ("db_user_namespace", 12, 16),
    ("old_snapshot_threshold", 12, 16),
    ("trace_recovery_messages", 12, 16),
];

#[allow(clippy::too_many_arguments)] // one table row
const fn extra(
    name: &'static str,
    vartype: super::VarType,
    unit: Option<super::Unit>,
    context: super::Context,
    range: (Option<f64>, Option<f64>),
    enum_values: &'static [&'static str],
    since: u32,
    until: u32,
) -> Param {
    Param {
        name,
        vartype,
        unit,
        context,
        enum_values,
        enum_aliases: &[],
        min: range.0,
        max: range.1,
        since,
        until,
    }
}

const NO_RANGE: (Option<f64>, Option<f64>) = (None, None);
const INT_MAX: f64 = 2_147_483_647.0;
const BOOL_ALIASES: &[(&str, &str)] = &[
    ("true", "on"),
    ("false", "off"),
    ("yes", "on"),
    ("no", "off"),
    ("1", "on"),
    ("0", "off"),
];

/// Parameters that are not in PostgreSQL 15.
#[rustfmt::skip]
pub(super) static EXTRA: &[Param] = &[
    // Only before 15.
    extra("wal_keep_segments", Integer, None, Sighup, (Some(0.0), Some(INT_MAX)), &[], 12, 12),
    extra("operator_precedence_warning", Bool, None, User, NO_RANGE, &[], 12, 13),
    extra("vacuum_cleanup_index_scale_factor", Real, None, User, (Some(0.0), Some(1e10)), &[], 12, 13),
    extra("stats_temp_directory", String, None, Sighup, NO_RANGE, &[], 12, 14),
    // New in 16.
    extra("createrole_self_grant", String, None, User, NO_RANGE, &[], 16, 17),
    extra("debug_io_direct", String, None, Postmaster, NO_RANGE, &[], 16, 17),
    extra("debug_logical_replication_streaming", Enum, None, User, NO_RANGE, &["buffered", "immediate"], 16, 17),
    Param {
        enum_aliases: BOOL_ALIASES,
        ..extra("debug_parallel_query", Enum, None, User, NO_RANGE, &["off", "on", "regress"], 16, 17)
    },
    extra("enable_presorted_aggregate", Bool, None, User, NO_RANGE, &[], 16, 17),
    extra("gss_accept_delegation", Bool, None, Sighup, NO_RANGE, &[], 16, 17),
    extra("icu_validation_level", Enum, None, User, NO_RANGE,
        &["disabled", "debug5", "debug4", "debug3", "debug2", "debug1", "log", "notice", "warning", "error"], 16, 17),
    extra("max_parallel_apply_workers_per_subscription", Integer, None, Sighup, (Some(0.0), Some(1024.0)), &[], 16, 17),
    extra("reserved_connections", Integer, None, Postmaster, (Some(0.0), Some(262_143.0)), &[], 16, 17),
    extra("scram_iterations", Integer, None, User, (Some(1.0), Some(INT_MAX)), &[], 16, 17),
    extra("send_abort_for_crash", Bool, None, Sighup, NO_RANGE, &[], 16, 17),
    extra("send_abort_for_kill", Bool, None, Sighup, NO_RANGE, &[], 16, 17),
    extra("vacuum_buffer_usage_limit", Integer, Some(Kilobytes), User, (Some(0.0), Some(16_777_216.0)), &[], 16, 17),
    // New in 17.
    extra("allow_alter_system", Bool, None, Sighup, NO_RANGE, &[], 17, 17),
    extra("commit_timestamp_buffers", Integer, Some(Blocks8k), Postmaster, (Some(0.0), Some(131_072.0)), &[], 17, 17),
    extra("enable_group_by_reordering", Bool, None, User, NO_RANGE, &[], 17, 17),
    extra("event_triggers", Bool, None, Superuser, NO_RANGE, &[], 17, 17),
    extra("huge_pages_status", Enum, None, Internal, NO_RANGE, &["off", "on", "unknown"], 17, 17),
    extra("io_combine_limit", Integer, Some(Blocks8k), User, (Some(1.0), Some(32.0)), &[], 17, 17),
    extra("max_notify_queue_pages", Integer, None, Postmaster, (Some(64.0), Some(INT_MAX)), &[], 17, 17),
    extra("multixact_member_buffers", Integer, Some(Blocks8k), Postmaster, (Some(16.0), Some(131_072.0)), &[], 17, 17),
    extra("multixact_offset_buffers", Integer, Some(Blocks8k), Postmaster, (Some(16.0), Some(131_072.0)), &[], 17, 17),
    extra("notify_buffers", Integer, Some(Blocks8k), Postmaster, (Some(16.0), Some(131_072.0)), &[], 17, 17),
    extra("serializable_buffers", Integer, Some(Blocks8k), Postmaster, (Some(16.0), Some(131_072.0)), &[], 17, 17),
    extra("subtransaction_buffers", Integer, Some(Blocks8k), Postmaster, (Some(0.0), Some(131_072.0)), &[], 17, 17),
    extra("summarize_wal", Bool, None, Sighup, NO_RANGE, &[], 17, 17),
    extra("sync_replication_slots", Bool, None, Sighup, NO_RANGE, &[], 17, 17),
    extra("synchronized_standby_slots", String, None, Sighup, NO_RANGE, &[], 17, 17),
    extra("trace_connection_negotiation", Bool, None, Postmaster, NO_RANGE, &[], 17, 17),
    extra("transaction_buffers", Integer, Some(Blocks8k), Postmaster, (Some(0.0), Some(131_072.0)), &[], 17, 17),
    extra("transaction_timeout", Integer, Some(Milliseconds), User, (Some(0.0), Some(INT_MAX)), &[], 17, 17),
    extra("wal_summary_keep_time", Integer, Some(Minutes), Sighup, (Some(0.0), Some(35_791_394.0)), &[], 17, 17),
];

/// What to use instead of a parameter a version lacks.
#[rustfmt::skip]
pub(super) static HINTS: &[(&str, &str)] = &[
    ("wal_keep_segments", "PostgreSQL 13 replaced it with wal_keep_size (in MB: segments x 16MB)"),
    ("wal_keep_size", "before PostgreSQL 13 use wal_keep_segments (16MB segments)"),
    ("force_parallel_mode", "PostgreSQL 16 renamed it debug_parallel_query"),
    ("debug_parallel_query", "before PostgreSQL 16 it is force_parallel_mode"),
    ("stats_temp_directory", "removed in PostgreSQL 15: statistics live in shared memory"),
    ("promote_trigger_file", "removed in PostgreSQL 16: use pg_ctl promote or pg_promote()"),
    ("vacuum_defer_cleanup_age", "removed in PostgreSQL 16: use hot_standby_feedback or a replication slot"),
    ("operator_precedence_warning", "removed in PostgreSQL 14"),
    ("vacuum_cleanup_index_scale_factor", "removed in PostgreSQL 14"),
    ("old_snapshot_threshold", "removed in PostgreSQL 17"),
    ("db_user_namespace", "removed in PostgreSQL 17"),
    ("trace_recovery_messages", "removed in PostgreSQL 17"),
];

/// The versions that have `name` (a parameter of the 15 table).
pub(super) fn availability(name: &str) -> (u32, u32) {
    AVAILABILITY
        .iter()
        .find(|(n, _, _)| *n == name)
        .map_or((FIRST_MAJOR, LAST_MAJOR), |&(_, s, u)| (s, u))
}

/// A parameter that PostgreSQL 15 does not have.
pub(super) fn extra_param(name: &str) -> Option<Param> {
    EXTRA.iter().find(|p| p.name.eq_ignore_ascii_case(name)).copied()
}

/// What to use instead of `name` where it does not exist.
pub(super) fn hint(name: &str) -> Option<&'static str> {
    HINTS.iter().find(|(n, _)| *n == name).map(|(_, h)| *h)
}

/// `p` as it is in `major` where that differs from its newest description.
pub(super) fn adjust(mut p: Param, major: u32) -> Param {
    match p.name {
        // 13 made these reloadable.
        "primary_conninfo" | "primary_slot_name" if major <= 12 => p.context = Postmaster,
        // 14 made restore_command reloadable.
        "restore_command" if major <= 13 => p.context = Postmaster,
        // A Boolean until 15 added the compression methods.
        "wal_compression" if major <= 14 => {
            p.vartype = Bool;
            p.enum_values = &[];
            p.enum_aliases = &[];
        }
        _ => {}
    }
    p
}
