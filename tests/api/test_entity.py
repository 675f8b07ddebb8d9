"""Entity behaviour against a real embedded server, sentence by sentence from
``asset_version_api.txt`` (the documented ftrack_api Entity), plus attribute kinds: scalars,
datetimes, references, collections, mapped collections (metadata), immutables."""

from __future__ import annotations

import datetime as dt
import json
import sys
import types
import uuid

import pytest

from publisher.api import (
    NOT_SET,
    Collection,
    Entity,
    FtrackError,
    ImmutableAttributeError,
    MappedCollection,
    Session,
    UnknownAttributeError,
)
from publisher.api import entity_factory

from .conftest import make_version


#: The ``session`` fixture caches schemas in a folder of each test's own.
CACHE_SCHEMAS = True


@pytest.fixture
def version(session):
    return make_version(session, comment="hello")


def fresh(session: Session, entity: Entity) -> tuple[Session, Entity]:
    """The same entity in a new session, with nothing fetched but its default projections."""
    other = session.clone()
    return other, other.get(entity.entity_type, entity["id"])


# Class attributes --------------------------------------------------------------------------------

def test_class_attributes_come_from_the_schema(session):
    cls = session.types["AssetVersion"]
    schema = next(s for s in session.schemas if s["id"] == "AssetVersion")
    assert cls.entity_type == "AssetVersion"
    assert cls.primary_key_attributes == ["id"]
    assert cls.default_projections == schema["default_projections"]
    assert set(cls.attributes.keys()) <= set(schema["properties"])
    assert {"version", "comment", "asset", "components", "metadata"} <= set(cls.attributes.keys())
    kinds = {a.name: a.kind for a in cls.attributes}
    assert kinds["comment"] == "scalar" and kinds["asset"] == "reference"
    assert kinds["components"] == "collection" and kinds["metadata"] == "mapped"


# __init__(session, data=None, reconstructing=False) ------------------------------------------

def test_init_with_data_creates_and_applies_defaults(session):
    """data: initial values; not reconstructing: creation logic (defaults) applies."""
    cls = session.types["AssetVersion"]
    entity = cls(session, {"comment": "x"})
    assert entity["comment"] == "x"
    assert entity["is_published"] is True  # schema default
    uuid.UUID(entity["id"])  # "{uid}" default
    assert entity.is_new and session.pending_operations == 1
    session.rollback()


def test_init_reconstructing_applies_no_creation_logic(session):
    cls = session.types["AssetVersion"]
    entity = cls(session, {"id": "abc", "comment": "x"}, reconstructing=True)
    assert entity.remote_values() == {"id": "abc", "comment": "x"}
    assert entity.local_values() == {}
    assert entity._raw("is_published") is NOT_SET  # no default applied
    assert session.pending_operations == 0


# Values and fetching ----------------------------------------------------------------------------

def test_values_not_fetched_are_not_set_then_fetched_on_access(session, version):
    other, copy = fresh(session, version)
    assert copy._raw("comment") is NOT_SET
    before = other.request_count
    assert copy["comment"] == "hello"
    assert other.request_count == before + 1
    assert copy["comment"] == "hello"
    assert other.request_count == before + 1  # cached now
    other.close()


def test_auto_populate_off_reads_without_requests(session, version):
    other, copy = fresh(session, version)
    other.auto_populate = False
    before = other.request_count
    assert copy["comment"] is NOT_SET
    assert dict(copy.items())["comment"] is NOT_SET
    assert other.request_count == before
    other.auto_populate = True
    assert copy["comment"] == "hello"
    other.close()


def test_reference_is_fetched_with_its_default_projections(session, version):
    other, copy = fresh(session, version)
    before = other.request_count
    asset = copy["asset"]
    assert other.request_count == before + 1
    assert asset.entity_type == "Asset" and asset["id"] == version["asset"]["id"]
    for name in asset.default_projections:
        assert asset._raw(name) is not NOT_SET
    other.close()


