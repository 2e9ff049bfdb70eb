"""pg_promote through real ansible: a real standby becomes a primary."""

from conftest import pg_login, standby_of


def promote(ansible, pg, check=False, **args):
    return ansible.module("pg_promote", pg_login(pg, **args), check=check, become_user="postgres")


def test_promote_standby(ansible, pg_factory):
    primary = pg_factory()
    standby = standby_of(pg_factory, primary)
    assert standby.psql("select pg_is_in_recovery()") == [["t"]]

    res, _ = promote(ansible, standby, check=True)
    assert res["changed"] is True and res["in_recovery"] is True
    assert res["queries"] == ["SELECT pg_catalog.pg_promote(true, 60)"]
    assert standby.psql("select pg_is_in_recovery()") == [["t"]], "check mode must not promote"

    res, _ = promote(ansible, standby, wait_seconds=30)
    assert res["changed"] is True and res["in_recovery"] is False
    assert standby.psql("select pg_is_in_recovery()") == [["f"]]
    standby.psql("create table after_promotion(i int)")

    res, _ = promote(ansible, standby)
    assert res["changed"] is False and res["queries"] == []
    res, _ = promote(ansible, primary)
    assert res["changed"] is False and "already a primary" in res["msg"]


def test_bad_input(ansible, pg):
    res, _ = promote(ansible, pg, wait_seconds=0)
    assert res["failed"] is True and "wait_seconds" in res["msg"]
    res, _ = promote(ansible, pg, wait="perhaps")
    assert res["failed"] is True and "argument 'wait'" in res["msg"]
