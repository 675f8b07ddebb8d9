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

from publisher.publish import asset_names, runner, staging
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

TypeLists = tuple[list[tuple[str, str]], list[tuple[str, str]]]


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
            self.targetChanged.emit(f"→ {version.asset_name} v{version.version:03d} (existing version)")
            names = (c.name for c in details.components) if (
                details is not None and details.row.id == version.id) else ()
            self.staging_model.set_existing_names(names)
        elif new is not None:
            kind = f" ({new.asset_type_name})" if new.asset_type_name else ""
            self.targetChanged.emit(f"→ new version of “{new.asset_name}”{kind} in {new.context_label}")
            self.staging_model.set_existing_names(())
        else:
            self.targetChanged.emit("Drop onto a version, a task or here")
            self.staging_model.set_existing_names(())

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
            return f"{self.target_version.asset_name} v{self.target_version.version:03d}"
        if self.target_new is not None:
            return f"new version of {self.target_new.asset_name}"
        return ""

    def build_request(self, components: list[Any], comment: str) -> runner.PublishRequest | None:
        """The publish of ``components`` to the target; ``None`` (with a message) without one."""
        if self.target_version is not None:
            return runner.PublishRequest(components=components, version_id=self.target_version.id,
                                         comment=comment or None)
        draft = self.target_new
        if draft is None:
            self.errorRaised.emit("Choose where to publish: drop onto a version or a task, or use New version….")
            return None
        if not draft.asset_type_id:
            self.errorRaised.emit("Choose the asset type of the new version (New version…), then publish.")
            return None
        return runner.PublishRequest(
            components=components,
            new_version=runner.NewVersion(context_id=draft.context_id, asset_name=draft.asset_name,
                                          asset_type_id=draft.asset_type_id, comment=comment or draft.comment,
                                          task_id=draft.task_id, asset_id=draft.asset_id))

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
            # Components staged for another version stay there: mixing targets would publish
            # files to a version the artist did not mean.
            problems.append(f"Publish or remove what is staged for {self.target_text()} first, "
                            "then drop onto another version.")
            return False
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
        if target.kind in ("context", "asset"):
            context_id = target.context_id or target.id
            self._draft_new(context_id or "", target.label, asset_id=target.id if target.kind == "asset" else None,
                            asset_name=target.label if target.kind == "asset" else "")
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
            return self.target_new is not None and self.target_new.context_id == (target.context_id or target.id)
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
            # An asset holds every version: "sh010_comp_v003" is version 3 of "sh010_comp".
            self.target_new.asset_name = asset_names.propose(result.components[0].name)
            self.set_target(None, self.target_new)
        errors = problems + list(result.errors)
        self._drop_messages = (errors, list(result.warnings))
        self.stagingMessages.emit(errors, list(result.warnings) + self.staging_model.range_warnings())
        n = len(result.components)
        self.statusMessage.emit(f"Staged {n} component{'s' if n != 1 else ''}" if n else "Nothing staged")
        self.staged.emit(result)
        if not self.staging_model.rowCount() and self.target_new is not None and not errors:
            self.set_target(None, None)

    def remove_staged(self, rows: list[int]) -> None:
        """Remove staged rows; with nothing left the target follows the selection again."""
        self.staging_model.remove_rows(rows)
        n = self.staging_model.rowCount()
        self.statusMessage.emit(f"{n} component{'s' if n != 1 else ''} staged" if n else "Nothing staged")
        if not n:
            self.stagingMessages.emit([], [])
            details = self.browse.details
            if details is not None and self.browse.version_id == details.row.id:
                self.set_target(details.row, None)
            else:
                self.set_target(None, None)

    def clear(self) -> None:
        """Empty the list (what it held was published)."""
        self.staging_model.clear()
        self.stagingMessages.emit([], [])

    # New versions -----------------------------------------------------------------------------
    def _draft_new(self, context_id: str, label: str, *, asset_id: str | None = None, asset_name: str = "") -> None:
        draft = NewVersionDraft(context_id=context_id, context_label=label or "the selected context",
                                asset_name=asset_name, asset_id=asset_id)
        self._set_task(draft)
        self.set_target(None, draft)
        # Asset types come from the server; fill in a default so a drop can be published at once.
        self._run(tasks.new_version_lists, context_id, on_result=lambda r, d=draft: self._default_type(d, r))

    def _set_task(self, draft: NewVersionDraft) -> None:
        context = self.browse.context
        if context is not None and context.id == draft.context_id and context.entity_type == "Task":
            draft.task_id = draft.context_id

    def _default_type(self, draft: NewVersionDraft, lists: TypeLists) -> None:
        types, _assets = lists
        if draft is not self.target_new or draft.asset_type_id or not types:
            return
        by_name = {name: tid for tid, name in types}
        for preferred in PREFERRED_TYPES:
            if preferred in by_name:
                draft.asset_type_id, draft.asset_type_name = by_name[preferred], preferred
                break
        else:
            draft.asset_type_id, draft.asset_type_name = types[0]
        self.set_target(None, draft)

    def set_new_version(self, choice: Any) -> None:
        """Target a new version as chosen in the :class:`NewVersionDialog`."""
        context = self.browse.context
        draft = NewVersionDraft(context_id=choice.context_id,
                                context_label=context.name if context is not None else "",
                                asset_name=choice.asset_name, asset_type_id=choice.asset_type_id,
                                asset_id=choice.asset_id, comment=choice.comment)
        self._set_task(draft)
        self.set_target(None, draft)
        self._run(tasks.new_version_lists, choice.context_id, on_result=lambda r, d=draft: self._name_type(d, r))

    def _name_type(self, draft: NewVersionDraft, lists: TypeLists) -> None:
        names = dict(lists[0])
        if draft is self.target_new and draft.asset_type_id in names:
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
        self._run(tasks.new_version_lists, context.id,
                  on_result=lambda r, c=context: self.newVersionListsLoaded.emit(
                      (c.id, c.name, r[0], r[1], self.target_new)))
