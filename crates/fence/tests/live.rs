//! The `pgha-fence` binary against real PostgreSQL servers on loopback, run as the `postgres`
//! user with SCRAM passwords from a `.pgpass` file, as on the nodes. Each "node" has its own
//! loopback address (127.0.0.2, .3, ...) and they share one port, as a cluster's nodes do.
//!
//! - the fence stops a primary that no other node answers, within its deadline plus one round
//!   and one probe timeout, and a peer that accepts connections and then stalls holds no round
//!   up (while it stalls it counts as there; once it is gone the fence fires in time);
//! - it leaves a primary alone while the other server is its standby, and stops it when that
//!   server is promoted (a later timeline);
//! - the start guard refuses a primary's data directory beside a running primary, and lets a
//!   standby's (standby.signal) start, or any when no other primary answers;
//! - `recover` finishes crash recovery of an uncleanly stopped data directory;
//! - `probe` reports what a round sees.
//!
//! Needs root (the servers and the fence run as `postgres`) and PostgreSQL's server programs
//! in /usr/lib/postgresql/<v>/bin; it fails without them.

use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "fence-live-7c1e";
const FENCE: &str = env!("CARGO_BIN_EXE_pgha-fence");

fn bindir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL's server programs in /usr/lib/postgresql (apt install postgresql)")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|b| b.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().expect("initdb under /usr/lib/postgresql/<v>/bin")
}

/// A command run as the postgres user (its uid and gid, no other groups).
fn runuser(program: &Path) -> Command {
    use std::os::unix::process::CommandExt;
    let user = nix::unistd::User::from_name("postgres").unwrap().expect("a postgres user");
    let mut c = Command::new(program);
    c.uid(user.uid.as_raw()).gid(user.gid.as_raw()).env("HOME", &user.dir);
    c
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A port free on every loopback address the test uses.
fn free_port(hosts: &[&str]) -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        if hosts.iter().all(|h| TcpListener::bind((*h, port)).is_ok()) {
            return port;
        }
    }
}

fn chown(p: &Path) {
    assert!(Command::new("chown").arg("postgres:postgres").arg(p).status().unwrap().success());
}

/// A scratch directory owned by postgres, removed at the end.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Scratch {
        assert!(
            nix::unistd::geteuid().is_root(),
            "this test runs servers as postgres: run it as root"
        );
        let dir = tempfile::Builder::new().prefix("pgha-fence-live-").tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        chown(dir.path());
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }

    fn dir(&self, name: &str) -> PathBuf {
        let d = self.path(name);
        std::fs::create_dir(&d).unwrap();
        chown(&d);
        d
    }

    /// The password file, as the fence and the standby read it (0600, postgres's).
    fn passfile(&self) -> PathBuf {
        let f = self.path("pgpass");
        if !f.exists() {
            std::fs::write(&f, format!("*:*:*:postgres:{PASSWORD}\n")).unwrap();
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
            chown(&f);
        }
        f
    }
}

struct Server {
    bin: PathBuf,
    data: PathBuf,
    sock: PathBuf,
    host: String,
    port: u16,
}

impl Server {
    fn new(s: &Scratch, name: &str, host: &str, port: u16) -> Server {
        Server {
            bin: bindir(),
            data: s.path(name),
            sock: s.dir(&format!("{name}-sock")),
            host: host.to_string(),
            port,
        }
    }

    fn ctl(&self, args: &[&str]) -> Output {
        runuser(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(args)
            .output()
            .unwrap()
    }

    fn start(&self) {
        let log = format!("{}.log", self.data.display());
        ok(self.ctl(&["-l", &log, "-w", "-t", "120", "start"]));
    }

    fn running(&self) -> bool {
        self.ctl(&["status"]).status.success()
    }

    fn sql(&self, sql: &str) -> String {
        let out = runuser(&self.bin.join("psql"))
            .args(["-XAtq", "-h"])
            .arg(&self.sock)
            .args(["-p", &self.port.to_string(), "-d", "postgres", "-c", sql])
            .output()
            .unwrap();
        ok(out).trim().to_string()
    }

    fn configure(&self) {
        let conf = format!(
            "\nport = {}\nlisten_addresses = '{}'\nunix_socket_directories = '{}'\nfsync = off\nwal_level = replica\n",
            self.port,
            self.host,
            self.sock.display()
        );
        let path = self.data.join("postgresql.conf");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text + &conf).unwrap();
    }

