"""The type model: which table and columns each served entity type maps to, its relations,
computed attributes and polymorphism (Context/TypedContext -> Project/Folder/Sequence/Shot/Task,
Component -> FileComponent/ContainerComponent/SequenceComponent).

Built once from ``data/schemas.json`` (a subset of a real ftrack server's schemas, nothing
renamed). No SQL is run here; :mod:`storage` uses it to make the DDL, :mod:`query_compiler` to
resolve attribute paths.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

#: The column beside a ``variable`` attribute's column that holds its exact JSON.
VARIABLE_JSON_SUFFIX = "_json"

DATA_DIR = Path(__file__).with_name("data")

#: Concrete types stored in one table, told apart by the ``entity_type`` column.
CONTEXT_TYPES = ["Project", "Folder", "Sequence", "Shot", "Task", "AssetBuild"]
COMPONENT_TYPES = ["FileComponent", "ContainerComponent", "SequenceComponent"]
LIST_TYPES = ["AssetVersionList", "TypedContextList"]

CUSTOM_ATTRIBUTE_VALUE_TYPES = [
    "CustomAttributeValue", "ContextCustomAttributeValue", "AssetVersionCustomAttributeValue",
    "UserCustomAttributeValue", "AssetCustomAttributeValue", "ListCustomAttributeValue",
]

#: Types that name several concrete types (a query on them returns the concrete ones).
ABSTRACT: dict[str, list[str]] = {
    "Context": CONTEXT_TYPES,
    "TypedContext": ["Folder", "Sequence", "Shot", "Task", "AssetBuild"],
    # A bare Component can be created too (ftrack allows it); it is none of the three kinds.
    "Component": ["Component", *COMPONENT_TYPES],
    "ContainerComponent": ["ContainerComponent", "SequenceComponent"],
    "List": LIST_TYPES,
}
#: The type naming every concrete type of a polymorphic table.
POLYMORPHIC_ROOTS = {"context": "Context", "component": "Component", "list": "List"}

TABLES: dict[str, str] = {
    **{t: "context" for t in ["Context", "TypedContext", *CONTEXT_TYPES]},
    **{t: "component" for t in ["Component", *COMPONENT_TYPES]},
    **{t: "list" for t in ["List", *LIST_TYPES]},
    "Asset": "asset",
    "AssetType": "asset_type",
    "AssetVersion": "asset_version",
    "ComponentLocation": "component_location",
    "Location": "location",
    "Job": "job",
    "JobComponent": "job_component",
    "User": "users",
    "Status": "status",
    "State": "state",
    "Type": "type",
    "ObjectType": "object_type",
    "Priority": "priority",
    "ProjectSchema": "project_schema",
    "Note": "note",
    "Metadata": "metadata",
    "CustomAttributeType": "custom_attribute_type",
    "CustomAttributeConfiguration": "custom_attribute_configuration",
    # ftrack keeps one value type per kind of entity; they share one table here (the entity id
    # alone says which entity a value belongs to).
    **{t: "custom_attribute_value" for t in CUSTOM_ATTRIBUTE_VALUE_TYPES},
    "Timer": "timer",
    "Timelog": "timelog",
    "Scope": "scope",
    "ListCategory": "list_category",
    "NoteCategory": "note_category",
    "Recipient": "recipient",
    "Appointment": "appointment",
    "WorkflowSchema": "workflow_schema",
    "TaskTypeSchema": "task_type_schema",
    "ProjectSchemaOverride": "project_schema_override",
    "Schema": "object_type_schema",
    "SchemaStatus": "schema_status",
    "SchemaType": "schema_type",
    "WorkflowSchemaStatus": "workflow_schema_status",
    "TaskTypeSchemaType": "task_type_schema_type",
}

POLYMORPHIC_TABLES = {"context", "component", "list"}

#: Foreign-key columns that are not ``<relation>_id``.
REF_COLUMNS = {
    ("Asset", "parent"): "context_id",
    ("ProjectSchema", "_task_type_schema"): "task_type_schema_id",
    ("ProjectSchema", "task_type_schema"): "task_type_schema_id",
    ("ProjectSchema", "_task_workflow"): "task_workflow_schema_id",
    ("ProjectSchema", "task_workflow_schema"): "task_workflow_schema_id",
    ("ProjectSchema", "_version_workflow"): "asset_version_workflow_schema_id",
    ("ProjectSchema", "asset_version_workflow_schema"): "asset_version_workflow_schema_id",
    ("SchemaStatus", "task_status"): "status_id",
    ("SchemaType", "task_type"): "type_id",
    ("Recipient", "recipient"): "resource_id",
    ("Recipient", "user"): "resource_id",
    ("Appointment", "resource"): "resource_id",
    ("Note", "author"): "user_id",
    **{(t, "owner"): "user_id" for t in ["List", *LIST_TYPES]},
}

#: Collections holding only the members whose column has a value: relation -> (column, value).
COLLECTION_FILTERS = {"assignments": ("type", "assignment"), "allocations": ("type", "allocation")}

#: Many-to-many collections, kept in a link table: (type, relation) -> (link table, column
#: holding this entity's id, column holding the member's id).
LINK_RELATIONS = {
    ("WorkflowSchema", "statuses"): ("workflow_schema_status", "workflow_schema_id", "status_id"),
    ("TaskTypeSchema", "types"): ("task_type_schema_type", "task_type_schema_id", "type_id"),
    **{(t, "scopes"): ("context_scope", "context_id", "scope_id") for t in ["Context", "TypedContext", *CONTEXT_TYPES]},
}

#: Collections: relation name -> column on the target table that points back at this entity.
COLLECTION_BACKREFS = {
    "children": "parent_id",
    "notes": "parent_id",
    "versions": "asset_id",
    "components": "version_id",
    "component_locations": "component_id",
    "members": "container_id",
    "location_components": "location_id",
    "job_components": "job_id",
    "replies": "in_reply_to_id",
    "metadata": "parent_id",
    "custom_attributes": "entity_id",
    "recipients": "note_id",
    "lists": "category_id",
    "values": "configuration_id",
    "custom_attribute_configurations": "type_id",
}
BACKREF_BY_TYPE = {
    ("Context", "assets"): "context_id", ("AssetType", "assets"): "type_id",
    ("ProjectSchema", "_overrides"): "project_schema_id",
    ("ProjectSchema", "task_workflow_schema_overrides"): "project_schema_id",
    ("ProjectSchema", "_schemas"): "project_schema_id", ("ProjectSchema", "object_type_schemas"): "project_schema_id",
    ("WorkflowSchema", "overrides"): "workflow_schema_id",
    ("Schema", "statuses"): "schema_id", ("Schema", "types"): "schema_id",
    ("Context", "timelogs"): "context_id", ("User", "timelogs"): "user_id",
    **{("Context", a): "context_id" for a in ("appointments", "assignments", "allocations")},
    **{("User", a): "resource_id" for a in ("appointments", "assignments", "allocations")},
}

#: Scalar attributes computed when asked for (never stored, not usable in ``where``).
COMPUTED_SCALARS = {"link", "thumbnail_url", "url"}
#: Attributes computed from stored rows, usable as relations in projections.
VIRTUAL_RELATIONS = {"latest_version", "ancestors", "descendants"}

OBJECT_TYPE_IDS = {
    "Folder": "3c133785-51cb-11e3-980a-20c9d0831e59",
    "Sequence": "e5139355-61da-4c8f-9db4-3abc870166bc",
    "Shot": "bad911de-3bd6-47b9-8b46-3476e237cb36",
    "Task": "11c137c0-ee7e-4f9c-91c5-8c77cec22b2c",
    "AssetBuild": "4be63b64-5010-42fb-bf1f-428af9d638f0",
}
SYSTEM_TYPES = {"Component": "file", "FileComponent": "file", "ContainerComponent": "container", "SequenceComponent": "sequence"}


@dataclass(frozen=True)
class Relation:
    """``target_table.remote = this_table.local``; ``kind`` is ref, coll, link or virtual.

    A ``link`` relation goes through ``via``: (link table, column = this entity's id, column =
    the member's id)."""

    name: str
    kind: str
    target: str
    local: str
    remote: str
    via: tuple[str, str, str] | None = None
    #: Only members whose (column) is (value): see COLLECTION_FILTERS.
    member_filter: tuple[str, str] | None = None


@dataclass
class TypeModel:
    """One served entity type."""

    name: str
    table: str
    concrete: list[str]
    schema: dict
    primary_key: list[str]
    scalars: dict[str, str] = field(default_factory=dict)  # attribute -> column kind
    relations: dict[str, Relation] = field(default_factory=dict)
    computed: set[str] = field(default_factory=set)

    @property
    def is_abstract(self) -> bool:
        return self.concrete != [self.name]

    @cached_property
    def attributes(self) -> frozenset[str]:
        """Every attribute name (set once the model is built; the model never changes)."""
        return frozenset(self.scalars) | frozenset(self.relations) | frozenset(self.computed)


def column_kind(prop: dict) -> str:
    """The storage kind of a scalar schema property."""
    kind = prop.get("type")
    if kind == "string" and prop.get("format") == "date-time":
        return "datetime"
    if kind == "variable":
        # Any JSON value (custom attribute values and defaults): stored natively for queries,
        # with its exact JSON in a companion column (see values.VARIABLE_JSON_SUFFIX).
        return "variable"
    if kind in ("integer", "number", "boolean"):
        return kind
    return "string"


class Model:
    """All served types, looked up by name."""

    def __init__(self, schemas: list[dict]) -> None:
        self.schemas = schemas
        self.types: dict[str, TypeModel] = {}
        by_id = {s["id"]: s for s in schemas}
        for name, schema in by_id.items():
            table = TABLES[name]
            tm = TypeModel(name, table, ABSTRACT.get(name, [name]), schema, list(schema["primary_key"]))
            for attr, prop in schema["properties"].items():
                ref = prop.get("$ref") or (prop.get("items") or {}).get("$ref")
                kind = prop.get("type")
                if attr in COMPUTED_SCALARS:
                    tm.computed.add(attr)
                elif attr == "is_latest_version":
                    tm.computed.add(attr)
                elif attr in VIRTUAL_RELATIONS:
                    tm.relations[attr] = Relation(attr, "virtual", ref, "id", "id")
                elif (name, attr) in LINK_RELATIONS:
                    tm.relations[attr] = Relation(attr, "link", ref, "id", "id", LINK_RELATIONS[(name, attr)])
                elif kind in ("array", "mapped_array"):
                    backref = BACKREF_BY_TYPE.get((name, attr)) or BACKREF_BY_TYPE.get(
                        ("Context", attr) if table == "context" else (None, None)
                    ) or COLLECTION_BACKREFS[attr]
                    tm.relations[attr] = Relation(attr, "coll", ref, "id", backref,
                                                  member_filter=COLLECTION_FILTERS.get(attr))
                elif ref and not kind:
                    tm.relations[attr] = Relation(attr, "ref", ref, REF_COLUMNS.get((name, attr), f"{attr}_id"), "id")
                else:
                    tm.scalars[attr] = column_kind(prop)
            self.types[name] = tm
        self.table_columns: dict[str, dict[str, str]] = {}
        for tm in self.types.values():
            cols = self.table_columns.setdefault(tm.table, {})
            for attr, kind in tm.scalars.items():
                cols.setdefault(attr, kind)
            for rel in tm.relations.values():
                if rel.kind == "ref":
                    cols.setdefault(rel.local, "string")
            if tm.table in POLYMORPHIC_TABLES:
                cols.setdefault("entity_type", "string")
            for attr, kind in tm.scalars.items():
                if kind == "variable":
                    cols.setdefault(attr + VARIABLE_JSON_SUFFIX, "string")
        self.table_columns["status"].setdefault("state_id", "string")

    def get(self, name: object) -> TypeModel | None:
        return self.types.get(name) if isinstance(name, str) else None

    def concrete_type(self, tm: TypeModel, row: dict) -> str:
        """The concrete type of a stored row read through ``tm``."""
        if tm.table in POLYMORPHIC_TABLES:
            return row["entity_type"]
        return tm.name

    def union_attribute(self, tm: TypeModel, attr: str) -> tuple[TypeModel, str] | None:
        """Find ``attr`` on ``tm`` or, for abstract types, on one of its concrete types."""
        if attr in tm.attributes:
            return tm, attr
        for sub in tm.concrete:
            st = self.types[sub]
            if attr in st.attributes:
                return st, attr
        return None


@lru_cache(maxsize=1)
def load_schemas() -> list[dict]:
    """The schemas ``query_schemas`` returns, exactly as stored in the package."""
    with open(DATA_DIR / "schemas.json", encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=1)
def model() -> Model:
    """The shared, immutable type model."""
    return Model(load_schemas())
