"""The action plugin's fast path: the collection's binary cached once per host under its sha256,
checked before every use, run with the arguments on standard input; and Ansible's standard path
where the fast path cannot serve (async, switched off).

Each test has its own cache root (pgha_cluster_module_cache) under /var/tmp (sticky, like /tmp)
in a root-owned 0755 directory, so a non-root become user can reach it as on a real host.
"""

import hashlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import MODULE_BIN, VENV_BIN

DIGEST = hashlib.sha256(MODULE_BIN.read_bytes()).hexdigest()
FAKE = "#!/bin/sh\ncat >/dev/null\necho '{\"changed\": false, \"msg\": \"TAMPERED BINARY RAN\"}'\n"


@pytest.fixture
def cache_base():
    base = Path(tempfile.mkdtemp(prefix="pgha-fast-", dir="/var/tmp"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def adhoc(ansible_env, module, args, cache, *extra, verbose=True):
    """`ansible localhost -m pgha.cluster.<module>` with the cache root `cache`; (result, text)."""
    cmd = [str(VENV_BIN / "ansible"), "localhost", "-c", "local", "-m", f"pgha.cluster.{module}", "-a", json.dumps(args),
           "-e", json.dumps({"pgha_cluster_module_cache": str(cache)}), *extra]
    if verbose:
        cmd.append("-vvv")
    env = dict(ansible_env, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    text = proc.stdout + proc.stderr
    start = proc.stdout.find('{\n    "custom_stats"')
    assert start >= 0, text
    doc = json.loads(proc.stdout[start:])
    return doc["plays"][0]["tasks"][0]["hosts"]["localhost"], text


def hba_args(path, **kw):
    return dict(path=str(path), create=True, type="local", databases="all", users="all", method="peer", **kw)


def used_fast_path(text, module="pg_hba"):
    return f"/pgha {module} -" in text and "AnsiballZ_pgha" not in text


def test_installs_once_then_runs_from_the_cache(ansible_env, cache_base, tmp_path):
    cache = cache_base / "modules"
    res, text = adhoc(ansible_env, "pg_hba", hba_args(tmp_path / "hba"), cache)
    assert res["changed"] is True and not res.get("failed"), res
    assert used_fast_path(text) and "installing the module binary" in text
    binary = cache / DIGEST / "pgha"
    for path, mode in [(cache, 0o755), (cache / DIGEST, 0o755), (binary, 0o755)]:
        st = os.lstat(path)
        assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) == mode, (path, oct(st.st_mode))
    assert hashlib.sha256(binary.read_bytes()).hexdigest() == DIGEST
    installed = os.stat(binary).st_mtime_ns

    res, text = adhoc(ansible_env, "pg_hba", hba_args(tmp_path / "hba"), cache)
    assert res["changed"] is False, res
    assert used_fast_path(text) and "installing" not in text and " args" not in text.split("EXEC", 1)[-1]
    assert os.stat(binary).st_mtime_ns == installed


def test_tampered_binary_is_replaced_not_run(ansible_env, cache_base, tmp_path):
    cache = cache_base / "modules"
    adhoc(ansible_env, "pg_hba", hba_args(tmp_path / "hba"), cache)
    binary = cache / DIGEST / "pgha"
    binary.write_text(FAKE)  # same owner and mode, other content
    res, text = adhoc(ansible_env, "pg_hba", hba_args(tmp_path / "hba2"), cache)
    assert "TAMPERED" not in json.dumps(res) and res["changed"] is True, res
    assert "bad hash" in text and "installing the module binary" in text
    assert hashlib.sha256(binary.read_bytes()).hexdigest() == DIGEST


def test_planted_links_are_never_followed(ansible_env, cache_base, tmp_path):
    # a link on the way to the cache root: refused, nothing created through it
    real = cache_base / "real"
    real.mkdir(mode=0o755)
    (cache_base / "planted").symlink_to(real)
    res, _ = adhoc(ansible_env, "pg_hba", hba_args(tmp_path / "hba"), cache_base / "planted" / "modules", verbose=False)
    assert res["failed"] is True and f"{cache_base}/planted is a link" in res["msg"], res
    assert not list(real.iterdir()) and not (tmp_path / "hba").exists()

    # the entry itself a link to a directory holding a fake binary: the link goes, the fake never runs
    cache = cache_base / "modules"
    cache.mkdir(mode=0o755)
    fake_dir = cache_base / "fake"
    fake_dir.mkdir(mode=0o755)
    (fake_dir / "pgha").write_text(FAKE)
    (fake_dir / "pgha").chmod(0o755)
    (cache / DIGEST).symlink_to(fake_dir)
    res, text = adhoc(ansible_env, "pg_hba", hba_args(tmp_path / "hba"), cache)
    assert "TAMPERED" not in json.dumps(res) and res["changed"] is True, res
    assert not (cache / DIGEST).is_symlink() and (fake_dir / "pgha").read_text() == FAKE

    # a cache root that another account owns: refused
    nobody = pwd.getpwnam("nobody").pw_uid
    other = cache_base / "other"
    other.mkdir(mode=0o755)
    os.chown(other, nobody, -1)
    res, _ = adhoc(ansible_env, "pg_hba", hba_args(tmp_path / "hba3"), other, verbose=False)
    assert res["failed"] is True and "not root's" in res["msg"], res
    assert not (tmp_path / "hba3").exists()

    # group-writable cache root: refused too
    loose = cache_base / "loose"
    loose.mkdir()
    loose.chmod(0o775)
    res, _ = adhoc(ansible_env, "pg_hba", hba_args(tmp_path / "hba4"), loose, verbose=False)
    assert res["failed"] is True and "writable by others" in res["msg"], res


def test_check_diff_and_no_log_through_the_fast_path(ansible_env, cache_base, tmp_path):
    cache = cache_base / "modules"
    hba = tmp_path / "hba"
    hba.write_text("local all all peer\n")
    args = dict(path=str(hba), type="host", databases="all", users="app", address="10.0.0.0/8", method="scram-sha-256")
    res, text = adhoc(ansible_env, "pg_hba", args, cache, "--check", "--diff")
    assert used_fast_path(text)
    assert res["changed"] is True and "10.0.0.0/8" in res["diff"]["after"] and "10.0.0.0/8" not in res["diff"]["before"]
    assert hba.read_text() == "local all all peer\n"

    res, text = adhoc(ansible_env, "pgpass", dict(path=str(tmp_path / "pgpass"), create=True, entries=[
        dict(host="db1", port="5432", username="repl", password="s3cret-pw")]), cache, "--diff")
    assert used_fast_path(text, "pgpass") and res["changed"] is True
    assert "s3cret-pw" not in json.dumps(res), res

    play = tmp_path / "play.yml"
    play.write_text(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - pgha.cluster.pg_hba: {json.dumps(args)}
      no_log: true
""")
    r = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(play), "-e",
                        json.dumps({"pgha_cluster_module_cache": str(cache)}), "-vvv"], env=ansible_env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "the output has been hidden" in r.stdout and "scram-sha-256" not in r.stdout.split("TASK [", 1)[1].split("EXEC")[-1]
    assert "10.0.0.0/8" in hba.read_text()


def test_become_user_not_root(ansible_env, cache_base, tmp_path):
    """become_user postgres: the root-owned 0755 binary runs as postgres (the file it makes is
    postgres's), through the fast path."""
    cache = cache_base / "modules"
    pgdir = cache_base / "pgdir"
    pgdir.mkdir()
    pw = pwd.getpwnam("postgres")
    os.chown(pgdir, pw.pw_uid, pw.pw_gid)
    res, text = adhoc(ansible_env, "pg_hba", hba_args(pgdir / "hba"), cache, "--become", "--become-user", "postgres")
    assert res["changed"] is True and not res.get("failed"), res
    assert used_fast_path(text)
    assert os.stat(pgdir / "hba").st_uid == pw.pw_uid
    res, text = adhoc(ansible_env, "pg_hba", hba_args(pgdir / "hba"), cache, "--become", "--become-user", "postgres")
    assert res["changed"] is False and used_fast_path(text) and "installing" not in text


def test_async_and_switched_off_use_the_standard_path(ansible_env, cache_base, tmp_path):
    cache = cache_base / "modules"
    hba = tmp_path / "hba"
    play = tmp_path / "play.yml"
    play.write_text(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - pgha.cluster.pg_hba: {json.dumps(hba_args(hba))}
      async: 60
      poll: 1
      register: r
    - ansible.builtin.assert: {{that: [r is changed, r is not failed]}}
    - pgha.cluster.pg_hba: {json.dumps(hba_args(hba, address=None) | dict(users="app"))}
      vars: {{pgha_cluster_fast_path: false}}
      register: s
    - ansible.builtin.assert: {{that: [s is changed, s is not failed]}}
""")
    r = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(play), "-e",
                        json.dumps({"pgha_cluster_module_cache": str(cache)}), "-vvv"], env=ansible_env,
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout[-5000:] + r.stderr[-3000:]
    assert r.stdout.count("standard binary-module path") == 2 and "AnsiballZ_pgha" in r.stdout
    assert "/pgha pg_hba -" not in r.stdout and not cache.exists()
    assert [line.split()[2] for line in hba.read_text().splitlines()] == ["all", "app"]


def test_delegate_to(ansible_env, cache_base, tmp_path):
    """A task delegated to another host (here: localhost for an inventory host 'node1')."""
    cache = cache_base / "modules"
    hba = tmp_path / "hba"
    inventory = tmp_path / "hosts"
    inventory.write_text("node1 ansible_connection=local ansible_python_interpreter=" + str(VENV_BIN / "python") + "\n")
    play = tmp_path / "play.yml"
    play.write_text(f"""
- hosts: node1
  gather_facts: false
  tasks:
    - pgha.cluster.pg_hba: {json.dumps(hba_args(hba))}
      delegate_to: localhost
""")
    r = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), str(play), "-e",
                        json.dumps({"pgha_cluster_module_cache": str(cache)}), "-vvv"], env=ansible_env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "changed=1" in r.stdout, r.stdout[-4000:]
    assert "/pgha pg_hba -" in r.stdout and hba.exists()