    /// A primary: initdb with peer authentication on the socket and SCRAM over TCP.
    fn primary(s: &Scratch, name: &str, host: &str, port: u16) -> Server {
        let srv = Server::new(s, name, host, port);
        ok(runuser(&srv.bin.join("initdb"))
            .arg("-D")
            .arg(&srv.data)
            .args(["--auth-local=peer", "--auth-host=scram-sha-256", "-U", "postgres", "--no-sync"])
            .output()
            .unwrap());
        let hba = std::fs::read_to_string(srv.data.join("pg_hba.conf")).unwrap();
        std::fs::write(
            srv.data.join("pg_hba.conf"),
            format!("{hba}\nhost all all 127.0.0.0/8 scram-sha-256\nhost replication postgres 127.0.0.0/8 scram-sha-256\n"),
        )
        .unwrap();
        srv.configure();
        srv.start();
        srv.sql(&format!("ALTER ROLE postgres PASSWORD '{PASSWORD}'"));
        srv
    }

    /// A streaming standby of `upstream` (pg_basebackup -R).
    fn standby_of(s: &Scratch, name: &str, host: &str, upstream: &Server) -> Server {
        let srv = Server::new(s, name, host, upstream.port);
        ok(runuser(&srv.bin.join("pg_basebackup"))
            .arg("-D")
            .arg(&srv.data)
            .args([
                "-h",
                &upstream.host,
                "-p",
                &upstream.port.to_string(),
                "-U",
                "postgres",
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ])
            .env("PGPASSFILE", s.passfile())
            .output()
            .unwrap());
        let auto = srv.data.join("postgresql.auto.conf");
        let text = std::fs::read_to_string(&auto).unwrap();
        std::fs::write(
            &auto,
            format!(
                "{text}\nprimary_conninfo = 'host={} port={} user=postgres passfile={}'\n",
                upstream.host,
                upstream.port,
                s.passfile().display()
            ),
        )
        .unwrap();
        // postgresql.conf came with the copy: this server's own address and socket.
        srv.configure();
        srv.start();
        assert_eq!(srv.sql("SELECT pg_is_in_recovery()"), "t");
        srv
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.ctl(&["-m", "immediate", "-w", "stop"]);
    }
}

/// Pgpool-II settings whose floor is 5 s (2 health check attempts of 2 s and a 1 s delay;
/// no backend-error failover): with a 1 s interval, 800 ms probe timeout (a debug build's
/// SCRAM on a loaded machine needs room) and 100 ms margin, the deadline is
/// 5000 - 1000 - 800 - 250 - 100 = 2850 ms.
const FAILOVER: &str = r#"{"manager": "pgpool", "health_check_period": 1, "health_check_timeout": 2,
    "health_check_max_retries": 1, "health_check_retry_delay": 1, "connect_timeout": 3000,
    "failover_on_backend_error": false}"#;
const DEADLINE_MS: u64 = 2850;
const INTERVAL_MS: u64 = 1000;
const PROBE_MS: u64 = 800;

/// A fence configuration for `srv` with these peers (name, address).
fn fence_config(s: &Scratch, srv: &Server, peers: &[(&str, &str)]) -> PathBuf {
    let peers: Vec<String> = peers
        .iter()
        .map(|(n, a)| format!(r#"{{"name": "{n}", "address": "{a}"}}"#))
        .collect();
    let state = s.dir(&format!("state-{}", srv.host));
    let text = format!(
        r#"{{
  "node": "{host}", "service": "test-postgresql", "data_directory": "{data}", "bin_directory": "{bin}",
  "socket_directory": "{sock}", "port": {port}, "peer_user": "postgres", "peer_database": "postgres",
  "passfile": "{passfile}", "peers": [{peers}], "reach_ports": [],
  "timing": {{"interval_ms": {INTERVAL_MS}, "probe_timeout_ms": {PROBE_MS}, "margin_ms": 100}},
  "guard_timeout_ms": 2000, "failover": {FAILOVER}, "state_directory": "{state}", "systemctl": ["true"]
}}"#,
        host = srv.host,
        data = srv.data.display(),
        bin = srv.bin.display(),
        sock = srv.sock.display(),
        port = srv.port,
        passfile = s.passfile().display(),
        peers = peers.join(", "),
        state = state.display(),
    );
    let path = s.path(&format!("fence-{}.json", srv.host));
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    path
}

