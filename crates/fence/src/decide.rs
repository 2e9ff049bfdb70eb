//! What the fence does after a probe round: pure functions of what the round saw, the time,
//! and what earlier rounds saw.
//!
//! A round asks the local server whether it is a primary and on which timeline (through its
//! Unix socket), and every other node, in parallel, whether it answers at all (a TCP handshake
//! on any of its ports) and, every few rounds while the local server may be a primary, whether
//! it is a primary and on which timeline (SQL). Then:
//!
//! - the local server is a primary and another node is a primary on a **later timeline**: this
//!   one was replaced (an old primary back after a failover): stop it ([`Action::FenceStale`]);
//! - the local server is a primary and **no other node has answered** for the isolation
//!   deadline: the other side will promote a standby: stop it ([`Action::FenceIsolated`]);
//! - the server is down because this fence stopped it for isolation, and another node answers
//!   again, and the manager wants it ([`Decider::restart_after_isolation`], repmgr): start it
//!   ([`Action::StartAgain`]); its start guard then rejoins it as a standby when another node
//!   was promoted meanwhile.
//!
//! The silence is counted from the start of the last round in which some node answered (an
//! answer cannot come from after a cut, so the last contact is never later than the cut) or
//! from the moment the local server was first seen as a primary, whichever is later. A local
//! probe that did not answer in time (a busy server) keeps what the previous round saw.

/// Milliseconds on a monotonic clock.
pub type Ms = u64;

/// The local server, as one round saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Local {
    /// Running as a primary on this timeline.
    Primary {
        /// Its timeline.
        timeline: u32,
    },
    /// Running in recovery.
    Standby,
    /// Not running (refused, no socket, starting or shutting down).
    Down,
    /// No answer in time, or an error that says nothing about its role.
    Unknown,
}

/// Another node, as one round saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Its name (for messages).
    pub name: String,
    /// It completed a TCP handshake on one of its ports, or answered SQL.
    pub reachable: bool,
    /// It answered SQL as a primary on this timeline.
    pub primary_timeline: Option<u32>,
}

/// One round's observations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Round {
    /// When the round started.
    pub started: Ms,
    /// When it ended (every probe answered or timed out).
    pub ended: Ms,
    /// The local server.
    pub local: Local,
    /// Every other node.
    pub peers: Vec<Peer>,
}

/// What to do after a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing.
    Nothing,
    /// A primary that no other node has answered for `silent_ms` (less than the deadline).
    Silent {
        /// How long (ms).
        silent_ms: Ms,
    },
    /// Stop the server: no other node answered for `silent_ms` (at least the deadline).
    FenceIsolated {
        /// How long (ms).
        silent_ms: Ms,
    },
    /// Stop the server: `peer` is a primary on a later timeline.
    FenceStale {
        /// The other primary.
        peer: String,
        /// Its timeline.
        peer_timeline: u32,
        /// This node's timeline.
        timeline: u32,
    },
    /// Start the server again: this fence stopped it for isolation and `peer` answers again.
    StartAgain {
        /// The node that answered.
        peer: String,
    },
}

/// The decision rules and what they remember between rounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decider {
    /// Silence after which an isolated primary is stopped; `None`: never for isolation.
    pub deadline_ms: Option<Ms>,
    /// Start the server again once a node answers after an isolation fence (repmgr).
    pub restart_after_isolation: bool,
    /// The local role the last answering local probe saw.
    last_local: Local,
    /// Start of the last round in which some node answered, or when the local server was
    /// first seen as a primary.
    last_contact: Ms,
    /// This fence stopped the server for isolation and has not seen it run since.
    fenced_for_isolation: bool,
}

impl Decider {
    /// A decider that starts counting at `now`. `fenced_for_isolation` carries the state of an
    /// earlier run of the daemon (its marker file).
    pub fn new(deadline_ms: Option<Ms>, restart_after_isolation: bool, now: Ms, fenced_for_isolation: bool) -> Decider {
        Decider {
            deadline_ms,
            restart_after_isolation,
            last_local: Local::Unknown,
            last_contact: now,
            fenced_for_isolation,
        }
    }

    /// Whether the last answering local probe saw a primary (or none has answered yet): only
    /// then can another node's role change what the fence does.
    pub fn may_be_primary(&self) -> bool {
        matches!(self.last_local, Local::Primary { .. } | Local::Unknown)
    }

    /// Whether the server was stopped by this fence for isolation and not seen running since.
    pub fn fenced_for_isolation(&self) -> bool {
        self.fenced_for_isolation
    }

