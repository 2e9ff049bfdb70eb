"""Shared fixtures: the collection on ANSIBLE_COLLECTIONS_PATH, a runner for ad-hoc module
calls and playbooks, and throwaway PostgreSQL 15 servers on loopback ports."""

import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
VENV_BIN = ROOT / ".venv" / "bin"
# Every module in one binary (`pgha <module> <args-file>|-|--describe`), and their names (one
# documentation stub each).
MODULE_BIN = ROOT / "collection/files/pgha"
MODULES = sorted(p.stem for p in (ROOT / "collection/plugins/modules").glob("*.py"))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "sanity: ansible-test sanity (builds its virtual environments from PyPI on first use); "
        "`make test-sanity` runs it, `make test` leaves it out")


@pytest.fixture(scope="session")
def collections_path(tmp_path_factory):
    """A collections path whose pgha.cluster is this checkout's collection/ (its binary built
    by `make modules`)."""
    base = tmp_path_factory.mktemp("collections")
    ns = base / "ansible_collections" / "pgha"
    ns.mkdir(parents=True)
    (ns / "cluster").symlink_to(ROOT / "collection")
    assert MODULE_BIN.exists(), f"the module binary {MODULE_BIN} is missing (run `make modules`)"
    return base


@pytest.fixture(scope="session")
def ansible_env(collections_path, tmp_path_factory):
    home = tmp_path_factory.mktemp("ansible-home")
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections_path),
        ANSIBLE_HOME=str(home),
        ANSIBLE_LOCAL_TEMP=str(home / "tmp"),
        ANSIBLE_REMOTE_TMP=str(home / "remote-tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_PYTHON_INTERPRETER=str(VENV_BIN / "python"),
        ANSIBLE_DEPRECATION_WARNINGS="False",
        PATH=f"{VENV_BIN}:{env.get('PATH', '')}",
    )
    return env


class Ansible:
    """Runs modules the way users do: ad-hoc `ansible localhost -m` and `ansible-playbook`."""

    def __init__(self, env):
        self.env = env

    def module(self, name, args, check=False, diff=False, verbosity=0, become_user=None):
        """Runs one module ad hoc; returns (result dict, full stdout+stderr text)."""
        cmd = [str(VENV_BIN / "ansible"), "localhost", "-c", "local", "-m", f"pgha.cluster.{name}",
               "-a", json.dumps(args)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        if become_user:
            cmd += ["--become", "--become-user", become_user]
        env = dict(self.env, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="json")
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        text = proc.stdout + proc.stderr
        # the json callback's document: the first line that is "{" (with -vvv, the commands
        # Ansible logs before it hold braces too)
        start = 0 if proc.stdout.startswith("{\n") else proc.stdout.find("\n{\n") + 1
        assert start > 0 or proc.stdout.startswith("{\n"), f"no JSON from ansible: {text}"
        doc = json.loads(proc.stdout[start:])
        result = doc["plays"][0]["tasks"][0]["hosts"]["localhost"]
        return result, text

    def playbook(self, path, *extra, check=False, diff=False, inventory=None, extra_vars=None):
        """Runs a playbook; returns the CompletedProcess (stdout has the recap)."""
        cmd = [str(VENV_BIN / "ansible-playbook"), str(path)]
        cmd += ["-i", "localhost,", "-c", "local"] if inventory is None else ["-i", inventory]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        cmd += list(extra)
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def ansible(ansible_env):
    return Ansible(ansible_env)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(args, **kw):
    return subprocess.run(["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True, **kw)


class PgServer:
    """A throwaway PostgreSQL 15 cluster run by the postgres user on 127.0.0.1:<port>, with
    its Unix socket in its own directory."""

    def __init__(self, base: Path, port: int, settings=None):
        self.base = base
        self.datadir = base / "data"
        self.sockdir = base / "sock"
        self.port = port
        self.settings = settings or {}

    def init(self):
        self.base.mkdir(parents=True, exist_ok=True)
        self.sockdir.mkdir(exist_ok=True)
        pw = pwd.getpwnam("postgres")
        os.chown(self.base, pw.pw_uid, pw.pw_gid)
        os.chown(self.sockdir, pw.pw_uid, pw.pw_gid)
        r = as_postgres([str(PG_BIN / "initdb"), "-D", str(self.datadir), "-A", "peer", "--auth-host=scram-sha-256",
                         "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"])
        assert r.returncode == 0, r.stderr
        with open(self.datadir / "postgresql.conf", "a") as f:
            f.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                    f"unix_socket_directories = '{self.sockdir}'\nfsync = off\n")
            for k, v in self.settings.items():
                f.write(f"{k} = {v}\n")
        return self

    def start(self):
        r = as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.base / "log"), "-w", "-t", "30", "start"])
        assert r.returncode == 0, r.stdout + r.stderr + self.log()
        return self

    def stop(self, mode="fast"):
        as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"])

    def reload(self):
        r = as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "reload"])
        assert r.returncode == 0, r.stderr
        time.sleep(0.3)

    def log(self):
        p = self.base / "log"
        return p.read_text() if p.exists() else ""

    def psql(self, sql, db="postgres", user="postgres"):
        """Runs SQL over the Unix socket as `user` (peer auth as postgres); returns rows as
        lists of strings (unaligned, tab-separated)."""
        r = as_postgres(["psql", "-X", "-A", "-t", "-F", "\t", "-h", str(self.sockdir), "-p", str(self.port),
                         "-U", user, "-d", db, "-v", "ON_ERROR_STOP=1", "-c", sql])
        assert r.returncode == 0, r.stderr
        return [line.split("\t") for line in r.stdout.splitlines() if line]

    def destroy(self):
        self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def pg_factory():
    """Makes throwaway servers; every one is stopped and removed after the test."""
    made = []

    def make(settings=None, start=True):
        base = Path(tempfile.mkdtemp(prefix="pgha-pg-"))
        os.chmod(base, 0o755)
        srv = PgServer(base / "pg", free_port(), settings).init()
        made.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    for srv in made:
        srv.destroy()


@pytest.fixture
def pg(pg_factory):
    """One running throwaway PostgreSQL 15 server."""
    return pg_factory()


# --- database modules (pg_role, pg_database, pg_extension, pg_slot, pg_info, pg_promote) ---

def pg_login(srv, **args):
    """Module arguments that reach `srv` over its Unix socket (peer auth with become_user=postgres)."""
    return dict(login_host=str(srv.sockdir), login_port=srv.port, **args)


def standby_of(pg_factory, primary, slot=None):
    """A running streaming standby of `primary`, made with plain pg_basebackup over its socket
    (independent of the module under test). Stopped and removed with the other servers."""
    srv = pg_factory(start=False)
    shutil.rmtree(srv.datadir)
    args = [str(PG_BIN / "pg_basebackup"), "-D", str(srv.datadir), "-h", str(primary.sockdir), "-p", str(primary.port),
            "-U", "postgres", "-X", "stream", "-R", "-c", "fast"]
    if slot:
        args += ["-C", "-S", slot]
    r = as_postgres(args)
    assert r.returncode == 0, r.stderr
    with open(srv.datadir / "postgresql.auto.conf", "a") as f:
        f.write(f"port = {srv.port}\nunix_socket_directories = '{srv.sockdir}'\n")
    srv.start()
    for _ in range(100):
        if srv.psql("select count(*) from pg_stat_wal_receiver where status = 'streaming'") == [["1"]]:
            return srv
        time.sleep(0.1)
    raise AssertionError("standby did not stream: " + srv.log())
