"""``entity['custom_attributes']`` on the demo project: our client reads, writes, commits,
projects and queries through it, and the stock ftrack-python-api client sees the same values
(and ours sees what it writes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from publisher.api import Session

from .conftest import unique

try:
    from tests.conftest import run_stock
except ImportError:  # pytest run without the repository root on sys.path: load it by path
    import importlib.util

    _spec = importlib.util.spec_from_file_location("_tests_root_conftest", Path(__file__).parents[1] / "conftest.py")
    _root = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_root)
    run_stock = _root.run_stock


def _lighthouse_shot(session: Session, name: str | None = None):
    """A new shot of the demo project (under a sequence of its own), committed.

    Not under the demo's sq010: the server is shared by the whole run, and other tests list
    sq010's shots (``find lighthouse/sq010``)."""
    project = session.query('select id from Project where name is "lighthouse"').one()
    sequence = session.create("Sequence", {"name": unique("zz_ca_"), "parent": project})
    shot = session.create("Shot", {"name": name or unique("sh"), "parent": sequence})
    session.commit()
    return shot


def test_the_demo_shots_carry_their_frame_range(session):
    shot = session.query('select custom_attributes from Shot where name is "sh020"').one()
    assert dict(shot["custom_attributes"]) == {"fstart": 1009, "fend": 1040, "handles": 8, "fps": 24}
    assert sorted(shot["custom_attributes"]) == ["fend", "fps", "fstart", "handles"]


def test_write_commit_and_query_through_custom_attributes(session, embedded_server):
    shot = _lighthouse_shot(session)
    fetched = session.query(f'select custom_attributes from Shot where id is "{shot["id"]}"').one()
    assert fetched["custom_attributes"]["fstart"] == 1  # ftrack's default until set
    fetched["custom_attributes"]["fstart"] = 2001
    fetched["custom_attributes"]["fend"] = 2050
    session.commit()

    with Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key) as other:
        again = other.query(f'select custom_attributes from Shot where id is "{shot["id"]}"').one()
        assert (again["custom_attributes"]["fstart"], again["custom_attributes"]["fend"]) == (2001, 2050)
        found = other.query("select name from Shot where custom_attributes any (key is fstart and value is 2001)").all()
        assert [s["id"] for s in found] == [shot["id"]]
        keyed = other.query(f'select name from Shot where id is "{shot["id"]}" and '
                            "custom_attributes.configuration.key is handles").all()
        assert len(keyed) == 1
        # A projection through the collection: its items' keys and values come in that one answer.
        projected = other.query(f'select custom_attributes.key, custom_attributes.value from Shot '
                                f'where id is "{shot["id"]}"').one()
        assert projected["custom_attributes"]["fend"] == 2050


def test_a_key_the_entity_does_not_hold_is_refused(session):
    shot = session.query('select custom_attributes from Shot where name is "sh010"').first()
    with pytest.raises(KeyError, match="customNumber|not a custom attribute"):
        shot["custom_attributes"]["customNumber"] = 3
    with pytest.raises(KeyError):
        shot["custom_attributes"]["no_such_key"]


def test_a_new_shot_gets_its_values_with_its_create(session, embedded_server):
    project = session.query('select id from Project where name is "lighthouse"').one()
    sequence = session.query(f'select id from Sequence where name is "sq020" and project_id is "{project["id"]}"').one()
    shot = session.create("Shot", {"name": unique("sh"), "parent": sequence})
    shot["custom_attributes"]["fstart"] = 1101
    shot["custom_attributes"]["handles"] = 4
    with pytest.raises(KeyError):
        shot["custom_attributes"]["customNumber"] = 1  # a task attribute, not a shot's
    session.commit()
    with Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key) as other:
        again = other.query(f'select custom_attributes from Shot where id is "{shot["id"]}"').one()
        assert dict(again["custom_attributes"]) == {"fstart": 1101, "fend": 1, "handles": 4, "fps": 25}


STOCK_READ_WRITE = r'''
import json, os, sys
import ftrack_api
session = ftrack_api.Session(auto_connect_event_hub=False, schema_cache_path=False)
shot = session.query('select custom_attributes from Shot where id is "%s"' % os.environ["SHOT_ID"]).one()
seen = dict(shot["custom_attributes"])
shot["custom_attributes"]["fend"] = 3096
session.commit()
demo = session.query('select custom_attributes from Shot where name is "sh020"').one()
print("RESULT " + json.dumps({"seen": seen, "demo": dict(demo["custom_attributes"])}))
'''


@pytest.mark.stock
def test_the_stock_client_sees_our_commit_and_we_see_its(session, embedded_server, stock_python, server_env):
    shot = _lighthouse_shot(session)
    ours = session.query(f'select custom_attributes from Shot where id is "{shot["id"]}"').one()
    ours["custom_attributes"]["fstart"] = 3001
    ours["custom_attributes"]["fps"] = 23.976
    session.commit()

    proc = run_stock(stock_python, STOCK_READ_WRITE, dict(server_env, SHOT_ID=shot["id"]), timeout=300)
    result = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("RESULT "))[7:])
    assert result["seen"] == {"fstart": 3001, "fend": 1, "handles": 0, "fps": 23.976}
    assert result["demo"] == {"fstart": 1009, "fend": 1040, "handles": 8, "fps": 24}

    with Session(embedded_server.url, embedded_server.api_user, embedded_server.api_key) as other:
        again = other.query(f'select custom_attributes from Shot where id is "{shot["id"]}"').one()
        assert again["custom_attributes"]["fend"] == 3096
