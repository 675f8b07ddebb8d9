"""The outbox: every publish written to disk before it starts, and marked as each step ends.

One JSON file per publish under ``publisher.paths.data_dir() / "outbox"``, written atomically
(temporary file, fsync, ``os.replace``), so a crash of the app, the machine or the server never
leaves a half-written entry. :func:`publisher.publish.runner.run_publish` keeps the entry up to
date; after a crash the next start finds the unfinished ones (:meth:`Outbox.unfinished`) and
resumes them (:func:`publisher.publish.runner.resume_unfinished`).

A running publish holds an OS lock on ``<id>.lock`` (:meth:`Outbox.claim`): the lock goes away
with the process that held it, so "running" entries that nobody holds were left by a crash, and
two processes sharing the outbox (the window and a farm job) never run the same entry twice.

Files that cannot be read as entries are listed in :attr:`Outbox.problems` (path and why) and
left where they are, never deleted silently. No Qt; every method may be called from any thread.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sys
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, NamedTuple

from publisher import paths
from publisher.publish.errors import PublishError
from publisher.publish.request import PublishRequest, request_from_dict, request_to_dict
from publisher.publish.states import ENTRY_STATES, FINISHED, UNFINISHED, State

#: Entry states (see :class:`publisher.publish.states.State`). queued: waiting (never started, or
#: the server could not be reached); running: a process is on it (or was, when it crashed);
#: failed: stopped, done steps kept.
STATES = ENTRY_STATES
FORMAT = 1


def now_iso() -> str:
    """The current UTC time as ISO 8601 text (what entries store)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def empty_steps() -> dict:
    """The ``steps`` of a publish that has done nothing yet."""
    return {"version_id": None, "version_created": False, "components": {}, "review": {}}


@dataclass
class OutboxEntry:
    """One publish in the outbox: what was asked, and what is done.

    ``steps``: ``{"version_id", "version_created", "version_state" ("pending"|"done"),
    "asset_id", "asset_created", "components": {name: {"state": "pending"|"done"|"failed",
    "component_id", "member_ids", "error"}}, "review": {"state", "job_id", "error"}}``.
    Ids are chosen before anything is created, so what a crash interrupted can be found on the
    server afterwards.
    """

    id: str
    created: str
    server_url: str
    api_user: str
    request: PublishRequest
    state: str = State.QUEUED
    steps: dict = field(default_factory=empty_steps)
    error: str | None = None
    updated: str = ""
    #: Which server this is beyond its address ("" when the address says it all): the embedded
    #: server listens on a new port each run, so its entries name its data folder here.
    server_key: str = ""
    #: Where the publish goes, as the window named it (``lighthouse / sq010 / sh010 /
    #: Compositing / comp (new version)``); "" when made without a window.
    label: str = ""
    #: The version it made, named for lists (``sh010 / Compositing / comp v004``) once done.
    made: str = ""

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def component_step(self, name: str) -> dict:
        """The step record of component ``name`` (made pending when missing)."""
        return self.steps.setdefault("components", {}).setdefault(
            name, {"state": State.PENDING, "component_id": None, "member_ids": [], "error": None})

    @property
    def title(self) -> str:
        """A short description for lists: what goes where."""
        names = [c.name for c in self.request.components]
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        if self.label:
            where = self.label
        elif self.request.new_version is not None:
            where = f"a new version of '{self.request.new_version.asset_name}'"
        else:
            where = f"version {self.request.version_id}"
        return f"{shown or 'review media'} to {where}"


class OutboxProblem(NamedTuple):
    """A file in the outbox folder that could not be read as an entry, and why."""

    path: Path
    reason: str


class OutboxBusy(PublishError):
    """Another publish run (in this process or another) holds the entry."""


def embedded_server_key(data_dir: str | os.PathLike[str]) -> str:
    """The :attr:`OutboxEntry.server_key` of the embedded server on ``data_dir`` (whatever its port)."""
    return "embedded:" + str(Path(data_dir).resolve())


def belongs_to(entry: OutboxEntry, server_url: str, api_user: str, server_key: str = "") -> bool:
    """Whether ``entry`` was made for this server and user, so this process may resume it.

    Two entries with a ``server_key`` compare by it (the embedded server's port changes between
    runs, its data folder does not); otherwise the address must be the same, port included: two
    servers on loopback are two servers, and a publish resumed into the wrong one leaves an empty
    version there and the work unfinished where it belongs.
    """
    if (entry.api_user or "") != (api_user or ""):
        return False
    if entry.server_key and server_key:
        return entry.server_key == server_key
    return (entry.server_url or "").rstrip("/") == (server_url or "").rstrip("/")


# Serialisation ------------------------------------------------------------------------------

