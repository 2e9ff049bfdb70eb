"""pg_config through real ansible, with PostgreSQL's pg_file_settings as the oracle."""

SEED = {
    "listen_addresses": "*",
    "archive_mode": "on",
    "archive_command": "cp %p /data1/pgsql/15/archive/%f",
    "max_wal_senders": 10,
    "max_replication_slots": 10,
    "wal_level": "replica",
    "hot_standby": "on",
    "wal_log_hints": "on",
    "autovacuum": True,
}


def file_settings(pg):
    pg.reload()
    errors = pg.psql("select sourceline, name, error from pg_file_settings where error is not null and error <> 'setting could not be applied'")
    assert errors == [], errors
    return {name: value for name, value in pg.psql("select name, setting from pg_file_settings where applied or error = 'setting could not be applied'")}


def test_seed_settings_check_apply_idempotent(ansible, pg):
    path = pg.datadir / "postgresql.conf"
    before = path.read_bytes()
    res, _ = ansible.module("pg_config", {"path": str(path), "settings": SEED}, check=True, diff=True)
    assert res["changed"] is True and res["restart_required"] is True
    assert path.read_bytes() == before
    assert "wal_log_hints = on" in res["diff"]["after"]

    res, _ = ansible.module("pg_config", {"path": str(path), "settings": SEED})
    assert res["changed"] is True and res["restart_required"] is True
    text = path.read_text()
    # The stock file's commented default is uncommented in place, keeping its comment.
    assert any(line.startswith("wal_level = replica") and "#" in line for line in text.splitlines())
    assert len(text.splitlines()) <= len(before.decode().splitlines()) + 2
    settings = file_settings(pg)
    assert settings["wal_level"] == "replica"
    assert settings["archive_command"] == "cp %p /data1/pgsql/15/archive/%f"
    assert settings["max_wal_senders"] == "10"
    assert settings["autovacuum"] in ("on", "true")
    assert "previous" in res

    res, _ = ansible.module("pg_config", {"path": str(path), "settings": SEED})
    assert res["changed"] is False and res["restart_required"] is False and res["reload_required"] is False
    res, _ = ansible.module("pg_config", {"path": str(path), "settings": SEED}, check=True)
    assert res["changed"] is False


def test_single_setting_reload_and_absent(ansible, pg):
    path = pg.datadir / "postgresql.conf"
    res, _ = ansible.module("pg_config", {"path": str(path), "name": "work_mem", "value": "8MB"})
    assert res["changed"] and res["reload_required"] and not res["restart_required"]
    assert file_settings(pg)["work_mem"] == "8MB"
    assert pg.psql("show work_mem") == [["8MB"]]
    res, _ = ansible.module("pg_config", {"path": str(path), "name": "work_mem", "value": "8192kB"})
    assert res["changed"] is False, "8192kB equals 8MB"
    res, _ = ansible.module("pg_config", {"path": str(path), "name": "work_mem", "state": "absent"})
    assert res["changed"] is True
    assert "work_mem" not in file_settings(pg)
    assert "#work_mem = 8MB" in path.read_text()


def test_conf_d_file_is_created(ansible, pg):
    confd = pg.datadir / "conf.d"
    confd.mkdir()
    with open(pg.datadir / "postgresql.conf", "a") as f:
        f.write("include_dir = 'conf.d'\n")
    res, _ = ansible.module("pg_config", {"path": str(confd / "pgha.conf"), "create": True, "owner": "postgres", "group": "postgres",
                                          "settings": {"shared_preload_libraries": "repmgr", "repmgr.custom": "x"}})
    assert res["changed"] and res["restart_required"]
    settings = file_settings(pg)
    assert settings["shared_preload_libraries"] == "repmgr"


def test_includes_are_reported(ansible, pg):
    path = pg.datadir / "postgresql.conf"
    with open(path, "a") as f:
        f.write("include_if_exists = 'extra.conf'\n")
    res, _ = ansible.module("pg_config", {"path": str(path), "name": "port", "value": pg.port})
    assert res["changed"] is False
    assert any("extra.conf" in inc for inc in res["includes"])


def test_bad_values_fail_and_leave_file(ansible, pg):
    path = pg.datadir / "postgresql.conf"
    before = path.read_bytes()
    for args, word in [
        ({"name": "wal_level", "value": "bogus"}, "wal_level"),
        ({"name": "max_wal_senders", "value": "ten"}, "max_wal_senders"),
        ({"name": "no_such_parameter", "value": "1"}, "no_such_parameter"),
        ({"name": "hot_standby", "value": "maybe"}, "hot_standby"),
    ]:
        res, _ = ansible.module("pg_config", dict(args, path=str(path)))
        assert res.get("failed") and word in res["msg"], res
    res, _ = ansible.module("pg_config", {"path": str(path), "name": "port"})
    assert res.get("failed") and "value" in res["msg"]
    assert path.read_bytes() == before
