"""Collect from Maya: the scene, the renders of renderable layers, and a playblast on request.

:func:`collect` asks Maya (``maya.cmds``) for the scene file, the current renderer and the
render globals' frame range and padding, then for each renderable render layer the image names
``renderSettings`` gives for that renderer (one per AOV or camera), and looks on disk for their
frames. With ``playblast=True`` it also playblasts the active camera's view to PNG frames in
``playblast_dir`` and adds them as the review. Call it on Maya's main thread. No Qt.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from publisher.hosts.collect.frames import expected_sequence, render_item, scene_item
from publisher.hosts.collect.items import Collection, Role

HOST = "Maya"
_GLOBALS = "defaultRenderGlobals"


def collect(cmds: Any = None, *, playblast: bool = False, playblast_dir: str | None = None) -> Collection:
    """What the open Maya scene would publish. Main thread; ``cmds`` is ``maya.cmds``."""
    if cmds is None:
        from maya import cmds  # type: ignore[no-redef]
    collection = Collection(HOST, None)
    scene = str(cmds.file(query=True, sceneName=True) or "")
    if not scene or not os.path.isfile(scene):
        collection.notes.append("The scene is not saved: save it (File > Save Scene) to publish it with its renders.")
    else:
        collection.scene = scene
        collection.items.append(scene_item(scene, "the open Maya scene"))
    renderer = str(cmds.getAttr(f"{_GLOBALS}.currentRenderer"))
    first, last, step = _frame_range(cmds)
    padding = max(1, int(cmds.getAttr(f"{_GLOBALS}.extensionPadding")))
    for layer in cmds.ls(type="renderLayer") or []:
        if ":" in layer:
            continue  # a layer of a referenced scene: that scene's own publish
        label = "masterLayer" if layer == "defaultRenderLayer" else layer
        if not cmds.getAttr(f"{layer}.renderable"):
            collection.notes.append(f"render layer {label}: not renderable; skipped.")
            continue
        names = cmds.renderSettings(genericFrameImageName="#" * padding, fullPath=True, layer=layer) or []
        for pattern in names:
            reason = f"render layer {label}: {renderer} output, frames {first}-{last}"
            try:
                expected = expected_sequence(str(pattern), first, last, step)
            except ValueError as exc:
                collection.notes.append(f"render layer {label}: cannot read the image name {pattern} ({exc}); skipped.")
                continue
            item, notes = render_item(expected, reason, f"render layer {label}")
            collection.items.append(item)
            collection.notes.extend(notes)
    if playblast:
        _playblast(cmds, collection, scene, first, last, playblast_dir)
    return collection


def _frame_range(cmds: Any) -> tuple[int, int, int]:
    if not cmds.getAttr(f"{_GLOBALS}.animation"):
        frame = int(round(cmds.currentTime(query=True)))
        return frame, frame, 1
    first = int(round(cmds.getAttr(f"{_GLOBALS}.startFrame")))
    last = int(round(cmds.getAttr(f"{_GLOBALS}.endFrame")))
    step = max(1, int(round(cmds.getAttr(f"{_GLOBALS}.byFrameStep"))))
    return first, last, step


def _model_panel(cmds: Any) -> str | None:
    focused = cmds.getPanel(withFocus=True)
    if focused and cmds.getPanel(typeOf=focused) == "modelPanel":
        return focused
    visible = [p for p in cmds.getPanel(visiblePanels=True) or [] if cmds.getPanel(typeOf=p) == "modelPanel"]
    return visible[0] if visible else None


def _playblast(cmds: Any, collection: Collection, scene: str, first: int, last: int,
               folder: str | None) -> None:
    panel = _model_panel(cmds)
    if panel is None:
        collection.notes.append("No viewport is open to playblast: open one, then collect again.")
        return
    camera = cmds.modelPanel(panel, query=True, camera=True)
    folder = folder or tempfile.mkdtemp(prefix="ftrack-publisher-playblast-")
    stem = Path(scene).stem if scene else "untitled"
    written = cmds.playblast(filename=str(Path(folder) / f"{stem}_playblast"), format="image",
                             compression="png", startTime=first, endTime=last, framePadding=4,
                             viewer=False, showOrnaments=False, offScreen=True, percent=100,
                             forceOverwrite=True, editorPanelName=panel)
    if not written:
        collection.notes.append(f"Maya made no playblast of {camera}; see the Script Editor.")
        return
    item, notes = render_item(expected_sequence(str(written), first, last),
                              f"playblast of the active camera {camera}, frames {first}-{last}",
                              "playblast", Role.REVIEW)
    collection.items.append(item)
    collection.notes.extend(notes)


__all__ = ["HOST", "collect"]
