"""Staging: what was dropped, and where it will be published (an existing version or a new one).

:class:`StagingController` owns the staging model and the target. Drops are scanned in a
worker; asset types for a new version come from the server in a worker. It reads what the
:class:`~publisher.ui.browse_controller.BrowseController` shows (the context, the details) and
follows its selection while nothing is staged. No widgets. GUI thread only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from publisher.publish import runner, staging
from publisher.publish.new_version_place import proposed_asset
from publisher.ui import controller_tasks as tasks
from publisher.ui.browse_controller import BrowseController
from publisher.ui.drop_target import DropTarget
from publisher.ui.error_messages import describe_error
from publisher.ui.staging_model import StagingModel
from publisher.ui.workers import Worker, WorkerPool

#: The window says "Scanning N dropped paths…" for drops with more paths than this.
BIG_DROP = 200

#: The asset type a new version gets unless the artist picks one, first found first.
PREFERRED_TYPES = ("Upload", "Render", "Comp", "Image")

#: The asset types ``(id, name)`` and the :class:`NewVersionPlace` of a context.
TypeLists = tuple[list[tuple[str, str]], Any]


@dataclass
class NewVersionDraft:
    """A version that does not exist yet: where, which asset, which type, and the comment."""

    context_id: str
    context_label: str
    asset_name: str
    asset_type_id: str = ""
    asset_type_name: str = ""
    asset_id: str | None = None
    comment: str = ""
    task_id: str | None = None
    #: Names from the project down to the dropped-on context (empty until loaded).
    path: tuple[str, ...] = ()
    #: Where a new asset is made when it is not ``context_id`` (a task's shot; set when loaded).
    asset_context_id: str | None = None

    @property
    def where(self) -> str:
        """The full path when known, else the context's name."""
        return " / ".join(self.path) if self.path else self.context_label


@dataclass
class StagingGroup:
    """Components staged for one target that is not the one shown (several targets at once):
    kept aside until the artist switches back to it or publishes them all."""

    target_version: Any
    target_new: NewVersionDraft | None
    components: list[Any]
    review_encode_path: str | None = None


