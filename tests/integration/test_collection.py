"""The Galaxy tarball: built, installed into a fresh collections path, documented and runnable."""

import json
import os
import subprocess
import tarfile

from conftest import MODULES, ROOT, VENV_BIN

BINARIES = MODULES


def test_tarball_installs_and_runs(tmp_path):
    out = tmp_path / "dist"
    r = subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(out)],
                       cwd=ROOT / "collection", capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    tarball = next(out.glob("pgha-cluster-*.tar.gz"))
    with tarfile.open(tarball) as tf:
        members = {m.name: m for m in tf.getmembers()}
    assert members["files/pgha"].mode & 0o111, "the module binary lost its exec bit"
    for name in BINARIES:
        assert f"plugins/modules/{name}.py" in members, f"{name} has no docs stub"
    assert not [n for n in members if n.endswith((".tmp", "~", ".pyc")) or "target/" in n]

    colls = tmp_path / "collections"
    env = dict(os.environ, ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_COLLECTIONS_PATH=str(colls),
               ANSIBLE_PYTHON_INTERPRETER=str(VENV_BIN / "python"), ANSIBLE_NOCOLOR="1")
    r = subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "install", "--offline", "-p", str(colls), str(tarball)],
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr

    r = subprocess.run([str(VENV_BIN / "ansible-doc"), "--json", *[f"pgha.cluster.{n}" for n in BINARIES]],
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)
    assert sorted(docs) == sorted(f"pgha.cluster.{n}" for n in BINARIES)

    hba = tmp_path / "pg_hba.conf"
    hba.write_text("local all all peer\n")
    r = subprocess.run([str(VENV_BIN / "ansible"), "localhost", "-c", "local", "-m", "pgha.cluster.pg_hba", "-a",
                        f"path={hba} type=host databases=replication users=repl address=samenet method=scram-sha-256"],
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0 and "CHANGED" in r.stdout, r.stdout + r.stderr
    assert hba.read_text().splitlines()[-1].split() == ["host", "replication", "repl", "samenet", "scram-sha-256"]
