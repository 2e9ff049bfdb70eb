//! The isolation deadline: how long a primary may go without hearing from any other node
//! before the fence stops it, computed from the failover settings of the other side.
//!
//! The other side (Pgpool-II's health check, or repmgrd on a standby) promotes a standby only
//! after it has failed to reach the primary for a while. This module computes the **earliest**
//! moment after a cut at which that can happen (`promote_floor`), assuming the cut is silent:
//! packets to the primary are dropped, so every connection attempt runs to its timeout. (A cut
//! that answers at once, with a reset or an ICMP error, means something still routes to the
//! primary's host: both sides then see the failure at once.)
//!
//! The fence probes the other nodes every `interval_ms`, each round bounded by
//! `probe_timeout_ms`, and stops the server when no other node has answered for the deadline
//! `D`. A probe round that started before the cut may still have been answered, so the last
//! contact is at most the cut itself; the round that sees the deadline passed ends at most one
//! interval plus one probe timeout after it; stopping then takes [`STOP_ALLOWANCE_MS`]
//! (a signal to the postmaster, which refuses connections from then on). So the fence has
//! stopped the server at the latest `D + interval + probe_timeout + stop` after the cut, and
//!
//! ```text
//! D = promote_floor - margin - interval - probe_timeout - stop
//! ```
//!
//! keeps it `margin` before the earliest promotion. `D` must leave at least
//! [`MIN_SILENT_ROUNDS`] whole rounds, so that one lost round never fences a primary; when it
//! cannot, the settings are refused with the figures ([`BudgetError`]).
//!
//! The floors, from the sources of the versions this project deploys:
//!
//! - **Pgpool-II 4.3** (`health_check.c`, `pool_connection_pool.c`). A health check attempt on
//!   a silent backend ends when `health_check_timeout` (an `alarm`) or `connect_timeout` (ms,
//!   the `select` on the connecting socket) expires, whichever is first; after a failed attempt
//!   it sleeps `health_check_retry_delay` and tries again, `health_check_max_retries` times, then
//!   fails the node over. The first attempt can start right at the cut (`health_check_period`
//!   only spaces successful checks). With `failover_on_backend_error`, a client session that
//!   opens a backend connection right after the cut fails it over once `connect_timeout`
//!   expires, with no retries. With neither timeout set, the kernel's own connect timeout
//!   (127 s with Linux's default six SYN retries) applies. The watchdog's consensus only adds
//!   time (a second Pgpool-II must agree; a cut-off leader must first be replaced), so the
//!   `wd_*` settings do not lower the floor.
//! - **repmgr 5.3** (`repmgrd-physical.c`: `monitor_streaming_standby`, `try_primary_reconnect`).
//!   A standby's repmgrd pings its primary (`connection_check_type=ping`, a new libpq connection
//!   with the conninfo's `connect_timeout`); on a failure it tries `reconnect_attempts` times,
//!   sleeping `reconnect_interval` seconds between tries, then elects and promotes. libpq before
//!   17 counts `connect_timeout` in whole seconds from `time(NULL)` (and raises it to 2), so an
//!   attempt can end just over `connect_timeout - 1` seconds after it started; a
//!   `tcp_user_timeout` shorter than that ends it sooner. `failover=manual`: repmgrd promotes
//!   nothing, and the fence does not fence for isolation (only a primary that sees a later
//!   timeline is stopped).

use serde::Deserialize;
use std::fmt;

/// From the fence's decision to the server refusing new connections: a `kill(SIGINT)` to the
/// postmaster (fast shutdown), plus scheduling on a loaded host.
pub const STOP_ALLOWANCE_MS: u64 = 250;

/// The deadline is at least this many probe intervals, so that one lost round (a busy peer, a
/// dropped packet) never fences a primary.
pub const MIN_SILENT_ROUNDS: u64 = 2;

/// Linux gives up connecting to a silent address after about 127 s (`tcp_syn_retries` 6:
/// 1 + 2 + 4 + 8 + 16 + 32 + 64 s).
pub const KERNEL_CONNECT_GIVE_UP_MS: u64 = 127_000;

/// Shortest probe interval and probe timeout accepted (ms).
pub const MIN_PROBE_MS: u64 = 100;

