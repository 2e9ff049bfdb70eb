"""pg_info through real ansible against a primary and its standby."""

from conftest import pg_login, standby_of


def info(ansible, pg, check=False, **args):
    return ansible.module("pg_info", pg_login(pg, **args), check=check, become_user="postgres")


def test_primary_and_standby(ansible, pg_factory):
    primary = pg_factory()
    primary.psql("create role pgpool login; grant pg_monitor to pgpool")
    primary.psql("create database app owner pgpool")
    standby = standby_of(pg_factory, primary, slot="standby1")

    res, _ = info(ansible, primary)
    assert res["changed"] is False and res["queries"] == []
    assert res["in_recovery"] is False
    assert res["version"]["major"] == 15 and res["version"]["num"] >= 150000
    assert [r["state"] for r in res["replication"]] == ["streaming"]
    assert res["replication"][0]["replay_lag_bytes"] >= 0
    assert res["wal_receiver"] is None
    assert [(s["name"], s["slot_type"], s["active"]) for s in res["slots"]] == [("standby1", "physical", True)]
    assert res["settings"]["wal_level"] == "replica" and res["settings"]["port"] == str(primary.port)
    assert res["databases"]["app"]["owner"] == "pgpool" and res["databases"]["app"]["encoding"] == "UTF8"
    assert res["roles"]["pgpool"]["member_of"] == ["pg_monitor"] and res["roles"]["pgpool"]["login"] is True
    assert not any(name.startswith("pg_") for name in res["roles"])

    res, _ = info(ansible, standby, check=True)
    assert res["in_recovery"] is True and res["changed"] is False
    assert res["wal_receiver"]["status"] == "streaming" and res["wal_receiver"]["slot_name"] == "standby1"
    assert res["replication"] == []
    assert "app" in res["databases"]


def test_gather_subset_and_settings(ansible, pg):
    res, _ = info(ansible, pg, gather=["settings"], settings=["max_connections", "no_such_setting", "primary_conninfo"])
    assert set(res) >= {"version", "in_recovery", "settings"}
    assert not {"replication", "slots", "databases", "roles", "wal_receiver"} & set(res)
    assert set(res["settings"]) == {"max_connections", "primary_conninfo"}
    assert any("no_such_setting" in w for w in res.get("warnings", []))

    res, _ = info(ansible, pg, gather=[])
    assert res["in_recovery"] is False and "settings" not in res
    res, _ = info(ansible, pg, gather=["everything"])
    assert res["failed"] is True and "must be one of" in res["msg"]
