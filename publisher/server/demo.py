"""The demo project a new data folder gets, so a fresh install shows every feature in its first
minute: project "Demo: Lighthouse" with sequences, shots, tasks, assets and versions by five
users in every status, with thumbnails, review movies (``ftrackreview-mp4`` with ``ftr_meta``),
a plate image sequence with a missing frame, and notes. Also the fixed rows every server holds
(locations with ftrack's ids, statuses, types, object types, priorities, project schemas).
"""

from __future__ import annotations

import colorsys
import io
import json
import sqlite3
import uuid
from datetime import datetime, timedelta

from publisher.server import custom_attributes, workflows
from publisher.server.entities import DATA_DIR, OBJECT_TYPE_IDS, VARIABLE_JSON_SUFFIX
from publisher.server.files import ContentStore
from publisher.server.storage import Storage
from publisher.server.values import store_variable

NAMESPACE = uuid.UUID("6b2f6f7e-3c55-4d1b-9a0e-6c1d2f0a9b11")
DEMO_USERNAME = "demo"

LOCATIONS = [
    ("ce9b348f-8809-11e3-821c-20c9d081909b", "ftrack.origin", "Origin", "Where files come from before a transfer."),
    ("cb268ecc-8809-11e3-a7e2-20c9d081909b", "ftrack.unmanaged", "Unmanaged", "Files registered where they are."),
    ("cd41be70-8809-11e3-b98a-20c9d081909b", "ftrack.review", "Review", "Review media registered where it is."),
    ("3a372bde-05bc-11e4-8908-20c9d081909b", "ftrack.server", "Server", "Files stored on this server."),
    ("07b82a97-8cf9-11e3-9383-20c9d081909b", "ftrack.connect", "Connect", "Unused by this server."),
]
SERVER_LOCATION_ID = LOCATIONS[3][0]

ASSET_TYPES = [("Upload", "upload"), ("Compositing", "comp"), ("Plate", "plate"),
               ("Render", "render"), ("Geometry", "geo"), ("Image Sequence", "img")]

STATUS_IDS = {
    "Not started": "44dd9fb2-4164-11df-9218-0019bb4983d8",
    "In progress": "44ddd0fe-4164-11df-9218-0019bb4983d8",
    "Pending Review": "44dded64-4164-11df-9218-0019bb4983d8",
    "Approved": "44de097a-4164-11df-9218-0019bb4983d8",
    "Revise": "2286947e-a2d4-11e9-825d-d27cf242b68b",
}
TASK_TYPES = {"Compositing": "44dd23b6-4164-11df-9218-0019bb4983d8",
              "Lighting": "44dd08fe-4164-11df-9218-0019bb4983d8",
              "Animation": "44dc3636-4164-11df-9218-0019bb4983d8"}

ASSET_BUILD_TYPE_ID = "4be63b64-5010-42fb-bf1f-428af9d638f0"
#: The workflow every built-in project schema gets (ftrack's defaults, by name).
DEFAULT_WORKFLOW = workflows.Workflow(
    task_statuses=["Not started", "Ready to start", "In progress", "Pending Review", "Revise", "Approved",
                   "On Hold", "Omitted", "Completed"],
    version_statuses=["Pending Review", "Revise", "Approved", "Client approved"],
    task_types=["Compositing", "Lighting", "Animation", "Modeling", "Rigging", "Texture", "Lookdev", "FX",
                "Tracking", "Rotoscoping", "Previz", "Layout", "Rendering", "Concept Art", "Editing", "Conform",
                "Production", "Deliverable"],
    object_statuses={
        **{object_type_id: ["Not started", "In progress", "On Hold", "Completed", "Omitted"]
           for object_type_id in (*OBJECT_TYPE_IDS.values(), ASSET_BUILD_TYPE_ID) if object_type_id != OBJECT_TYPE_IDS["Task"]},
    },
    object_types={ASSET_BUILD_TYPE_ID: ["Character", "Prop", "Furniture", "Vehicle", "Environment", "Matte Painting"]},
)

#: ftrack's default note categories.
NOTE_CATEGORIES = [("Default", "#2196F3"), ("Client feedback", "#E74C3C"), ("Internal", "#9B59B6")]

SHOTS = {"sq010": ["sh010", "sh020", "sh030"], "sq020": ["sh040", "sh050"]}
USERS = [(DEMO_USERNAME, "Demo", "Artist"), ("alex", "Alex", "Lighter"), ("sam", "Sam", "Compositor"),
         ("jo", "Jo", "Animator"), ("kim", "Kim", "Supervisor")]