/// The failover settings of the other side.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "manager", rename_all = "lowercase", deny_unknown_fields)]
pub enum Failover {
    /// Pgpool-II's health check and backend-error failover.
    Pgpool(PgpoolFailover),
    /// repmgrd's monitoring of the primary.
    Repmgr(RepmgrFailover),
}

/// The pgpool.conf settings that decide how soon a silent primary is failed over.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PgpoolFailover {
    /// `health_check_period` (s); 0 turns the health check off.
    pub health_check_period: u64,
    /// `health_check_timeout` (s); 0: none.
    pub health_check_timeout: u64,
    /// `health_check_max_retries`.
    pub health_check_max_retries: u64,
    /// `health_check_retry_delay` (s).
    pub health_check_retry_delay: u64,
    /// `connect_timeout` (ms); 0: none.
    pub connect_timeout: u64,
    /// `failover_on_backend_error`.
    pub failover_on_backend_error: bool,
}

/// The repmgr.conf settings that decide how soon repmgrd promotes a standby.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepmgrFailover {
    /// `failover`: `automatic` or `manual`.
    pub failover: String,
    /// `connect_timeout` of the nodes' conninfo (s); 0: none.
    pub connect_timeout: u64,
    /// `tcp_user_timeout` of the nodes' conninfo (ms); 0: none.
    #[serde(default)]
    pub tcp_user_timeout: u64,
    /// `reconnect_attempts`.
    pub reconnect_attempts: u64,
    /// `reconnect_interval` (s).
    pub reconnect_interval: u64,
}

/// The fence's own timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FenceTiming {
    /// A probe round starts every this many ms.
    pub interval_ms: u64,
    /// Each round (every peer in parallel, connect and statement) ends after at most this.
    pub probe_timeout_ms: u64,
    /// The fence has stopped the server at least this long before the earliest promotion.
    pub margin_ms: u64,
}

/// The earliest promotion after a silent cut, and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Floor {
    /// ms after the cut; `None`: the other side never promotes by itself.
    pub ms: Option<u64>,
    /// One sentence per path, with its figures.
    pub why: Vec<String>,
}

/// What the fence will do, with the figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The earliest promotion after a cut (ms); `None`: never by itself.
    pub promote_floor_ms: Option<u64>,
    /// Silence after which the fence stops a primary (ms); `None`: no isolation fence.
    pub deadline_ms: Option<u64>,
    /// The latest moment after a cut at which the server has stopped (ms).
    pub stopped_by_ms: Option<u64>,
    /// How the floor was reached.
    pub why: Vec<String>,
}

impl Plan {
    /// The plan as one JSON object (what `pgha-fence plan` prints).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "promote_floor_ms": self.promote_floor_ms,
            "deadline_ms": self.deadline_ms,
            "stopped_by_ms": self.stopped_by_ms,
            "why": self.why,
        })
    }
}

/// Settings with which the fence cannot fire before the other side can promote, or that make
/// no sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    /// The fence needs more time than the other side leaves.
    #[error(
        "the fence cannot stop a cut-off primary before the other side can promote a standby: {floor}; \
         the fence needs {needed} ({rounds} silent rounds of {interval} = {silent}, then up to one more round {interval} \
         and its probe timeout {probe}, stopping {stop}, margin {margin}). Give the other side more time to \
         detect the failure ({hint}), or lower fence_interval_ms, fence_probe_timeout_ms or fence_margin_ms",
        floor = why.join("; "),
        needed = secs(*needed_ms),
        rounds = MIN_SILENT_ROUNDS,
        interval = secs(*interval_ms),
        silent = secs(MIN_SILENT_ROUNDS * interval_ms),
        probe = secs(*probe_timeout_ms),
        stop = secs(STOP_ALLOWANCE_MS),
        margin = secs(*margin_ms)
    )]
    TooTight {
        /// How the floor was reached.
        why: Vec<String>,
        /// The earliest promotion (ms).
        floor_ms: u64,
        /// What the fence needs (ms).
        needed_ms: u64,
        /// The fence's interval (ms).
        interval_ms: u64,
        /// The fence's probe timeout (ms).
        probe_timeout_ms: u64,
        /// The margin (ms).
        margin_ms: u64,
        /// Which settings give the other side more time.
        hint: &'static str,
    },
    /// A timing setting out of range.
    #[error("{0}")]
    Invalid(String),
}

