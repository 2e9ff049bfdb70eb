"""pgpool_config through real ansible, with Pgpool-II 4.3 itself as the oracle: pgpool starts
on the file we wrote and `SHOW pool_nodes` lists our backends."""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import as_postgres, free_port

SAMPLE = Path("/usr/share/doc/pgpool2/examples/pgpool.conf.sample")
PGPOOL = shutil.which("pgpool") or "/usr/sbin/pgpool"

SEED_SETTINGS = {
    "listen_addresses": "*",
    "use_watchdog": True,
    "delegate_IP": "192.168.1.100",
    "wd_lifecheck_method": "heartbeat",
    "wd_interval": 2,
    "wd_heartbeat_keepalive": 2,
    "wd_heartbeat_deadtime": 6,
    "if_up_cmd": "/usr/bin/sudo /sbin/ip addr add $_IP_$/24 dev eth0 label eth0:0",
    "arping_cmd": "/usr/bin/sudo /usr/bin/arping -U $_IP_$ -w 1 -I eth0",
}
SEED_BACKENDS = [{"host": f"postgres{i}", "data_directory": "/data1/pgsql/15/data"} for i in (1, 2, 3)]
SEED_WATCHDOG = [{"host": f"postgres{i}"} for i in (1, 2, 3)]


@pytest.fixture
def conf(tmp_path):
    """A copy of Pgpool-II's own sample pgpool.conf."""
    sample = SAMPLE if SAMPLE.exists() else Path("/etc/pgpool2/pgpool.conf")
    path = tmp_path / "pgpool.conf"
    shutil.copy(sample, path)
    return path