#: Each shot's cut range as ftrack's default custom attributes hold it (fstart, fend, handles,
#: fps). The demo renders (``comp_v003.1001-1048``) cover fstart - handles .. fend + handles, so
#: shots with handles show that handles are counted; sh040's cut is longer than the render.
SHOT_RANGES = {
    "sh010": (1001, 1048, 0, 24), "sh020": (1009, 1040, 8, 24), "sh030": (1001, 1048, 0, 24),
    "sh040": (1001, 1096, 0, 24), "sh050": (1005, 1044, 4, 24),
}
SHOT_ATTRIBUTE_KEYS = ("fstart", "fend", "handles", "fps")
# asset name, asset type short, task that publishes it, versions (status, user, comment)
ASSETS = [
    ("plate", "plate", "Compositing", [("Approved", "sam", "Scanned plate, graded to ACEScg.")]),
    ("lighting", "render", "Lighting", [("Revise", "alex", "First lighting pass."),
                                        ("Pending Review", "alex", "Warmer key light, beam through the fog.")]),
    ("comp", "comp", "Compositing", [("Revise", "demo", "Slap comp."),
                                     ("In progress", "demo", "Added rain and lens flare.")]),
    ("anim", "geo", "Animation", [("Approved", "jo", "Gull flight path, blocking."),
                                  ("Not started", "jo", "Splined pass, waiting for the new rig.")]),
]
#: The plate's frames on the server: the sequence every shot's first plate version holds, with
#: one frame missing (as scans often arrive), so staging, details and review show a hole.
PLATE_FRAMES = [f for f in range(1001, 1013) if f != 1006]
#: Versions that carry a review movie (the shipped ``demo_review.mp4``): asset, version number.
REVIEWED = {("lighting", 2), ("comp", 2), ("anim", 1)}
#: Its ``ftr_meta``, as the encoder writes it.
REVIEW_META = {"frameIn": 0, "frameOut": 47, "frameRate": 24, "width": 480, "height": 270}
#: Notes on versions: asset, version number, author, text.
NOTES = [
    ("comp", 1, "kim", "Rain reads too uniform; break it up near the lamp."),
    ("comp", 2, "kim", "Much better. Flare is a touch strong on frame 1008."),
    ("comp", 2, DEMO_USERNAME, "Flare down 20%, new version coming."),
    ("lighting", 1, "kim", "Key is too cold for the sunset brief."),
    ("anim", 1, "kim", "Approved. Keep the wingbeats at this pace."),
]