/// Milliseconds as seconds for messages: `3.0 s`, `1.35 s`.
pub fn secs(ms: u64) -> String {
    let s = format!("{:.3}", ms as f64 / 1000.0);
    let s = s.trim_end_matches('0');
    let s = if s.ends_with('.') { format!("{s}0") } else { s.to_string() };
    format!("{s} s")
}

fn count(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn min_nonzero(a: u64, b: u64) -> Option<u64> {
    match (a, b) {
        (0, 0) => None,
        (0, x) | (x, 0) => Some(x),
        (x, y) => Some(x.min(y)),
    }
}

impl Failover {
    /// The manager's name, for messages.
    pub fn manager(&self) -> &'static str {
        match self {
            Failover::Pgpool(_) => "pgpool",
            Failover::Repmgr(_) => "repmgr",
        }
    }

    /// The earliest moment after a silent cut at which the other side can promote a standby.
    pub fn promote_floor(&self) -> Floor {
        match self {
            Failover::Pgpool(p) => pgpool_floor(p),
            Failover::Repmgr(r) => repmgr_floor(r),
        }
    }

    fn hint(&self) -> &'static str {
        match self {
            Failover::Pgpool(_) => {
                "Pgpool-II: health_check_timeout, health_check_max_retries, health_check_retry_delay, and connect_timeout \
                 while failover_on_backend_error is on"
            }
            Failover::Repmgr(_) => "repmgr: reconnect_attempts, reconnect_interval or connect_timeout",
        }
    }
}

fn pgpool_floor(p: &PgpoolFailover) -> Floor {
    let mut why = Vec::new();
    let mut paths = Vec::new();
    if p.health_check_period == 0 {
        why.push("health check off (health_check_period 0)".to_string());
    } else {
        let (attempt, from) = match min_nonzero(p.health_check_timeout * 1000, p.connect_timeout) {
            Some(ms) if ms == p.health_check_timeout * 1000 => (ms, format!("health_check_timeout {}", secs(ms))),
            Some(ms) => (ms, format!("connect_timeout {}", secs(ms))),
            None => (
                KERNEL_CONNECT_GIVE_UP_MS,
                format!("no timeout: the kernel's {}", secs(KERNEL_CONNECT_GIVE_UP_MS)),
            ),
        };
        let retries = p.health_check_max_retries;
        let ms = (retries + 1) * attempt + retries * p.health_check_retry_delay * 1000;
        why.push(format!(
            "Pgpool-II's health check fails a silent primary over after {} ({} of {} + {} of {})",
            secs(ms),
            count(retries + 1, "attempt"),
            from,
            count(retries, "retry delay"),
            secs(p.health_check_retry_delay * 1000)
        ));
        paths.push(ms);
    }
    if p.failover_on_backend_error {
        let ms = if p.connect_timeout > 0 {
            p.connect_timeout
        } else {
            KERNEL_CONNECT_GIVE_UP_MS
        };
        why.push(format!(
            "with failover_on_backend_error, a client's new backend connection fails it over after connect_timeout {}",
            secs(ms)
        ));
        paths.push(ms);
    }
    Floor {
        ms: paths.into_iter().min(),
        why,
    }
}

