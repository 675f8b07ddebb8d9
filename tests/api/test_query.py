"""Queries against a real embedded server: lazy paging, first/one/all, offsets and limits,
default projections, unknown types and malformed expressions."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from publisher.api import (
    MultipleResultsFoundError,
    NoResultFoundError,
    NotFoundError,
    QueryResult,
    ServerError,
    Session,
    UnrecognisedEntityTypeError,
)
from publisher.api.query import entity_type_of, split_paging

from .conftest import make_project


#: The ``session`` fixture caches schemas in a folder of each test's own.
CACHE_SCHEMAS = True


@pytest.fixture
def status_count(session) -> int:
    """How many Status rows the server has, counted with a raw call (no paging code)."""
    result = session.call([{"action": "query", "expression": "select id from Status"}])[0]
    assert result["metadata"]["next"]["offset"] is None
    count = len(result["data"])
    assert count >= 5, "the seeded server should have several statuses"
    return count


def test_query_is_lazy_and_pages_on_demand(session, status_count):
    before = session.request_count
    result = session.query("select name from Status", page_size=2)
    assert isinstance(result, QueryResult)
    assert session.request_count == before  # nothing fetched yet
    iterator = iter(result)
    first = next(iterator)
    assert session.request_count == before + 1  # only the first page
    second = next(iterator)
    assert session.request_count == before + 1
    third = next(iterator)
    assert session.request_count == before + 2
    rest = list(iterator)
    assert len({e["id"] for e in [first, second, third, *rest]}) == status_count
    pages = -(-status_count // 2)
    assert session.request_count in (before + pages, before + pages + 1)


def test_all_len_and_index_fetch_every_page(session, status_count):
    result = session.query("Status", page_size=3)
    assert len(result) == status_count
    assert result.all() == list(result)
    assert result[0] is result.all()[0]
    assert result[-1]["name"]


def test_iterating_twice_does_not_fetch_again(session, status_count):
    result = session.query("Status", page_size=4)
    ids = [e["id"] for e in result]
    before = session.request_count
    assert [e["id"] for e in result] == ids
    assert session.request_count == before


def test_default_projections_when_no_select(session):
    status = session.query("Status").first()
    for name in status.default_projections:
        assert name in status._remote


def test_first_sends_one_request_with_limit_1(session, server_factory, tmp_path):
    record = tmp_path / "record.jsonl"
    server = server_factory(extra_args=["--record", str(record)])
    s = Session(server.url, server.api_user, server.api_key, schema_cache_path=False)
    status = s.query("select name from Status order by name").first()
    nothing = s.query(f'Status where name is "{uuid.uuid4()}"').first()
    offset_one = s.query("select name from Status order by name offset 1").first()
    s.close()
    assert status is not None and nothing is None and offset_one is not None
    assert offset_one["name"] >= status["name"] and offset_one is not status
    expressions = [json.loads(line)["operations"][0].get("expression")
                   for line in record.read_text().splitlines() if '"/api"' in line]
    assert "select name from Status order by name limit 1" in expressions
    assert "select name from Status order by name offset 1 limit 1" in expressions


def test_one_returns_the_single_result(session):
    status = session.query("Status").first()
    again = session.query(f'Status where id is "{status["id"]}"').one()
    assert again is status


def test_one_raises_for_none_and_several(session):
    with pytest.raises(NotFoundError, match="No Status found"):
        session.query(f'Status where name is "{uuid.uuid4()}"').one()
    assert NoResultFoundError is NotFoundError
    with pytest.raises(MultipleResultsFoundError, match="More than one Status"):
        session.query("Status").one()


def test_one_refuses_expression_with_limit_or_offset(session):
    before = session.request_count
    with pytest.raises(ValueError, match="offset or limit"):
        session.query("Status limit 3").one()
    with pytest.raises(ValueError, match="offset or limit"):
        session.query("Status offset 1").one()
    assert session.request_count == before


def test_user_limit_and_offset_are_respected_across_pages(session, status_count):
    everything = [e["id"] for e in session.query("select id from Status order by name")]
    limited = [e["id"] for e in session.query("select id from Status order by name offset 1 limit 4",
                                              page_size=3)]
    assert limited == everything[1:5]
    assert session.query("Status limit 0").all() == []
    assert session.query("Status limit 0").first() is None


def test_unknown_entity_type_fails_before_any_request(session):
    before = session.request_count
    with pytest.raises(UnrecognisedEntityTypeError) as caught:
        session.query("select id from AssetVersoin")
    assert "AssetVersoin" in str(caught.value) and "AssetVersion" in str(caught.value)
    assert session.request_count == before


def test_malformed_expression_gets_the_server_error(session):
    with pytest.raises(ServerError) as caught:
        session.query("select id from Status where name is is is").first()
    assert caught.value.exception_name
    assert caught.value.content
    assert caught.value.exception_name in str(caught.value)
    with pytest.raises(ValueError, match="Not a query expression"):
        session.query("   ")


def test_page_size_must_be_positive(session):
    with pytest.raises(ValueError, match="page_size"):
        session.query("Status", page_size=0)


def test_datetime_values_are_aware_utc(session):
    project = make_project(session)
    session.commit()
    with session.clone() as other:
        fetched = other.query(f'select created_at from Project where id is "{project["id"]}"').one()
        created = fetched["created_at"]
        assert isinstance(created, dt.datetime)
        assert created.utcoffset() == dt.timedelta(0)
        assert abs(dt.datetime.now(dt.timezone.utc) - created) < dt.timedelta(days=1)


def test_expression_helpers():
    assert entity_type_of("select a, b.c from AssetVersion where x is 1") == "AssetVersion"
    assert entity_type_of("AssetVersion where x is 1") == "AssetVersion"
    assert split_paging("select a from T where b is 1 offset 5 limit 10") == ("select a from T where b is 1", 5, 10)
    assert split_paging("select a from T limit 10 offset 5") == ("select a from T", 5, 10)
    assert split_paging('select a from T where name is "limit 3"') == ('select a from T where name is "limit 3"', None, None)


def test_datetime_wire_forms():
    from publisher.api.transport import decode, encode_datetime

    values = decode(json.dumps([
        {"__type__": "datetime", "value": "2023-10-10T09:50:34"},
        {"__type__": "datetime", "value": "2023-10-10T09:50:34Z"},
        {"__type__": "datetime", "value": "2023-10-10T11:50:34.25+02:00"},
        {"__type__": "date", "value": "2023-10-10"},
    ]))
    utc = dt.timezone.utc
    assert values[0] == values[1] == dt.datetime(2023, 10, 10, 9, 50, 34, tzinfo=utc)
    assert values[2] == dt.datetime(2023, 10, 10, 9, 50, 34, 250000, tzinfo=utc)
    assert all(v.utcoffset() == dt.timedelta(0) for v in values[:3])
    assert values[3] == dt.date(2023, 10, 10)
    paris = dt.datetime(2026, 1, 2, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert encode_datetime(paris) == {"__type__": "datetime", "value": "2026-01-02T12:00:00+00:00"}
    assert encode_datetime(dt.datetime(2026, 1, 2, 12, 0)) == {"__type__": "datetime", "value": "2026-01-02T12:00:00"}
