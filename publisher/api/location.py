"""Locations: where component data lives, and how to put it there and get it back.

``LocationMixin`` is mixed into the ``Location`` entity class. What a location can do depends
on its name, through an *accessor* chosen here:

- ``ftrack.origin``: in memory only; knows the local path each new component came from.
- ``ftrack.unmanaged`` / ``ftrack.review``: register the path the files already have.
- ``ftrack.server``: upload to the server (one batched ``get_upload_metadata`` request, then one
  streamed PUT per file on a bounded pool), download, URLs, thumbnails.
- a disk location (see :func:`configure_disk_location`): copy files into a studio folder laid
  out by :class:`~publisher.api.structure.StandardStructure`.

Adding components always ends with one commit holding the component creates (for new
components) and every ComponentLocation row; a failed or cancelled transfer commits nothing and
removes the data it already moved. No Qt; call from the thread that owns the session
(``progress`` is called from transfer threads).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence
from urllib.parse import urlencode

from publisher.api import transfer
from publisher.api.components import (
    ComponentSpec,
    entity_type_of,
    is_set,
    materialise,
    session_state,
    upload_metadata_operation,
)
from publisher.api.exceptions import (
    AccessorError,
    ComponentInLocationError,
    ComponentNotInLocationError,
    FtrackError,
    LocationError,
    TransferCancelled,
)
from publisher.api.structure import EntityIdStructure, OriginStructure, StandardStructure, Structure

ProgressCallback = Callable[[int, int], None]


# --------------------------------------------------------------------------------------------
# Accessors


class Accessor:
    """How one kind of location stores data. Subclasses override what they support."""

    #: Lower is preferred by ``pick_location``.
    priority: int = 95
    #: Whether this machine can put data in / read data from the location.
    accessible: bool = True
    #: Whether data must be moved (False: only a ComponentLocation row is written).
    moves_data: bool = False

    def structure(self) -> Structure:
        return OriginStructure()

    def transfer(self, location: Any, entries: list["Entry"], progress: ProgressCallback | None,
                 cancel: threading.Event | None) -> None:
        """Move the data of ``entries``; on any failure leave nothing moved behind."""

    def undo(self, location: Any, entries: list["Entry"]) -> None:
        """Remove data that :meth:`transfer` moved (the commit that followed failed)."""

    def filesystem_path(self, resource_identifier: str) -> str:
        raise AccessorError("This location has no filesystem path for its data.")


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
        from publisher.api import multipart

        files = [entry for entry in entries if entry.source_path]
        if not files:
            return
        names = [f"{e.name}.{e.file_type.lstrip('.')}" if e.file_type else e.name for e in files]
        try:
            uploads = multipart.upload(location.session, [(e.component_id, e.source_path, name)
                                                          for e, name in zip(files, names)],
                                       progress=progress, cancel=cancel, connections=self.workers)
        except BaseException:
            self.undo(location, entries)
            raise
        for entry, done in zip(files, uploads):
            entry.completion = done.completion

    def undo(self, location, entries) -> None:
        """Remove uploaded files; the server may be gone, so failures here are ignored."""
        session = location.session
        for entry in entries:
            if not entry.source_path:
                continue
            try:
                session.http.post(f"{session.server_url}/component/remove",
                                  params=self.auth_params(session, entry.component_id), timeout=10)
            except Exception:  # noqa: BLE001 - best effort clean-up of an already failed upload
                break

    @staticmethod
    def auth_params(session: Any, resource_identifier: str) -> dict:
        return {"id": resource_identifier, "username": session.api_user, "apiKey": session.api_key}


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
        for entry in entries:
            if entry.source_path:
                try:
                    os.remove(self.filesystem_path(entry.resource_identifier))
                except OSError:
                    pass


class NoAccessor(Accessor):
    """A location this machine has no way to reach (not configured here)."""

    accessible = False


#: Location name -> accessor configured in this process (shared by every session and clone).
_CONFIGURED: dict[str, Accessor] = {}
_CONFIGURED_LOCK = threading.Lock()


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


def configure_location(name: str, accessor: Accessor) -> None:
    """Use ``accessor`` for the location named ``name`` in every session of this process."""
    with _CONFIGURED_LOCK:
        _CONFIGURED[name] = accessor


def forget_location(name: str) -> None:
    """Drop this process's configuration of the location ``name`` (back to its built-in accessor)."""
    with _CONFIGURED_LOCK:
        _CONFIGURED.pop(name, None)


