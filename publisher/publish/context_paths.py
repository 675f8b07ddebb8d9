"""Places on an ftrack server named by path, as an artist types them: ``lighthouse/sq010/sh010/Compositing``.

A path names a project, then one context per level (sequences, shots, folders, tasks), then
optionally an asset and a version: ``…/Compositing/comp/v4``, ``…/Compositing/comp/latest`` or
``…/Compositing/comp v004``. Names match without regard to case, and ``*`` (and ``?``) match
within one level. The versions "in" a task are those published to it; the versions in any other
context are those of its own assets that name no task.

:func:`find` lists what a path names (or holds), :func:`resolve_task` and
:func:`resolve_version` turn the text of a ``--task``/``--version`` option (a path or an id)
into one place. Failures are exceptions carrying data (:class:`PathNotFound`,
:class:`PathAmbiguous`, :class:`WrongKind`, :class:`NoSuchId`); each caller words them. Used by
the ``publish`` and ``find`` commands and by the hosts (``FTRACK_CONTEXTID``). No Qt; callable
from any thread that owns its session.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

from publisher.api.quoting import quote
from publisher.api.session import Session
from publisher.publish import browse

#: How many names an error lists of what exists where a part did not match.
LISTED = 20

_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_VERSION_WORD = re.compile(r"^v?(\d+)$", re.IGNORECASE)
_ASSET_AND_VERSION = re.compile(r"^(.+?)\s+(v\S*|\d+|latest)$", re.IGNORECASE)
_WILD = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Place:
    """One thing a path names: a context (``Project``, ``Sequence``, ``Shot``, ``Task``…), an
    ``Asset`` as seen from a context, or an ``AssetVersion``.

    ``names`` are the path's parts from the project down to the context (an asset and a version
    add ``asset_name`` and ``version``); ``task_id`` is the task a version or an asset is seen
    from, ``context_id`` the context its asset lives in.
    """

    kind: str
    id: str
    names: tuple[str, ...]
    parent_id: str | None = None
    asset_name: str | None = None
    version: int | None = None
    task_id: str | None = None
    context_id: str | None = None
    #: For an asset: its versions' (number, id), oldest first.
    versions: tuple[tuple[int, str], ...] = field(default=(), compare=False, repr=False)

    @property
    def is_context(self) -> bool:
        return self.kind not in ("Asset", "AssetVersion")

    @property
    def path(self) -> str:
        """As typed: ``lighthouse/sq010/sh010/Compositing/comp v004`` (a version's last part is
        ``asset vNNN``, so the path itself finds it again)."""
        parts = list(self.names)
        if self.kind == "Asset":
            parts.append(self.asset_name or "")
        elif self.kind == "AssetVersion":
            parts.append(f"{self.asset_name} v{self.version or 0:03d}")
        return "/".join(parts)

    @property
    def label(self) -> str:
        """As read: ``lighthouse / sq010 / sh010 / Compositing / comp v004``."""
        return " / ".join(self.path.split("/"))

    def as_dict(self) -> dict[str, Any]:
        """For ``find --json``: what a script needs, by name."""
        return {"kind": self.kind, "id": self.id, "path": self.path, "name": self.name,
                "asset": self.asset_name, "version": self.version, "task_id": self.task_id,
                "context_id": self.context_id if not self.is_context else self.id}

    @property
    def name(self) -> str:
        if self.kind == "AssetVersion":
            return f"{self.asset_name} v{self.version or 0:03d}"
        if self.kind == "Asset":
            return self.asset_name or ""
        return self.names[-1] if self.names else ""


class PathError(Exception):
    """A path or id names nothing usable; ``text`` is what was given."""

    def __init__(self, message: str, text: str) -> None:
        super().__init__(message)
        self.text = text


class PathNotFound(PathError):
    """Part ``part`` of ``text`` matched nothing under ``where`` (the path before it, ``""`` at
    the top); ``available`` names what exists there (at most :data:`LISTED`), ``more`` how many
    others."""

    def __init__(self, text: str, part: str, where: str, available: list[str], more: int = 0) -> None:
        super().__init__(f"{part!r} matches nothing in {where or 'the projects'}", text)
        self.part = part
        self.where = where
        self.available = available
        self.more = more


class PathAmbiguous(PathError):
    """``text`` names several places (``matches``) where one was needed."""

    def __init__(self, text: str, matches: list[Place]) -> None:
        super().__init__(f"{text!r} names {len(matches)} places", text)
        self.matches = matches


class WrongKind(PathError):
    """``text`` names ``place``, which is not what was asked for (``wanted``: ``"task"`` or
    ``"version"``)."""

    def __init__(self, text: str, place: Place, wanted: str) -> None:
        super().__init__(f"{text!r} is a {place.kind}, not a {wanted}", text)
        self.place = place
        self.wanted = wanted


class NoSuchId(PathError):
    """No ``wanted`` (``"task"`` or ``"version"``) has the id ``text``."""

    def __init__(self, text: str, wanted: str) -> None:
        super().__init__(f"no {wanted} has the id {text}", text)
        self.wanted = wanted


def looks_like_id(text: str) -> bool:
    """Whether ``text`` is an ftrack id (a UUID) rather than a path."""
    return bool(_ID.match(text.strip()))


def split_path(text: str) -> list[str]:
    """The parts of a path: ``/`` separates levels; empty parts (``a//b``, a trailing ``/``) drop."""
    return [part.strip() for part in text.strip().split("/") if part.strip()]


def _matches(pattern: str, name: str) -> bool:
    return fnmatch.fnmatchcase(name.lower(), pattern.lower())


# Reading one level ------------------------------------------------------------------------------

def _context_place(row: browse.ContextRow, names: tuple[str, ...]) -> Place:
    return Place(row.entity_type, row.id, names, parent_id=row.parent_id)


def _versions_in(session: Session, place: Place) -> list[Any]:
    """The versions seen from a context: published to it when it is a task, else those of its
    own assets that name no task."""
    projection = "select id, version, asset_id, asset.name, task_id, asset.context_id from AssetVersion"
    if place.kind == "Task":
        rows = session.query(f"{projection} where task_id is {quote(place.id)}").all()
    else:
        rows = session.query(f"{projection} where asset.context_id is {quote(place.id)} and task_id is None").all()
    return sorted(rows, key=lambda r: (str(r["asset"]["name"]).lower(), int(r["version"])))


def _assets_in(session: Session, place: Place) -> list[Place]:
    """The assets seen from a context (each with its versions there), by name."""
    assets: dict[str, Place] = {}
    numbers: dict[str, list[tuple[int, str]]] = {}
    for row in _versions_in(session, place):
        asset_id = str(row["asset_id"])
        numbers.setdefault(asset_id, []).append((int(row["version"]), str(row["id"])))
        if asset_id not in assets:
            assets[asset_id] = Place("Asset", asset_id, place.names, asset_name=str(row["asset"]["name"]),
                                     task_id=place.id if place.kind == "Task" else None,
                                     context_id=str(row["asset"]["context_id"]))
    return [Place(a.kind, a.id, a.names, asset_name=a.asset_name, task_id=a.task_id, context_id=a.context_id,
                  versions=tuple(sorted(numbers[a.id]))) for a in assets.values()]


def _version_places(asset: Place) -> list[Place]:
    return [Place("AssetVersion", version_id, asset.names, asset_name=asset.asset_name, version=number,
                  task_id=asset.task_id, context_id=asset.context_id)
            for number, version_id in asset.versions]


def children(session: Session, place: Place | None) -> list[Place]:
    """What is one level below ``place`` (the projects below ``None``): child contexts, then the
    assets seen from a context; the versions of an asset; nothing below a version."""
    if place is None:
        return [_context_place(row, (row.name,)) for row in browse.list_projects(session)]
    if place.kind == "AssetVersion":
        return []
    if place.kind == "Asset":
        return _version_places(place)
    contexts = [_context_place(row, (*place.names, row.name)) for row in browse.list_children(session, place.id)]
    return contexts + _assets_in(session, place)


def _step(session: Session, place: Place | None, part: str) -> list[Place]:
    """The places below ``place`` that ``part`` names."""
    below = children(session, place)
    found = [p for p in below if _matches(part, p.name) and p.kind != "AssetVersion"]
    if place is not None and place.kind == "Asset":
        found = _pick_versions(below, part)
    elif place is not None and place.is_context:
        # ``comp v004`` / ``comp latest``: an asset and its version in one part.
        combined = _ASSET_AND_VERSION.match(part)
        if combined:
            for asset in (p for p in below if p.kind == "Asset" and _matches(combined.group(1), p.name)):
                found += _pick_versions(_version_places(asset), combined.group(2))
    return found


def _pick_versions(versions: list[Place], word: str) -> list[Place]:
    """``v4``/``v004``/``4`` names that number; ``latest`` the highest; a wildcard matches
    ``vNNN`` (``v00*``)."""
    if word.lower() == "latest":
        return [max(versions, key=lambda v: v.version or 0)] if versions else []
    number = _VERSION_WORD.match(word)
    if number:
        return [v for v in versions if v.version == int(number.group(1))]
    return [v for v in versions if _matches(word, f"v{v.version or 0:03d}")]


def walk(session: Session, text: str) -> list[Place]:
    """Every place ``text`` names (several when a level has a wildcard or names match in two
    cases). Raises :class:`PathNotFound` naming the first part that matched nothing."""
    parts = split_path(text)
    current: list[Place | None] = [None]
    for index, part in enumerate(parts):
        found: list[Place] = []
        for place in current:
            found += _step(session, place, part)
        if not found:
            where = current[0]
            if len(current) == 1:
                available = [p.name for p in children(session, where)]
                where_text = "/".join(parts[:index]) if where is None else where.path
            else:  # a wildcard above: what all those places hold, once each
                names: dict[str, None] = {}
                for place in current:
                    names.update((p.name, None) for p in children(session, place))
                available, where_text = list(names), "/".join(parts[:index])
            raise PathNotFound(text, part, where_text, available[:LISTED], max(len(available) - LISTED, 0))
        current = list(found)
    return [p for p in current if p is not None]


# What the commands call -------------------------------------------------------------------------

def find(session: Session, path: str) -> list[Place]:
    """What ``ftrack-publisher find PATH`` lists: the projects for an empty path; the places a
    path whose last part has a wildcard matches; else what is below the place(s) it names (a
    version, having nothing below, lists itself)."""
    parts = split_path(path)
    if not parts:
        return children(session, None)
    places = walk(session, path)
    if _WILD.search(parts[-1]):
        return places
    listed: list[Place] = []
    for place in places:
        below = children(session, place)
        if place.kind == "AssetVersion":
            listed.append(place)
        elif place.is_context:
            # A context lists its versions (``comp v004``) rather than its assets: that is what
            # ``--version`` takes and what an artist looks for.
            for item in below:
                listed += _version_places(item) if item.kind == "Asset" else [item]
        else:
            listed += below
    return listed


def _one(text: str, places: list[Place]) -> Place:
    if len(places) > 1:
        raise PathAmbiguous(text, places)
    return places[0]


def context_place(session: Session, context_id: str) -> Place:
    """The context ``context_id`` as a place with its path (raises :class:`NoSuchId`)."""
    rows = session.query(f"select id from Context where id is {quote(context_id)}").all()
    if not rows:
        raise NoSuchId(context_id, "task")
    chain = browse.context_path(session, context_id)
    return _context_place(chain[-1], tuple(row.name for row in chain))


def resolve_task(session: Session, text: str) -> Place:
    """The context ``text`` names, by path or by id: a task, or a shot, folder… to publish under.

    Raises :class:`NoSuchId` (an id no context has), :class:`PathNotFound`,
    :class:`PathAmbiguous`, or :class:`WrongKind` when the path names an asset or a version.
    """
    place = _resolve(session, text, context_place)
    if not place.is_context:
        raise WrongKind(text.strip(), place, "task")
    return place


def _resolve(session: Session, text: str, by_id: Callable[[Session, str], Place]) -> Place:
    """The one place ``text`` names: ``by_id`` for an id, else the path walked."""
    text = text.strip()
    if looks_like_id(text):
        return by_id(session, text)
    try:
        places = walk(session, text)
    except PathNotFound:
        if "/" in text:
            raise
        try:  # a server whose ids are not UUIDs
            return by_id(session, text)
        except NoSuchId:
            pass
        raise
    return _one(text, places)


def version_place(session: Session, version_id: str) -> Place:
    """The version ``version_id`` as a place with its path (raises :class:`NoSuchId`)."""
    rows = session.query("select id, version, asset.name, asset.context_id, task_id from AssetVersion "
                         f"where id is {quote(version_id)}").all()
    if not rows:
        raise NoSuchId(version_id, "version")
    row = rows[0]
    task_id = str(row["task_id"]) if row["task_id"] else None
    context_id = str(row["asset"]["context_id"])
    chain = browse.context_path(session, task_id or context_id)
    return Place("AssetVersion", str(row["id"]), tuple(r.name for r in chain), asset_name=str(row["asset"]["name"]),
                 version=int(row["version"]), task_id=task_id, context_id=context_id)


def resolve_version(session: Session, text: str) -> Place:
    """The version ``text`` names, by path (``…/comp/v4``, ``…/comp/latest``, ``…/comp v004``)
    or by id. Raises like :func:`resolve_task`; :class:`WrongKind` when the path stops at a
    context or an asset."""
    place = _resolve(session, text, version_place)
    if place.kind != "AssetVersion":
        raise WrongKind(text.strip(), place, "version")
    return place


__all__ = ["LISTED", "NoSuchId", "PathAmbiguous", "PathError", "PathNotFound", "Place", "WrongKind",
           "children", "context_place", "find", "looks_like_id", "resolve_task", "resolve_version",
           "split_path", "version_place", "walk"]
