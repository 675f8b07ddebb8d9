"""Collect from Nuke: the open script and each enabled Write node's frames on disk.

:func:`collect` reads, through Nuke's Python API, ``nuke.root().name()`` (the script), every
Write node (also inside groups), its ``disable`` knob, its output (``nuke.filename(node)``: the
``file`` knob with TCL evaluated and ``%04d``/``####`` left in) and its frame range (the node's
limit range when ``use_limit`` is on, else the script's ``first_frame``-``last_frame``), then looks
on disk for those frames. Call it on Nuke's main thread. No Qt: it runs in Nuke 15 (PySide2) too.
"""

from __future__ import annotations

import os
from typing import Any

from publisher.hosts.collect.frames import expected_sequence, render_item, scene_item
from publisher.hosts.collect.items import CollectedItem, Collection, Role

HOST = "Nuke"


def collect(nuke: Any = None) -> Collection:
    """What the open Nuke script would publish. Main thread; ``nuke`` is the host module."""
    if nuke is None:
        import nuke  # type: ignore[no-redef]
    root = nuke.root()
    script = str(root.name() or "")
    collection = Collection(HOST, None)
    if not script or script == "Root":
        collection.notes.append("The script is not saved: save it (File > Save) to publish it with its renders.")
    elif not os.path.isfile(script):
        collection.notes.append(f"The script {script} is not on disk: save it, then collect again.")
    else:
        collection.scene = script
        collection.items.append(scene_item(script, "the open Nuke script"))
    root_range = (int(root["first_frame"].value()), int(root["last_frame"].value()))
    for node in nuke.allNodes("Write", recurseGroups=True):
        _collect_write(nuke, node, root_range, collection)
    return collection


def _collect_write(nuke: Any, node: Any, root_range: tuple[int, int], collection: Collection) -> None:
    name = node.fullName()
    if node["disable"].value():
        collection.notes.append(f"{name}: the Write node is disabled; skipped.")
        return
    pattern = str(nuke.filename(node) or node["file"].value() or "")
    if not pattern:
        collection.notes.append(f"{name}: the Write node has no file set; skipped.")
        return
    if node.knob("use_limit") is not None and node["use_limit"].value():
        first, last = int(node["first"].value()), int(node["last"].value())
        where = f"its limit range {first}-{last}"
    else:
        first, last = root_range
        where = f"the script's frame range {first}-{last}"
    reason = f"{name}: enabled Write node, {where}"
    try:
        expected = expected_sequence(pattern, first, last)
    except ValueError:
        # No frame token: one file for the whole range (a movie).
        if os.path.isfile(pattern):
            collection.items.append(CollectedItem(Role.RENDER, pattern, reason, name, files=(pattern,)))
        else:
            collection.items.append(CollectedItem(Role.RENDER, pattern, reason, name))
            collection.notes.append(f"{name}: {pattern} is not on disk (render it first); nothing staged from it.")
        return
    item, notes = render_item(expected, reason, name)
    collection.items.append(item)
    collection.notes.extend(notes)


__all__ = ["HOST", "collect"]
