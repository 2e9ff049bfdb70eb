"""Issue 12, items 1-5, through real `ansible` runs (and, for the mode flags Ansible itself
always sends as booleans, through the binaries with a hand-written args file):

1. a symbolic link planted by an unprivileged user is never followed: not to a root-owned file
   (which must keep its content and owner), not to a path that does not exist (which must not
   appear);
2. a NUL byte (or another control character) in any value is refused, naming the parameter;
3. a FIFO as `path` fails at once (check mode too); a character device is refused, not replaced;
4. `_ansible_check_mode`, `_ansible_diff` and `_ansible_no_log` that are not booleans are
   refused, not read as false;
5. a password inside a conninfo value (and Pgpool-II's password settings) never shows, not in
   the diff, not in the invocation, not at -vvv.
"""

import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ROOT

MODULE_BIN = ROOT / "collection" / "files" / "pgha"  # every module: pgha <module> <args-file>

# Arguments that make each file module write (creating the file when allowed).
WRITES = {
    "pg_hba": {"type": "host", "databases": "all", "users": "all", "address": "10.0.0.0/8", "method": "scram-sha-256",
               "create": True},
    "pgpool_config": {"settings": {"port": 9999}, "create": True},
    "pool_passwd": {"username": "u1", "password": "Pw-hardening-1", "encryption": "md5"},
    "pgpass": {"entries": [{"host": "db1", "username": "u1", "password": "Pw-hardening-2"}]},
    "pg_config": {"name": "work_mem", "value": "64MB", "create": True},
    "repmgr_config": {"settings": {"node_id": 1}},
}

VICTIM_TEXT = "# a root-owned file the playbook never names\n"