def accessor_for(name: str) -> Accessor:
    """The accessor for the location named ``name``."""
    with _CONFIGURED_LOCK:
        accessor = _CONFIGURED.get(name)
    return accessor if accessor is not None else builtin_accessor(name)


def configure_disk_location(session: Any, name: str, root: str | os.PathLike[str], *,
                            structure: Structure | None = None, priority: int = 50,
                            create: bool = True) -> Any:
    """Make the location ``name`` a disk location rooted at ``root`` and return it.

    The ``Location`` row is created on the server (and committed) when it does not exist and
    ``create`` is true. ``root`` is local configuration: every session in this process uses it.
    """
    from publisher.api import components

    configure_location(name, DiskAccessor(root, structure, priority))
    try:
        return components.get_location(session, name)
    except LocationError:
        if not create:
            raise
    session.create("Location", {"name": name, "label": name,
                                           "description": f"Files under {os.path.abspath(os.fspath(root))}"})
    session.commit()
    session_state(session).locations = None
    return components.get_location(session, name)


# --------------------------------------------------------------------------------------------
# Planning


@dataclass
class Entry:
    """One component to register in a location, with where its data comes from."""

    component: Any
    component_id: str
    name: str
    file_type: str
    size: int
    source_path: str | None  # None: nothing to move (a container, or a path-only location)
    resource_identifier: str = ""
    is_container: bool = False
    #: An operation the accessor needs in the commit (``complete_multipart_upload``).
    completion: dict | None = None


def _members(component: Any) -> list:
    if isinstance(component, ComponentSpec):
        return list(component.members)
    if "members" not in component.keys():
        return []
    members = component["members"]
    return list(members) if is_set(members) else []


def _source_path(session: Any, source: Any, component: Any) -> str | None:
    """The local path of ``component``'s data in ``source`` (a location, a path or None)."""
    if isinstance(component, ComponentSpec):
        return component.source
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    component_id = str(component["id"])
    if source is None or source["name"] == "ftrack.origin":
        path = session_state(session).origin_paths.get(component_id)
        if path is None:
            raise LocationError(
                f"No local file is known for component {component_id}: it was not created from a "
                "path in this session. Pass the location that holds its data as source."
            )
        return path
    return source.get_filesystem_path(component)


