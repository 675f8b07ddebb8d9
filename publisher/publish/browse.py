"""What the window shows: projects down to tasks, the versions of a context, version details.

Every function takes a ``publisher.api.Session`` (a worker thread uses its own
``session.clone()``), sends a fixed, small number of queries whatever the number of rows (each
query projects what the rows need, so reading a row never triggers a lazy fetch), and returns
plain frozen dataclasses. No Qt; callable from any thread that owns its session.

Queries per call:
  ``list_projects`` 2, ``list_children`` 2, ``context_path`` 3, ``list_versions`` 1, or 2 when the
  page holds review components (their encode jobs), ``count_versions`` 1 below ``COUNT_PAGE``
  versions and about 2*log2(n / COUNT_PAGE) + 3 above (the ftrack query language has no
  ``count`` outside ``group by``), ``version_details`` 4 or 5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from publisher.api.accessor import server_thumbnail_url
from publisher.api.quoting import quote, quote_list
from publisher.api.session import Session
from publisher.api.symbol import SERVER_LOCATION_ID
from publisher.publish import version_filter
from publisher.publish.errors import PublishError
from publisher.publish.staging import STAGE_LOCATIONS, stage_locations

#: Names the server gives to review media (see COMMON: encode outputs).
REVIEW_VIDEO_NAMES = ("ftrackreview-mp4", "ftrackreview-webm")
REVIEW_IMAGE_NAME = "ftrackreview-image"
#: The review movie the window plays and downloads.
REVIEW_MOVIE = REVIEW_VIDEO_NAMES[0]
SERVER_LOCATION_NAME = "ftrack.server"

#: ``count_versions`` reads ids one page of this size first; only bigger contexts are probed.
COUNT_PAGE = 1000
#: Above ``COUNT_PAGE`` versions, probes name the context's assets by id when it has at most this many.
COUNT_ASSET_IDS = 500

#: Sort keys the version list offers -> the attribute path the query orders by.
VERSION_ORDER = {
    "date": "date",
    "version": "version",
    "asset": "asset.name",
    "asset_name": "asset.name",
    "status": "status.name",
    "user": "user.username",
    "comment": "comment",
}


@dataclass(frozen=True)
class ContextRow:
    """One node of the project tree: a Project, Folder, Sequence, Shot, Task (or other context)."""

    id: str
    name: str
    entity_type: str
    parent_id: str | None
    has_children: bool
    type_name: str | None  # a Task's type, e.g. "Compositing"
    status_name: str | None


@dataclass(frozen=True)
class VersionRow:
    """One AssetVersion as the version list shows it.

    ``review_state``: ``"playable"`` when a ``ftrackreview-mp4``/``-webm`` component exists and no
    encode job is still writing it, ``"encoding"`` while a queued or running Job lists one of the
    version's components among its outputs, ``"failed"`` when the latest such job failed and
    nothing is playable, else ``"none"``.
    """

    id: str
    asset_id: str
    asset_name: str
    asset_type: str
    version: int
    status_name: str | None
    status_color: str | None
    user_name: str | None
    date: datetime | None
    comment: str
    component_count: int
    thumbnail_id: str | None
    review_state: str
    task_id: str | None
    context_id: str
    #: What the versions filter looks in (``version_filter.SEARCHED_PATHS`` order).
    searched: version_filter.SearchedValues | None = None

    def search_values(self) -> version_filter.SearchedValues:
        """What the versions filter looks in; a row made without them offers its shown fields."""
        if self.searched is not None:
            return self.searched
        return version_filter.SearchedValues(
            texts=(self.asset_name, self.asset_type, self.status_name or "", self.comment,
                   self.user_name or ""),
            version=self.version,
        )


@dataclass(frozen=True)
class ComponentRow:
    """One component of a version as the details pane shows it.

    ``availability`` is the percentage of the component's data held by the location that holds
    most of it (a file: 100 or 0; a sequence: frames present / frames, like ftrack's
    ``get_component_availability`` averages members). ``locations`` names the locations holding
    any of it, ``ftrack.server`` first.
    """

    id: str
    name: str
    kind: str  # "file" | "sequence" | "container"
    file_type: str
    size: int
    frame_range: str | None
    holes: int
    locations: list[str]
    availability: float


@dataclass(frozen=True)
class NoteRow:
    """A note on a version, as the details pane lists it."""

    id: str
    author: str
    date: datetime | None
    text: str


@dataclass(frozen=True)
class VersionDetails:
    """A version with its components and notes, for the details pane."""

    row: VersionRow
    components: list[ComponentRow]
    comment: str
    published_by: str | None
    date: datetime | None
    thumbnail_url: str | None
    #: The conversation on the version, oldest first.
    notes: list[NoteRow] = field(default_factory=list)


# Query helpers ---------------------------------------------------------------------------------

def _id_list(ids: list[str]) -> str:
    return "(" + quote_list(ids) + ")"


def _natural_key(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text or "")]


def _entity_type(entity: Any) -> str:
    return getattr(entity, "entity_type", None) or entity.get("__entity_type__") or type(entity).__name__


def _get(row: Any, key: str) -> Any:
    """``row[key]`` for an entity, ``row.get(key)`` for a plain JSON row (null fields may be absent)."""
    return row.get(key) if isinstance(row, dict) else row[key]


def _ref(entity: Any, *path: str) -> Any:
    """``entity[path[0]][path[1]]...``, ``None`` when a reference on the way is empty.

    Works on plain JSON rows and on entities (only projected attributes are read, so an entity
    never fetches lazily here).
    """
    value = entity
    for key in path:
        if value is None:
            return None
        value = value.get(key) if isinstance(value, dict) else value[key]
    return value


def _to_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, dict) and value.get("__type__") in ("datetime", "date"):
        value = value.get("value")
    inner = getattr(value, "datetime", None)  # arrow
    if isinstance(inner, datetime):
        return inner
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _user_name(user: Any) -> str | None:
    if user is None:
        return None
    full = " ".join(p for p in (_get(user, "first_name"), _get(user, "last_name")) if p)
    return full or _get(user, "username")


def _page(session: Session, expression: str, offset: int, limit: int) -> tuple[list[Any], int | None]:
    """One request: the rows of ``expression`` from ``offset`` (at most ``limit``) and the next offset.

    The rows are the server's plain JSON objects when the session exposes its transport (as
    ``publisher.api.Session`` does): browse copies what it needs into frozen rows, so merging
    every page into the session's entity cache would only grow it (about 1.8 kB per version
    listed; 180 MB after scrolling 100,000 versions). Other sessions go through ``call``.
    A query object is not used because it would re-page with its own offset and limit.
    """
    operation = {"action": "query", "expression": f"{expression} offset {int(offset)} limit {int(limit)}"}
    transport = getattr(session, "transport", None)
    if transport is not None and callable(getattr(transport, "call", None)):
        result = transport.call([operation], retry=True)
    else:
        result = session.call([operation])
    entry = result[0]
    if not isinstance(entry, dict) or not isinstance(entry.get("data"), list):
        raise PublishError(
            "The ftrack server answered a query with something that is not a list of rows: check that "
            "the server address points at an ftrack server, then refresh."
        )
    rows = list(entry["data"])
    next_offset = ((entry.get("metadata") or {}).get("next") or {}).get("offset")
    return rows, next_offset


def _all(session: Session, expression: str, page_size: int = 1000) -> list[Any]:
    """Every row of ``expression``, one request per ``page_size`` rows."""
    rows: list[Any] = []
    offset: int | None = 0
    while offset is not None:
        page, next_offset = _page(session, expression, offset, page_size)
        rows.extend(page)
        if not page or next_offset is None or next_offset <= offset:
            break
        offset = next_offset
    return rows


# Contexts ---------------------------------------------------------------------------------------

_CONTEXT_PROJECTION = "id, name, parent_id, type.name, status.name"


def _children_parents(session: Session, ids: list[str]) -> set[str]:
    """The ids among ``ids`` that have at least one child context (one query)."""
    if not ids:
        return set()
    rows = _all(session, f"select parent_id from TypedContext where parent_id in {_id_list(ids)}")
    return {_get(r, "parent_id") for r in rows}


def _context_rows(session: Session, entities: list[Any], *, with_type: bool = True) -> list[ContextRow]:
    parents = _children_parents(session, [_get(e, "id") for e in entities])
    rows = []
    for e in entities:
        etype = _entity_type(e)
        is_project = etype == "Project"
        rows.append(ContextRow(
            id=_get(e, "id"),
            name=_get(e, "name"),
            entity_type=etype,
            parent_id=None if is_project else _get(e, "parent_id"),
            has_children=_get(e, "id") in parents,
            type_name=None if is_project or not with_type else _ref(e, "type", "name"),
            status_name=None if is_project or not with_type else _ref(e, "status", "name"),
        ))
    return rows


def list_projects(session: Session) -> list[ContextRow]:
    """Every project, sorted by name."""
    projects = _all(session, "select id, name from Project order by name")
    rows = _context_rows(session, projects)
    return sorted(rows, key=lambda r: _natural_key(r.name))


def list_children(session: Session, context_id: str) -> list[ContextRow]:
    """The contexts directly under ``context_id`` (one level), sorted by name (shot10 after shot9)."""
    children = _all(
        session,
        f"select {_CONTEXT_PROJECTION} from TypedContext where parent_id is {quote(context_id)} order by name",
    )
    rows = _context_rows(session, children)
    return sorted(rows, key=lambda r: _natural_key(r.name))


def context_path(session: Session, context_id: str) -> list[ContextRow]:
    """The contexts from the project down to ``context_id`` itself (from its ``link``).

    Raises :class:`PublishError` when no context has that id.
    """
    found = _all(session, f"select link from Context where id is {quote(context_id)}")
    if not found:
        raise PublishError(f"No project, folder, shot or task has the id {context_id}: it may have been deleted; refresh the project list.")
    link = _get(found[0], "link") or []
    ids = [_get(item, "id") for item in link]
    if not ids:
        return []
    by_id: dict[str, Any] = {}
    project_id = ids[0]
    for p in _all(session, f"select id, name from Project where id is {quote(project_id)}"):
        by_id[_get(p, "id")] = p
    rest = ids[1:]
    if rest:
        for e in _all(session, f"select {_CONTEXT_PROJECTION} from TypedContext where id in {_id_list(rest)}"):
            by_id[_get(e, "id")] = e
    rows = _context_rows(session, [by_id[i] for i in ids if i in by_id])
    return rows


# Versions ---------------------------------------------------------------------------------------

_VERSION_PROJECTION = (
    "id, version, comment, date, asset_id, asset.name, asset.type.name, asset.context_id, "
    "status.name, status.color, user.first_name, user.last_name, user.username, "
    "thumbnail_id, task_id, components.name"
)


def _version_where(context_id: str, text_filter: str = "", asset_ids: list[str] | None = None) -> str:
    if asset_ids is not None:
        # Same versions as below; an id list lets the server use its asset_id index instead of
        # joining every version to its asset (probes deep into 100,000 versions ~2.5x faster).
        owned = f"asset_id in {_id_list(asset_ids)} or " if asset_ids else ""
        where = f"({owned}task_id is {quote(context_id)})"
    else:
        where = f"(asset.context_id is {quote(context_id)} or task_id is {quote(context_id)})"
    text = version_filter.where_clause(text_filter)
    if text:
        where += " and " + text
    return where


#: The most contexts a folder or sequence's versions are gathered from by id.
MAX_SCOPE_CONTEXTS = 2000


#: Context types whose versions are those of the contexts beneath them.
GROUPING_TYPES = frozenset({"Sequence", "Folder", "Episode"})


def _version_scope(session: Session, context_id: str, context_type: str) -> str | None:
    """The condition for the versions beneath a project, sequence or folder (``context_type``,
    the context's entity type), or None for any other context (a shot, a task, or unknown),
    whose versions ``_version_where`` finds without another request.

    A project: every asset of the project. A folder or sequence: the assets of it and of the
    contexts below it, found level by level (the query language has no "under"), tasks left
    out since assets do not hang under them.
    """
    if context_type == "Project":
        return f"asset.parent.project_id is {quote(context_id)}"
    if context_type not in GROUPING_TYPES:
        return None
    ids, frontier = [context_id], [context_id]
    while frontier and len(ids) < MAX_SCOPE_CONTEXTS:
        children = _all(session, f"select id, object_type.name from TypedContext where parent_id in {_id_list(frontier)}")
        frontier = [str(_get(c, "id")) for c in children if _ref(c, "object_type", "name") != "Task"]
        ids += frontier[:MAX_SCOPE_CONTEXTS - len(ids)]
    if len(ids) == 1:
        return None
    return f"(asset.context_id in {_id_list(ids)} or task_id is {quote(context_id)})"


def _scoped_where(session: Session, context_id: str, text_filter: str = "",
                  context_type: str = "") -> tuple[str, bool]:
    """The versions' condition for ``context_id`` and whether it reaches below its children."""
    scope = _version_scope(session, context_id, context_type)
    if scope is None:
        return _version_where(context_id, text_filter), False
    text = version_filter.where_clause(text_filter)
    return (f"{scope} and {text}" if text else scope), True


def count_versions(session: Session, context_id: str, text_filter: str = "", context_type: str = "") -> int:
    """How many versions ``list_versions`` pages through for the same arguments.

    The ftrack query language has no ``count`` outside ``group by`` (which not every entity
    type supports), so: one request for up to ``COUNT_PAGE`` ids, which answers for most
    contexts; above that, one-row probes at doubling offsets find a bracket, bisection narrows
    it to ``COUNT_PAGE`` wide, and one last ``COUNT_PAGE`` page gives the exact end (about
    2*log2(n / COUNT_PAGE) + 3 requests: 16 for 100,000 versions).
    """
    where, deep = _scoped_where(session, context_id, text_filter, context_type)
    base = f"select id from AssetVersion where {where}"
    first, _ = _page(session, base, 0, COUNT_PAGE)
    if len(first) < COUNT_PAGE:
        return len(first)
    assets = [_get(a, "id") for a in _all(session, f"select id from Asset where context_id is {quote(context_id)}")]
    if not deep and len(assets) <= COUNT_ASSET_IDS:
        base = f"select id from AssetVersion where {_version_where(context_id, text_filter, assets)}"

    def exists(index: int) -> bool:
        return bool(_page(session, base, index, 1)[0])

    low = COUNT_PAGE - 1  # an index known to exist
    high = COUNT_PAGE * 2
    while exists(high):
        low, high = high, high * 2
    # Index ``low`` exists, ``high`` does not: narrow until one page covers the gap.
    while high - low > COUNT_PAGE:
        mid = (low + high) // 2
        if exists(mid):
            low = mid
        else:
            high = mid
    tail, _ = _page(session, base, low, COUNT_PAGE + 1)
    return low + len(tail)


def list_versions(
    session: Session,
    context_id: str,
    *,
    offset: int,
    limit: int,
    text_filter: str = "",
    order_by: str = "date",
    descending: bool = True,
    context_type: str = "",
) -> list[VersionRow]:
    """One page of the versions under ``context_id``: whose asset's parent is it (or, for a
    project, sequence or folder, is beneath it), or whose task is it. ``context_type`` is the
    context's entity type ("Project", "Sequence", …); "" treats it as a shot or task.

    One query for the page, plus one for the encode jobs when the page holds review components.
    ``order_by`` is a key of ``VERSION_ORDER``; ties are broken by id so pages never overlap.
    """
    if offset < 0 or limit <= 0:
        return []
    attribute = VERSION_ORDER.get(order_by)
    if attribute is None:
        raise PublishError(f"Cannot sort versions by {order_by!r}: use one of {', '.join(sorted(VERSION_ORDER))}.")
    direction = "descending" if descending else "ascending"
    expression = (
        f"select {_VERSION_PROJECTION} from AssetVersion where {_scoped_where(session, context_id, text_filter, context_type)[0]} "
        f"order by {attribute} {direction}, id {direction}"
    )
    versions, _ = _page(session, expression, offset, limit)
    states = _review_states(session, versions)
    return [_version_row(v, states[_get(v, "id")], context_id) for v in versions]


def _version_row(v: Any, review_state: str, context_id: str | None = None) -> VersionRow:
    asset = _get(v, "asset")
    status = _get(v, "status")
    user = _get(v, "user")
    components = _get(v, "components") or []
    version = int(_get(v, "version") or 0)
    searched = version_filter.SearchedValues(
        texts=tuple(str(x or "") for x in (
            _ref(asset, "name"), _ref(asset, "type", "name"), _ref(status, "name"), _get(v, "comment"),
            _ref(user, "username"), _ref(user, "first_name"), _ref(user, "last_name"))),
        version=version,
    )
    return VersionRow(
        id=_get(v, "id"),
        asset_id=_get(v, "asset_id"),
        asset_name=_ref(asset, "name") or "",
        asset_type=_ref(asset, "type", "name") or "",
        version=version,
        status_name=_ref(status, "name"),
        status_color=_ref(status, "color"),
        user_name=_user_name(user),
        date=_to_datetime(_get(v, "date")),
        comment=_get(v, "comment") or "",
        component_count=len(components),
        thumbnail_id=_get(v, "thumbnail_id"),
        review_state=review_state,
        task_id=_get(v, "task_id"),
        context_id=_ref(asset, "context_id") or context_id or "",
        searched=searched,
    )


def _review_states(session: Session, versions: list[Any]) -> dict[str, str]:
    """``review_state`` for each version (one query for the jobs of the page's review components).

    The server pre-allocates a Job's output components when it queues the encode, so a
    ``ftrackreview-*`` component can exist while its Job is still running: a queued/running job
    among the outputs wins over "playable".
    """
    states: dict[str, str] = {}
    review_versions: list[str] = []
    for v in versions:
        names = {_get(c, "name") for c in (_get(v, "components") or [])}
        has_review = bool(names & set(REVIEW_VIDEO_NAMES)) or REVIEW_IMAGE_NAME in names
        states[_get(v, "id")] = "playable" if names & set(REVIEW_VIDEO_NAMES) else "none"
        if has_review:
            review_versions.append(_get(v, "id"))
    if not review_versions:
        return states
    links = _all(
        session,
        "select job_id, job.status, job.created_at, component.version_id, component.name from JobComponent "
        f"where component.version_id in {_id_list(review_versions)}",
    )
    latest: dict[str, tuple[Any, str]] = {}
    for link in links:
        vid = _ref(link, "component", "version_id")
        job = _get(link, "job")
        if vid is None or job is None:
            continue
        created = _to_datetime(_get(job, "created_at")) or datetime.min
        current = latest.get(vid)
        if current is None or _sort_dt(created) >= _sort_dt(current[0]):
            latest[vid] = (created, _get(job, "status"))
    for vid, (_, status) in latest.items():
        if status in ("queued", "running"):
            states[vid] = "encoding"
        elif status == "failed" and states.get(vid) != "playable":
            states[vid] = "failed"
    return states


def _sort_dt(value: datetime) -> float:
    try:
        return value.timestamp()
    except (OverflowError, ValueError, OSError):
        return float("-inf")


# Details ----------------------------------------------------------------------------------------

def _frames_of(names: list[str]) -> list[int]:
    frames = []
    for n in names:
        try:
            frames.append(int(n))
        except (TypeError, ValueError):
            continue
    return sorted(set(frames))


def version_details(session: Session, version_id: str) -> VersionDetails:
    """A version with its components, where they are and how much of each is available.

    Raises :class:`PublishError` when no version has that id.
    """
    found = _all(session, f"select {_VERSION_PROJECTION} from AssetVersion where id is {quote(version_id)}")
    if not found:
        raise PublishError(f"Version {version_id} no longer exists on the server: refresh the version list.")
    version = found[0]
    row = _version_row(version, _review_states(session, [version])[_get(version, "id")])

    components = _all(
        session,
        "select id, name, system_type, file_type, size, component_locations.location_id from Component "
        f"where version_id is {quote(version_id)}",
    )
    location_names = {_get(loc, "id"): _get(loc, "name") for loc in _all(session, "select id, name from Location")}
    containers = [_get(c, "id") for c in components if _get(c, "system_type") in ("sequence", "container")]
    members: dict[str, list[Any]] = {cid: [] for cid in containers}
    if containers:
        for m in _all(
            session,
            "select name, size, container_id, component_locations.location_id from FileComponent "
            f"where container_id in {_id_list(containers)}",
        ):
            members.setdefault(_get(m, "container_id"), []).append(m)

    rows = []
    for c in components:
        system_type = _get(c, "system_type") or "file"
        kind = system_type if system_type in ("sequence", "container") else "file"
        own_locations = {_get(cl, "location_id") for cl in (_get(c, "component_locations") or [])}
        frame_range = None
        holes = 0
        if kind == "file":
            per_location = {loc: 100.0 for loc in own_locations}
        else:
            mem = members.get(_get(c, "id"), [])
            counts: dict[str, int] = {}
            for m in mem:
                for cl in _get(m, "component_locations") or []:
                    counts[_get(cl, "location_id")] = counts.get(_get(cl, "location_id"), 0) + 1
            per_location = {loc: 100.0 * n / len(mem) for loc, n in counts.items()} if mem else {}
            for loc in own_locations:
                per_location.setdefault(loc, 0.0 if mem else 100.0)
            if kind == "sequence":
                frames = _frames_of([_get(m, "name") for m in mem])
                if frames:
                    frame_range = f"{frames[0]}-{frames[-1]}" if len(frames) > 1 else str(frames[0])
                    holes = (frames[-1] - frames[0] + 1) - len(frames)
        names = sorted(
            (location_names.get(loc, loc) for loc in per_location),
            key=lambda n: (n != SERVER_LOCATION_NAME, n),
        )
        rows.append(ComponentRow(
            id=_get(c, "id"),
            name=_get(c, "name") or "",
            kind=kind,
            file_type=_get(c, "file_type") or "",
            size=int(_get(c, "size") or 0),
            frame_range=frame_range,
            holes=holes,
            locations=names,
            availability=round(max(per_location.values()), 2) if per_location else 0.0,
        ))
    rows.sort(key=lambda r: (r.name.startswith("ftrackreview-"), _natural_key(r.name)))
    thumb = thumbnail_url(session, row.thumbnail_id) if row.thumbnail_id else None
    return VersionDetails(
        row=row,
        components=rows,
        comment=row.comment,
        published_by=row.user_name,
        date=row.date,
        thumbnail_url=thumb,
        notes=list_notes(session, version_id),
    )


def _note_rows(session: Session, notes: list[Any]) -> list[NoteRow]:
    # Note has no author relation to follow in a projection (only user_id): one more request.
    user_ids = sorted({str(_get(n, "user_id")) for n in notes if _get(n, "user_id")})
    names = {str(_get(u, "id")): _user_name(u) or "" for u in _all(
        session, f"select id, first_name, last_name, username from User where id in {_id_list(user_ids)}")} if user_ids else {}
    return [NoteRow(id=str(_get(n, "id")), author=names.get(str(_get(n, "user_id")), "someone") or "someone",
                    date=_to_datetime(_get(n, "date")), text=str(_get(n, "content") or "")) for n in notes]


def list_notes(session: Session, version_id: str) -> list[NoteRow]:
    """The notes on ``version_id``, oldest first (replies included, in their order)."""
    notes = _all(session, f"select id, content, date, user_id from Note where parent_id is {quote(version_id)} "
                          "order by date ascending")
    return _note_rows(session, notes)


def add_note(session: Session, version_id: str, text: str) -> NoteRow:
    """Add a note with ``text`` to ``version_id`` as the session's user; returns it as stored."""
    text = text.strip()
    if not text:
        raise PublishError("The note is empty: write something first.")
    if not _all(session, f"select id from AssetVersion where id is {quote(version_id)}"):
        raise PublishError(f"Version {version_id} no longer exists on the server: refresh the version list.")
    note = session.create("Note", {"content": text, "parent_id": version_id, "parent_type": "AssetVersion"})
    session.commit()
    stored = _all(session, f"select id, content, date, user_id from Note where id is {quote(str(note['id']))}")
    return _note_rows(session, stored)[0]


def thumbnail_url(session: Session, component_id: str, size: int = 256) -> str:
    """The server URL of a component's thumbnail (``/component/thumbnail``), ``size`` pixels wide.

    In ``ftrack.server`` the resource identifier is the component id, so no request is made.
    """
    return server_thumbnail_url(session, component_id, size)


def list_asset_types(session: Session) -> list[tuple[str, str]]:
    """Every asset type as ``(id, name)``, sorted by name."""
    types = _all(session, "select id, name from AssetType")
    return sorted(((_get(t, "id"), _get(t, "name")) for t in types), key=lambda t: _natural_key(t[1]))


def list_assets(session: Session, context_id: str) -> list[tuple[str, str]]:
    """The assets whose parent is ``context_id`` as ``(id, name)``, sorted by name."""
    assets = _all(session, f"select id, name from Asset where context_id is {quote(context_id)}")
    return sorted(((_get(a, "id"), _get(a, "name")) for a in assets), key=lambda a: _natural_key(a[1]))


def stage_location_names(session: Session) -> list[str]:
    """The locations a staged component may target: ``STAGE_LOCATIONS`` plus the server's disk
    locations that are set up on this machine (``publisher.api.location.configure_disk_location``).
    """
    usable = []
    for row in _all(session, "select id, name from Location"):
        name = _get(row, "name")
        if not name or name in STAGE_LOCATIONS:
            continue
        try:
            location = session.get_location(name)
        except Exception:  # noqa: BLE001 - a location this client cannot use is simply not offered
            continue
        accessor = getattr(location, "accessor", None)
        if getattr(location, "accessible", False) and getattr(accessor, "moves_data", False):
            usable.append(name)
    return stage_locations(usable)
