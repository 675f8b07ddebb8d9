"""Fixture sets a server can be started with (``ftrack-publisher server --fixtures NAME``), so
that pipeline code and tests written against a studio's ftrack run offline against this server.

``ftrack-tests`` holds what ftrack's own Python API test suite expects of ftrack's test server
(its ``test/unit/conftest.py`` names them by id): the user ``jenkins`` who runs it, the test
project with its task ``t1``, the "VFX Scheme" project schema, at least ten users, and the custom
attributes its custom-attribute tests read and write. They are added on top of the demo project,
once, when the data folder is new; the server then logs in as ``jenkins``.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from publisher.server import custom_attributes, demo, workflows
from publisher.server.entities import OBJECT_TYPE_IDS
from publisher.server.files import ContentStore
from publisher.server.storage import Storage

FIXTURE_SETS = ("ftrack-tests",)

JENKINS_ID = "d07ae5d0-66e1-11e1-b5e9-f23c91df25eb"
TEST_PROJECT_ID = "5671dcb0-66de-11e1-8e6e-f23c91df25eb"
TEST_TASK_ID = "adb4ad6c-7679-11e2-8df2-f23c91df25eb"
VFX_SCHEME_ID = "69cb7f92-4dbf-11e1-9902-f23c91df25eb"
NUMBER_TYPE_ID = "92009b00-381c-11e0-acff-0019bb49847a"
TEXT_TYPE_ID = "6268aef0-381c-11e0-acff-0019bb49847a"
BOOLEAN_TYPE_ID = "ad1034d8-15e2-11e1-b21a-0019bb4983d8"
EXTRA_USERS = ["ada", "bo", "cy", "dee", "eli", "fay", "gus", "hal"]
LIST_CATEGORIES = [("77bcb1fa-1c4b-11e5-8f8d-20c9d081909b", "Client review"),
                   ("77bcdd64-1c4b-11e5-8f8d-20c9d081909b", "Dailies")]


NOT_STARTED_STATE = "cea0ba04-acb5-11e1-8668-f23c91df1211"
IN_PROGRESS_STATE = "cea0efc4-acb5-11e1-8668-f23c91df1211"
#: Statuses and task types of ftrack's test server that a new server has not (name, state).
EXTRA_STATUSES = [("Normal", IN_PROGRESS_STATE), ("Awaiting approval", IN_PROGRESS_STATE), ("Pending", NOT_STARTED_STATE)]
EXTRA_TYPES = ["Generic", "Hair", "Cloth", "test 1", "test type 2"]
#: The "VFX Scheme" of ftrack's test server, as its project schema tests expect it.
VFX_SCHEME = workflows.Workflow(
    task_statuses=["Not started", "In progress", "Awaiting approval", "Approved"],
    version_statuses=["Approved", "Pending"],
    task_types=["Generic", "Animation", "Modeling", "Previz", "Lookdev", "Hair", "Cloth", "FX", "Lighting",
                "Compositing", "Tracking", "Rigging", "test 1", "test type 2"],
    object_statuses={object_type_id: ["Normal", "Omitted", "On Hold"]
                     for object_type_id in (OBJECT_TYPE_IDS["Shot"], OBJECT_TYPE_IDS["Sequence"],
                                            OBJECT_TYPE_IDS["Folder"], demo.ASSET_BUILD_TYPE_ID)},
    object_types={demo.ASSET_BUILD_TYPE_ID: ["Character", "Prop", "Environment", "Matte Painting"]},
)


@dataclass(frozen=True)
class FixtureConfiguration:
    """A custom attribute configuration of the test server and the value it holds, if any."""

    key: str
    entity_type: str
    type_id: str
    default: object
    object_type_id: str | None = None


CONFIGURATIONS = [
    FixtureConfiguration("customNumber", "task", NUMBER_TYPE_ID, 0, OBJECT_TYPE_IDS["Task"]),
    FixtureConfiguration("NumberField", "assetversion", NUMBER_TYPE_ID, 0),
    FixtureConfiguration("versiontest", "assetversion", NUMBER_TYPE_ID, 0),
    FixtureConfiguration("htest", "asset", NUMBER_TYPE_ID, 0),
    FixtureConfiguration("teststring", "user", TEXT_TYPE_ID, ""),
    FixtureConfiguration("listbool", "list", BOOLEAN_TYPE_ID, False),
]


def login_username(fixtures: str | None) -> str:
    """The user a server started with these fixtures prints in its ready line."""
    return "jenkins" if fixtures == "ftrack-tests" else demo.DEMO_USERNAME


def login_user_id(fixtures: str | None) -> str:
    """The id of the user a server started with these fixtures logs in as."""
    return JENKINS_ID if fixtures == "ftrack-tests" else demo.uid("user", demo.DEMO_USERNAME)


def seed(storage: Storage, store: ContentStore, fixtures: str | None) -> None:
    """Fill a new data folder: the demo project, then the named fixture set (if any)."""
    if storage.get_meta("seeded") is None:
        demo.seed(storage, store)
    if fixtures is None or storage.get_meta(f"fixtures:{fixtures}") is not None:
        return
    if fixtures not in FIXTURE_SETS:
        raise ValueError(f"unknown fixture set {fixtures!r}; known: {', '.join(FIXTURE_SETS)}")
    with storage.transaction() as conn:
        _seed_ftrack_tests(storage, conn)
        storage.set_meta(conn, f"fixtures:{fixtures}", "1")


def _user(storage: Storage, conn: sqlite3.Connection, user_id: str, username: str, first: str, last: str) -> None:
    storage.insert(conn, "users", {
        "id": user_id, "username": username, "first_name": first, "last_name": last,
        "email": f"{username}@ftrack-tests.example", "is_active": 1, "resource_type": "user",
        "require_details_update": 0, "is_otp_enabled": 0, "is_totp_enabled": 0,
    })
    custom_attributes.on_entity_created(conn, "users", {"id": user_id})


def _seed_ftrack_tests(storage: Storage, conn: sqlite3.Connection) -> None:
    _user(storage, conn, JENKINS_ID, "jenkins", "Jenkins", "Build")
    for name in EXTRA_USERS:
        _user(storage, conn, demo.uid("fixture-user", name), name, name.title(), "Tester")
    for sort, (name, state_id) in enumerate(EXTRA_STATUSES, start=100):
        storage.insert(conn, "status", {"id": demo.uid("fixture-status", name), "name": name, "color": "#7f8c8d",
                                        "is_active": 1, "sort": sort, "state_id": state_id})
    for name in EXTRA_TYPES:
        storage.insert(conn, "type", {"id": demo.uid("fixture-type", name), "name": name, "color": "#7f8c8d",
                                      "is_billable": 1})
    storage.insert(conn, "project_schema", {"id": VFX_SCHEME_ID, "name": "VFX Scheme"})
    workflows.add_workflow(storage, conn, VFX_SCHEME_ID, VFX_SCHEME)
    for category_id, name in LIST_CATEGORIES:
        storage.insert(conn, "list_category", {"id": category_id, "name": name})
    for config in CONFIGURATIONS:
        demo.add_configuration(storage, conn, {
            "id": demo.uid("fixture-configuration", config.key), "key": config.key, "label": config.key,
            "entity_type": config.entity_type, "object_type_id": config.object_type_id, "project_id": None,
            "type_id": config.type_id, "default": config.default, "is_hierarchical": False, "core": False,
            "sort": 0, "config": "{}",
        })

    def context(context_id: str, kind: str, name: str, parent: str | None, **extra: object) -> None:
        row = {"id": context_id, "entity_type": kind, "name": name, "parent_id": parent,
               "project_id": TEST_PROJECT_ID, "created_at": "2013-02-14T10:00:00", "created_by_id": JENKINS_ID, **extra}
        if kind == "Project":
            row.update(context_type="show", full_name="Tests", status="active", is_global=0, is_private=0,
                       root="", project_schema_id=VFX_SCHEME_ID)
        else:
            row.update(context_type="task", object_type_id=OBJECT_TYPE_IDS[kind],
                       priority_id="9661b320-3a0c-11e2-81c1-0800200c9a66", status_id=demo.STATUS_IDS["In progress"])
        storage.insert(conn, "context", row)
        custom_attributes.on_entity_created(conn, "context", row)

    context(TEST_PROJECT_ID, "Project", "tests", None)
    python_api = demo.uid("fixture-context", "python_api")
    tasks = demo.uid("fixture-context", "tasks")
    context(python_api, "Folder", "python_api", TEST_PROJECT_ID)
    context(tasks, "Folder", "tasks", python_api)
    context(TEST_TASK_ID, "Task", "t1", tasks, type_id=demo.TASK_TYPES["Compositing"])
    demo.set_custom_attribute(conn, TEST_TASK_ID, "customNumber", 7)
    # Time jenkins logged on t1 (the suite formats a user with its time logs).
    storage.insert(conn, "timelog", {"id": demo.uid("fixture-timelog", "t1"), "name": "t1", "comment": "",
                                     "start": "2013-02-14T10:00:00", "duration": 3600.0, "user_id": JENKINS_ID,
                                     "context_id": TEST_TASK_ID})
    version = demo.uid("version", "sh010", "plate", "1")
    demo.set_custom_attribute(conn, version, "NumberField", 12)
