"""A target that is not x86_64 Linux gets a clear failure naming its system and architecture
(collection/plugins/plugin_utils/binary_module.py), never an "Exec format error"; x86_64 Linux
targets run as before, with one `uname -sm` per host at most (the cost per task is a benchmark:
benchmarks/arch_check/run.sh).

The foreign target is faked on the local connection: a `uname` shim first on PATH answers for
the "target" (the action runs `uname -sm` through the connection's shell, which inherits PATH).
"""

import json
import os
import shutil
import subprocess

import pytest

from conftest import VENV_BIN

HBA_ARGS = "type=host databases=all users=all address=samenet method=scram-sha-256"


def uname_shim(tmp_path, answer, log=None):
    shim = tmp_path / "shim"
    shim.mkdir(exist_ok=True)
    script = "#!/bin/sh\n"
    if log:
        script += f'echo "$*" >> {log}\n'
    script += f'echo "{answer}"\n'
    (shim / "uname").write_text(script)
    (shim / "uname").chmod(0o755)
    return shim


def adhoc(env, hba, extra_path=None):
    env = dict(env)
    if extra_path:
        env["PATH"] = f"{extra_path}:{env['PATH']}"
    return subprocess.run([str(VENV_BIN / "ansible"), "localhost", "-c", "local", "-m", "pgha.cluster.pg_hba",
                           "-a", f"path={hba} {HBA_ARGS}"], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("answer", ["Linux aarch64", "Darwin arm64", "FreeBSD amd64"])
def test_foreign_target_fails_clearly(ansible_env, tmp_path, answer):
    hba = tmp_path / "pg_hba.conf"
    hba.write_text("local all all peer\n")
    r = adhoc(ansible_env, hba, uname_shim(tmp_path, answer))
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert f"the target is {answer}" in out and "x86_64 Linux only" in out, out
    assert "format error" not in out.lower() and "cannot execute" not in out.lower(), out
    assert hba.read_text() == "local all all peer\n", "nothing may run on a foreign target"


def test_uname_failure_is_explained(ansible_env, tmp_path):
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "uname").write_text("#!/bin/sh\necho 'uname: not here' >&2\nexit 127\n")
    (shim / "uname").chmod(0o755)
    hba = tmp_path / "pg_hba.conf"
    hba.write_text("local all all peer\n")
    r = adhoc(ansible_env, hba, shim)
    assert r.returncode != 0 and "`uname -sm` on the target did not say what it is (uname: not here)" in r.stdout + r.stderr


def test_x86_64_linux_runs_and_reports_platform(ansible, tmp_path):
    hba = tmp_path / "pg_hba.conf"
    hba.write_text("local all all peer\n")
    result, text = ansible.module("pg_hba", {"path": str(hba), "type": "host", "databases": "all", "users": "all",
                                             "address": "samenet", "method": "scram-sha-256"})
    assert result["changed"] is True, text
    assert result["ansible_facts"]["pgha_cluster_platform"] == {"system": "Linux", "architecture": "x86_64"}


def write_playbook(path, hba, tasks, gather_facts=False):
    play = [{
        "name": "arch check", "hosts": "localhost", "connection": "local", "gather_facts": gather_facts,
        "tasks": [{"name": f"rule {i}", "pgha.cluster.pg_hba": {
            "path": str(hba), "type": "host", "databases": f"db{i}", "users": "all", "address": "samenet",
            "method": "scram-sha-256"}} for i in range(tasks)],
    }]
    path.write_text(json.dumps(play))
    return path


def test_gathered_facts_are_used_without_uname(ansible_env, tmp_path):
    """With facts gathered, the check reads ansible_system/ansible_architecture: a lying uname
    on PATH is never asked, so the run succeeds."""
    log = tmp_path / "uname.log"
    env = dict(ansible_env, PATH=f"{uname_shim(tmp_path, 'Linux aarch64', log)}:{ansible_env['PATH']}")
    hba = tmp_path / "pg_hba.conf"
    hba.write_text("")
    pb = write_playbook(tmp_path / "pb.json", hba, 2, gather_facts=True)
    r = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(pb)], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not log.exists() or "-sm" not in log.read_text()


def test_uname_once_per_host(ansible_env, tmp_path):
    """Without facts, the first task asks uname and leaves the answer as a fact: 10 tasks make
    one uname call, and every task does its work. (What the check costs per task is measured
    side by side with Ansible's plain action in benchmarks/arch_check/run.sh.)"""
    tasks = 10
    log = tmp_path / "uname.log"
    real = shutil.which("uname")
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "uname").write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {real} "$@"\n')
    (shim / "uname").chmod(0o755)
    env = dict(ansible_env, PATH=f"{shim}:{ansible_env['PATH']}")
    hba = tmp_path / "pg_hba.conf"
    hba.write_text("")
    ours = write_playbook(tmp_path / "ours.json", hba, tasks)
    r = subprocess.run([str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", str(ours)], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    calls = [line for line in log.read_text().splitlines() if line.strip() == "-sm"]
    assert len(calls) == 1, f"uname -sm ran {len(calls)} times for {tasks} tasks"
    assert [line.split()[1] for line in hba.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")] == [f"db{i}" for i in range(tasks)]