def active(path):
    """The active key = value lines of a pgpool.conf, as a dict of raw value text."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def seed_args(path, port):
    return {"path": str(path), "settings": dict(SEED_SETTINGS, port=port), "backends": SEED_BACKENDS,
            "watchdog_nodes": SEED_WATCHDOG}


def test_seed_check_diff_apply_idempotent(ansible, conf):
    before = conf.read_bytes()
    args = seed_args(conf, free_port())
    res, out = ansible.module("pgpool_config", args, check=True, diff=True)
    assert res["changed"] is True and res["restart_required"] is True, out
    assert conf.read_bytes() == before, "check mode must not touch the file"
    assert "backend_hostname2 = 'postgres3'" in res["diff"]["after"]
    assert "delegate_IP = '192.168.1.100'" in res["diff"]["after"]

    res, out = ansible.module("pgpool_config", args, diff=True)
    assert res["changed"] is True and res["restart_required"] is True, out
    assert "#use_watchdog = off" in res["diff"]["before"] and "\nuse_watchdog = on" in res["diff"]["after"]
    got = active(conf)
    assert got["use_watchdog"] == "on" and got["delegate_IP"] == "'192.168.1.100'"
    assert got["listen_addresses"] == "'*'" and got["port"] == str(args["settings"]["port"])
    for i in range(3):
        assert got[f"backend_hostname{i}"] == f"'postgres{i + 1}'"
        assert got[f"backend_port{i}"] == "5432" and got[f"backend_weight{i}"] == "1"
        assert got[f"backend_flag{i}"] == "'ALLOW_TO_FAILOVER'"
        assert got[f"backend_data_directory{i}"] == "'/data1/pgsql/15/data'"
        assert got[f"hostname{i}"] == f"'postgres{i + 1}'"
        assert got[f"wd_port{i}"] == "9000" and got[f"pgpool_port{i}"] == "9999"
        assert got[f"heartbeat_hostname{i}"] == f"'postgres{i + 1}'"
        assert got[f"heartbeat_port{i}"] == "9694" and got[f"heartbeat_device{i}"] == "''"
    # The sample's commented defaults were uncommented in place: few lines were added.
    assert len(conf.read_text().splitlines()) <= len(before.decode().splitlines()) + 6
    assert res["previous"]["use_watchdog"] is None
    assert "warnings" not in res or not res["warnings"]

    after = conf.read_bytes()
    res, _ = ansible.module("pgpool_config", args)
    assert res["changed"] is False and res["restart_required"] is False and res["reload_required"] is False
    res, _ = ansible.module("pgpool_config", args, check=True)
    assert res["changed"] is False
    assert conf.read_bytes() == after


def test_reload_only_setting(ansible, conf):
    res, _ = ansible.module("pgpool_config", {"path": str(conf), "settings": {"health_check_period": 5}})
    assert res["changed"] and res["reload_required"] and not res["restart_required"]
    res, _ = ansible.module("pgpool_config", {"path": str(conf), "settings": {"health_check_period": 5}, "state": "absent"})
    assert res["changed"] and res["previous"]["health_check_period"] == "5"
    assert "health_check_period" not in active(conf)
    assert "#health_check_period = 5" in conf.read_text()


def test_shrinking_lists_comment_out_stale_keys(ansible, conf):
    args = seed_args(conf, 9999)
    ansible.module("pgpool_config", args)
    shrunk = dict(args, backends=SEED_BACKENDS[:2], watchdog_nodes=SEED_WATCHDOG[:2])
    res, out = ansible.module("pgpool_config", shrunk, diff=True)
    assert res["changed"] is True and res["restart_required"] is True, out
    got = active(conf)
    for key in ("backend_hostname", "backend_port", "backend_weight", "backend_data_directory", "backend_flag",
                "hostname", "wd_port", "pgpool_port", "heartbeat_hostname", "heartbeat_port", "heartbeat_device"):
        assert f"{key}2" not in got, key
        assert f"{key}1" in got, key
    text = conf.read_text()
    assert "#backend_hostname2 = 'postgres3'" in text, "stale keys are commented out, not deleted"
    assert res["previous"]["backend_hostname2"] == "postgres3"
    res, _ = ansible.module("pgpool_config", shrunk)
    assert res["changed"] is False
    # Growing back uncomments them.
    res, _ = ansible.module("pgpool_config", args)
    assert res["changed"] is True and active(conf)["backend_hostname2"] == "'postgres3'"


def test_delegate_ip_is_warned_on_4_3(ansible, conf):
    res, out = ansible.module("pgpool_config", {"path": str(conf), "version": "4.3", "settings": {"delegate_ip": "10.0.0.9"}})
    assert res["changed"] is True
    assert any("delegate_IP" in w and "delegate_ip" in w for w in res.get("warnings", [])), out
    assert "[WARNING]" in out or res["warnings"]
    res, _ = ansible.module("pgpool_config", {"path": str(conf), "version": "4.3", "settings": {"delegate_IP": "10.0.0.9"}})
    assert not res.get("warnings")
    # 4.4 renamed it: the old spelling is a deprecation warning there.
    res, _ = ansible.module("pgpool_config", {"path": str(conf), "version": "4.4", "settings": {"delegate_IP": "10.0.0.9"}})
    assert any("delegate_ip" in w for w in res.get("warnings", []))


@pytest.mark.parametrize("settings, words", [
    ({"no_such_key": 1}, ["no_such_key"]),
    ({"Use_watchdog": True}, ["Use_watchdog", "use_watchdog"]),
    ({"port": "not-a-port"}, ["port", "not-a-port"]),
    ({"use_watchdog": "maybe"}, ["use_watchdog"]),
])
def test_bad_settings_fail_and_leave_the_file(ansible, conf, settings, words):
    before = conf.read_bytes()
    res, out = ansible.module("pgpool_config", {"path": str(conf), "settings": dict(settings, port=9999)
                                                if "port" not in settings else settings})
    assert res.get("failed") is True, out
    for w in words:
        assert w in res["msg"]
    assert "panicked" not in out
    assert conf.read_bytes() == before


def test_bad_backend_fails_and_leaves_the_file(ansible, conf):
    before = conf.read_bytes()
    res, out = ansible.module("pgpool_config", {"path": str(conf), "backends": [{"host": "a", "flag": "BOGUS"}]})
    assert res.get("failed") is True and "BOGUS" in res["msg"], out
    res, out = ansible.module("pgpool_config", {"path": str(conf), "backends": [{"host": "a", "colour": "red"}]})
    assert res.get("failed") is True and "colour" in res["msg"], out
    assert conf.read_bytes() == before


def test_malformed_line_fails_with_its_number(ansible, conf):
    text = conf.read_text() + "port = '9999\n"
    conf.write_text(text)
    lineno = len(text.splitlines())
    res, out = ansible.module("pgpool_config", {"path": str(conf), "settings": {"port": 9998}})
    assert res.get("failed") is True, out
    assert f"line {lineno}" in res["msg"]
    assert conf.read_text() == text


def test_missing_file_without_create(ansible, tmp_path):
    res, _ = ansible.module("pgpool_config", {"path": str(tmp_path / "nope.conf"), "settings": {"port": 9999}})
    assert res.get("failed") is True and "nope.conf" in res["msg"]
    assert not (tmp_path / "nope.conf").exists()


@pytest.fixture
def pgpool_dir():
    base = Path(tempfile.mkdtemp(prefix="pgha-pgpool-"))
    os.chmod(base, 0o755)
    pw = pwd.getpwnam("postgres")
    os.chown(base, pw.pw_uid, pw.pw_gid)
    for sub in ("run", "log"):
        (base / sub).mkdir()
        os.chown(base / sub, pw.pw_uid, pw.pw_gid)
    procs = []
    yield base, procs
    for p in procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    shutil.rmtree(base, ignore_errors=True)


@pytest.mark.skipif(not Path(PGPOOL).exists(), reason="pgpool2 not installed")
def test_pgpool_runs_on_our_file_and_lists_our_backends(ansible, pg, pgpool_dir):
    base, procs = pgpool_dir
    conf = base / "pgpool.conf"
    shutil.copy(SAMPLE if SAMPLE.exists() else "/etc/pgpool2/pgpool.conf", conf)
    (base / "pcp.conf").write_text("")
    (base / "pool_hba.conf").write_text("local all all trust\n")
    run, port = base / "run", free_port()
    down1, down2 = free_port(), free_port()
    res, out = ansible.module("pgpool_config", {
        "path": str(conf), "owner": "postgres", "mode": "0640",
        "settings": {
            "listen_addresses": "127.0.0.1", "port": port, "socket_dir": str(run),
            "pcp_listen_addresses": "", "pcp_port": free_port(), "pcp_socket_dir": str(run),
            "pid_file_name": str(run / "pgpool.pid"), "logdir": str(base / "log"),
            "wd_ipc_socket_dir": str(run), "use_watchdog": False,
            "sr_check_period": 0, "health_check_period": 0, "search_primary_node_timeout": 1,
            "failover_on_backend_error": False, "load_balance_mode": False,
        },
        # Node 0 is the live server, over its Unix socket (peer auth as postgres).
        "backends": [{"host": str(pg.sockdir), "port": pg.port, "data_directory": str(pg.datadir)},
                     {"host": "127.0.0.1", "port": down1, "weight": 2, "application_name": "standby1"},
                     {"hostname": "127.0.0.1", "port": down2, "flag": "DISALLOW_TO_FAILOVER"}],
    })
    assert res["changed"] is True and "failed" not in res, out
    log = open(base / "pgpool.log", "w")
    proc = subprocess.Popen(["runuser", "-u", "postgres", "--", PGPOOL, "-n", "-D", "-f", str(conf),
                             "-F", str(base / "pcp.conf"), "-a", str(base / "pool_hba.conf")],
                            stdout=log, stderr=subprocess.STDOUT)
    procs.append(proc)
    rows, err = None, ""
    for _ in range(100):
        assert proc.poll() is None, "pgpool exited: " + (base / "pgpool.log").read_text()
        r = as_postgres(["psql", "-X", "-A", "-t", "-F", "\t", "-h", str(run), "-p", str(port), "-U", "postgres",
                         "-d", "postgres", "-c", "SHOW pool_nodes"], timeout=30)
        if r.returncode == 0:
            rows = [line.split("\t") for line in r.stdout.splitlines() if line]
            break
        err = r.stderr
        time.sleep(0.2)
    logtext = (base / "pgpool.log").read_text()
    assert rows is not None, err + logtext
    assert "syntax error" not in logtext and "invalid value" not in logtext.lower(), logtext
    nodes = {row[0]: row for row in rows}
    assert sorted(nodes) == ["0", "1", "2"], rows
    assert nodes["0"][1] == str(pg.sockdir) and nodes["0"][2] == str(pg.port)
    assert nodes["1"][1] == "127.0.0.1" and nodes["1"][2] == str(down1)
    assert nodes["2"][2] == str(down2)
    # Load-balance weights: 1 : 2 : 1.
    assert [nodes[i][5] for i in "012"] == ["0.250000", "0.500000", "0.250000"], rows
