"""pool_passwd through real ansible, with Pgpool-II's own pg_md5 and pg_enc as oracles."""

import os
import pwd
import subprocess

import pytest

PG_MD5 = "/usr/sbin/pg_md5"
PG_ENC = "/usr/sbin/pg_enc"
SECRET = "Pw-9f3kQ-unlikely-anywhere"


@pytest.fixture
def key_file(tmp_path):
    k = tmp_path / "pgpoolkey"
    k.write_text("the-pool-key\n")
    os.chmod(k, 0o600)
    return k


def oracle(tmp_path, *cmd):
    """Runs pg_md5/pg_enc against a pgpool.conf whose pool_passwd is a fresh file; returns its text.
    (pg_md5/pg_enc put pool_passwd in the directory of pgpool.conf.)"""
    d = tmp_path / "oracle"
    d.mkdir(exist_ok=True)
    conf = d / "pgpool.conf"
    conf.write_text("pool_passwd = 'pool_passwd'\n")
    out = d / "pool_passwd"
    out.write_text("")
    r = subprocess.run([*cmd, "-f", str(conf)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return out.read_text()


def test_md5_entry_equals_pg_md5(ansible, tmp_path):
    path = tmp_path / "pool_passwd"
    res, _ = ansible.module("pool_passwd", {"path": str(path), "username": "alice", "password": SECRET, "encryption": "md5"})
    assert res["changed"] is True, res
    expected = oracle(tmp_path, PG_MD5, "-m", "-u", "alice", SECRET)
    assert expected.startswith("alice:md5")
    assert path.read_text() == expected


def test_aes_entry_equals_pg_enc(ansible, tmp_path, key_file):
    path = tmp_path / "pool_passwd"
    res, _ = ansible.module("pool_passwd", {"path": str(path), "username": "bob", "password": SECRET, "key_file": str(key_file)})
    assert res["changed"] is True, res
    assert res["users"] == [{"line": 1, "username": "bob", "encryption": "aes"}]
    expected = oracle(tmp_path, PG_ENC, "-m", "-k", str(key_file), "-u", "bob", SECRET)
    assert expected.startswith("bob:AES")
    assert path.read_text() == expected


def test_pcp_hash_equals_pg_md5(ansible, tmp_path):
    path = tmp_path / "pcp.conf"
    path.write_text("# USERID:MD5PASSWD\n")
    res, _ = ansible.module("pool_passwd", {"path": str(path), "format": "pcp", "username": "pgpool", "password": SECRET})
    assert res["changed"] is True, res
    md5 = subprocess.run([PG_MD5, SECRET], capture_output=True, text=True, check=True).stdout.strip()
    assert path.read_text() == f"# USERID:MD5PASSWD\npgpool:{md5}\n"
    res, _ = ansible.module("pool_passwd", {"path": str(path), "format": "pcp", "username": "pgpool", "password": SECRET})
    assert res["changed"] is False
    res, _ = ansible.module("pool_passwd", {"path": str(path), "format": "pcp", "username": "pgpool", "password": SECRET, "encryption": "aes"})
    assert res.get("failed") is True and "md5" in res["msg"]


def test_check_diff_apply_idempotent_absent(ansible, tmp_path, key_file):
    path = tmp_path / "pool_passwd"
    path.write_text("other:md5" + "0" * 32 + "\n")
    os.chmod(path, 0o600)
    before = path.read_bytes()
    args = {"path": str(path), "username": "alice", "password": SECRET, "key_file": str(key_file)}

    res, text = ansible.module("pool_passwd", args, check=True, diff=True)
    assert res["changed"] is True
    assert path.read_bytes() == before, "check mode must not touch the file"
    assert res["diff"]["before"] == "other:********\n"
    assert res["diff"]["after"] == "other:********\nalice:********\n"
    assert SECRET not in text and "AES" not in text

    res, _ = ansible.module("pool_passwd", args, diff=True)
    assert res["changed"] is True
    after = path.read_bytes()
    assert after.startswith(before) and b"alice:AES" in after
    assert SECRET not in str(res) and "AES" not in str(res["diff"])
    assert os.stat(path).st_mode & 0o777 == 0o600

    res, _ = ansible.module("pool_passwd", args)
    assert res["changed"] is False
    assert path.read_bytes() == after

    # Another encryption rewrites the entry; a changed password too.
    res, _ = ansible.module("pool_passwd", dict(args, encryption="md5"))
    assert res["changed"] is True and "alice:md5" in path.read_text()
    res, _ = ansible.module("pool_passwd", dict(args, encryption="md5"))
    assert res["changed"] is False
    res, _ = ansible.module("pool_passwd", dict(args, encryption="md5", password="another"))
    assert res["changed"] is True
    res, _ = ansible.module("pool_passwd", dict(args, encryption="text"))
    assert res["changed"] is True and path.read_text() == f"other:md5{'0' * 32}\nalice:TEXT{SECRET}\n"

    res, _ = ansible.module("pool_passwd", {"path": str(path), "username": "alice", "state": "absent"}, check=True)
    assert res["changed"] is True and "alice" in path.read_text()
    res, _ = ansible.module("pool_passwd", {"path": str(path), "username": "alice", "state": "absent"})
    assert res["changed"] is True and path.read_text() == before.decode()
    res, _ = ansible.module("pool_passwd", {"path": str(path), "username": "alice", "state": "absent"})
    assert res["changed"] is False


def test_new_file_mode_and_owner(ansible, tmp_path, key_file):
    path = tmp_path / "pool_passwd"
    res, _ = ansible.module("pool_passwd", {"path": str(path), "username": "alice", "password": SECRET,
                                            "key_file": str(key_file), "owner": "postgres"})
    assert res["changed"] is True, res
    st = os.stat(path)
    assert st.st_mode & 0o777 == 0o600
    assert st.st_uid == pwd.getpwnam("postgres").pw_uid


def test_default_key_file_is_pgpool_users(ansible, tmp_path, key_file):
    """Without key_file the key comes from ~pgpool_user/.pgpoolkey: root's home here."""
    path = tmp_path / "pool_passwd"
    home = pwd.getpwnam("root").pw_dir
    if os.path.exists(os.path.join(home, ".pgpoolkey")):
        pytest.skip("root already has a .pgpoolkey")
    res, _ = ansible.module("pool_passwd", {"path": str(path), "username": "alice", "password": SECRET, "pgpool_user": "root"})
    assert res.get("failed") is True and f"{home}/.pgpoolkey" in res["msg"]
    assert not path.exists()


def test_bad_input_fails_and_leaves_file(ansible, tmp_path, key_file):
    missing = tmp_path / "missing"
    res, _ = ansible.module("pool_passwd", {"path": str(missing), "username": "a", "password": SECRET, "encryption": "md5", "create": False})
    assert res.get("failed") is True and "does not exist" in res["msg"] and not missing.exists()

    path = tmp_path / "pool_passwd"
    path.write_text("alice:md5" + "1" * 32 + "\nno separator here\n")
    before = path.read_bytes()
    res, _ = ansible.module("pool_passwd", {"path": str(path), "username": "a", "password": SECRET, "encryption": "md5"})
    assert res.get("failed") is True and "line 2" in res["msg"], res
    assert path.read_bytes() == before

    path.write_text("alice:md5" + "1" * 32 + "\n")
    before = path.read_bytes()
    for args, word in [
        ({"username": "a", "password": SECRET, "encryption": "sha1"}, "encryption"),
        ({"username": "a", "password": SECRET, "state": "gone"}, "state"),
        ({"username": "a"}, "password"),
        ({"password": SECRET, "encryption": "md5"}, "username"),
        ({"username": "a", "password": SECRET, "create": "maybe"}, "create"),
        ({"username": "a", "password": SECRET, "key_file": str(tmp_path / "nokey")}, "nokey"),
    ]:
        res, text = ansible.module("pool_passwd", dict(args, path=str(path)))
        assert res.get("failed") is True and word in res["msg"], (args, res)
        assert "panicked" not in text and SECRET not in text
        assert path.read_bytes() == before


@pytest.mark.parametrize("fmt", ["pool_passwd", "pcp"])
def test_secret_never_in_verbose_output(ansible, tmp_path, key_file, fmt):
    path = tmp_path / "f"
    args = {"path": str(path), "username": "alice", "password": SECRET, "format": fmt}
    if fmt == "pool_passwd":
        args["key_file"] = str(key_file)
    for check in (True, False):
        res, text = ansible.module("pool_passwd", args, check=check, diff=True, verbosity=3)
        assert res["changed"] is True
        assert SECRET not in text
        stored = path.read_text().split(":", 1)[1].strip() if path.exists() else None
        if stored:
            assert stored not in text
