"""pg_slot through real ansible against throwaway PostgreSQL 15 servers; pg_replication_slots is the oracle."""

from conftest import pg_login, standby_of


def slot(ansible, pg, check=False, diff=False, **args):
    return ansible.module("pg_slot", pg_login(pg, **args), check=check, diff=diff, become_user="postgres")


def slots(pg):
    return {r[0]: r[1:] for r in pg.psql("select slot_name, slot_type, coalesce(plugin, ''), restart_lsn is not null, active "
                                         "from pg_replication_slots")}


def test_physical_check_apply_idempotent(ansible, pg):
    res, _ = slot(ansible, pg, check=True, diff=True, name="postgres2", immediately_reserve=True)
    assert res["changed"] is True
    assert res["queries"] == ["SELECT pg_catalog.pg_create_physical_replication_slot('postgres2', true)"]
    assert slots(pg) == {}, "check mode must not create the slot"
    res, _ = slot(ansible, pg, name="postgres2", immediately_reserve=True)
    assert res["changed"] is True and res["slot_type"] == "physical"
    assert slots(pg) == {"postgres2": ["physical", "", "t", "f"]}
    res, _ = slot(ansible, pg, name="postgres2", immediately_reserve=True)
    assert res["changed"] is False and res["queries"] == []
    res, _ = slot(ansible, pg, name="lazy")
    assert slots(pg)["lazy"] == ["physical", "", "f", "f"], "without immediately_reserve no WAL is reserved"

    res, _ = slot(ansible, pg, check=True, name="postgres2", state="absent")
    assert res["changed"] is True and "postgres2" in slots(pg)
    res, _ = slot(ansible, pg, name="postgres2", state="absent")
    assert res["changed"] is True and res["queries"] == ["SELECT pg_catalog.pg_drop_replication_slot('postgres2')"]
    assert "postgres2" not in slots(pg)
    assert slot(ansible, pg, name="postgres2", state="absent")[0]["changed"] is False


def test_logical(ansible, pg_factory):
    pg = pg_factory(settings={"wal_level": "logical"})
    pg.psql("create database app")
    res, _ = slot(ansible, pg, name="cdc", slot_type="logical", db="app")
    assert res["changed"] is True
    assert pg.psql("select slot_type, plugin, database from pg_replication_slots") == [["logical", "test_decoding", "app"]]
    assert slot(ansible, pg, name="cdc", slot_type="logical", db="app")[0]["changed"] is False
    res, _ = slot(ansible, pg, name="cdc", slot_type="logical", output_plugin="pgoutput", db="app")
    assert res["failed"] is True and "uses the plugin test_decoding" in res["msg"]
    res, _ = slot(ansible, pg, name="cdc")
    assert res["failed"] is True and "exists as a logical slot" in res["msg"]


def test_bad_names_active_slots_and_standbys(ansible, pg_factory):
    pg = pg_factory()
    res, _ = slot(ansible, pg, name="Bad-Name")
    assert res["failed"] is True and "not valid" in res["msg"]
    res, _ = slot(ansible, pg, name="x", slot_type="logical")
    assert res["failed"] is True and "wal_level" in res["msg"]

    standby = standby_of(pg_factory, pg, slot="standby1")
    assert slots(pg)["standby1"][3] == "t"
    res, _ = slot(ansible, pg, name="standby1", state="absent")
    assert res["failed"] is True and "in use by the process" in res["msg"]
    assert "standby1" in slots(pg)
    # A physical slot on a standby (for cascading) is fine; a logical one needs a primary.
    res, _ = slot(ansible, standby, name="cascade")
    assert res["changed"] is True and "cascade" in slots(standby)
    res, _ = slot(ansible, standby, name="cdc", slot_type="logical")
    assert res["failed"] is True and "server is a standby; this needs a primary" in res["msg"]
