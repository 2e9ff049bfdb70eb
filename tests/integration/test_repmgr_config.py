"""repmgr_config through real ansible, with repmgr 5.3 itself as the oracle: `repmgr cluster
show` reads the file we wrote without a configuration error (it then fails only to connect)."""

import os
import shutil
import stat
import pwd
import tempfile
from pathlib import Path

import pytest

from conftest import as_postgres, free_port

REPMGR = shutil.which("repmgr") or "/usr/bin/repmgr"


def seed(tmp_path, node_id=1):
    return {
        "node_id": node_id,
        "node_name": f"postgres{node_id}",
        # A closed loopback port: repmgr gets as far as connecting, then fails.
        "conninfo": f"host=127.0.0.1 port={free_port()} user=repmgr dbname=repmgr connect_timeout=2",
        "data_directory": str(tmp_path / "data"),
        "use_replication_slots": True,
        "failover": "automatic",
        "promote_command": "/usr/bin/repmgr standby promote -f /etc/repmgr.conf --log-to-file",
        "follow_command": "/usr/bin/repmgr standby follow -f /etc/repmgr.conf --log-to-file --upstream-node-id=%n",
        "repmgrd_pid_file": "/var/run/postgresql/repmgrd.pid",
        "reconnect_attempts": 4,
        "reconnect_interval": 5,
        "log_level": "INFO",
    }


def repmgr_reads(path):
    """Runs `repmgr -f path cluster show` as postgres; returns its output."""
    pw = pwd.getpwnam("postgres")
    os.chown(path, pw.pw_uid, pw.pw_gid)
    r = as_postgres([REPMGR, "-f", str(path), "cluster", "show"], timeout=60)
    return r.returncode, r.stdout + r.stderr


@pytest.fixture
def conf():
    """A path in a fresh directory the postgres user can reach."""
    d = Path(tempfile.mkdtemp(prefix="pgha-repmgr-"))
    os.chmod(d, 0o755)
    yield d / "repmgr.conf"
    shutil.rmtree(d, ignore_errors=True)


def test_seed_create_check_apply_idempotent(ansible, conf, tmp_path):
    args = {"path": str(conf), "settings": seed(tmp_path), "owner": "postgres"}
    res, out = ansible.module("repmgr_config", args, check=True, diff=True)
    assert res["changed"] is True, out
    assert not conf.exists(), "check mode must not create the file"
    assert "node_name = 'postgres1'" in res["diff"]["after"]

    res, out = ansible.module("repmgr_config", args)
    assert res["changed"] is True and res["restart_required"] is True, out
    assert stat.S_IMODE(conf.stat().st_mode) == 0o640
    lines = conf.read_text().splitlines()
    # repmgr's quoting: strings quoted, integers and booleans bare.
    assert "node_id = 1" in lines
    assert "node_name = 'postgres1'" in lines
    assert "use_replication_slots = true" in lines
    assert "failover = 'automatic'" in lines
    assert "reconnect_attempts = 4" in lines
    assert any(line.startswith("conninfo = 'host=127.0.0.1 port=") for line in lines)

    before = conf.read_bytes()
    res, _ = ansible.module("repmgr_config", args)
    assert res["changed"] is False and not res["restart_required"] and not res["reload_required"]
    res, _ = ansible.module("repmgr_config", args, check=True)
    assert res["changed"] is False
    assert conf.read_bytes() == before

    rc, text = repmgr_reads(conf)
    assert rc != 0 and "connection to database failed" in text, text
    assert "configuration file" not in text and "unknown name/value" not in text, text


def test_oracle_catches_bad_files(conf, tmp_path):
    """The oracle is not blind: repmgr does complain about a bad value written by hand."""
    conf.write_text("node_id=abc\nnode_name='x'\nconninfo='host=127.0.0.1 port=1'\ndata_directory='/tmp'\n")
    rc, text = repmgr_reads(conf)
    assert "configuration file" in text and "node_id" in text


def test_quotes_in_values_survive_repmgr(ansible, conf, tmp_path):
    settings = dict(seed(tmp_path), node_name="it's", service_start_command="echo 'a b' \\ c")
    res, out = ansible.module("repmgr_config", {"path": str(conf), "settings": settings})
    assert res["changed"] is True, out
    assert "node_name = 'it''s'" in conf.read_text()
    rc, text = repmgr_reads(conf)
    assert "configuration file" not in text and "connection to database failed" in text, text


def test_reload_restart_and_absent(ansible, conf, tmp_path):
    ansible.module("repmgr_config", {"path": str(conf), "settings": seed(tmp_path)})
    res, _ = ansible.module("repmgr_config", {"path": str(conf), "settings": {"reconnect_attempts": 6}})
    assert res["changed"] and res["reload_required"] and not res["restart_required"]
    assert res["previous"] == {"reconnect_attempts": "4"}
    res, _ = ansible.module("repmgr_config", {"path": str(conf), "settings": {"reconnect_interval": None}, "state": "absent"})
    assert res["changed"] is True
    assert "#reconnect_interval = 5" in conf.read_text()
    assert "\nreconnect_interval" not in conf.read_text()
    res, _ = ansible.module("repmgr_config", {"path": str(conf), "settings": {"reconnect_interval": None}, "state": "absent"})
    assert res["changed"] is False


@pytest.mark.parametrize("settings, words", [
    ({"loglevel": "INFO"}, ["loglevel", "log_level"]),
    ({"Node_id": 1}, ["Node_id"]),
    ({"node_id": 0}, ["node_id"]),
    ({"failover": "sometimes"}, ["failover", "automatic"]),
    ({"use_replication_slots": "maybe"}, ["use_replication_slots"]),
])
def test_bad_settings_fail_and_leave_the_file(ansible, conf, tmp_path, settings, words):
    ansible.module("repmgr_config", {"path": str(conf), "settings": seed(tmp_path)})
    before = conf.read_bytes()
    res, out = ansible.module("repmgr_config", {"path": str(conf), "settings": dict(settings, node_name="other")})
    assert res.get("failed") is True, out
    for w in words:
        assert w in res["msg"]
    assert "panicked" not in out
    assert conf.read_bytes() == before


def test_malformed_line_fails_with_its_number(ansible, conf):
    text = "node_id = 1\nnode_name = 'a\n"
    conf.write_text(text)
    res, out = ansible.module("repmgr_config", {"path": str(conf), "settings": {"node_id": 2}})
    assert res.get("failed") is True, out
    assert "line 2" in res["msg"]
    assert conf.read_text() == text


def test_no_create(ansible, conf):
    res, _ = ansible.module("repmgr_config", {"path": str(conf), "settings": {"node_id": 1}, "create": False})
    assert res.get("failed") is True
    assert not conf.exists()