def test_new_entity_does_not_fetch(session):
    entity = session.create("AssetType", {"name": "n", "short": "s"})
    before = session.request_count
    assert entity["component"] == "main"  # schema default
    assert session.types["AssetType"].attributes.get("component").default == "main"
    session.rollback()
    assert session.request_count == before


def test_items_fetches_all_missing_values_in_one_request(session, version):
    """items(): will fetch all values from the server if not already fetched or set locally."""
    other, copy = fresh(session, version)
    before = other.request_count
    items = copy.items()
    assert isinstance(items, list) and all(isinstance(i, tuple) and len(i) == 2 for i in items)
    assert other.request_count == before + 1  # one request for every missing value
    data = dict(items)
    assert data["comment"] == "hello" and data["is_published"] is True
    assert set(data) == set(copy.keys())
    other.close()


def test_values_returns_list_of_values(session, version):
    """values(): return list of values."""
    other, copy = fresh(session, version)
    values = copy.values()
    assert isinstance(values, list) and len(values) == len(copy.keys())
    assert "hello" in values
    assert values == [copy[k] for k in copy.keys()]
    other.close()


def test_keys_is_set_like_view_of_attribute_names(session, version):
    keys = version.keys()
    assert "comment" in keys and "nope" not in keys
    assert keys & {"comment", "nope"} == {"comment"}
    assert len(keys) == len(version.attributes)
    assert list(version) == list(keys)


def test_get_returns_value_or_default(session, version):
    """get(k[, d]) -> D[k] if k in D, else d. d defaults to None."""
    assert version.get("comment") == "hello"
    assert version.get("not_an_attribute") is None
    assert version.get("not_an_attribute", "fallback") == "fallback"


def test_unknown_attribute_is_a_key_error_naming_the_type(version):
    with pytest.raises(KeyError) as caught:
        version["comentt"]
    assert isinstance(caught.value, UnknownAttributeError)
    assert "AssetVersion" in str(caught.value) and "comentt" in str(caught.value)
    with pytest.raises(KeyError):
        version["comentt"] = "x"


# Mapping mutators --------------------------------------------------------------------------

def test_pop_returns_value_and_reverts_local_edit(session, version):
    """pop(k[, d]) -> v: remove the key (the local value) and return the value."""
    version["comment"] = "edited"
    assert version.pop("comment") == "edited"
    assert version["comment"] == "hello"  # back to the server value
    assert version.local_values() == {}
    assert version.pop("not_an_attribute", "d") == "d"
    with pytest.raises(KeyError):
        version.pop("not_an_attribute")


def test_popitem_returns_a_pair(session, version):
    """popitem() -> (k, v): some (key, value) pair as a 2-tuple."""
    version["comment"] = "edited"
    key, value = version.popitem()
    assert key in version.keys()
    assert value == version[key]


def test_setdefault(session):
    """setdefault(k[, d]) -> D.get(k, d), also set D[k] = d if k not in D (not set)."""
    entity = session.create("AssetVersion", {})
    assert entity.setdefault("comment", "x") == ""  # schema default counts as set
    assert entity.setdefault("version", 7) == 7
    assert entity["version"] == 7
    assert entity.setdefault("version", 9) == 7
    session.rollback()


def test_update_from_mapping_iterable_and_keywords(session, version):
    """update([E, ]**F): from a mapping (keys()), from (k, v) pairs, then from keywords."""
    version.update({"comment": "a"})
    assert version["comment"] == "a"
    version.update([("comment", "b")])
    assert version["comment"] == "b"
    version.update({"comment": "c"}, comment="d")
    assert version["comment"] == "d"
    session.commit()
    other, copy = fresh(session, version)
    assert copy["comment"] == "d"
    other.close()


def test_clear_resets_local_modifications(session, version):
    """clear(): reset all locally modified attribute values."""
    version["comment"] = "local"
    version["is_published"] = False
    version.clear()
    assert version.local_values() == {}
    assert version["comment"] == "hello" and version["is_published"] is True
    before = session.request_count
    session.commit()
    assert session.request_count == before  # nothing to send