def entry_to_dict(entry: OutboxEntry, *, with_request: bool = True) -> dict:
    """A JSON-ready dict of ``entry`` (what its file holds)."""
    data = {
        "format": FORMAT,
        "id": entry.id,
        "created": entry.created,
        "updated": entry.updated,
        "server_url": entry.server_url,
        "api_user": entry.api_user,
        "server_key": entry.server_key,
        "label": entry.label,
        "made": entry.made,
        "state": entry.state,
        "error": entry.error,
        "steps": entry.steps,
    }
    if with_request:
        data["request"] = request_to_dict(entry.request)
    return data


#: id(request) -> (request, its JSON text): a request does not change while it runs, and a
#: 10,000-frame sequence's file list is the bulk of every save.
_REQUEST_TEXT: dict[int, tuple[PublishRequest, str, str]] = {}
_REQUEST_TEXT_LOCK = threading.Lock()


def _entry_text(entry: OutboxEntry) -> str:
    """The file's JSON text (the request's part encoded once per request and reused)."""
    fingerprint = repr(entry.request) if len(entry.request.components) < 50 else ""
    with _REQUEST_TEXT_LOCK:
        cached = _REQUEST_TEXT.get(id(entry.request))
        if cached is None or cached[0] is not entry.request or cached[1] != fingerprint:
            cached = (entry.request, fingerprint, json.dumps(request_to_dict(entry.request), sort_keys=True))
            if len(_REQUEST_TEXT) > 64:
                _REQUEST_TEXT.clear()
            _REQUEST_TEXT[id(entry.request)] = cached
    rest = entry_to_dict(entry, with_request=False)
    # Plain separators and no indent keep json on its C encoder.
    return '{"request": ' + cached[2] + ", " + json.dumps(rest, sort_keys=True)[1:]


def _optional_text(data: dict, key: str) -> str:
    """``data[key]`` when it is text, else "" (entries written before the key existed)."""
    value = data.get(key)
    return value if isinstance(value, str) else ""


