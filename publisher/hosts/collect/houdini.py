"""Collect from Houdini: the hip file and each ROP's output over the ROP's frame range.

:func:`collect` walks every output driver (ROP, category ``Driver``) of the scene through
Houdini's Python API (``hou``), skips bypassed ones, reads its output parm (``vm_picture``,
``picture``, ``ar_picture``, ``RS_outputFileNamePrefix``, ``sopoutput``, ``copoutput``,
``lopoutput``, ``filename``), evaluates it at each frame of the ROP's range (``trange``,
``f1``-``f2`` by ``f3``; the current frame when ``trange`` is 0), and looks on disk for those
frames. Call it on Houdini's main thread. No Qt: it runs in Houdini 20.5 (PySide2) too.
"""

from __future__ import annotations

import os
from typing import Any

from publisher.hosts.collect.frames import render_item, scene_item, sequence_from_paths
from publisher.hosts.collect.items import CollectedItem, Collection, Role

HOST = "Houdini"

#: Output parms of the usual ROPs, in the order they are looked for.
OUTPUT_PARMS = ("vm_picture", "picture", "ar_picture", "RS_outputFileNamePrefix", "sopoutput",
                "copoutput", "lopoutput", "filename")


def collect(hou: Any = None) -> Collection:
    """What the open hip file would publish. Main thread; ``hou`` is the host module."""
    if hou is None:
        import hou  # type: ignore[no-redef]
    collection = Collection(HOST, None)
    hip = str(hou.hipFile.path())
    new_file = hou.hipFile.isNewFile() if hasattr(hou.hipFile, "isNewFile") else False
    if new_file or not os.path.isfile(hip):
        collection.notes.append("The hip file is not saved: save it (File > Save) to publish it with its renders.")
    else:
        collection.scene = hip
        collection.items.append(scene_item(hip, "the open hip file"))
    for node in hou.node("/").allSubChildren():
        if node.type().category().name() == "Driver":
            _collect_rop(hou, node, collection)
    return collection


def _frames(hou: Any, node: Any) -> tuple[list[int], str]:
    trange = node.parm("trange")
    if trange is None or int(trange.eval()) == 0:
        frame = int(round(hou.frame()))
        return [frame], f"the current frame {frame}"
    first, last, step = node.parmTuple("f").eval()
    first, last, step = int(round(first)), int(round(last)), max(1, int(round(step)))
    by = f" by {step}" if step > 1 else ""
    return list(range(first, last + 1, step)), f"its frame range {first}-{last}{by}"


def _collect_rop(hou: Any, node: Any, collection: Collection) -> None:
    parm = next((node.parm(name) for name in OUTPUT_PARMS if node.parm(name) is not None), None)
    if parm is None:
        return  # a ROP that writes nothing itself (fetch, merge, a wedge)
    path = node.path()
    if node.isBypassed():
        collection.notes.append(f"{path}: the ROP is bypassed; skipped.")
        return
    frames, where = _frames(hou, node)
    reason = f"{path}: {node.type().name()} ROP output {parm.name()}, {where}"
    paths = {frame: str(parm.evalAtFrame(frame)) for frame in frames}
    if not any(paths.values()):
        collection.notes.append(f"{path}: {parm.name()} is empty; skipped.")
        return
    expected = sequence_from_paths(paths) if len(frames) > 1 else None
    if expected is None:
        single = paths[frames[0]]
        files = (single,) if os.path.isfile(single) else ()
        collection.items.append(CollectedItem(Role.RENDER, single, reason, path, files=files))
        if not files:
            collection.notes.append(f"{path}: {single} is not on disk (render it first); nothing staged from it.")
        return
    item, notes = render_item(expected, reason, path)
    collection.items.append(item)
    collection.notes.extend(notes)


__all__ = ["HOST", "OUTPUT_PARMS", "collect"]
