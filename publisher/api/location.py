"""Locations: where component data lives, and how to put it there and get it back.

``LocationMixin`` is mixed into the ``Location`` entity class. It plans which components go
where and writes the ComponentLocation rows; what happens to the bytes is up to the location's
*accessor* (:mod:`publisher.api.accessor`), looked up by location name in the session's
accessor registry. A disk location (see :func:`configure_disk_location`) copies files into a
studio folder laid out by :class:`~publisher.api.structure.StandardStructure`.

Adding components always ends with one commit holding the component creates (for new
components) and every ComponentLocation row; a failed or cancelled transfer commits nothing and
removes the data it already moved. No Qt; call from the thread that owns the session
(``progress`` is called from transfer threads).
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Sequence

from publisher.api import transfer
from publisher.api.accessor import Accessor, DiskAccessor, Entry
from publisher.api.components import (
    ComponentSpec,
    entity_type_of,
    get_component_availability,
    get_location,
    is_set,
    materialise,
)
from publisher.api.exceptions import (
    CommitUnconfirmedError,
    ComponentInLocationError,
    ComponentNotInLocationError,
    FtrackError,
    LocationError,
    TransferCancelled,
)
from publisher.api.mixin import EntityMixin
from publisher.api.quoting import quote, quote_list
from publisher.api.structure import Structure
from publisher.api.transfer import ProgressCallback

if TYPE_CHECKING:  # pragma: no cover
    from publisher.api.session import Session


def configure_disk_location(session: "Session", name: str, root: str | os.PathLike[str], *,
                            structure: Structure | None = None, priority: int = 50,
                            create: bool = True) -> Any:
    """Make the location ``name`` a disk location rooted at ``root`` and return it.

    The ``Location`` row is created on the server (and committed) when it does not exist and
    ``create`` is true. ``root`` is local configuration: ``session`` and its clones use it.
    """
    session.accessors.configure(name, DiskAccessor(root, structure, priority))
    try:
        return get_location(session, name)
    except LocationError:
        if not create:
            raise
    session.create("Location", {"name": name, "label": name,
                                "description": f"Files under {os.path.abspath(os.fspath(root))}"})
    session.commit()
    session.component_state.locations = None
    return get_location(session, name)


# --------------------------------------------------------------------------------------------
# Planning


def _members(component: Any) -> list:
    if isinstance(component, ComponentSpec):
        return list(component.members)
    if "members" not in component.keys():
        return []
    members = component["members"]
    return list(members) if is_set(members) else []


def _source_path(session: "Session", source: Any, component: Any) -> str | None:
    """The local path of ``component``'s data in ``source`` (a location, a path or None)."""
    if isinstance(component, ComponentSpec):
        return component.source
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    component_id = str(component["id"])
    if source is None or source["name"] == "ftrack.origin":
        path = session.component_state.origin_paths.get(component_id)
        if path is None:
            raise LocationError(
                f"No local file is known for component {component_id}: it was not created from a "
                "path in this session. Pass the location that holds its data as source."
            )
        return path
    return source.get_filesystem_path(component)