class StagingController(QObject):
    """The staged components and their target. GUI thread only."""

    #: ``message``: something failed; the message says what to do.
    errorRaised = Signal(str)
    #: ``text``: short news for the status bar.
    statusMessage = Signal(str)
    #: ``text``: where the staged components will go.
    targetChanged = Signal(str)
    #: ``(errors, warnings)`` of the last drop.
    stagingMessages = Signal(list, list)
    #: A drop was staged (its ``StagingResult``).
    staged = Signal(object)
    #: ``(context_id, context_label, asset_types, assets, draft)``: ask for a new version.
    newVersionListsLoaded = Signal(object)
    #: ``(labels, current)``: the staged groups, one per target (the shown one at ``current``);
    #: a single label when there is one target.
    groupsChanged = Signal(list, int)

    def __init__(self, browse: BrowseController, workers: WorkerPool, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.browse = browse
        self.workers = workers
        self.staging_model = StagingModel(self)
        self.target_version: Any = None  # VersionRow of an existing target
        self.target_new: NewVersionDraft | None = None
        #: Whether a publish of the staged list runs (the list is frozen); set by the publish queue.
        self.is_publishing: Callable[[], bool] = lambda: False
        self._shown_context: str | None = None
        #: Drops being scanned: their target stays, whatever the artist selects meanwhile.
        self._scanning = 0
        #: (version id, context id) whose shot range the staging model holds or is loading.
        self._range_target: tuple[str | None, str | None] = (None, None)
        #: The last drop's (errors, warnings), shown again with the range warnings.
        self._drop_messages: tuple[list[str], list[str]] = ([], [])
        #: context id -> names from the project down (for the target line), loaded once each.
        self._paths: dict[str, tuple[str, ...]] = {}
        #: The place of the last New version… lists (its task and asset parent).
        self._place: Any = None
        #: A staged movie the server encodes as the version's review ("use as review" of a .mov).
        self.review_encode_path: str | None = None
        #: Groups staged for other targets, in the order they were made (the shown group sits
        #: at :attr:`_current` among them when listed).
        self.parked: list[StagingGroup] = []
        self._current = 0

        self.staging_model.editRejected.connect(self.errorRaised)
        self.staging_model.rangeWarningsChanged.connect(self._range_warnings_changed)
        browse.contextChanged.connect(self._context_changed)
        browse.versionSelected.connect(self._version_selected)
        browse.detailsLoaded.connect(self._details_loaded)

    def _run(self, fn: Any, *args: Any, on_result: Any = None, on_error: Any = None,
             on_finished: Any = None, needs_session: bool = True) -> Worker:
        worker = Worker(fn, *args, session=self.browse.session if needs_session else None)
        return self.workers.start(worker, on_result=on_result, on_error=on_error or self._failed,
                                  on_finished=on_finished)

    def _failed(self, error: BaseException) -> None:
        self.errorRaised.emit(describe_error(error, self.browse.server_url))

    # Following the selection ----------------------------------------------------------------
    def _context_changed(self, row: Any) -> None:
        changed = row.id != self._shown_context
        self._shown_context = row.id
        if changed and self.target_new is None and not self._holds_work():
            self.set_target(None, None)

    def _version_selected(self, row: Any) -> None:
        if not self._holds_work():
            self.set_target(row, None)

    def _holds_work(self) -> bool:
        """Whether files are staged or being scanned for the current target (which then stays)."""
        return bool(self.staging_model.rowCount() or self._scanning)

    def _details_loaded(self, details: Any) -> None:
        if self.target_version is not None and self.target_version.id == details.row.id:
            self.staging_model.set_existing_names(c.name for c in details.components)

    # The target -------------------------------------------------------------------------------
    def set_target(self, version: Any, new: NewVersionDraft | None) -> None:
        """Publish to ``version`` (a ``VersionRow``), to the ``new`` draft, or (both ``None``) nowhere yet."""
        self.target_version = version
        self.target_new = new
        self._load_shot_range(version.id if version is not None else None,
                              new.context_id if version is None and new is not None else None)
        details = self.browse.details
        if version is not None:
            self.targetChanged.emit(self._version_line(version))
            names = (c.name for c in details.components) if (
                details is not None and details.row.id == version.id) else ()
            self.staging_model.set_existing_names(names)
            self._load_path(version.task_id or version.context_id)
        elif new is not None:
            asset = new.asset_name or "…"
            self.targetChanged.emit(f"→ {new.where} / {asset} (new version)")
            self.staging_model.set_existing_names(())
        else:
            self.targetChanged.emit("Drop onto a version, a task or here")
            self.staging_model.set_existing_names(())
        self._groups_changed()

    def version_name(self, version: Any, path: tuple[str, ...] = ()) -> str:
        """``version`` (a ``VersionRow``) named for lists: ``sh010 / Compositing / comp v004``
        (the last two levels of its task's path when known, else of ``path``)."""
        known = self._paths.get(version.task_id or version.context_id) or path
        where = " / ".join(known[-2:]) + " / " if known else ""
        return f"{where}{version.asset_name} v{version.version:03d}"

    def target_path(self) -> tuple[str, ...]:
        """The full path of the target (of a new version's context), () when not known yet."""
        if self.target_new is not None:
            return self.target_new.path
        if self.target_version is not None:
            return self._paths.get(self.target_version.task_id or self.target_version.context_id) or ()
        return ()

    def _version_line(self, version: Any) -> str:
        path = self._paths.get(version.task_id or version.context_id)
        where = " / ".join(path[-2:]) + " / " if path else ""
        return f"→ {where}{version.asset_name} v{version.version:03d} (existing version)"

    def _load_path(self, context_id: str | None) -> None:
        if not context_id or context_id in self._paths:
            return
        self._paths[context_id] = ()  # asked once; filled in when the answer comes
        # Bound methods (not closures): Qt drops them with this controller if it goes first.
        self._run(tasks.context_names, context_id, on_result=self._path_loaded, on_error=self._path_failed)

    def _path_loaded(self, loaded: tuple[str, tuple[str, ...]]) -> None:
        context_id, names = loaded
        self._paths[context_id] = names
        version = self.target_version
        if version is not None and (version.task_id or version.context_id) == context_id:
            self.targetChanged.emit(self._version_line(version))

    def _path_failed(self, _error: BaseException) -> None:
        # The line keeps its short form; the next target asks again.
        self._paths = {k: v for k, v in self._paths.items() if v}

    # The target shot's frame range ------------------------------------------------------------
    def _load_shot_range(self, version_id: str | None, context_id: str | None) -> None:
        """Ask (in a worker) for the range of the shot the staging target is in."""
        key = (version_id, context_id)
        if key == self._range_target:
            return
        self._range_target = key
        self.staging_model.set_shot_range(None)
        if key == (None, None):
            return
        self._run(tasks.shot_range, version_id, context_id,
                  on_result=lambda shot, k=key: self._shot_range_loaded(k, shot),
                  on_error=lambda error, k=key: self._shot_range_failed(k, error))

    def _shot_range_loaded(self, key: tuple[str | None, str | None], shot: Any) -> None:
        if key == self._range_target:
            self.staging_model.set_shot_range(shot)

    def _shot_range_failed(self, key: tuple[str | None, str | None], error: BaseException) -> None:
        if key == self._range_target:
            self.statusMessage.emit("The shot's frame range could not be read, so frame ranges are not "
                                    f"checked: {describe_error(error, self.browse.server_url)}")

    def add_notes(self, notes: list[str]) -> None:
        """Show ``notes`` (a collector's, say) with the last drop's warnings, and keep them there
        when the range warnings are shown again."""
        if not notes:
            return
        errors, warnings = self._drop_messages
        self._drop_messages = (errors, list(warnings) + list(notes))
        self.stagingMessages.emit(list(errors), self._drop_messages[1] + self.staging_model.range_warnings())

    def _range_warnings_changed(self, warnings: list[str]) -> None:
        if not self.staging_model.rowCount():
            self._drop_messages = ([], [])
            return
        errors, drop_warnings = self._drop_messages
        self.stagingMessages.emit(list(errors), list(drop_warnings) + list(warnings))

    def target_text(self) -> str:
        """The target in a few words ("" when there is none)."""
        if self.target_version is not None:
            version = self.target_version
            path = self._paths.get(version.task_id or version.context_id)
            where = " / ".join(path[-2:]) + " / " if path else ""
            return f"{where}{version.asset_name} v{version.version:03d}"
        if self.target_new is not None:
            return f"{self.target_new.where} / {self.target_new.asset_name} (new version)"
        return ""

    def build_request(self, components: list[Any], comment: str) -> runner.PublishRequest | None:
        """The publish of ``components`` to the target; ``None`` (with a message) without one."""
        return self._request_for(self.target_version, self.target_new, components, comment, self.review_encode_path)

    def _request_for(self, version: Any, draft: NewVersionDraft | None, components: list[Any], comment: str,
                     review_encode_path: str | None) -> runner.PublishRequest | None:
        review = review_encode_path if any(c.path == review_encode_path for c in components) else None
        if version is not None:
            return runner.PublishRequest(components=components, version_id=version.id,
                                         comment=comment or None, review_path=review)
        if draft is None:
            self.errorRaised.emit("Choose where to publish: drop onto a version or a task, or use New version….")
            return None
        if not draft.asset_type_id:
            self.errorRaised.emit("Choose the asset type of the new version (New version…), then publish.")
            return None
        return runner.PublishRequest(
            components=components,
            new_version=runner.NewVersion(context_id=draft.asset_context_id or draft.context_id,
                                          asset_name=draft.asset_name,
                                          asset_type_id=draft.asset_type_id, comment=comment or draft.comment,
                                          task_id=draft.task_id, asset_id=draft.asset_id),
            review_path=review)

    # Drops ------------------------------------------------------------------------------------
    def drop(self, paths: list[str], target: DropTarget, problems: list[str] | None = None) -> None:
        """Stage ``paths`` for ``target`` (from a :class:`DropZone`)."""
        problems = list(problems or [])
        if self.is_publishing():
            # The staging list empties when the publish ends; a drop now would be lost with it.
            self.stagingMessages.emit(problems + ["A publish is running: drop again when it has finished."], [])
            return
        if not self._retarget(target, problems):
            self.stagingMessages.emit(problems, [])
            return
        if not paths:
            self.stagingMessages.emit(problems or ["Nothing to stage: drop files, folders or image sequences."], [])
            return
        if len(paths) > BIG_DROP:
            self.statusMessage.emit(f"Scanning {len(paths)} dropped paths…")
        else:
            self.statusMessage.emit("Scanning the drop…")
        self._scanning += 1
        self._run(tasks.stage, list(paths), self.staging_model.taken_names(), needs_session=False,
                  on_result=lambda r, p=problems: self._staged(r, p),
                  on_error=lambda e: self.stagingMessages.emit([describe_error(e)], []),
                  on_finished=self._scan_ended)

    def _scan_ended(self) -> None:
        self._scanning -= 1

    def _retarget(self, target: DropTarget, problems: list[str]) -> bool:
        """Point the staging list at ``target``; ``False`` when that is impossible."""
        details, context = self.browse.details, self.browse.context
        if (target.kind == "current" and details is not None and self.target_new is None
                and not self.staging_model.rowCount()):
            # Nothing staged yet: "current" is the version shown in the details panel.
            if self.target_version is None or self.target_version.id != details.row.id:
                self.set_target(details.row, None)
        if self.staging_model.rowCount() and not self._same_target(target):
            # Several targets at once: what is staged for the shown target is kept aside as a
            # group of its own (never mixed into another version, never thrown away).
            self._park_for(target)
        if target.kind == "version":
            version = self.browse.version_row(target.id or "")
            if version is None:
                problems.append("That version is no longer in the list: press F5 and drop again.")
                return False
            if self.target_version is None or self.target_version.id != version.id:
                self.set_target(version, None)
            if self.browse.version_id != version.id:
                self.browse.select_version(version)
            return True
        if target.kind == "context":
            self._draft_new(target.id or "", target.label)
            return True
        if target.kind == "asset":
            # A new version of the row's asset, linked to that version's task (or the task shown).
            context = self.browse.context
            task_id = target.task_id or (context.id if context is not None and context.entity_type == "Task"
                                         else None)
            self._draft_new(target.context_id or "", target.label, asset_id=target.id, asset_name=target.label,
                            task_id=task_id)
            return True
        # "current": the version shown, or a new version in the current context
        if self.target_version is not None or self.target_new is not None:
            return True
        if details is not None:
            self.set_target(details.row, None)
            return True
        if context is not None:
            self._draft_new(context.id, context.name)
            return True
        problems.append("Select a task or a version first, then drop the files again.")
        return False

    def _same_target(self, target: DropTarget) -> bool:
        if target.kind == "current":
            return True
        if target.kind == "version":
            return self.target_version is not None and self.target_version.id == target.id
        if target.kind == "context":
            return self.target_new is not None and target.id == (self.target_new.task_id or self.target_new.context_id)
        if target.kind == "asset":
            return self.target_new is not None and self.target_new.asset_id == target.id
        return False

    def _staged(self, result: Any, problems: list[str]) -> None:
        # Names were made unique against what was staged when the drop started; a second drop
        # that finished first may have taken one of them since.
        taken = self.staging_model.taken_names()
        for component in result.components:
            if component.name in taken or staging.validate_name(component.name, taken):
                component.name = staging.suggest_name(component.path, component.kind, taken)
            taken.add(component.name)
        self.staging_model.add(result.components)
        if self.target_new is not None and not self.target_new.asset_name and result.components:
            self._propose_asset(self.target_new, [c.name for c in result.components])
        errors = problems + list(result.errors)
        self._drop_messages = (errors, list(result.warnings))
        self.stagingMessages.emit(errors, list(result.warnings) + self.staging_model.range_warnings())
        n = len(result.components)
        self.statusMessage.emit(f"Staged {n} component{'s' if n != 1 else ''}" if n else "Nothing staged")
        self.staged.emit(result)
        self._groups_changed()
        if not self.staging_model.rowCount() and self.target_new is not None and not errors:
            self.set_target(None, None)

    # Review media -----------------------------------------------------------------------------
    def use_as_review(self, row: int) -> None:
        """Make staged ``row`` the version's review: an ``ftrackreview-mp4`` / ``-image``
        component with its ``ftr_meta`` read from the file, or (a .mov…) an encode job."""
        from publisher.publish.review_media import ReviewUse, review_use

        components = self.staging_model.components()
        if not 0 <= row < len(components):
            return
        component = components[row]
        use = review_use(component.path)
        if use is None or component.kind != "file":
            self.stagingMessages.emit([f"{component.name} is not a movie or an image: it cannot be the review."], [])
            return
        if use is ReviewUse.ENCODE:
            self.review_encode_path = component.path
            self.statusMessage.emit(f"{component.name} will be encoded on the server as the review.")
            self.stagingMessages.emit([], [f"{component.name}: published as it is, and encoded for review."])
            return
        self._run(tasks.review_meta, component.path, needs_session=False,
                  on_result=lambda meta, c=component, u=use: self._review_ready(c, u, meta),
                  on_error=lambda e: self.stagingMessages.emit([describe_error(e)], []))

    def _review_ready(self, component: Any, use: Any, meta: Any) -> None:
        rows = self.staging_model.components()
        if not any(c is component for c in rows):
            return  # removed meanwhile
        row = next(i for i, c in enumerate(rows) if c is component)
        taken = {c.name.lower() for i, c in enumerate(rows) if i != row}
        if use.value in taken:
            self.stagingMessages.emit([f"{use.value} is already staged: remove it first."], [])
            return
        self.staging_model.set_review(row, use.value, {"ftr_meta": meta.to_json()})
        self.statusMessage.emit(f"{component.path} staged as the review ({use.value}).")

    def remove_staged(self, rows: list[int]) -> None:
        """Remove staged rows; with nothing left the target follows the selection again."""
        self.staging_model.remove_rows(rows)
        n = self.staging_model.rowCount()
        self.statusMessage.emit(f"{n} component{'s' if n != 1 else ''} staged" if n else "Nothing staged")
        if not n:
            self.stagingMessages.emit([], [])
            details = self.browse.details
            if self.parked:
                # Another target's group takes the empty one's place.
                self._show_group(self.parked.pop(min(self._current, len(self.parked) - 1)))
                self._current = min(self._current, len(self.parked))
            elif details is not None and self.browse.version_id == details.row.id:
                self.set_target(details.row, None)
            else:
                self.set_target(None, None)
        self._groups_changed()

    def clear(self) -> None:
        """Empty the list (what it held was published); another staged group, if any, is shown."""
        self.staging_model.clear()
        self.stagingMessages.emit([], [])
        if self.parked:
            self._show_group(self.parked.pop(0))
        self._groups_changed()

    # Several targets ------------------------------------------------------------------------------
    def _group_label(self, version: Any, new: NewVersionDraft | None, count: int) -> str:
        if version is not None:
            where = self.version_name(version)
        elif new is not None:
            where = f"{' / '.join(new.path[-2:]) + ' / ' if new.path else ''}{new.asset_name or '…'} (new)"
        else:
            where = "no target"
        return f"{where} · {count}"

    def group_labels(self) -> tuple[list[str], int]:
        """The labels of every staged group and the index of the shown one."""
        shown = self._group_label(self.target_version, self.target_new, self.staging_model.rowCount())
        labels = [self._group_label(g.target_version, g.target_new, len(g.components)) for g in self.parked]
        current = min(self._current, len(labels))
        labels.insert(current, shown)
        return labels, current

    def _groups_changed(self) -> None:
        labels, current = self.group_labels()
        self.groupsChanged.emit(labels, current)

    def _take_current(self) -> StagingGroup:
        group = StagingGroup(self.target_version, self.target_new, self.staging_model.components(),
                             self.review_encode_path)
        self.staging_model.clear()
        self.review_encode_path = None
        return group

    def _show_group(self, group: StagingGroup) -> None:
        self.set_target(group.target_version, group.target_new)
        self.review_encode_path = group.review_encode_path
        self.staging_model.add(group.components)

    def _group_matches(self, group: StagingGroup, target: DropTarget) -> bool:
        if target.kind == "version":
            return group.target_version is not None and group.target_version.id == target.id
        new = group.target_new
        if new is None:
            return False
        if target.kind == "context":
            return target.id == (new.task_id or new.context_id)
        if target.kind == "asset":
            return new.asset_id == target.id
        return False

    def _park_for(self, target: DropTarget) -> StagingGroup | None:
        """Put the shown group aside for a drop onto ``target``; show that target's own group
        when it has one. Returns the parked group (``None`` when nothing was parked)."""
        if target.kind == "current" or self.is_publishing():
            return None
        parked = self._take_current()
        self.parked.insert(self._current, parked)
        at = next((i for i, g in enumerate(self.parked) if g is not parked and self._group_matches(g, target)), None)
        if at is not None:
            group = self.parked.pop(at)
            self._current = at
            self._show_group(group)
        else:
            self._current = len(self.parked)
            self.set_target(None, None)
        self.statusMessage.emit(f"Kept {len(parked.components)} staged for {self._group_label(parked.target_version, parked.target_new, len(parked.components))}; "
                                "publish each target alone or all together.")
        self._groups_changed()
        return parked

    def show_group(self, index: int) -> None:
        """Show the staged group at ``index`` (of :meth:`group_labels`)."""
        labels, current = self.group_labels()
        if index == current or not 0 <= index < len(labels) or self.is_publishing():
            return
        shown = self._take_current()
        others = list(self.parked)
        others.insert(current, shown)
        group = others.pop(index)
        self.parked = others
        self._current = index
        self._show_group(group)
        self._groups_changed()

    def parked_requests(self, comment: str) -> list[tuple[Any, str]]:
        """``(request, title)`` for every group staged aside (for Publish all), and forget them;
        a group that cannot be published yet stays, with a message."""
        ready, kept = [], []
        for group in self.parked:
            request = self._request_for(group.target_version, group.target_new, group.components, comment,
                                        group.review_encode_path)
            if request is None:
                kept.append(group)
            else:
                title = self._group_label(group.target_version, group.target_new, len(group.components))
                ready.append((request, title.rsplit(" · ", 1)[0]))
        self.parked = kept
        self._current = min(self._current, len(kept))
        self._groups_changed()
        return ready

    # New versions -----------------------------------------------------------------------------
    def _draft_new(self, context_id: str, label: str, *, asset_id: str | None = None, asset_name: str = "",
                   task_id: str | None = None) -> None:
        draft = NewVersionDraft(context_id=context_id, context_label=label or "the selected context",
                                asset_name=asset_name, asset_id=asset_id, task_id=task_id)
        self._set_task(draft)
        self.set_target(None, draft)
        # The place (asset parent, task, path, assets there) and the asset types come from the
        # server; a default type is filled in so a drop can be published at once.
        self._run(tasks.new_version_lists, draft.task_id or context_id,
                  on_result=lambda r, d=draft: self._default_type(d, r))

    def _set_task(self, draft: NewVersionDraft) -> None:
        context = self.browse.context
        if (draft.task_id is None and context is not None and context.id == draft.context_id
                and context.entity_type == "Task"):
            draft.task_id = draft.context_id

    def _propose_asset(self, draft: NewVersionDraft, names: list[str]) -> None:
        """Name the draft's asset after staged ``names`` (version and frame tokens dropped); an
        existing asset of that name in the place is used, with its type."""
        assets = self._place.assets if self._place is not None and self._place_of(draft) else ()
        name, match = proposed_asset(names, assets)
        draft.asset_name = name
        if match is not None:
            draft.asset_id, draft.asset_type_id, draft.asset_type_name = match.id, match.type_id, match.type_name
        if draft is self.target_new:
            self.set_target(None, draft)

    def _place_of(self, draft: NewVersionDraft) -> bool:
        place = self._place
        return place is not None and (place.task_id or place.context_id) == (draft.task_id or draft.context_id)

    def _apply_place(self, draft: NewVersionDraft, place: Any) -> None:
        """Fill in where ``draft`` goes: a task's versions go on assets of its shot."""
        if draft.asset_id is None:
            draft.asset_context_id = place.context_id
        if place.task_id is not None:
            draft.task_id = place.task_id
        draft.path = place.path
        self._place = place
        if draft.asset_id is None:
            group = next((g for g in self.parked if g.target_new is draft), None)
            components = group.components if group is not None else self.staging_model.components()
            staged = [c.name for c in components]
            if draft.asset_name:
                staged = [draft.asset_name]
            if staged:
                self._propose_asset(draft, staged)
        elif not draft.asset_type_id:
            match = next((a for a in place.assets if a.id == draft.asset_id), None)
            if match is not None:
                draft.asset_type_id, draft.asset_type_name = match.type_id, match.type_name

    def _default_type(self, draft: NewVersionDraft, lists: TypeLists) -> None:
        types, place = lists
        shown = draft is self.target_new
        if not shown and not any(g.target_new is draft for g in self.parked):
            return  # a draft the artist has moved on from
        self._apply_place(draft, place)
        if draft.asset_type_id or not types:
            if shown:
                self.set_target(None, draft)
            else:
                self._groups_changed()
            return
        by_name = {name: tid for tid, name in types}
        for preferred in PREFERRED_TYPES:
            if preferred in by_name:
                draft.asset_type_id, draft.asset_type_name = by_name[preferred], preferred
                break
        else:
            draft.asset_type_id, draft.asset_type_name = types[0]
        if shown:
            self.set_target(None, draft)
        else:
            self._groups_changed()

    def set_new_version(self, choice: Any) -> None:
        """Target a new version as chosen in the :class:`NewVersionDialog`."""
        context = self.browse.context
        place = self._place
        if place is not None and choice.context_id not in (place.task_id, place.context_id):
            place = None
        draft = NewVersionDraft(context_id=choice.context_id,
                                context_label=context.name if context is not None else "",
                                asset_name=choice.asset_name, asset_type_id=choice.asset_type_id,
                                asset_id=choice.asset_id, comment=choice.comment,
                                task_id=getattr(choice, "task_id", None) or (place.task_id if place else None),
                                path=place.path if place is not None else (),
                                asset_context_id=place.context_id if place is not None else None)
        self._set_task(draft)
        self.set_target(None, draft)
        self._run(tasks.new_version_lists, draft.task_id or choice.context_id,
                  on_result=lambda r, d=draft: self._name_type(d, r))

    def _name_type(self, draft: NewVersionDraft, lists: TypeLists) -> None:
        names = dict(lists[0])
        if draft is not self.target_new:
            return
        draft.path = lists[1].path
        if draft.asset_type_id in names:
            draft.asset_type_name = names[draft.asset_type_id]
        self.set_target(None, draft)

    def request_new_version(self) -> None:
        """Load what the new-version dialog offers; answered by :attr:`newVersionListsLoaded`."""
        context = self.browse.context
        if context is None:
            self.errorRaised.emit("Select a task (or a shot or folder) first, then choose New version….")
            return
        if self.staging_model.rowCount() and self.target_version is not None:
            self.errorRaised.emit(f"Publish or remove what is staged for {self.target_text()} first.")
            return
        self._run(tasks.new_version_lists, context.id, on_result=self._lists_loaded)

    def new_version_task(self) -> str | None:
        """The task a version made in the New version… dialog is linked to (that of the lists)."""
        return self._place.task_id if self._place is not None else None

    def _lists_loaded(self, lists: TypeLists) -> None:
        types, place = lists
        self._place = place
        draft = self.target_new
        if draft is not None and not draft.asset_name and self.staging_model.rowCount():
            self._propose_asset(draft, [c.name for c in self.staging_model.components()])
        self.newVersionListsLoaded.emit((place.task_id or place.context_id, place.label, types,
                                         list(place.assets), draft))
