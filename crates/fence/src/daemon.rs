//! The fence daemon: a probe round every interval, a decision after each, and the action.

use crate::act::{log, stop_server, systemctl};
use crate::budget::{plan, secs};
use crate::config::Config;
use crate::decide::{Action, Decider, Local, Peer, Round};
use crate::probe::{self, AskError};
use futures_util::future;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Exit status when the configuration or the deadline is unusable (the unit does not restart
/// the daemon on it: `RestartPreventExitStatus=2`).
pub const EXIT_CONFIG: i32 = 2;

/// How often a fence whose server may be a primary asks the other nodes' roles (a login and a
/// statement each). A replaced primary is found within this; isolation is decided every round
/// on TCP handshakes alone, which cost the other servers nothing they log.
pub const PEER_ROLE_EVERY: Duration = Duration::from_secs(2);

/// One probe round: the local server and every other node, all in parallel, each bounded by
/// `limit`; the other nodes' roles only when `ask_roles`.
pub async fn round(cfg: &Config, limit: Duration, ask_roles: bool) -> ((Local, Option<AskError>), Vec<(Peer, Option<AskError>)>) {
    future::join(
        probe::local(cfg, limit),
        future::join_all(cfg.peers.iter().map(|p| probe::peer(cfg, p, limit, ask_roles))),
    )
    .await
}

fn marker(cfg: &Config) -> PathBuf {
    cfg.state_directory.join("fenced-isolated")
}

/// Runs until killed. Returns only when the configuration cannot be used.
pub fn run(cfg: &Config) -> i32 {
    let plan = match plan(&cfg.failover, &cfg.timing) {
        Ok(p) => p,
        Err(e) => {
            log(format!("not fencing: {e}"));
            return EXIT_CONFIG;
        }
    };
    log(format!(
        "{}: {} fence; peers {}; a round every {}, each bounded by {}; {plan}",
        cfg.node,
        cfg.failover.manager(),
        cfg.peers
            .iter()
            .map(|p| format!("{} ({})", p.name, p.address))
            .collect::<Vec<_>>()
            .join(", "),
        secs(cfg.timing.interval_ms),
        secs(cfg.timing.probe_timeout_ms),
    ));
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            log(format!("cannot start the I/O runtime: {e}"));
            return 1;
        }
    };
    let clock = Instant::now();
    let ms = |t: Instant| t.duration_since(clock).as_millis() as u64;
    let marker = marker(cfg);
    let mut decider = Decider::new(plan.deadline_ms, cfg.restart_after_isolation, 0, marker.exists());
    let interval = Duration::from_millis(cfg.timing.interval_ms);
    let limit = Duration::from_millis(cfg.timing.probe_timeout_ms);
    let mut errors: HashMap<String, String> = HashMap::new();
    let mut silent_rounds = 0u64;
    let mut next = Instant::now();
    let mut roles_asked: Option<Instant> = None;
    loop {
        let started = Instant::now();
        let ask_roles = decider.may_be_primary() && roles_asked.is_none_or(|t| started.duration_since(t) >= PEER_ROLE_EVERY);
        if ask_roles {
            roles_asked = Some(started);
        }
        let ((local, local_error), peers) = rt.block_on(round(cfg, limit, ask_roles));
        let ended = Instant::now();
        note_errors(&mut errors, "local server", local_error.as_ref());
        if ask_roles {
            for (p, e) in &peers {
                note_errors(&mut errors, &p.name, e.as_ref());
            }
        }
        let r = Round {
            started: ms(started),
            ended: ms(ended),
            local,
            peers: peers.into_iter().map(|(p, _)| p).collect(),
        };
        let action = decider.decide(&r);
        if !matches!(action, Action::Silent { .. }) {
            silent_rounds = 0;
        }
        match action {
            Action::Nothing => {}
            Action::Silent { silent_ms } => {
                silent_rounds += 1;
                if silent_rounds == 1 || silent_rounds.is_multiple_of(20) {
                    log(format!(
                        "primary, and no other node answers for {}{}",
                        secs(silent_ms),
                        plan.deadline_ms.map(|d| format!(" (fenced at {})", secs(d))).unwrap_or_default()
                    ));
                }
            }
            Action::FenceIsolated { silent_ms } => {
                if let Err(e) = std::fs::write(&marker, format!("{}\n", cfg.service)) {
                    log(format!("cannot write {}: {e}", marker.display()));
                }
                log(format!(
                    "fencing: primary, and no other node answered for {} (deadline {}): stopping {}",
                    secs(silent_ms),
                    secs(plan.deadline_ms.unwrap_or_default()),
                    cfg.service
                ));
                for line in stop_server(cfg) {
                    log(line);
                }
            }
            Action::FenceStale {
                peer,
                peer_timeline,
                timeline,
            } => {
                log(format!(
                    "fencing: {peer} is the primary on timeline {peer_timeline}, this node is on {timeline}: stopping {}",
                    cfg.service
                ));
                for line in stop_server(cfg) {
                    log(line);
                }
                if let Some(unit) = cfg.rejoin.as_ref().map(|r| r.unit.as_str()).filter(|u| !u.is_empty()) {
                    log(systemctl(cfg, &["start", "--no-block", unit]));
                }
            }
            Action::StartAgain { peer } => {
                let _ = std::fs::remove_file(&marker);
                log(format!(
                    "{peer} answers again: starting {} (its start guard rejoins this node if another is the primary)",
                    cfg.service
                ));
                log(systemctl(cfg, &["start", &cfg.service]));
            }
        }
        if !decider.fenced_for_isolation() && marker.exists() {
            let _ = std::fs::remove_file(&marker);
        }
        next += interval;
        let now = Instant::now();
        if next < now {
            next = now;
        }
        std::thread::sleep(next - now);
    }
}

/// Logs a probe error when it appears or changes, and when it clears.
fn note_errors(seen: &mut HashMap<String, String>, who: &str, error: Option<&AskError>) {
    match error {
        // Not answering in time is what the fence counts; only other errors are news.
        Some(AskError::Timeout(_)) | None => {
            if seen.remove(who).is_some() {
                log(format!("{who}: answers again"));
            }
        }
        Some(e) => {
            let text = e.to_string();
            if seen.get(who) != Some(&text) {
                log(format!("{who}: {text}"));
                seen.insert(who.to_string(), text);
            }
        }
    }
}