class LocationMixin(EntityMixin):
    """Behaviour of ``Location`` entities: add, remove, find and fetch component data."""

    # ---------------------------------------------------------------- configuration
    @property
    def accessor(self) -> Accessor:
        """How this machine reaches this location's data."""
        return self.session.accessors.get(self["name"])

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
        """Use ``accessor`` for this location in this session and its clones."""
        self.session.accessors.configure(self["name"], accessor)

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
            session.commit(before=completions)
        except CommitUnconfirmedError as error:
            # The server may have applied the commit before its answer was lost: undoing now
            # would delete the files of committed components. Ask it, then finish or roll back.
            if self._commit_applied(entries, error):
                session.mark_committed()
                return results
            accessor.undo(self, entries)
            session.rollback()
            raise
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
        session.component_state.origin_paths[str(component["id"])] = os.path.abspath(os.fspath(source))
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

    def _entry(self, session: "Session", structure: Structure, component: Any, source: Any,
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

    def _commit_applied(self, entries: list[Entry], error: CommitUnconfirmedError) -> bool:
        """Whether the server holds every ComponentLocation a lost-answer commit created.

        ``False`` only when it holds none of them (the commit did not happen); when it cannot
        be asked, raises :class:`CommitUnconfirmedError` and leaves the files where they are.
        """
        ids = [entry.component_id for entry in entries]
        try:
            found: set[str] = set()
            for start in range(0, len(ids), 1000):
                expression = ("select component_id from ComponentLocation where "
                              f'location_id is {quote(self["id"])} and component_id in '
                              f"({quote_list(ids[start:start + 1000])})")
                # Raw rows, retried: this session still holds the unconfirmed creates.
                [answer] = self.session.transport.call([{"action": "query", "expression": expression}],
                                                       retry=True)
                found.update(str(row["component_id"]) for row in answer["data"])
        except FtrackError as check_error:
            reason = (f"{error.reason} Checking the server failed too ({check_error}); nothing was "
                      "removed. Publish again (or resume) once the server answers: what exists is kept.")
            raise CommitUnconfirmedError(reason, server_url=error.server_url, reason=reason) from error
        if found and len(found) < len(set(ids)):
            reason = (f"{error.reason} The server holds {len(found)} of the {len(set(ids))} "
                      "components; nothing was removed. Publish again (or resume) to finish.")
            raise CommitUnconfirmedError(reason, server_url=error.server_url, reason=reason) from error
        return bool(found)

    def _registered(self, component_ids: Sequence[str]) -> list[str]:
        """Which of ``component_ids`` this location already holds (one query per 1000 ids)."""
        found: list[str] = []
        for start in range(0, len(component_ids), 1000):
            ids = quote_list(component_ids[start:start + 1000])
            rows = self.session.query(
                "select component_id, resource_identifier from ComponentLocation where "
                f'location_id is {quote(self["id"])} and component_id in ({ids})'
            ).all()
            found.extend(str(row["component_id"]) for row in rows)
        return found

    # ---------------------------------------------------------------- removing
    def remove_component(self, component: Any, recursive: bool = True) -> None:
        """Remove ``component`` (and its members) from this location, data included."""
        session = self.session
        ids = [str(component["id"])] + ([str(m["id"]) for m in _members(component)] if recursive else [])
        rows = session.query(
            "select id, component_id, resource_identifier from ComponentLocation where "
            f'location_id is {quote(self["id"])} and component_id in ({quote_list(ids)})'
        ).all()
        if not rows:
            raise ComponentNotInLocationError(f"Component {component['id']} is not in {self['name']}.")
        for row in rows:
            session.delete(row)
        session.commit()
        self.accessor.remove(self, [str(row["resource_identifier"]) for row in rows])

    # ---------------------------------------------------------------- reading
    def get_resource_identifier(self, component: Any) -> str:
        """Where ``component``'s data is in this location."""
        if self["name"] == "ftrack.origin":
            path = self.session.component_state.origin_paths.get(str(component["id"]))
            if path is None:
                raise ComponentNotInLocationError(f"Component {component['id']} is not in ftrack.origin.")
            return path
        rows = self.session.query(
            "select component_id, resource_identifier from ComponentLocation where "
            f'location_id is {quote(self["id"])} and component_id is {quote(component["id"])}'
        ).all()
        if not rows:
            raise ComponentNotInLocationError(f"Component {component['id']} is not in {self['name']}.")
        return str(rows[0]["resource_identifier"])

    def get_component_availability(self, component: Any) -> float:
        """Percent of ``component``'s data in this location (members averaged)."""
        return get_component_availability(self.session, component, [self])[self["id"]]

    def get_filesystem_path(self, component: Any) -> str:
        """The local path of ``component``'s data in this location (disk and unmanaged only)."""
        return self.accessor.filesystem_path(self.get_resource_identifier(component))

    def get_url(self, component: Any) -> str:
        """An HTTP URL that downloads ``component``'s data (ftrack.server only)."""
        return self.accessor.url(self, component)

    def get_thumbnail_url(self, component: Any, size: int | None = None) -> str:
        """An HTTP URL of a thumbnail of ``component`` (ftrack.server only)."""
        return self.accessor.thumbnail_url(self, component, size)

    def download(self, component: Any, destination: str | os.PathLike[str], *,
                 progress: ProgressCallback | None = None, cancel: threading.Event | None = None) -> str:
        """Copy ``component``'s data (a file component) from this location to ``destination``."""
        return self.accessor.download(self, component, os.fspath(destination), progress=progress, cancel=cancel)


__all__ = ["LocationMixin", "configure_disk_location"]
