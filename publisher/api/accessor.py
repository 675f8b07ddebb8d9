"""Accessors: how this machine reaches the data of one kind of location.

An accessor owns everything a location does with bytes: moving them in (``transfer``), taking a
failed transfer back (``undo``), dropping data whose rows were deleted (``remove``), fetching it
(``download``) and the URLs that serve it. Each session has an :class:`AccessorRegistry`
(shared with its clones): a location uses the accessor configured there under its name, else
the built-in one for that name.

- ``ftrack.origin``: in memory only; knows the local path each new component came from.
- ``ftrack.unmanaged`` / ``ftrack.review``: register the path the files already have.
- ``ftrack.server``: upload to the server with ftrack's multipart protocol
  (:mod:`publisher.api.multipart`), download, URLs, thumbnails.
- a disk location: copy files into a studio folder laid out by a structure.

The server's file URLs carry the API key; only this module builds them. No Qt; call from the
thread that owns the session (``progress`` is called from transfer threads).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable
from urllib.parse import urlencode

from publisher.api import multipart, transfer
from publisher.api.exceptions import AccessorError
from publisher.api.structure import EntityIdStructure, OriginStructure, StandardStructure, Structure
from publisher.api.transfer import ProgressCallback

if TYPE_CHECKING:  # pragma: no cover
    from publisher.api.location import LocationMixin as Location
    from publisher.api.session import Session

@dataclass
class Entry:
    """One component to register in a location, with where its data comes from."""

    component: Any  # an entity, or a ComponentSpec not created yet
    component_id: str
    name: str
    file_type: str
    size: int
    source_path: str | None  # None: nothing to move (a container, or a path-only location)
    resource_identifier: str = ""
    is_container: bool = False
    #: An operation the accessor needs in the commit (``complete_multipart_upload``).
    completion: dict | None = None


class Accessor:
    """How one kind of location stores data. Subclasses override what they support."""

    #: Lower is preferred by ``pick_location``.
    priority: int = 95
    #: Whether this machine can put data in / read data from the location.
    accessible: bool = True
    #: Whether data must be moved (False: only a ComponentLocation row is written).
    moves_data: bool = False

    def structure(self) -> Structure:
        """How resource identifiers are made in the location."""
        return OriginStructure()

    def transfer(self, location: "Location", entries: list[Entry], progress: ProgressCallback | None,
                 cancel: threading.Event | None) -> None:
        """Move the data of ``entries``; on any failure leave nothing moved behind."""

    def undo(self, location: "Location", entries: list[Entry]) -> None:
        """Remove data that :meth:`transfer` moved (the commit that followed failed)."""

    def remove(self, location: "Location", resource_identifiers: Iterable[str]) -> None:
        """Drop the data whose ComponentLocation rows were deleted (best effort)."""

    def filesystem_path(self, resource_identifier: str) -> str:
        """The local path of the data with ``resource_identifier``."""
        raise AccessorError("This location has no filesystem path for its data.")

    def download(self, location: "Location", component: Any, destination: str, *,
                 progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> str:
        """Copy the data of ``component`` in ``location`` to ``destination``."""
        source = self.filesystem_path(location.get_resource_identifier(component))
        item = transfer.FileTransfer(source=source, target=destination, size=os.path.getsize(source))
        transfer.copy_files([item], progress=progress, cancel=cancel)
        return destination

    def url(self, location: "Location", component: Any) -> str:
        """An HTTP URL that downloads ``component``'s data."""
        raise AccessorError(f"get_url works for ftrack.server only, not {location['name']}.")

    def thumbnail_url(self, location: "Location", component: Any, size: int | None = None) -> str:
        """An HTTP URL of a thumbnail of ``component``."""
        raise AccessorError(f"get_thumbnail_url works for ftrack.server only, not {location['name']}.")


class OriginAccessor(Accessor):
    """ftrack.origin: the files where they are; nothing is ever sent to the server."""

    priority = 100


class UnmanagedAccessor(Accessor):
    """ftrack.unmanaged / ftrack.review: the resource identifier is the file's own path."""

    def __init__(self, priority: int = 90) -> None:
        self.priority = priority

    def filesystem_path(self, resource_identifier: str) -> str:
        return resource_identifier


class ServerAccessor(Accessor):
    """ftrack.server: files uploaded to the server; the resource identifier is the component id."""

    priority = 150
    moves_data = True
    #: Parallel PUTs; None: ``FTRACK_UPLOAD_MAX_CONNECTIONS``, else 6.
    workers: int | None = None

    def structure(self) -> Structure:
        return EntityIdStructure()

    def transfer(self, location, entries, progress, cancel) -> None:
        """Upload every entry's file (see :mod:`publisher.api.multipart`); each entry's
        ``completion`` is then the operation to commit with its ComponentLocation."""
        files = [entry for entry in entries if entry.source_path]
        if not files:
            return
        names = [f"{e.name}.{e.file_type.lstrip('.')}" if e.file_type else e.name for e in files]
        try:
            uploads = multipart.upload(location.session, [(e.component_id, e.source_path or "", name)
                                                          for e, name in zip(files, names)],
                                       progress=progress, cancel=cancel, connections=self.workers)
        except BaseException:
            self.undo(location, entries)
            raise
        for entry, done in zip(files, uploads):
            entry.completion = done.completion

    def undo(self, location, entries) -> None:
        """Remove uploaded files; the server may be gone, so failures here are ignored."""
        remove_server_files(location.session, [entry.component_id for entry in entries if entry.source_path],
                            timeout=10)

    def remove(self, location, resource_identifiers) -> None:
        session = location.session
        remove_server_files(session, resource_identifiers, timeout=session.timeout, stop_on_error=False)

    def download(self, location, component, destination, *, progress=None, cancel=None) -> str:
        # Served by component id: no resource identifier to look up first.
        session = location.session
        return transfer.download(
            f"{session.server_url}/component/get", destination, http=session.http,
            params=_file_params(session, str(component["id"])),
            timeout=session.timeout, progress=progress, cancel=cancel)

    def url(self, location, component) -> str:
        return server_file_url(location.session, str(component["id"]))

    def thumbnail_url(self, location, component, size=None) -> str:
        return server_thumbnail_url(location.session, str(component["id"]), size)