fn fence(command: &str, config: &Path) -> Output {
    runuser(Path::new(FENCE)).args([command, "--config"]).arg(config).output().unwrap()
}

/// The daemon, its journal in a file.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Daemon {
    fn start(s: &Scratch, config: &Path) -> Daemon {
        let log = s.path(&format!("fence-{}.log", std::process::id()));
        let file = std::fs::File::create(&log).unwrap();
        let child = runuser(Path::new(FENCE))
            .args(["run", "--config"])
            .arg(config)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        Daemon { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.child.wait();
    }
}

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while started.elapsed() < limit {
        if f() {
            return started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out after {limit:?} waiting for {what}");
}

/// A "node" that completes TCP handshakes and then never says a word; `cut()` closes it and
/// every connection it holds, after which its port refuses.
struct Stalled {
    gone: Arc<AtomicBool>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Stalled {
    fn listen(host: &str, port: u16) -> Stalled {
        let listener = TcpListener::bind((host, port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let gone = Arc::new(AtomicBool::new(false));
        let held = Arc::new(Mutex::new(Vec::new()));
        let (g, h) = (gone.clone(), held.clone());
        let thread = std::thread::spawn(move || {
            while !g.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((c, _)) => h.lock().unwrap().push(c),
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Stalled {
            gone,
            held,
            thread: Some(thread),
        }
    }

    fn cut(&mut self) {
        self.gone.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.held.lock().unwrap().clear();
    }
}

#[test]
fn an_isolated_primary_is_stopped_within_its_deadline_and_a_stalled_peer_holds_nothing_up() {
    let s = Scratch::new();
    let port = free_port(&["127.0.0.2", "127.0.0.3"]);
    let a = Server::primary(&s, "a", "127.0.0.2", port);
    let mut peer = Stalled::listen("127.0.0.3", port);
    let config = fence_config(&s, &a, &[("b", "127.0.0.3")]);

    let plan = ok(fence("plan", &config));
    assert!(plan.contains(&format!("\"deadline_ms\":{DEADLINE_MS}")), "{plan}");

    let daemon = Daemon::start(&s, &config);
    // The peer accepts and stalls: it is there (handshake), its SQL times out each round.
    std::thread::sleep(Duration::from_millis(DEADLINE_MS + 1500));
    assert!(a.running(), "fenced although a peer answered:\n{}", daemon.log());
    let held = peer.held.lock().unwrap().len() as u64;
    // Rounds kept coming every interval while the peer stalled: a handshake and a SQL
    // connection per round (at least half of them, on a loaded machine).
    let rounds = (DEADLINE_MS + 1500) / INTERVAL_MS;
    assert!(held >= rounds, "{held} connections in {rounds} rounds:\n{}", daemon.log());

    // The cut: from now on nothing answers.
    peer.cut();
    let cut = Instant::now();
    wait_until("the fence to stop the primary", Duration::from_secs(20), || !a.running());
    let stopped = cut.elapsed();
    let log = daemon.log();
    // The budget's bound (deadline + interval + probe timeout + stop allowance), and 1 s more
    // for pg_ctl's view of a stopped server on a loaded machine.
    let bound = Duration::from_millis(DEADLINE_MS + INTERVAL_MS + PROBE_MS + 250 + 1000);
    assert!(stopped <= bound, "stopped {stopped:?} after the cut, bound {bound:?}:\n{log}");
    assert!(
        stopped >= Duration::from_millis(DEADLINE_MS - INTERVAL_MS),
        "stopped {stopped:?} after the cut:\n{log}"
    );
    assert!(log.contains("fencing: primary, and no other node answered for"), "{log}");
    assert!(log.contains("SIGINT to the postmaster"), "{log}");
    assert!(s.path("state-127.0.0.2").join("fenced-isolated").exists(), "{log}");
    eprintln!("stopped {stopped:?} after the cut (deadline {DEADLINE_MS} ms)\n{log}");
}

#[test]
fn a_primary_is_stopped_when_its_standby_is_promoted_and_the_start_guard_refuses_it_then() {
    let s = Scratch::new();
    let port = free_port(&["127.0.0.4", "127.0.0.5"]);
    let a = Server::primary(&s, "a", "127.0.0.4", port);
    let b = Server::standby_of(&s, "b", "127.0.0.5", &a);
    let config = fence_config(&s, &a, &[("b", "127.0.0.5")]);

    let probe = ok(fence("probe", &config));
    assert!(probe.contains(r#""local":"Primary { timeline: 1 }""#), "{probe}");
    assert!(
        probe.contains(r#""name":"b","reachable":true,"primary_timeline":null,"error":null"#),
        "{probe}"
    );

    // A standby: no guard objection for the standby's own start, none for a primary beside it.
    assert!(fence("start-guard", &config).status.success());

    let daemon = Daemon::start(&s, &config);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(a.running(), "fenced beside its own standby:\n{}", daemon.log());

    ok(b.ctl(&["-w", "promote"]));
    let promoted = Instant::now();
    wait_until("the fence to stop the old primary", Duration::from_secs(20), || !a.running());
    let took = promoted.elapsed();
    let log = daemon.log();
    assert!(took < Duration::from_millis(INTERVAL_MS + PROBE_MS + 3000), "{took:?}:\n{log}");
    assert!(log.contains("fencing: b is the primary on timeline 2, this node is on 1"), "{log}");
    drop(daemon);

    // The old primary's data directory beside the new primary: refused.
    let out = fence("start-guard", &config);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("refusing to start") && err.contains("b runs as the primary (timeline 2)"),
        "{err}"
    );
    // As a standby it may start.
    let signal = a.data.join("standby.signal");
    std::fs::write(&signal, "").unwrap();
    assert!(fence("start-guard", &config).status.success());
    std::fs::remove_file(&signal).unwrap();
    // With no other primary answering, it may start as the primary.
    drop(b);
    let out = fence("start-guard", &config);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn recover_finishes_crash_recovery_once() {
    let s = Scratch::new();
    let port = free_port(&["127.0.0.6"]);
    let a = Server::primary(&s, "a", "127.0.0.6", port);
    a.sql("CREATE TABLE t AS SELECT 1 AS x");
    ok(a.ctl(&["-m", "immediate", "-w", "stop"]));
    let config = fence_config(&s, &a, &[("b", "127.0.0.7")]);
    assert_eq!(ok(fence("recover", &config)).trim(), "recovered");
    let state = ok(runuser(&a.bin.join("pg_controldata"))
        .arg(&a.data)
        .env("LANG", "C")
        .output()
        .unwrap());
    assert!(state.contains("Database cluster state:               shut down"), "{state}");
    assert_eq!(ok(fence("recover", &config)).trim(), "");
}

#[test]
fn plan_refuses_settings_with_no_room_and_says_why() {
    let s = Scratch::new();
    let srv = Server::new(&s, "x", "127.0.0.8", 5432);
    let config = fence_config(&s, &srv, &[("b", "127.0.0.9")]);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("\"connect_timeout\": 3000,", "\"connect_timeout\": 1000,")
        .replace("\"failover_on_backend_error\": false", "\"failover_on_backend_error\": true");
    let out = runuser(Path::new(FENCE)).args(["plan", "--json", &text]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(r#""ok":false"#) && stdout.contains("connect_timeout 1.0 s"),
        "{stdout}"
    );
    // The daemon refuses to run on them, with the status the unit does not restart on.
    std::fs::write(&config, &text).unwrap();
    let out = fence("run", &config);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not fencing: the fence cannot stop"));
}