    /// Decides after one round.
    pub fn decide(&mut self, round: &Round) -> Action {
        let reached = round.peers.iter().find(|p| p.reachable);
        let local = match round.local {
            Local::Unknown => self.last_local,
            seen => seen,
        };
        let was_primary = matches!(self.last_local, Local::Primary { .. });
        if round.local != Local::Unknown {
            self.last_local = round.local;
        }
        if reached.is_some() {
            self.last_contact = self.last_contact.max(round.started);
        }
        match local {
            Local::Primary { timeline } => {
                self.fenced_for_isolation = false;
                if !was_primary {
                    // The clock starts when this node is first seen as a primary.
                    self.last_contact = self.last_contact.max(round.started);
                }
                if let Some(p) = round.peers.iter().find(|p| p.primary_timeline.is_some_and(|t| t > timeline)) {
                    self.last_local = Local::Down;
                    return Action::FenceStale {
                        peer: p.name.clone(),
                        peer_timeline: p.primary_timeline.unwrap_or_default(),
                        timeline,
                    };
                }
                if reached.is_some() {
                    return Action::Nothing;
                }
                let silent_ms = round.ended.saturating_sub(self.last_contact);
                match self.deadline_ms {
                    Some(d) if silent_ms >= d => {
                        self.fenced_for_isolation = true;
                        self.last_local = Local::Down;
                        Action::FenceIsolated { silent_ms }
                    }
                    _ => Action::Silent { silent_ms },
                }
            }
            Local::Standby => {
                self.fenced_for_isolation = false;
                Action::Nothing
            }
            Local::Down | Local::Unknown => match reached {
                Some(p) if self.fenced_for_isolation && self.restart_after_isolation => {
                    self.fenced_for_isolation = false;
                    Action::StartAgain { peer: p.name.clone() }
                }
                _ => Action::Nothing,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(name: &str, reachable: bool, primary_timeline: Option<u32>) -> Peer {
        Peer {
            name: name.into(),
            reachable,
            primary_timeline,
        }
    }

    fn round(started: Ms, local: Local, peers: &[Peer]) -> Round {
        Round {
            started,
            ended: started + 10,
            local,
            peers: peers.to_vec(),
        }
    }

    const PRIMARY: Local = Local::Primary { timeline: 3 };

    fn standbys() -> Vec<Peer> {
        vec![peer("b", true, None), peer("c", true, None)]
    }

    fn cut() -> Vec<Peer> {
        vec![peer("b", false, None), peer("c", false, None)]
    }

    #[test]
    fn a_primary_that_hears_from_one_node_is_left_alone() {
        let mut d = Decider::new(Some(1350), false, 0, false);
        for i in 0..20 {
            let peers = [peer("b", i % 2 == 0, None), peer("c", i % 2 == 1, None)];
            assert_eq!(d.decide(&round(i * 500, PRIMARY, &peers)), Action::Nothing);
        }
    }

    #[test]
    fn an_isolated_primary_is_stopped_once_the_silence_reaches_the_deadline() {
        let mut d = Decider::new(Some(1350), false, 0, false);
        assert_eq!(d.decide(&round(0, PRIMARY, &standbys())), Action::Nothing);
        assert_eq!(d.decide(&round(500, PRIMARY, &standbys())), Action::Nothing);
        // Cut just after the round at 500 started: silence counts from 500.
        assert_eq!(d.decide(&round(1000, PRIMARY, &cut())), Action::Silent { silent_ms: 510 });
        assert_eq!(d.decide(&round(1500, PRIMARY, &cut())), Action::Silent { silent_ms: 1010 });
        assert_eq!(d.decide(&round(2000, PRIMARY, &cut())), Action::FenceIsolated { silent_ms: 1510 });
        assert!(d.fenced_for_isolation());
        // Stopped: nothing more, even while still cut off.
        assert_eq!(d.decide(&round(2500, Local::Down, &cut())), Action::Nothing);
    }

    #[test]
    fn the_round_that_fences_ends_within_deadline_plus_interval_plus_probe_timeout_of_the_cut() {
        // Rounds every 500 ms, each taking the whole probe timeout (400 ms) once cut off;
        // for every cut moment, the fence fires no later than cut + D + I + P.
        let (d_ms, interval, probe) = (1350, 500, 400);
        for cut_at in (0..2000).step_by(37) {
            let mut d = Decider::new(Some(d_ms), false, 0, false);
            let mut fired = None;
            for k in 0..40 {
                let started = k * interval;
                let answered = started + 5 < cut_at;
                let r = Round {
                    started,
                    ended: if answered { started + 5 } else { started + probe },
                    local: PRIMARY,
                    peers: vec![peer("b", answered, None), peer("c", answered, None)],
                };
                if let Action::FenceIsolated { .. } = d.decide(&r) {
                    fired = Some(r.ended);
                    break;
                }
            }
            let fired = fired.expect("fenced");
            assert!(fired <= cut_at + d_ms + interval + probe, "cut {cut_at}: fired {fired}");
            assert!(fired + interval + 5 >= cut_at + d_ms, "cut {cut_at}: fired early at {fired}");
        }
    }

    #[test]
    fn the_clock_starts_when_the_node_becomes_primary() {
        let mut d = Decider::new(Some(1350), false, 0, false);
        // A standby cut off for a long time, then promoted (by hand): no instant fence.
        for t in [0, 500, 1000, 5000] {
            assert_eq!(d.decide(&round(t, Local::Standby, &cut())), Action::Nothing);
        }
        assert_eq!(d.decide(&round(5500, PRIMARY, &cut())), Action::Silent { silent_ms: 10 });
        assert_eq!(d.decide(&round(6000, PRIMARY, &cut())), Action::Silent { silent_ms: 510 });
        assert_eq!(d.decide(&round(7000, PRIMARY, &cut())), Action::FenceIsolated { silent_ms: 1510 });
    }

    #[test]
    fn a_busy_local_server_keeps_the_last_role_seen() {
        let mut d = Decider::new(Some(1000), false, 0, false);
        assert_eq!(d.decide(&round(0, PRIMARY, &standbys())), Action::Nothing);
        assert_eq!(d.decide(&round(500, Local::Unknown, &cut())), Action::Silent { silent_ms: 510 });
        assert_eq!(
            d.decide(&round(1000, Local::Unknown, &cut())),
            Action::FenceIsolated { silent_ms: 1010 }
        );
        // Unknown from the start: no role known, nothing to fence.
        let mut d = Decider::new(Some(1000), false, 0, false);
        assert_eq!(d.decide(&round(5000, Local::Unknown, &cut())), Action::Nothing);
    }

    #[test]
    fn a_primary_on_an_older_timeline_than_another_is_stopped_at_once() {
        let mut d = Decider::new(Some(1350), false, 0, false);
        let peers = [peer("b", true, Some(4)), peer("c", true, None)];
        assert_eq!(
            d.decide(&round(0, PRIMARY, &peers)),
            Action::FenceStale {
                peer: "b".into(),
                peer_timeline: 4,
                timeline: 3
            }
        );
        assert!(!d.fenced_for_isolation());
        // Same or older timeline elsewhere: not this node's business (Pgpool-II's
        // detach_false_primary, repmgr's election).
        let mut d = Decider::new(Some(1350), false, 0, false);
        for tl in [2, 3] {
            assert_eq!(d.decide(&round(0, PRIMARY, &[peer("b", true, Some(tl))])), Action::Nothing);
        }
    }

    #[test]
    fn staleness_is_checked_even_without_an_isolation_deadline() {
        let mut d = Decider::new(None, false, 0, false);
        assert_eq!(d.decide(&round(0, PRIMARY, &cut())), Action::Silent { silent_ms: 10 });
        assert_eq!(d.decide(&round(60_000, PRIMARY, &cut())), Action::Silent { silent_ms: 60_010 });
        assert!(matches!(
            d.decide(&round(60_500, PRIMARY, &[peer("b", true, Some(9))])),
            Action::FenceStale { .. }
        ));
    }

    #[test]
    fn after_an_isolation_fence_repmgr_mode_starts_the_server_once_a_node_answers() {
        let mut d = Decider::new(Some(1000), true, 0, false);
        d.decide(&round(0, PRIMARY, &standbys()));
        assert!(matches!(d.decide(&round(1500, PRIMARY, &cut())), Action::FenceIsolated { .. }));
        assert_eq!(d.decide(&round(2000, Local::Down, &cut())), Action::Nothing);
        assert_eq!(
            d.decide(&round(2500, Local::Down, &[peer("b", false, None), peer("c", true, Some(4))])),
            Action::StartAgain { peer: "c".into() }
        );
        // Once only.
        assert_eq!(d.decide(&round(3000, Local::Down, &standbys())), Action::Nothing);
    }

    #[test]
    fn pgpool_mode_leaves_a_fenced_server_down() {
        let mut d = Decider::new(Some(1000), false, 0, false);
        d.decide(&round(0, PRIMARY, &standbys()));
        assert!(matches!(d.decide(&round(1500, PRIMARY, &cut())), Action::FenceIsolated { .. }));
        assert_eq!(d.decide(&round(2000, Local::Down, &standbys())), Action::Nothing);
        assert!(d.fenced_for_isolation());
    }

    #[test]
    fn a_fence_marker_from_an_earlier_run_is_honoured_and_cleared_by_a_running_server() {
        let mut d = Decider::new(Some(1000), true, 0, true);
        assert_eq!(
            d.decide(&round(0, Local::Down, &standbys())),
            Action::StartAgain { peer: "b".into() }
        );
        let mut d = Decider::new(Some(1000), true, 0, true);
        assert_eq!(d.decide(&round(0, Local::Standby, &standbys())), Action::Nothing);
        assert!(!d.fenced_for_isolation());
        assert_eq!(d.decide(&round(500, Local::Down, &standbys())), Action::Nothing);
    }

    #[test]
    fn a_server_stopped_by_someone_else_is_not_started() {
        let mut d = Decider::new(Some(1000), true, 0, false);
        d.decide(&round(0, PRIMARY, &standbys()));
        assert_eq!(d.decide(&round(500, Local::Down, &standbys())), Action::Nothing);
        assert_eq!(d.decide(&round(1000, Local::Down, &cut())), Action::Nothing);
    }
}