class LocationMixin:
    """Behaviour of ``Location`` entities: add, remove, find and fetch component data."""

    # ---------------------------------------------------------------- configuration
    @property
    def accessor(self) -> Accessor:
        """How this machine reaches this location's data."""
        return accessor_for(self["name"])

    @property
    def structure(self) -> Structure:
        """How resource identifiers are made in this location."""
        return self.accessor.structure()

    @property
    def priority(self) -> int:
        """Lower numbers are preferred by ``session.pick_location()``."""
        return self.accessor.priority

    @property
    def accessible(self) -> bool:
        """Whether this machine can read and write this location's data."""
        return self.accessor.accessible

    def configure(self, accessor: Accessor) -> None:
        """Use ``accessor`` for this location in every session of this process."""
        configure_location(self["name"], accessor)

    # ---------------------------------------------------------------- adding
    def add_component(self, component: Any, source: Any = None, recursive: bool = True, *,
                      progress: ProgressCallback | None = None,
                      cancel: threading.Event | None = None) -> Any:
        """Put ``component``'s data (members too when ``recursive``) in this location.

        ``source`` is where the data is now: a location (default ``ftrack.origin``, the path the
        component was created from) or a path. Ends with one commit. Returns the component.
        """
        return self.add_components([component], [source], recursive, progress=progress, cancel=cancel)[0]

    def add_components(self, components: Sequence[Any], sources: Any = None, recursive: bool = True, *,
                       progress: ProgressCallback | None = None,
                       cancel: threading.Event | None = None) -> list:
        """Put several components' data in this location; see :meth:`add_component`.

        Data is moved first, then one commit creates the ComponentLocation rows (and the
        components themselves when they come from ``create_component``). When the transfer fails
        or is cancelled nothing is committed and moved data is removed again; when the final
        commit fails the session is rolled back (pending edits made before this call are
        dropped with it, as the commit would have sent them together).
        """
        session = self.session
        accessor = self.accessor
        if not accessor.accessible:
            raise LocationError(
                f"Location {self['name']} is not configured on this machine, so files cannot be "
                "put in it. Configure it (for example with configure_disk_location) first."
            )
        if not isinstance(sources, (list, tuple)):
            sources = [sources] * len(components)
        name = self["name"]

        if name == "ftrack.origin":
            return [self._add_to_origin(component, source) for component, source in zip(components, sources)]

        entries = self._plan(components, sources, recursive)
        existing = [entry.component_id for entry in entries
                    if not isinstance(entry.component, ComponentSpec) and not getattr(entry.component, "is_new", False)]
        if existing:
            present = self._registered(existing)
            if present:
                raise ComponentInLocationError(
                    f"{len(present)} of these components are already in {name} "
                    f"(for example {present[0]}); nothing was added."
                )

        transfer.check_cancel(cancel, "transfer")
        accessor.transfer(self, entries, progress, cancel)
        try:
            transfer.check_cancel(cancel, "transfer")
            results = []
            for component in components:
                if isinstance(component, ComponentSpec):
                    results.append(materialise(session, component))
                else:
                    results.append(component)
            for entry in entries:
                entity = entry.component.entity if isinstance(entry.component, ComponentSpec) else entry.component
                session.create("ComponentLocation", {
                    "component": entity,
                    "location": self,
                    "resource_identifier": entry.resource_identifier,
                })
            completions = [entry.completion for entry in entries if entry.completion]
            session.commit(before=completions) if completions else session.commit()
        except BaseException as error:
            accessor.undo(self, entries)
            try:
                session.rollback()
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
            if isinstance(error, (FtrackError, KeyboardInterrupt, TransferCancelled)):
                raise
            raise LocationError(f"Could not register the components in {name}: {error}") from error
        return results

    def _add_to_origin(self, component: Any, source: Any) -> Any:
        session = self.session
        if isinstance(component, ComponentSpec):
            return materialise(session, component)
        if not isinstance(source, (str, os.PathLike)):
            raise LocationError("ftrack.origin needs the local path of the component's data as source.")
        session_state(session).origin_paths[str(component["id"])] = os.path.abspath(os.fspath(source))
        return component

    def _plan(self, components: Sequence[Any], sources: Sequence[Any], recursive: bool) -> list[Entry]:
        session = self.session
        structure = self.structure
        entries: list[Entry] = []
        for component, source in zip(components, sources):
            members = _members(component) if recursive else []
            if not isinstance(component, ComponentSpec):
                self._fetch_details([component, *members])
            is_container = entity_type_of(component) in ("SequenceComponent", "ContainerComponent")
            for member in members:
                entries.append(self._entry(session, structure, member, source, False))
            entries.append(self._entry(session, structure, component, source, is_container))
        return entries

    def _fetch_details(self, components: list) -> None:
        """Fetch what planning reads for committed components in one request, not one each."""
        try:
            self.session.populate(components, "name, file_type, size, container_id")
        except Exception:  # noqa: BLE001 - uncommitted components have nothing to fetch
            pass

    def _entry(self, session: Any, structure: Structure, component: Any, source: Any,
               is_container: bool) -> Entry:
        source_path = _source_path(session, source, component)
        if source_path is None and not is_container:
            raise LocationError(f"No source data for component {component['id']}.")
        context = {"source_resource_identifier": source_path}
        resource_identifier = structure.get_resource_identifier(component, context)
        name = component["name"] if is_set(component.get("name")) else "main"
        file_type = component["file_type"] if is_set(component.get("file_type")) else ""
        size = component["size"] if is_set(component.get("size")) else 0
        return Entry(
            component=component,
            component_id=str(component["id"]),
            name=str(name),
            file_type=str(file_type or ""),
            size=int(size or 0),
            source_path=None if is_container or not self.accessor.moves_data else source_path,
            resource_identifier=resource_identifier,
            is_container=is_container,
        )

    def _registered(self, component_ids: Sequence[str]) -> list[str]:
        """Which of ``component_ids`` this location already holds (one query per 1000 ids)."""
        found: list[str] = []
        for start in range(0, len(component_ids), 1000):
            ids = ", ".join(f'"{i}"' for i in component_ids[start:start + 1000])
            rows = self.session.query(
                "select component_id, resource_identifier from ComponentLocation where "
                f'location_id is "{self["id"]}" and component_id in ({ids})'
            ).all()
            found.extend(str(row["component_id"]) for row in rows)
        return found

    # ---------------------------------------------------------------- removing
    def remove_component(self, component: Any, recursive: bool = True) -> None:
        """Remove ``component`` (and its members) from this location, data included."""
        session = self.session
        ids = [str(component["id"])] + ([str(m["id"]) for m in _members(component)] if recursive else [])
        quoted = ", ".join(f'"{i}"' for i in ids)
        rows = session.query(
            "select id, component_id, resource_identifier from ComponentLocation where "
            f'location_id is "{self["id"]}" and component_id in ({quoted})'
        ).all()
        if not rows:
            raise ComponentNotInLocationError(f"Component {component['id']} is not in {self['name']}.")
        for row in rows:
            session.delete(row)
        session.commit()
        accessor = self.accessor
        if isinstance(accessor, ServerAccessor):
            for row in rows:
                try:
                    session.http.post(f"{session.server_url}/component/remove",
                                      params=accessor.auth_params(session, str(row["resource_identifier"])),
                                      timeout=session.timeout)
                except Exception:  # noqa: BLE001 - the row is gone; a stray file is harmless
                    pass
        elif isinstance(accessor, DiskAccessor):
            for row in rows:
                try:
                    os.remove(accessor.filesystem_path(str(row["resource_identifier"])))
                except OSError:
                    pass

    # ---------------------------------------------------------------- reading
    def get_resource_identifier(self, component: Any) -> str:
        """Where ``component``'s data is in this location."""
        if self["name"] == "ftrack.origin":
            path = session_state(self.session).origin_paths.get(str(component["id"]))
            if path is None:
                raise ComponentNotInLocationError(f"Component {component['id']} is not in ftrack.origin.")
            return path
        rows = self.session.query(
            "select component_id, resource_identifier from ComponentLocation where "
            f'location_id is "{self["id"]}" and component_id is "{component["id"]}"'
        ).all()
        if not rows:
            raise ComponentNotInLocationError(f"Component {component['id']} is not in {self['name']}.")
        return str(rows[0]["resource_identifier"])

    def get_component_availability(self, component: Any) -> float:
        """Percent of ``component``'s data in this location (members averaged)."""
        from publisher.api.components import get_component_availability

        return get_component_availability(self.session, component, [self])[self["id"]]

    def get_filesystem_path(self, component: Any) -> str:
        """The local path of ``component``'s data in this location (disk and unmanaged only)."""
        return self.accessor.filesystem_path(self.get_resource_identifier(component))

    def get_url(self, component: Any) -> str:
        """An HTTP URL that downloads ``component``'s data (ftrack.server only)."""
        self._require_server("get_url")
        session = self.session
        return f"{session.server_url}/component/get?" + urlencode(
            ServerAccessor.auth_params(session, str(component["id"])))

    def get_thumbnail_url(self, component: Any, size: int | None = None) -> str:
        """An HTTP URL of a thumbnail of ``component`` (ftrack.server only)."""
        self._require_server("get_thumbnail_url")
        session = self.session
        params = ServerAccessor.auth_params(session, str(component["id"]))
        if size:
            params["size"] = int(size)
        return f"{session.server_url}/component/thumbnail?" + urlencode(params)

    def download(self, component: Any, destination: str | os.PathLike[str], *,
                 progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> str:
        """Copy ``component``'s data (a file component) from this location to ``destination``."""
        destination = os.fspath(destination)
        if isinstance(self.accessor, ServerAccessor):
            session = self.session
            return transfer.download(
                f"{session.server_url}/component/get", destination, http=session.http,
                params=ServerAccessor.auth_params(session, str(component["id"])),
                timeout=session.timeout, progress=progress, cancel=cancel)
        source = self.get_filesystem_path(component)
        item = transfer.FileTransfer(source=source, target=destination, size=os.path.getsize(source))
        transfer.copy_files([item], progress=progress, cancel=cancel)
        return destination

    def _require_server(self, what: str) -> None:
        if not isinstance(self.accessor, ServerAccessor):
            raise AccessorError(f"{what} works for ftrack.server only, not {self['name']}.")


__all__ = [
    "Accessor", "DiskAccessor", "LocationMixin", "NoAccessor", "OriginAccessor", "ServerAccessor",
    "UnmanagedAccessor", "accessor_for", "configure_disk_location", "configure_location", "forget_location",
]
