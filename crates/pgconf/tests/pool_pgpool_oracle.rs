//! Oracle test: Pgpool-II 4.3 itself reads the pool_passwd and pool_hba.conf this crate
//! writes. With `scram-sha-256` in pool_hba.conf Pgpool-II must decrypt the AES entry (with the
//! key file) to authenticate the client and then the backend, so a login through it proves the
//! entry, its escaping and the key handling; a wrong password must fail.
//!
//! Needs root, PostgreSQL 15 and pgpool2; fails without them.

#[path = "hba_support/mod.rs"]
mod hba_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hba_support::start;
use pgauth::pgpool::{aes_secret, PoolKey};
use pgconf::hba::{Format, HbaFile, Position, Rule};
use pgconf::pool_passwd::PoolPasswd;
use pgtest::{bindir, chown_postgres};

const POOL_HBA_SAMPLE: &str = include_str!("fixtures/pool/pool_hba.conf.sample");

/// A pgpool process run as postgres, killed on drop.
struct Pgpool {
    child: Child,
    dir: PathBuf,
}

impl Drop for Pgpool {
    fn drop(&mut self) {
        // Ask pgpool to stop, then make sure the process we started is gone.
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--", "/usr/sbin/pgpool", "-f"])
            .arg(self.dir.join("pgpool.conf"))
            .args(["-m", "immediate", "stop"])
            .output();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_owned(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    chown_postgres(path);
}

fn login(pool_port: u16, user: &str, password: &str) -> bool {
    Command::new(bindir().join("psql"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &pool_port.to_string(),
            "-d",
            "postgres",
            "-XAtqw",
            "-c",
            "select 1",
        ])
        .arg("-U")
        .arg(user)
        .env("PGPASSWORD", password)
        .env("PGPASSFILE", "/nonexistent")
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .map(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "1")
        .unwrap_or(false)
}

#[test]
fn pgpool_reads_our_pool_passwd_and_pool_hba() {
    let cluster = start("local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\n");
    let (pg_port, pool_port, pcp_port) = (cluster.port(), pgtest::free_port(), pgtest::free_port());
    let users = [("alice", "Alice pw"), ("odd:user", "p:w\\d #1")];
    for (user, pw) in users {
        cluster.sql(&format!(
            "SET password_encryption = 'scram-sha-256'; CREATE ROLE \"{user}\" LOGIN PASSWORD '{}'",
            pw.replace('\'', "''")
        ));
    }

    let dir = tempfile::Builder::new().prefix("pgconf-pgpool-").tempdir().expect("temp dir");
    chown_postgres(dir.path());
    let d = dir.path().display().to_string();

    // The key file as people write it; pool_passwd with our AES entries.
    let key_text = "pgpool key with spaces\n";
    write_owned(&dir.path().join("pgpoolkey"), key_text, 0o600);
    let key = PoolKey::from_key_file(key_text.as_bytes()).unwrap();
    let mut passwd = PoolPasswd::parse("");
    for (user, pw) in users {
        assert!(passwd.upsert(user, &aes_secret(pw, &key).unwrap()).unwrap().is_changed());
    }
    write_owned(&dir.path().join("pool_passwd"), &passwd.to_string(), 0o600);

    // pool_hba.conf: the stock sample plus our scram rule before its trust rules.
    let mut hba = HbaFile::parse(POOL_HBA_SAMPLE, Format::PoolHba);
    let rule = Rule::parse("host all all 127.0.0.1/32 scram-sha-256", Format::PoolHba).unwrap();
    assert!(hba.upsert(&rule, Position::Beginning).unwrap().is_changed());
    write_owned(&dir.path().join("pool_hba.conf"), &hba.to_string(), 0o644);
    write_owned(&dir.path().join("pcp.conf"), "", 0o644);
    let conf = format!(
        "listen_addresses = '127.0.0.1'\n\
         port = {pool_port}\n\
         unix_socket_directories = '{d}'\n\
         pcp_listen_addresses = ''\n\
         pcp_port = {pcp_port}\n\
         pcp_socket_dir = '{d}'\n\
         backend_clustering_mode = 'raw'\n\
         backend_hostname0 = '127.0.0.1'\n\
         backend_port0 = {pg_port}\n\
         backend_weight0 = 1\n\
         backend_flag0 = 'DISALLOW_TO_FAILOVER'\n\
         enable_pool_hba = on\n\
         pool_passwd = 'pool_passwd'\n\
         pid_file_name = '{d}/pgpool.pid'\n\
         logdir = '{d}'\n\
         health_check_period = 0\n\
         sr_check_period = 0\n\
         num_init_children = 2\n\
         max_pool = 1\n\
         use_watchdog = off\n\
         wd_ipc_socket_dir = '{d}'\n\
         log_destination = 'stderr'\n"
    );
    write_owned(&dir.path().join("pgpool.conf"), &conf, 0o644);

    let log = std::fs::File::create(dir.path().join("pgpool.log")).expect("log file");
    let child = Command::new("runuser")
        .args(["-u", "postgres", "--", "/usr/sbin/pgpool", "-n", "-D"])
        .arg("-f")
        .arg(dir.path().join("pgpool.conf"))
        .arg("-F")
        .arg(dir.path().join("pcp.conf"))
        .arg("-a")
        .arg(dir.path().join("pool_hba.conf"))
        .arg("-k")
        .arg(dir.path().join("pgpoolkey"))
        .stdout(Stdio::null())
        .stderr(log.try_clone().expect("log"))
        .spawn()
        .expect("start pgpool");
    let pgpool = Pgpool {
        child,
        dir: dir.path().to_path_buf(),
    };

    // Wait until pgpool accepts a login (it needs a moment to fork its children).
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut up = false;
    while Instant::now() < deadline {
        if login(pool_port, "alice", "Alice pw") {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let log_text = || std::fs::read_to_string(dir.path().join("pgpool.log")).unwrap_or_default();
    assert!(up, "no login through pgpool:\n{}", log_text());
    assert!(login(pool_port, "odd:user", "p:w\\d #1"), "escaped user:\n{}", log_text());
    assert!(!login(pool_port, "alice", "wrong"), "a wrong password must fail");
    assert!(!login(pool_port, "odd:user", "p:w"), "a wrong password must fail");

    // Control: the same entries under another key must not let anyone in, so the logins above
    // did go through pgpool's decryption of our entries.
    let other = PoolKey::new(b"another key").unwrap();
    let mut passwd = PoolPasswd::parse(&passwd.to_string());
    for (user, pw) in users {
        assert!(passwd.upsert(user, &aes_secret(pw, &other).unwrap()).unwrap().is_changed());
    }
    write_owned(&dir.path().join("pool_passwd"), &passwd.to_string(), 0o600);
    let reload = Command::new("runuser")
        .args(["-u", "postgres", "--", "/usr/sbin/pgpool", "-f"])
        .arg(dir.path().join("pgpool.conf"))
        .arg("reload")
        .output()
        .expect("pgpool reload");
    assert!(reload.status.success(), "{}", String::from_utf8_lossy(&reload.stderr));
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut refused = false;
    while Instant::now() < deadline {
        if !login(pool_port, "alice", "Alice pw") {
            refused = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(refused, "entries under the wrong key must not work:\n{}", log_text());
    drop(pgpool);
}