def entry_from_dict(data: Any) -> OutboxEntry:
    """The entry stored in ``data``; ValueError saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("it does not hold a JSON object")
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown format {data.get('format')!r} (this version reads format {FORMAT})")
    for key in ("id", "created", "server_url", "api_user", "state"):
        if not isinstance(data.get(key), str):
            raise ValueError(f"'{key}' is missing or not text")
    if data["state"] not in STATES:
        raise ValueError(f"unknown state {data['state']!r}")
    steps = data.get("steps")
    if not isinstance(steps, dict) or not isinstance(steps.get("components", {}), dict):
        raise ValueError("'steps' is missing or malformed")
    merged = empty_steps()
    merged.update(steps)
    return OutboxEntry(
        id=data["id"],
        created=data["created"],
        server_url=data["server_url"],
        api_user=data["api_user"],
        request=request_from_dict(data.get("request")),
        state=State(data["state"]),
        steps=merged,
        error=data.get("error"),
        updated=data.get("updated") or data["created"],
        server_key=_optional_text(data, "server_key"),
        label=_optional_text(data, "label"),
        made=_optional_text(data, "made"),
    )


# Locks ---------------------------------------------------------------------------------------

def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)


# The outbox ----------------------------------------------------------------------------------

class Outbox:
    """The publishes of this user, one JSON file each under ``root``."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        if root is None:
            root = paths.data_dir() / "outbox"
        self.root = Path(root)
        #: Files that could not be read at the last :meth:`entries` / :meth:`get`: (path, why).
        self.problems: list[OutboxProblem] = []
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}  # entry id -> fd of its lock file, held by this process

    def _path(self, entry_id: str) -> Path:
        if not entry_id or any(c in entry_id for c in "/\\.") or entry_id != entry_id.strip():
            raise ValueError(f"{entry_id!r} is not an outbox entry id.")
        return self.root / f"{entry_id}.json"

    def _ensure_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise PublishError(
                f"Cannot create the outbox folder {self.root} ({error.strerror or error}): check that "
                "the folder can be written, or free some disk space, and publish again."
            ) from error

    # Writing -----------------------------------------------------------------------------
    def add(self, request: PublishRequest, *, server_url: str, api_user: str, server_key: str = "",
            label: str = "") -> OutboxEntry:
        """Write a new ``queued`` entry for ``request`` (made for ``server_url``/``server_key`` and
        ``api_user``: see :func:`belongs_to`) and return it."""
        stamp = now_iso()
        entry = OutboxEntry(id=uuid.uuid4().hex, created=stamp, server_url=server_url,
                            api_user=api_user, request=request, updated=stamp, server_key=server_key,
                            label=label)
        for component in request.components:
            entry.component_step(component.name)
        if request.review_path:
            entry.steps["review"] = {"state": State.PENDING, "job_id": None, "error": None}
        self.save(entry)
        return entry

    def save(self, entry: OutboxEntry) -> None:
        """Write ``entry`` atomically and durably (raises PublishError when the disk refuses)."""
        self._ensure_root()
        entry.updated = now_iso()
        text = _entry_text(entry)
        target = self._path(entry.id)
        with self._lock:
            fd, tmp = tempfile.mkstemp(dir=self.root, prefix=f".{entry.id}.", suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(text)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, target)
            except OSError as error:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise PublishError(
                    f"Cannot write the outbox entry {target} ({error.strerror or error}): free some disk "
                    "space or fix the folder's permissions, then publish again."
                ) from error
            self._sync_dir()

    def _sync_dir(self) -> None:
        # The rename itself must reach the disk too, or a power cut may bring back the old file.
        if sys.platform == "win32":  # pragma: no cover
            return
        with contextlib.suppress(OSError):
            fd = os.open(self.root, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def remove(self, entry_id: str) -> None:
        """Forget an entry (its file and lock file); nothing on the server changes."""
        with contextlib.suppress(FileNotFoundError):
            self._path(entry_id).unlink()
        if entry_id not in self._held:
            with contextlib.suppress(OSError):
                (self.root / f"{entry_id}.lock").unlink()

    def name_made(self, entry_id: str, made: str) -> None:
        """Record the name of the version entry ``entry_id`` made (for lists after a restart)."""
        entry = self.get(entry_id)
        if entry is not None and entry.made != made:
            entry.made = made
            self.save(entry)

    def clear_finished(self) -> int:
        """Remove the done and cancelled entries; how many were removed."""
        removed = 0
        for entry in self.entries():
            if entry.finished:
                self.remove(entry.id)
                removed += 1
        return removed

    # Reading -----------------------------------------------------------------------------
    def _read(self, path: Path) -> OutboxEntry:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ValueError("it is not UTF-8 text") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"it is not valid JSON ({error.msg} at line {error.lineno})") from None
        entry = entry_from_dict(data)
        if entry.id != path.stem:
            raise ValueError(f"it holds entry {entry.id!r}, not {path.stem!r}")
        return entry

    def get(self, entry_id: str) -> OutboxEntry | None:
        """The entry ``entry_id``; None when there is none or it cannot be read (see ``problems``)."""
        path = self._path(entry_id)
        try:
            return self._read(path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            self._report(path, error)
            return None

    def _report(self, path: Path, error: BaseException) -> None:
        reason = f"cannot read it ({error.strerror or error})" if isinstance(error, OSError) else str(error)
        problem = OutboxProblem(path, reason)
        with self._lock:
            if problem not in self.problems:
                self.problems.append(problem)

    def entries(self) -> list[OutboxEntry]:
        """Every readable entry, oldest first; unreadable files go to :attr:`problems`."""
        self.problems = []
        try:
            files = sorted(p for p in self.root.iterdir() if p.suffix == ".json" and not p.name.startswith("."))
        except FileNotFoundError:
            return []
        except OSError as error:
            self._report(self.root, error)
            return []
        found = []
        for path in files:
            try:
                found.append(self._read(path))
            except FileNotFoundError:  # removed meanwhile
                continue
            except (OSError, ValueError) as error:
                self._report(path, error)
        found.sort(key=lambda e: (e.created, e.id))
        return found

    def unfinished(self) -> list[OutboxEntry]:
        """Entries still to run or finish (queued, running, failed), oldest first."""
        return [e for e in self.entries() if e.state in UNFINISHED]

    def problem_text(self) -> str:
        """The problems as one message an artist can act on ('' when none)."""
        if not self.problems:
            return ""
        lines = [f"{p.path}: {p.reason}" for p in self.problems]
        return ("Some outbox files could not be read and were left alone; move them away (or delete "
                "them) once you know the publishes they describe are not needed:\n" + "\n".join(lines))

    # Claiming ----------------------------------------------------------------------------
    def is_busy(self, entry_id: str) -> bool:
        """True when a run (here or in another process) holds the entry now."""
        if entry_id in self._held:
            return True
        try:
            with self.claim(entry_id):
                return False
        except OutboxBusy:
            return True
        except PublishError:
            return False

    @contextlib.contextmanager
    def claim(self, entry_id: str) -> Iterator[None]:
        """Hold the entry for one run; raises :class:`OutboxBusy` when another run holds it."""
        self._ensure_root()
        with self._lock:
            if entry_id in self._held:
                raise OutboxBusy(f"The publish {entry_id} is already running in this app.")
            path = self.root / f"{self._path(entry_id).stem}.lock"
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as error:
                raise PublishError(f"Cannot open the outbox lock {path} ({error.strerror or error}).") from error
            if not _try_lock(fd):
                os.close(fd)
                raise OutboxBusy(
                    f"The publish {entry_id} is being run by another ftrack-publisher process: "
                    "let it finish, or stop that process first.")
            self._held[entry_id] = fd
        try:
            yield
        finally:
            with self._lock:
                self._held.pop(entry_id, None)
                _unlock(fd)
                os.close(fd)


__all__ = [
    "FORMAT", "Outbox", "belongs_to", "embedded_server_key", "OutboxBusy", "OutboxEntry", "OutboxProblem", "STATES", "UNFINISHED",
    "empty_steps", "entry_from_dict", "entry_to_dict", "now_iso", "request_from_dict", "request_to_dict",
]