fn repmgr_floor(r: &RepmgrFailover) -> Floor {
    if r.failover != "automatic" {
        return Floor {
            ms: None,
            why: vec![format!("repmgrd promotes nothing by itself (failover={})", r.failover)],
        };
    }
    let (mut attempt, mut from) = if r.connect_timeout == 0 {
        (
            KERNEL_CONNECT_GIVE_UP_MS,
            format!("no connect_timeout: the kernel's {}", secs(KERNEL_CONNECT_GIVE_UP_MS)),
        )
    } else {
        let t = r.connect_timeout.max(2);
        (
            (t - 1) * 1000,
            format!(
                "connect_timeout {t} s, which libpq counts in whole seconds: just over {}",
                secs((t - 1) * 1000)
            ),
        )
    };
    if r.tcp_user_timeout > 0 && r.tcp_user_timeout < attempt {
        attempt = r.tcp_user_timeout;
        from = format!("tcp_user_timeout {}", secs(attempt));
    }
    let n = r.reconnect_attempts;
    let ms = (1 + n) * attempt + n.saturating_sub(1) * r.reconnect_interval * 1000;
    Floor {
        ms: Some(ms),
        why: vec![format!(
            "repmgrd can promote {} after a cut (a failed check and {} of {}, {} of {})",
            secs(ms),
            count(n, "reconnect attempt"),
            from,
            count(n.saturating_sub(1), "reconnect_interval sleep"),
            secs(r.reconnect_interval * 1000)
        )],
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.deadline_ms, self.stopped_by_ms, self.promote_floor_ms) {
            (Some(d), Some(s), Some(p)) => write!(
                f,
                "isolation deadline {}: a cut-off primary is stopped at most {} after the cut, the other side promotes \
                 no sooner than {} ({})",
                secs(d),
                secs(s),
                secs(p),
                self.why.join("; ")
            ),
            _ => write!(f, "no isolation fence: {}", self.why.join("; ")),
        }
    }
}