def uid(*parts: str) -> str:
    """A stable id for a demo row, so every demo data folder names its rows alike."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _thumbnail(hue: float, label: str, size: tuple[int, int] = (320, 180)) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 180))
    draw = ImageDraw.Draw(image)
    for y in range(180):
        r, g, b = colorsys.hsv_to_rgb(hue, 0.55, 0.25 + 0.6 * y / 180)
        draw.line([(0, y), (320, y)], fill=(int(r * 255), int(g * 255), int(b * 255)))
    draw.polygon([(150, 60), (170, 60), (178, 150), (142, 150)], fill=(235, 235, 225))
    draw.text((10, 10), label, fill=(255, 255, 255))
    if size != image.size:
        image = image.resize(size)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _in_server(storage: Storage, conn: sqlite3.Connection, component_id: str) -> None:
    storage.insert(conn, "component_location", {
        "id": uid("location", component_id), "component_id": component_id,
        "location_id": SERVER_LOCATION_ID, "resource_identifier": component_id,
    })


def _review_component(storage: Storage, conn: sqlite3.Connection, version: str,
                      files: list[tuple[str, bytes]]) -> None:
    """An ``ftrackreview-mp4`` component of ``version``, as an encode job would leave it."""
    movie = (DATA_DIR / "demo_review.mp4").read_bytes()
    cid = uid("review", version)
    files.append((cid, movie))
    storage.insert(conn, "component", {
        "id": cid, "entity_type": "FileComponent", "system_type": "file", "name": "ftrackreview-mp4",
        "file_type": ".mp4", "size": len(movie), "version_id": version,
    })
    _in_server(storage, conn, cid)
    storage.insert(conn, "metadata", {"parent_id": cid, "parent_type": "FileComponent",
                                      "key": "ftr_meta", "value": json.dumps(REVIEW_META)})


def _plate_sequence(storage: Storage, conn: sqlite3.Connection, version: str, shot_name: str,
                    files: list[tuple[str, bytes]]) -> None:
    """A ``plate`` image sequence of ``version``: ``PLATE_FRAMES`` (one frame missing)."""
    container = uid("plate-sequence", version)
    frames = [(uid("plate-frame", version, str(f)), f,
               _thumbnail(0.08, f"{shot_name} plate {f}", size=(96, 54))) for f in PLATE_FRAMES]
    storage.insert(conn, "component", {
        "id": container, "entity_type": "SequenceComponent", "system_type": "sequence",
        "name": "plate", "file_type": ".jpg", "padding": 4, "version_id": version,
        "size": sum(len(data) for _, _, data in frames),
    })
    _in_server(storage, conn, container)
    for cid, number, data in frames:
        files.append((cid, data))
        storage.insert(conn, "component", {
            "id": cid, "entity_type": "FileComponent", "system_type": "file", "name": str(number),
            "file_type": ".jpg", "size": len(data), "container_id": container,
        })
        _in_server(storage, conn, cid)


def seed_reference(storage: Storage, conn: sqlite3.Connection) -> None:
    """Rows every server holds: locations, statuses, states, types, object types, priorities."""
    with open(DATA_DIR / "seed.json", encoding="utf-8") as fh:
        seed = json.load(fh)
    tables = {"State": "state", "Status": "status", "ObjectType": "object_type", "Priority": "priority",
              "Type": "type", "ProjectSchema": "project_schema"}
    for type_name, table in tables.items():
        for row in seed[type_name]:
            storage.insert(conn, table, {k: (int(v) if isinstance(v, bool) else v) for k, v in row.items()})
    for lid, name, label, description in LOCATIONS:
        storage.insert(conn, "location", {"id": lid, "name": name, "label": label, "description": description})
    for name, short in ASSET_TYPES:
        storage.insert(conn, "asset_type", {"id": uid("asset_type", short), "name": name, "short": short, "component": "main"})
    for row in seed["ProjectSchema"]:
        workflows.add_workflow(storage, conn, row["id"], DEFAULT_WORKFLOW)
    for sort, (name, color) in enumerate(NOTE_CATEGORIES):
        storage.insert(conn, "note_category", {"id": uid("note_category", name), "name": name, "sort": sort,
                                               "color": color})
    for row in seed["CustomAttributeType"]:
        storage.insert(conn, "custom_attribute_type", {**row, "core": int(row["core"])})
    for row in seed["CustomAttributeConfiguration"]:
        add_configuration(storage, conn, row)


def add_configuration(storage: Storage, conn: sqlite3.Connection, config: dict) -> None:
    """Store a custom attribute configuration (``default`` any JSON value) and give every entity
    it applies to its default value."""
    row = {k: (int(v) if isinstance(v, bool) else v) for k, v in config.items() if k != "default"}
    store_variable(row, "default", config.get("default"), VARIABLE_JSON_SUFFIX)
    storage.insert(conn, "custom_attribute_configuration", row)
    custom_attributes.on_configuration_created(conn, row)


def set_custom_attribute(conn: sqlite3.Connection, entity_id: str, key: str, value: object) -> None:
    """Set the value of the configuration ``key`` that ``entity_id`` holds (it must hold one)."""
    row: dict = {}
    store_variable(row, "value", value, VARIABLE_JSON_SUFFIX)
    changed = conn.execute(
        'UPDATE "custom_attribute_value" SET "value" = ?, "value_json" = ? WHERE "entity_id" = ? AND "key" = ?',
        (row["value"], row["value_json"], entity_id, key),
    ).rowcount
    if changed != 1:
        raise KeyError(f"{entity_id} holds no custom attribute {key!r}")


def seed(storage: Storage, store: ContentStore) -> None:
    """Fill a new database with the reference rows, the demo users and the demo project."""
    now = datetime(2026, 1, 12, 9, 30)
    fmt = "%Y-%m-%dT%H:%M:%S"
    files: list[tuple[str, bytes]] = []
    with storage.transaction() as conn:
        seed_reference(storage, conn)
        users = {}
        for username, first, last in USERS:
            users[username] = uid("user", username)
            storage.insert(conn, "users", {
                "id": users[username], "username": username, "first_name": first, "last_name": last,
                "email": f"{username}@lighthouse.example", "is_active": 1, "resource_type": "user",
                "require_details_update": 0, "is_otp_enabled": 0, "is_totp_enabled": 0,
            })
        project = uid("project", "lighthouse")
        storage.insert(conn, "context", {
            "id": project, "entity_type": "Project", "context_type": "show", "name": "lighthouse",
            "full_name": "Demo: Lighthouse", "project_id": project, "status": "active", "is_global": 0,
            "is_private": 0, "root": "", "project_schema_id": "caddd816-acb5-11e1-8668-f23c91df1211",
            "created_at": now.strftime(fmt), "created_by_id": users[DEMO_USERNAME], "color": "#2f6fb0",
        })

        def context(kind: str, name: str, parent: str, key: str, **extra) -> str:
            cid = uid(kind, key)
            storage.insert(conn, "context", {
                "id": cid, "entity_type": kind, "context_type": "task", "name": name, "parent_id": parent,
                "project_id": project, "object_type_id": OBJECT_TYPE_IDS[kind],
                "priority_id": "9661b320-3a0c-11e2-81c1-0800200c9a66", "status_id": STATUS_IDS["In progress"],
                "created_at": now.strftime(fmt), "created_by_id": users[DEMO_USERNAME], **extra,
            })
            return cid

        hue = 0.0
        for seq_name, shots in SHOTS.items():
            seq = context("Sequence", seq_name, project, seq_name)
            for shot_name in shots:
                shot = context("Shot", shot_name, seq, shot_name, description=f"Lighthouse shot {shot_name}")
                tasks = {t: context("Task", t, shot, f"{shot_name}/{t}", type_id=type_id)
                         for t, type_id in TASK_TYPES.items()}
                for asset_name, type_short, task_name, versions in ASSETS:
                    asset = uid("asset", shot_name, asset_name)
                    storage.insert(conn, "asset", {"id": asset, "name": asset_name, "context_id": shot,
                                                   "project_id": project, "type_id": uid("asset_type", type_short)})
                    for number, (status, user, comment) in enumerate(versions, start=1):
                        version = uid("version", shot_name, asset_name, str(number))
                        thumb = uid("thumbnail", shot_name, asset_name, str(number))
                        hue = (hue + 0.13) % 1.0
                        files.append((thumb, _thumbnail(hue, f"{shot_name} {asset_name} v{number:03d}")))
                        storage.insert(conn, "component", {
                            "id": thumb, "entity_type": "FileComponent", "system_type": "file", "name": "thumbnail",
                            "file_type": ".jpg", "size": len(files[-1][1]), "version_id": version,
                        })
                        storage.insert(conn, "component_location", {
                            "id": uid("location", thumb), "component_id": thumb,
                            "location_id": SERVER_LOCATION_ID, "resource_identifier": thumb,
                        })
                        storage.insert(conn, "asset_version", {
                            "id": version, "asset_id": asset, "version": number, "comment": comment,
                            "date": (now + timedelta(days=number, hours=len(files))).strftime(fmt),
                            "is_published": 1, "project_id": project, "status_id": STATUS_IDS[status],
                            "task_id": tasks[task_name], "user_id": users[user], "thumbnail_id": thumb,
                        })
                        if (asset_name, number) in REVIEWED:
                            _review_component(storage, conn, version, files)
                        if asset_name == "plate" and number == 1:
                            _plate_sequence(storage, conn, version, shot_name, files)
                        for note_asset, note_number, author, text in NOTES:
                            if (note_asset, note_number) == (asset_name, number):
                                storage.insert(conn, "note", {
                                    "id": uid("note", shot_name, asset_name, str(number), text),
                                    "parent_id": version, "parent_type": "AssetVersion",
                                    "content": text, "user_id": users[author], "project_id": project,
                                    "date": (now + timedelta(days=number, hours=12)).strftime(fmt),
                                    "is_todo": 0,
                                })
        for config in conn.execute('SELECT * FROM "custom_attribute_configuration"').fetchall():
            custom_attributes.on_configuration_created(conn, dict(config))
        for shot_name, values in SHOT_RANGES.items():
            for key, value in zip(SHOT_ATTRIBUTE_KEYS, values):
                set_custom_attribute(conn, uid("Shot", shot_name), key, value)
        storage.set_meta(conn, "seeded", now.strftime(fmt))
    for component_id, data in files:
        path = store.path(component_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