def test_len_and_contains(version):
    assert len(version) == len(version.attributes)
    assert "comment" in version and "nope" not in version


# merge(entity, merged=None) -------------------------------------------------------------------

def test_merge_applies_only_set_values_and_returns_changes(session, version):
    other, copy = fresh(session, version)
    copy["comment"] = "from other"  # local value in the other session
    copy._remote["version"] = 99  # a remote value the other session knows
    assert copy._raw("is_published") is NOT_SET
    before_remote = version._remote.get("version", NOT_SET)
    changes = version.merge(copy)
    by_name = {(c["type"], c["name"]): c for c in changes}
    assert set(changes[0]) == {"type", "name", "old_value", "new_value"}
    assert by_name[("local_attribute", "comment")]["old_value"] is NOT_SET
    assert by_name[("local_attribute", "comment")]["new_value"] == "from other"
    assert by_name[("remote_attribute", "version")] == {
        "type": "remote_attribute", "name": "version", "old_value": before_remote, "new_value": 99}
    assert not any(c["name"] == "is_published" for c in changes)  # NOT_SET is not merged
    assert version["comment"] == "from other"
    assert version.merge(copy) == []  # nothing new the second time
    other.close()
    session.rollback()


def test_merge_maps_referenced_entities_into_this_session(session, version):
    other, copy = fresh(session, version)
    copy["asset"]  # fetched in the other session
    version._remote.pop("asset", None)
    version._local.pop("asset", None)
    changes = version.merge(copy)
    asset_change = next(c for c in changes if c["name"] == "asset")
    assert asset_change["new_value"].session is session
    assert version._raw("asset") is session.get("Asset", copy["asset"]["id"])
    other.close()


# Attribute kinds -------------------------------------------------------------------------------