/// The deadline for these settings, or why there is none that works.
pub fn plan(failover: &Failover, t: &FenceTiming) -> Result<Plan, BudgetError> {
    if t.interval_ms < MIN_PROBE_MS || t.probe_timeout_ms < MIN_PROBE_MS {
        return Err(BudgetError::Invalid(format!(
            "fence_interval_ms ({}) and fence_probe_timeout_ms ({}) must be at least {MIN_PROBE_MS}",
            t.interval_ms, t.probe_timeout_ms
        )));
    }
    if t.probe_timeout_ms > t.interval_ms {
        return Err(BudgetError::Invalid(format!(
            "fence_probe_timeout_ms ({}) must not exceed fence_interval_ms ({}): a round ends before the next starts",
            t.probe_timeout_ms, t.interval_ms
        )));
    }
    let floor = failover.promote_floor();
    let Some(floor_ms) = floor.ms else {
        return Ok(Plan {
            promote_floor_ms: None,
            deadline_ms: None,
            stopped_by_ms: None,
            why: floor.why,
        });
    };
    let after_deadline = t.interval_ms + t.probe_timeout_ms + STOP_ALLOWANCE_MS + t.margin_ms;
    let needed_ms = MIN_SILENT_ROUNDS * t.interval_ms + after_deadline;
    if floor_ms < needed_ms {
        return Err(BudgetError::TooTight {
            why: floor.why,
            floor_ms,
            needed_ms,
            interval_ms: t.interval_ms,
            probe_timeout_ms: t.probe_timeout_ms,
            margin_ms: t.margin_ms,
            hint: failover.hint(),
        });
    }
    let deadline = floor_ms - after_deadline;
    Ok(Plan {
        promote_floor_ms: Some(floor_ms),
        deadline_ms: Some(deadline),
        stopped_by_ms: Some(deadline + t.interval_ms + t.probe_timeout_ms + STOP_ALLOWANCE_MS),
        why: floor.why,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lab's Pgpool-II settings (collection/roles/pgpool/defaults/main.yml).
    fn pgpool() -> PgpoolFailover {
        PgpoolFailover {
            health_check_period: 1,
            health_check_timeout: 2,
            health_check_max_retries: 1,
            health_check_retry_delay: 1,
            connect_timeout: 3000,
            failover_on_backend_error: true,
        }
    }

    /// The lab's repmgr settings (collection/roles/repmgr/defaults/main.yml).
    fn repmgr() -> RepmgrFailover {
        RepmgrFailover {
            failover: "automatic".into(),
            connect_timeout: 2,
            tcp_user_timeout: 3000,
            reconnect_attempts: 2,
            reconnect_interval: 1,
        }
    }

    const TIMING: FenceTiming = FenceTiming {
        interval_ms: 500,
        probe_timeout_ms: 400,
        margin_ms: 500,
    };

    #[test]
    fn pgpool_floor_is_the_faster_of_health_check_and_backend_error() {
        // health check: 2 attempts x 2 s + 1 delay x 1 s = 5 s; a client's connect: 3 s.
        assert_eq!(Failover::Pgpool(pgpool()).promote_floor().ms, Some(3000));
        let off = PgpoolFailover {
            failover_on_backend_error: false,
            ..pgpool()
        };
        assert_eq!(Failover::Pgpool(off.clone()).promote_floor().ms, Some(5000));
        // connect_timeout shorter than health_check_timeout ends each attempt sooner.
        let short = PgpoolFailover {
            connect_timeout: 1500,
            ..off.clone()
        };
        assert_eq!(Failover::Pgpool(short).promote_floor().ms, Some(2 * 1500 + 1000));
        // No timeout at all: the kernel's connect timeout.
        let none = PgpoolFailover {
            health_check_timeout: 0,
            connect_timeout: 0,
            ..off.clone()
        };
        assert_eq!(
            Failover::Pgpool(none).promote_floor().ms,
            Some(2 * KERNEL_CONNECT_GIVE_UP_MS + 1000)
        );
        // No health check and no backend-error failover: nothing fails the primary over.
        let never = PgpoolFailover {
            health_check_period: 0,
            ..off
        };
        assert_eq!(Failover::Pgpool(never).promote_floor().ms, None);
    }

    #[test]
    fn repmgr_floor_counts_libpq_whole_seconds_and_the_sleeps() {
        // (1 check + 2 attempts) x just over 1 s + 1 sleep x 1 s = 4 s.
        assert_eq!(Failover::Repmgr(repmgr()).promote_floor().ms, Some(4000));
        // The seed's settings: 4 attempts, 2 s apart, connect_timeout 2: 5 x 1 + 3 x 2 = 11 s.
        let seed = RepmgrFailover {
            reconnect_attempts: 4,
            reconnect_interval: 2,
            tcp_user_timeout: 0,
            ..repmgr()
        };
        assert_eq!(Failover::Repmgr(seed).promote_floor().ms, Some(11_000));
        // libpq raises connect_timeout 1 to 2.
        let one = RepmgrFailover {
            connect_timeout: 1,
            ..repmgr()
        };
        assert_eq!(Failover::Repmgr(one).promote_floor().ms, Some(4000));
        // A tcp_user_timeout below the connect timeout ends each attempt sooner.
        let tut = RepmgrFailover {
            connect_timeout: 5,
            tcp_user_timeout: 1500,
            ..repmgr()
        };
        assert_eq!(Failover::Repmgr(tut).promote_floor().ms, Some(3 * 1500 + 1000));
        let manual = RepmgrFailover {
            failover: "manual".into(),
            ..repmgr()
        };
        assert_eq!(Failover::Repmgr(manual).promote_floor().ms, None);
    }

    #[test]
    fn the_lab_settings_give_a_deadline_that_stops_before_the_floor() {
        let p = plan(&Failover::Pgpool(pgpool()), &TIMING).unwrap();
        // 3000 - (500 + 400 + 250 + 500) = 1350 ms.
        assert_eq!(p.deadline_ms, Some(1350));
        assert_eq!(p.stopped_by_ms, Some(1350 + 500 + 400 + STOP_ALLOWANCE_MS));
        assert!(p.stopped_by_ms.unwrap() + TIMING.margin_ms <= p.promote_floor_ms.unwrap());
        let r = plan(&Failover::Repmgr(repmgr()), &TIMING).unwrap();
        assert_eq!(r.deadline_ms, Some(2350));
        assert!(r.stopped_by_ms.unwrap() < r.promote_floor_ms.unwrap());
        assert!(r.to_string().contains("isolation deadline 2.35 s"), "{r}");
    }

    #[test]
    fn the_stop_is_strictly_before_the_floor_for_every_accepted_setting() {
        for hc_timeout in 0..4 {
            for retries in 0..4 {
                for delay in 0..3 {
                    for ct in [0, 500, 1000, 3000, 10_000] {
                        for interval in [100, 250, 500, 1000] {
                            let f = Failover::Pgpool(PgpoolFailover {
                                health_check_period: 1,
                                health_check_timeout: hc_timeout,
                                health_check_max_retries: retries,
                                health_check_retry_delay: delay,
                                connect_timeout: ct,
                                failover_on_backend_error: ct % 1000 == 0,
                            });
                            let t = FenceTiming {
                                interval_ms: interval,
                                probe_timeout_ms: (interval * 4 / 5).max(MIN_PROBE_MS),
                                margin_ms: 200,
                            };
                            match plan(&f, &t) {
                                Ok(p) => {
                                    let (d, s, fl) = (p.deadline_ms.unwrap(), p.stopped_by_ms.unwrap(), p.promote_floor_ms.unwrap());
                                    assert!(s + t.margin_ms <= fl && s < fl, "{f:?} {t:?} {p:?}");
                                    assert!(d >= MIN_SILENT_ROUNDS * t.interval_ms, "{p:?}");
                                }
                                Err(BudgetError::TooTight { floor_ms, needed_ms, .. }) => assert!(floor_ms < needed_ms),
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn settings_that_leave_no_room_are_refused_with_the_figures() {
        // One attempt, no retry: repmgrd can promote after 2 x 1 s = 2 s; the fence needs
        // 2 x 0.5 + 0.5 + 0.4 + 0.25 + 0.5 = 2.65 s.
        let fast = RepmgrFailover {
            reconnect_attempts: 1,
            ..repmgr()
        };
        let e = plan(&Failover::Repmgr(fast), &TIMING).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(
                e,
                BudgetError::TooTight {
                    floor_ms: 2000,
                    needed_ms: 2650,
                    ..
                }
            ),
            "{e:?}"
        );
        for part in [
            "repmgrd can promote 2.0 s after a cut",
            "the fence needs 2.65 s",
            "margin 0.5 s",
            "reconnect_attempts",
        ] {
            assert!(msg.contains(part), "{part:?} not in {msg}");
        }
        // Pgpool-II with a 1 s connect_timeout and backend-error failover.
        let quick = PgpoolFailover {
            connect_timeout: 1000,
            ..pgpool()
        };
        let msg = plan(&Failover::Pgpool(quick), &TIMING).unwrap_err().to_string();
        assert!(
            msg.contains("connect_timeout 1.0 s") && msg.contains("failover_on_backend_error"),
            "{msg}"
        );
    }

    #[test]
    fn no_automatic_promotion_means_no_isolation_deadline() {
        let manual = RepmgrFailover {
            failover: "manual".into(),
            ..repmgr()
        };
        let p = plan(&Failover::Repmgr(manual), &TIMING).unwrap();
        assert_eq!((p.deadline_ms, p.stopped_by_ms), (None, None));
        assert!(p.to_string().starts_with("no isolation fence: repmgrd promotes nothing"), "{p}");
    }

    #[test]
    fn timing_out_of_range_is_refused() {
        let slow_probe = FenceTiming {
            probe_timeout_ms: 600,
            ..TIMING
        };
        assert!(plan(&Failover::Pgpool(pgpool()), &slow_probe)
            .unwrap_err()
            .to_string()
            .contains("must not exceed fence_interval_ms"));
        let tiny = FenceTiming {
            interval_ms: 50,
            probe_timeout_ms: 50,
            margin_ms: 0,
        };
        assert!(plan(&Failover::Pgpool(pgpool()), &tiny)
            .unwrap_err()
            .to_string()
            .contains("at least 100"));
    }

    #[test]
    fn settings_parse_from_json_with_the_manager_as_tag() {
        let f: Failover = serde_json::from_str(
            r#"{"manager": "repmgr", "failover": "automatic", "connect_timeout": 2, "reconnect_attempts": 2, "reconnect_interval": 1}"#,
        )
        .unwrap();
        assert_eq!(f.promote_floor().ms, Some(4000));
        let e = serde_json::from_str::<Failover>(r#"{"manager": "pgpool", "health_check_period": 1}"#).unwrap_err();
        assert!(e.to_string().contains("missing field"), "{e}");
        let e = serde_json::from_str::<Failover>(r#"{"manager": "patroni"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown variant"), "{e}");
    }

    #[test]
    fn seconds_read_naturally() {
        assert_eq!(secs(3000), "3.0 s");
        assert_eq!(secs(1350), "1.35 s");
        assert_eq!(secs(250), "0.25 s");
        assert_eq!(secs(127_000), "127.0 s");
    }
}
