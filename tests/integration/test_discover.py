"""pgha.cluster.postgresql's discovery (tasks/discover.yml) against a real server: a server
that runs but refuses the role's login stops the play with a clear message, instead of being
taken for a stopped server (which decides the choice of the primary); a stopped server is
still reported as stopped, a reachable one as running.

The server is a throwaway PostgreSQL 15 (conftest's pg_factory) that also listens on the
default socket directory, where the role's pg_info and pg_isready look.
"""

import json

import pytest

from conftest import PG_BIN

PLAYBOOK = """
- name: Discovery of pgha.cluster.postgresql on one node
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Discover
      ansible.builtin.import_role:
        name: pgha.cluster.postgresql
        tasks_from: discover
    - name: Show what it found
      ansible.builtin.debug:
        msg: "RESULT {{ {'running': postgresql_running, 'in_recovery': postgresql_in_recovery} | to_json }}"
"""


@pytest.fixture
def node(pg_factory, tmp_path):
    srv = pg_factory(start=False)
    with open(srv.datadir / "postgresql.conf", "a") as f:
        f.write(f"unix_socket_directories = '{srv.sockdir}, /var/run/postgresql'\n")
    srv.start()
    playbook = tmp_path / "discover.yml"
    playbook.write_text(PLAYBOOK)
    extra = {
        "postgresql_port": srv.port, "postgresql_data_directory": str(srv.datadir), "postgresql_user": "postgres",
        "postgresql_bin_directory": str(PG_BIN), "postgresql_cluster_hosts": ["localhost"],
        "postgresql_bootstrap_host": "localhost",
        # become_user postgres: a Python that user can run (the venv is private to root)
        "ansible_python_interpreter": "/usr/bin/python3",
        "postgresql__probe": {"stdout_lines": [f"{srv.datadir}/PG_VERSION"]},
    }
    return srv, playbook, extra


def run(ansible, playbook, extra):
    r = ansible.playbook(playbook, extra_vars=extra)
    found = [line for line in r.stdout.splitlines() if "RESULT " in line]
    result = json.loads(found[-1].split("RESULT ", 1)[1].rstrip('"').replace('\\"', '"')) if found else None
    return r, result


def test_running_and_stopped(ansible, node):
    srv, playbook, extra = node
    r, result = run(ansible, playbook, extra)
    assert r.returncode == 0, r.stdout[-3000:]
    assert result == {"running": True, "in_recovery": False}, r.stdout[-3000:]
    srv.stop()
    r, result = run(ansible, playbook, extra)
    assert r.returncode == 0, r.stdout[-3000:]
    assert result == {"running": False, "in_recovery": False}, r.stdout[-3000:]


def test_login_refused_stops_the_play(ansible, node):
    srv, playbook, extra = node
    hba = srv.datadir / "pg_hba.conf"
    hba.write_text("local all postgres reject\n" + hba.read_text())
    srv.reload()
    r, result = run(ansible, playbook, extra)
    assert r.returncode != 0 and result is None, r.stdout[-3000:]
    assert "runs on localhost" in r.stdout and "cannot log in" in r.stdout, r.stdout[-3000:]