@pytest.fixture
def planted(tmp_path):
    """A directory owned by `nobody` (as a user's home is), a root-owned victim file beside it,
    and a helper that plants a link in the home *as nobody*."""
    base = Path(tempfile.mkdtemp(prefix="pgha-hardening-"))
    os.chmod(base, 0o755)
    nobody = pwd.getpwnam("nobody")
    home = base / "home"
    home.mkdir()
    os.chown(home, nobody.pw_uid, nobody.pw_gid)
    victim = base / "victim.sh"
    victim.write_text(VICTIM_TEXT)
    os.chmod(victim, 0o644)

    def plant(name, target):
        link = home / name
        r = subprocess.run(["runuser", "-u", "nobody", "--", "ln", "-s", str(target), str(link)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert os.lstat(link).st_uid == nobody.pw_uid
        return link

    yield base, home, victim, plant
    shutil.rmtree(base, ignore_errors=True)


def victim_state(victim):
    st = os.stat(victim)
    return victim.read_text(), st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


@pytest.mark.parametrize("module", sorted(WRITES))
def test_link_planted_by_a_user_to_a_root_file_is_refused(ansible, planted, module):
    base, home, victim, plant = planted
    link = plant(".target", victim)
    before = victim_state(victim)
    for check in (True, False):
        args = dict(WRITES[module], path=str(link), owner="nobody", mode="0600")
        res, _ = ansible.module(module, args, check=check)
        assert res.get("failed") is True, res
        assert "is a symbolic link (owned by uid" in res["msg"] and "refusing to follow it" in res["msg"], res["msg"]
        assert victim_state(victim) == before, "the link's target must not change, nor its owner"
        assert os.path.islink(link) and os.readlink(link) == str(victim)
    assert sorted(os.listdir(home)) == [".target"], "nothing left behind in the user's directory"
    assert sorted(os.listdir(base)) == ["home", "victim.sh"]


@pytest.mark.parametrize("module", sorted(WRITES))
def test_dangling_link_planted_by_a_user_is_refused(ansible, planted, module):
    base, home, _, plant = planted
    target = base / "profile.d-x.sh"
    link = plant(".target", target)
    args = dict(WRITES[module], path=str(link), create=True)
    res, _ = ansible.module(module, args)
    assert res.get("failed") is True, res
    assert "which does not exist: only a link made by root is followed" in res["msg"], res["msg"]
    assert not target.exists() and not os.path.lexists(target)
    assert sorted(os.listdir(home)) == [".target"]


def test_root_owned_link_is_followed_without_chown(ansible, tmp_path):
    """The documented choice: a link root made is followed, its target keeps its owner, and an
    owner change through it is refused."""
    real = tmp_path / "real.pgpass"
    real.write_text("")
    os.chmod(real, 0o600)
    link = tmp_path / ".pgpass"
    link.symlink_to(real)
    args = dict(WRITES["pgpass"], path=str(link))
    res, _ = ansible.module("pgpass", args)
    assert res["changed"] is True, res
    assert os.path.islink(link) and "db1:*:*:u1:" in real.read_text()
    res, _ = ansible.module("pgpass", dict(args, owner="nobody"))
    assert res.get("failed") is True and "not changed through a link" in res["msg"], res
    assert os.stat(real).st_uid == 0


def test_a_users_link_on_the_way_is_refused(ansible, planted):
    """A directory link planted by the user (`home/conf -> /etc`-like) is judged like a file link."""
    base, home, _, plant = planted
    etc = base / "etc"
    etc.mkdir()
    link = plant("conf", etc)
    res, _ = ansible.module("pgpass", dict(WRITES["pgpass"], path=str(link / ".pgpass")))
    assert res.get("failed") is True and "leads through the symbolic link" in res["msg"], res
    assert os.listdir(etc) == []


NUL_CASES = [
    ("pg_hba", {"type": "host", "databases": "all", "users": "all", "address": "10.0.0.0/8", "method": "reject",
                "comment": "ends in NUL\u0000"}, "comment", "pg_hba.conf"),
    ("pg_hba", {"rules": [{"type": "host", "databases": "all", "users": ["app\u0000x"], "address": "10.0.0.0/8",
                           "method": "md5"}]}, "rules[0].users[0]", "pg_hba.conf"),
    ("pgpool_config", {"settings": {"health_check_user": "pgpool\u0000"}}, "settings.health_check_user", "pgpool.conf"),
    ("pool_passwd", {"username": "u1", "password": "Pw\u0000tail", "encryption": "md5"}, "password", "pool_passwd"),
    ("pool_passwd", {"username": "u\u0000", "password": "Pw", "encryption": "md5"}, "username", "pool_passwd"),
    ("pgpass", {"entries": [{"host": "db1", "username": "u1", "password": "Pw\u0000tail"}]}, "entries[0].password", ".pgpass"),
    ("pgpass", {"entries": [{"host": "db\u00001", "username": "u1", "password": "Pw"}]}, "entries[0].host", ".pgpass"),
    ("pg_config", {"settings": {"archive_command": "/bin/true\u0000; rm -rf /"}}, "settings.archive_command", "postgresql.conf"),
    ("pg_config", {"name": "cluster_name", "value": "a\u001b[31mred"}, "value", "postgresql.conf"),
    ("repmgr_config", {"settings": {"promote_command": "repmgr standby promote\u0000"}}, "settings.promote_command", "repmgr.conf"),
]


@pytest.mark.parametrize("module,args,argument,name", NUL_CASES, ids=[f"{c[0]}-{c[2]}" for c in NUL_CASES])
def test_control_characters_are_refused(ansible, tmp_path, module, args, argument, name):
    path = tmp_path / name
    path.write_text("# managed\n")
    os.chmod(path, 0o600)
    res, text = ansible.module(module, dict(args, path=str(path)))
    assert res.get("failed") is True, res
    assert f"argument '{argument}' holds" in res["msg"], res["msg"]
    assert "tail" not in text, "the message names the parameter, never a secret value"
    assert path.read_text() == "# managed\n"


def test_control_characters_are_refused_by_database_modules_too(ansible):
    """Checked before anything else: no server is needed to see the refusal."""
    res, _ = ansible.module("pg_role", {"name": "app\u0000", "login_host": "/nonexistent"})
    assert res.get("failed") is True and "argument 'name' holds a NUL byte" in res["msg"], res


@pytest.mark.parametrize("module", sorted(WRITES))
def test_fifo_fails_fast_check_mode_included(ansible, tmp_path, module):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for check in (True, False):
        start = time.monotonic()
        res, _ = ansible.module(module, dict(WRITES[module], path=str(fifo)), check=check)
        assert time.monotonic() - start < 30, "a FIFO must not make the module wait for a writer"
        assert res.get("failed") is True and "is a FIFO (named pipe), not a regular file" in res["msg"], res
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("module", sorted(WRITES))
def test_character_device_is_refused_not_replaced(ansible, tmp_path, module):
    dev = tmp_path / "null"
    os.mknod(dev, 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    for check in (True, False):
        res, _ = ansible.module(module, dict(WRITES[module], path=str(dev)), check=check)
        assert res.get("failed") is True and "is a character device, not a regular file" in res["msg"], res
        assert stat.S_ISCHR(os.lstat(dev).st_mode), "the device must still be there"


def run_binary(module, args, tmp_path):
    argsfile = tmp_path / "args.json"
    argsfile.write_text(json.dumps(args))
    r = subprocess.run([str(MODULE_BIN), module, str(argsfile)], capture_output=True, text=True, timeout=30)
    return r.returncode, json.loads(r.stdout)


@pytest.mark.parametrize("module", sorted(WRITES))
@pytest.mark.parametrize("flag", ["_ansible_check_mode", "_ansible_diff", "_ansible_no_log"])
@pytest.mark.parametrize("value", ["garbage", [True], {}, None, "yes", 1], ids=["str", "list", "dict", "null", "yes", "one"])
def test_mode_flags_must_be_booleans(tmp_path, module, flag, value):
    path = tmp_path / "f.conf"
    path.write_text("# managed\n")
    args = dict(WRITES[module], path=str(path), _ansible_check_mode=True)
    args[flag] = value
    rc, out = run_binary(module, args, tmp_path)
    assert rc == 1 and out.get("failed") is True, out
    assert f"{flag} must be true or false" in out["msg"], out["msg"]
    assert path.read_text() == "# managed\n"


def test_boolean_check_mode_still_works(tmp_path):
    path = tmp_path / "f.conf"
    path.write_text("# managed\n")
    rc, out = run_binary("pg_config", dict(WRITES["pg_config"], path=str(path), _ansible_check_mode=True,
                                           _ansible_diff=False, _ansible_no_log=False), tmp_path)
    assert rc == 0 and out["changed"] is True, out
    assert path.read_text() == "# managed\n"


SECRET_1 = "Conn-Pw-1-unlikely"
SECRET_2 = "Conn Pw 2 'quoted'"


def conninfo(password):
    escaped = password.replace("\\", "\\\\").replace("'", "\\'")
    return f"host=db1 port=5432 user=repl password='{escaped}' application_name=n2"


@pytest.mark.parametrize("module,key,name", [
    ("pg_config", "primary_conninfo", "postgresql.conf"),
    ("repmgr_config", "conninfo", "repmgr.conf"),
])
def test_conninfo_password_is_masked_everywhere(ansible, tmp_path, module, key, name):
    path = tmp_path / name
    path.write_text("# managed\n")
    os.chmod(path, 0o600)
    args = {"path": str(path), "settings": {key: conninfo(SECRET_1)}}
    for check in (True, False):
        res, text = ansible.module(module, args, check=check, diff=True, verbosity=3)
        assert res["changed"] is True, res
        assert "Conn-Pw" not in text, f"password shown: {text}"
        assert "password=********" in res["diff"]["after"], res["diff"]
        assert "password='********'" in res["invocation"]["module_args"]["settings"][key]
    assert SECRET_1 in path.read_text(), "the file itself holds the password"
    # A new password: neither the old (read from the file) nor the new one is shown.
    res, text = ansible.module(module, {"path": str(path), "settings": {key: conninfo(SECRET_2)}}, diff=True, verbosity=3)
    assert res["changed"] is True
    assert "Conn-Pw" not in text and "Conn Pw" not in text and "quoted" not in text, text
    assert "password=********" in res["previous"][key]
    # Removal comments the line out; the commented line is masked in the diff too.
    res, text = ansible.module(module, {"path": str(path), "settings": {key: ""}, "state": "absent"}, diff=True,
                               verbosity=3)
    assert "Conn Pw" not in text and "quoted" not in text, text


def test_pgpool_password_settings_are_masked(ansible, tmp_path):
    path = tmp_path / "pgpool.conf"
    path.write_text("# managed\n")
    args = {"path": str(path), "settings": {"sr_check_password": "Pool-Pw-unlikely", "wd_authkey": "Wd-Key-unlikely"}}
    res, text = ansible.module("pgpool_config", args, diff=True, verbosity=3)
    assert res["changed"] is True, res
    assert "Pool-Pw" not in text and "Wd-Key" not in text, text
    assert "sr_check_password = '********'" in res["diff"]["after"]
    assert "Pool-Pw-unlikely" in path.read_text()