class DiskAccessor(Accessor):
    """A folder (``root``) that files are copied into, laid out by a structure."""

    moves_data = True

    def __init__(self, root: str | os.PathLike[str], structure: Structure | None = None,
                 priority: int = 50, workers: int = transfer.DEFAULT_WORKERS) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self._structure = structure or StandardStructure()
        self.priority = priority
        self.workers = workers

    def structure(self) -> Structure:
        return self._structure

    def filesystem_path(self, resource_identifier: str) -> str:
        path = os.path.normpath(os.path.join(self.root, *resource_identifier.split("/")))
        if os.path.commonpath([path, self.root]) != self.root:
            raise AccessorError(f"Resource identifier {resource_identifier!r} points outside {self.root}.")
        return path

    def transfer(self, location, entries, progress, cancel) -> None:
        items = [
            transfer.FileTransfer(source=entry.source_path,
                                  target=self.filesystem_path(entry.resource_identifier),
                                  size=entry.size, key=entry.component_id)
            for entry in entries if entry.source_path
        ]
        if not os.path.isdir(self.root):
            raise AccessorError(
                f"The disk location {location['name']} has its root at {self.root}, which does not "
                "exist or is not mounted. Mount it or configure the right folder."
            )
        for item in items:
            item.size = os.path.getsize(item.source)
        transfer.copy_files(items, progress=progress, cancel=cancel, workers=self.workers)

    def undo(self, location, entries) -> None:
        self.remove(location, [entry.resource_identifier for entry in entries if entry.source_path])

    def remove(self, location, resource_identifiers) -> None:
        for resource_identifier in resource_identifiers:
            try:
                os.remove(self.filesystem_path(resource_identifier))
            except OSError:
                pass


class NoAccessor(Accessor):
    """A location this machine has no way to reach (not configured here)."""

    accessible = False


def builtin_accessor(name: str) -> Accessor:
    """The accessor of a built-in location, or :class:`NoAccessor`."""
    if name == "ftrack.origin":
        return OriginAccessor()
    if name == "ftrack.unmanaged":
        return UnmanagedAccessor(90)
    if name == "ftrack.review":
        return UnmanagedAccessor(110)
    if name == "ftrack.server":
        return ServerAccessor()
    return NoAccessor()


class AccessorRegistry:
    """Location name -> the accessor configured for it; one per session, shared with its clones.

    Any thread may configure or look up (a lock guards the table).
    """

    def __init__(self) -> None:
        self._configured: dict[str, Accessor] = {}
        self._lock = threading.Lock()

    def configure(self, name: str, accessor: Accessor) -> None:
        """Use ``accessor`` for the location named ``name``."""
        with self._lock:
            self._configured[name] = accessor

    def forget(self, name: str) -> None:
        """Drop the configuration of ``name`` (back to its built-in accessor)."""
        with self._lock:
            self._configured.pop(name, None)

    def get(self, name: str) -> Accessor:
        """The accessor for the location named ``name``."""
        with self._lock:
            accessor = self._configured.get(name)
        return accessor if accessor is not None else builtin_accessor(name)


# The server's file endpoints ------------------------------------------------------------------

def _file_params(session: "Session", resource_identifier: str) -> dict[str, Any]:
    # Read at call time: the key of a session can be replaced (a new key entered in the settings).
    return {"id": resource_identifier, "username": session.api_user, "apiKey": session.api_key}


def server_file_url(session: "Session", component_id: str) -> str:
    """The URL that downloads a component's data from ``ftrack.server`` (no request made)."""
    return f"{session.server_url}/component/get?" + urlencode(_file_params(session, component_id))


def server_thumbnail_url(session: "Session", component_id: str, size: int | None = None) -> str:
    """The URL of a thumbnail of a component in ``ftrack.server``, ``size`` pixels wide (no request)."""
    params = _file_params(session, component_id)
    if size:
        params["size"] = int(size)
    return f"{session.server_url}/component/thumbnail?" + urlencode(params)


def remove_server_files(session: "Session", resource_identifiers: Iterable[str], *, timeout: float = 10,
                        stop_on_error: bool = True) -> None:
    """Best effort: ask ``ftrack.server`` to drop these files (their rows are gone or never made).

    Failures are ignored (a stray file is harmless); ``stop_on_error`` gives up at the first one,
    for when the server is probably gone.
    """
    for resource_identifier in resource_identifiers:
        try:
            session.http.post(f"{session.server_url}/component/remove",
                              params=_file_params(session, resource_identifier), timeout=timeout)
        except Exception:  # noqa: BLE001 - best effort clean-up; the rows are what matter
            if stop_on_error:
                return


__all__ = [
    "Accessor", "AccessorRegistry", "DiskAccessor", "Entry", "NoAccessor", "OriginAccessor",
    "ServerAccessor", "UnmanagedAccessor", "builtin_accessor", "remove_server_files",
    "server_file_url", "server_thumbnail_url",
]