def test_datetime_round_trip_is_aware_utc(session):
    when = dt.datetime(2026, 11, 26, 21, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    version = make_version(session, date=when)
    other, copy = fresh(session, version)
    value = copy["date"]
    assert isinstance(value, dt.datetime) and value.tzinfo is not None
    assert value.utcoffset() == dt.timedelta(0)
    assert value == when
    other.close()


def test_collection_append_remove_sends_full_membership(session, version):
    sequence = session.create("SequenceComponent", {"name": "plate", "version": version, "padding": 4})
    members = [session.create("FileComponent", {"name": f"100{i}", "container": sequence}) for i in range(3)]
    for member in members:
        sequence["members"].append(member)
    session.commit()
    other, copy = fresh(session, sequence)
    assert {c["id"] for c in copy["members"]} == {c["id"] for c in members}
    other.close()
    collection = sequence["members"]
    assert isinstance(collection, Collection)
    assert collection == members
    extra = session.create("FileComponent", {"name": "1009", "version": version})
    collection.append(extra)
    collection.append(extra)  # already a member: no duplicate
    collection.remove(members[0])
    assert len(sequence["members"]) == 3
    assert extra in sequence["members"] and members[0] not in sequence["members"]
    session.commit()
    other, copy = fresh(session, sequence)
    assert {c["name"] for c in copy["members"]} == {"1001", "1002", "1009"}
    other.close()


def test_collection_assignment_and_index_operations(session, version):
    components = [session.create("FileComponent", {"name": f"c{i}", "version": version}) for i in range(3)]
    version["components"] = components[:2]
    assert list(version["components"]) == components[:2]
    version["components"][0] = components[2]
    assert version["components"][0] is components[2]
    del version["components"][0]
    assert list(version["components"]) == [components[1]]
    version["components"].insert(0, components[0])
    assert list(version["components"]) == [components[0], components[1]]
    with pytest.raises(TypeError):
        version["components"] = ["not an entity"]
    sent = []
    session.http.hooks["response"].append(lambda r, *a, **k: sent.append(json.loads(r.request.body)))
    session.commit()
    update = next(op for op in sent[-1] if op["action"] == "update" and op["entity_type"] == "AssetVersion")
    assert update["entity_data"]["components"] == [session.entity_reference(c) for c in components[:2]]


def test_metadata_mapped_collection_create_update_delete(session, version):
    metadata = version["metadata"]
    assert isinstance(metadata, MappedCollection) and dict(metadata) == {}
    metadata["ftr_meta"] = '{"frameIn": 1}'
    metadata["other"] = "x"
    session.commit()
    other, copy = fresh(session, version)
    assert dict(copy["metadata"]) == {"ftr_meta": '{"frameIn": 1}', "other": "x"}
    other.close()
    version["metadata"]["other"] = "y"
    del version["metadata"]["ftr_meta"]
    session.commit()
    other, copy = fresh(session, version)
    assert dict(copy["metadata"]) == {"other": "y"}
    with pytest.raises(KeyError):
        copy["metadata"]["ftr_meta"]
    other.close()


def test_metadata_on_new_entity_in_same_commit(session, version):
    component = session.create("FileComponent", {"name": "m", "version": version})
    component["metadata"]["ftr_meta"] = "{}"
    session.commit()
    other = session.clone()
    copy = other.get("FileComponent", component["id"])
    assert dict(copy["metadata"]) == {"ftr_meta": "{}"}
    other.close()


def test_metadata_given_as_dict_at_create(session, version):
    component = session.create("FileComponent", {"name": "d", "version": version,
                                                  "metadata": {"a": "1", "b": "2"}})
    assert dict(component["metadata"]) == {"a": "1", "b": "2"}
    session.commit()
    other = session.clone()
    assert dict(other.get("FileComponent", component["id"])["metadata"]) == {"a": "1", "b": "2"}
    other.close()
    component["metadata"] = {"b": "3"}  # replace: a goes, b changes
    session.commit()
    other = session.clone()
    assert dict(other.get("FileComponent", component["id"])["metadata"]) == {"b": "3"}
    other.close()


def test_immutable_attribute_raises_once_persisted(session, version):
    with pytest.raises(ImmutableAttributeError, match="id"):
        version["id"] = str(uuid.uuid4())
    new = session.create("AssetVersion", {})
    new_id = str(uuid.uuid4())
    new["id"] = new_id  # allowed before the first commit
    assert new["id"] == new_id
    assert session.get("AssetVersion", new_id) is new  # found under its new key, no request
    with pytest.raises(FtrackError, match="already has"):
        new["id"] = version["id"]
    assert new["id"] == new_id
    session.rollback()
    assert session.get("AssetVersion", new_id) is None


def test_equality_and_hash_follow_identity(session, version):
    other, copy = fresh(session, version)
    assert copy == version and hash(copy) == hash(version)
    assert copy is not version
    assert version != session.query("Status").first()
    assert repr(version) == f"<AssetVersion(id={version['id']!r})>"
    other.close()


# Mixins ------------------------------------------------------------------------------------------

def test_mixins_are_found_by_type_name_and_post_init_runs(monkeypatch):
    module = types.ModuleType("publisher.api.job")

    class JobMixin:
        def _post_init(self):
            self.initialised = True

        def shout(self):
            return self["status"].upper()

    module.JobMixin = JobMixin
    monkeypatch.setitem(sys.modules, "publisher.api.job", module)
    schemas = [{"id": "Job", "primary_key": ["id"], "default_projections": ["id"],
                "properties": {"id": {"type": "string", "default": "{uid}"},
                               "status": {"type": "string", "default": "queued"}}}]
    registry = entity_factory.build_registry(schemas, "test-" + uuid.uuid4().hex)
    cls = registry.classes["Job"]
    assert cls.__mro__[1] is JobMixin and issubclass(cls, Entity)
    job = cls(_RecordingSession(), {"status": "running"}, reconstructing=True)
    assert job.initialised and job.shout() == "RUNNING"


def test_missing_mixin_module_is_skipped(monkeypatch):
    monkeypatch.setitem(entity_factory.MIXINS, "Thing", ("publisher.api.no_such_module", "X"))
    assert entity_factory.mixins_for("Thing") == []


class _RecordingSession:
    """Stands in for a session when building an entity class outside a server."""

    def _record_update(self, *args):
        pass
