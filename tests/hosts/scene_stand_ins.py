"""Stand-in scene APIs of Nuke, Maya and Houdini for the collectors (no Qt).

Each mimics the calls the collectors make, with the host's names and return types: Nuke's
nodes and knobs (``nuke.root()``, ``nuke.allNodes('Write', recurseGroups=True)``, ``node['file']``,
``nuke.filename(node)``), Maya's ``cmds`` (``file``, ``getAttr``, ``ls``, ``renderSettings``,
``getPanel``, ``modelPanel``, ``playblast`` that writes PNG frames) and Houdini's ``hou`` (node
tree, categories, parms evaluated per frame with ``$F4``/``$HIP``, ``trange``/``f`` parms).
Importable in a child process too (the Qt 5 host test runs one).
"""

from __future__ import annotations

import os
import re
import types
from pathlib import Path
from typing import Any


def render_folder(folder: Path, name: str, first: int, last: int, missing: tuple[int, ...] = (),
                  ext: str = "exr", padding: int = 4) -> Path:
    """Frames ``first``-``last`` of ``name.####.ext`` in ``folder``, without ``missing``."""
    folder.mkdir(parents=True, exist_ok=True)
    for frame in range(first, last + 1):
        if frame not in missing:
            (folder / f"{name}.{frame:0{padding}d}.{ext}").write_bytes(b"frame %d" % frame)
    return folder


# Nuke ------------------------------------------------------------------------------------------
class Knob:
    def __init__(self, value: Any) -> None:
        self._value = value

    def value(self) -> Any:
        return self._value

    def setValue(self, value: Any) -> None:  # noqa: N802
        self._value = value


class NukeNode:
    def __init__(self, klass: str, name: str, knobs: dict[str, Any], parent: str = "root") -> None:
        self._class, self._name, self._parent = klass, name, parent
        self._knobs = {k: Knob(v) for k, v in knobs.items()}

    def Class(self) -> str:  # noqa: N802
        return self._class

    def name(self) -> str:
        return self._name

    def fullName(self) -> str:  # noqa: N802
        return self._name if self._parent == "root" else f"{self._parent}.{self._name}"

    def knob(self, name: str) -> Knob | None:
        return self._knobs.get(name)

    def __getitem__(self, name: str) -> Knob:
        if name not in self._knobs:
            raise NameError(f"knob {name} does not exist")  # what Nuke raises
        return self._knobs[name]


def make_nuke(script: str, first: int, last: int, nodes: list[NukeNode]) -> types.ModuleType:
    """A ``nuke`` module holding ``nodes``; ``script`` is ``nuke.root().name()`` ('Root' if unsaved)."""
    nuke = types.ModuleType("nuke")
    root = NukeNode("Root", script, {"first_frame": first, "last_frame": last, "name": script})
    root.name = lambda: script  # type: ignore[method-assign]

    def allNodes(filter: str | None = None, group: Any = None, recurseGroups: bool = False) -> list:  # noqa: N802,A002
        return [n for n in nodes if (filter is None or n.Class() == filter)
                and (recurseGroups or n._parent == "root")]

    def filename(node: NukeNode, type: int = 0) -> str | None:  # noqa: A002
        # Nuke evaluates the TCL in the file knob ([file dirname [value root.name]]) and keeps %04d.
        text = node["file"].value()
        if not text:
            return None
        return text.replace("[file dirname [value root.name]]", os.path.dirname(script))

    nuke.root = lambda: root
    nuke.allNodes = allNodes
    nuke.filename = filename
    nuke.REPLACE = 1
    return nuke


def write_node(name: str, file: str, *, disable: bool = False, limit: tuple[int, int] | None = None,
               parent: str = "root") -> NukeNode:
    knobs = {"file": file, "disable": disable, "use_limit": limit is not None,
             "first": (limit or (1, 1))[0], "last": (limit or (1, 1))[1], "file_type": "exr"}
    return NukeNode("Write", name, knobs, parent)


# Maya ------------------------------------------------------------------------------------------
def make_maya_cmds(scene: str, attrs: dict[str, Any], layers: dict[str, dict[str, Any]],
                   panels: dict[str, str] | None = None, focused: str = "modelPanel4",
                   playblast_frames: tuple[int, ...] | None = None) -> types.ModuleType:
    """``maya.cmds`` with ``attrs`` (``'defaultRenderGlobals.startFrame'``...), render ``layers``
    (name -> {'renderable': bool, 'images': [path with '#' tokens]}), ``panels`` (panel -> camera).
    ``playblast`` writes PNG frames (``playblast_frames`` of them, default the whole range)."""
    cmds = types.ModuleType("maya.cmds")
    panels = panels if panels is not None else {"modelPanel4": "persp"}
    calls: list[tuple[str, dict]] = []

    def file(*_args: Any, query: bool = False, sceneName: bool = False, **_kw: Any) -> str:  # noqa: N803
        assert query and sceneName
        return scene

    def getAttr(name: str) -> Any:  # noqa: N802
        node, _, attr = name.partition(".")
        if node in layers:
            return layers[node][attr]
        if name not in attrs:
            raise ValueError(f"No object matches name: {name}")
        return attrs[name]

    def ls(type: str | None = None, **_kw: Any) -> list[str]:  # noqa: A002
        return list(layers) if type == "renderLayer" else []

    def renderSettings(genericFrameImageName: str = "", fullPath: bool = False, layer: str = "", **_kw: Any) -> list[str]:  # noqa: N802,N803
        calls.append(("renderSettings", {"genericFrameImageName": genericFrameImageName, "layer": layer}))
        # Maya writes the given token where the frame number goes.
        return [re.sub(r"#+", genericFrameImageName, p) for p in layers[layer]["images"]]

    def getPanel(withFocus: bool = False, typeOf: str | None = None, visiblePanels: bool = False) -> Any:  # noqa: N802,N803
        if withFocus:
            return focused
        if typeOf is not None:
            return "modelPanel" if typeOf in panels else "scriptedPanel"
        if visiblePanels:
            return list(panels) + ["outlinerPanel1"]
        return None

    def modelPanel(name: str, query: bool = False, camera: bool = False) -> str:  # noqa: N802
        return panels[name]

    def currentTime(query: bool = False) -> float:  # noqa: N802
        return float(attrs.get("time", 1))

    def playblast(filename: str, format: str, startTime: int, endTime: int, framePadding: int = 4, **kw: Any) -> str:  # noqa: A002,N803
        calls.append(("playblast", dict(kw, filename=filename, format=format, startTime=startTime, endTime=endTime)))
        frames = playblast_frames if playblast_frames is not None else range(startTime, endTime + 1)
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
        for frame in frames:
            Path(f"{filename}.{frame:0{framePadding}d}.png").write_bytes(b"\x89PNG")
        return f"{filename}.{'#' * framePadding}.png"

    for fn in (file, getAttr, ls, renderSettings, getPanel, modelPanel, currentTime, playblast):
        setattr(cmds, fn.__name__, fn)
    cmds.calls = calls
    return cmds


# Houdini ---------------------------------------------------------------------------------------
class _Category:
    def __init__(self, name: str) -> None:
        self._name = name

    def name(self) -> str:
        return self._name


class _NodeType:
    def __init__(self, name: str, category: str) -> None:
        self._name, self._category = name, _Category(category)

    def name(self) -> str:
        return self._name

    def category(self) -> _Category:
        return self._category


class Parm:
    """A parm whose string value may hold ``$HIP``, ``$HIPNAME``, ``$OS``, ``$F``/``$F4``."""

    def __init__(self, node: "HouNode", name: str, value: Any) -> None:
        self.node, self._name, self.value = node, name, value

    def name(self) -> str:
        return self._name

    def eval(self) -> Any:
        return self.evalAtFrame(self.node.hou_frame())

    def unexpandedString(self) -> str:  # noqa: N802
        return str(self.value)

    def evalAtFrame(self, frame: float) -> Any:  # noqa: N802
        if not isinstance(self.value, str):
            return self.value
        hip = self.node.hip

        def frame_token(m: re.Match[str]) -> str:
            pad = m.group(1)
            return f"{int(frame):0{int(pad)}d}" if pad else str(int(frame))

        text = self.value.replace("$HIPNAME", Path(hip).stem).replace("$HIP", str(Path(hip).parent))
        text = text.replace("$OS", self.node.name())
        return re.sub(r"\$F(\d*)", frame_token, text)


class _ParmTuple:
    def __init__(self, parms: list[Parm]) -> None:
        self.parms = parms

    def eval(self) -> tuple:
        return tuple(p.eval() for p in self.parms)


class HouNode:
    def __init__(self, path: str, type_name: str, category: str, parms: dict[str, Any] | None = None,
                 bypass: bool = False) -> None:
        self._path, self._type = path, _NodeType(type_name, category)
        self._parms = {k: Parm(self, k, v) for k, v in (parms or {}).items()}
        self._bypass = bypass
        self.children: list[HouNode] = []
        self.hip = ""
        self.hou_frame = lambda: 1.0

    def path(self) -> str:
        return self._path

    def name(self) -> str:
        return self._path.rsplit("/", 1)[-1]

    def type(self) -> _NodeType:
        return self._type

    def parm(self, name: str) -> Parm | None:
        return self._parms.get(name)

    def parmTuple(self, name: str) -> _ParmTuple | None:  # noqa: N802
        parms = [self._parms.get(f"{name}{i}") for i in (1, 2, 3)]
        return _ParmTuple(parms) if all(parms) else None  # type: ignore[arg-type]

    def isBypassed(self) -> bool:  # noqa: N802
        return self._bypass

    def allSubChildren(self) -> list["HouNode"]:  # noqa: N802
        out: list[HouNode] = []
        for child in self.children:
            out.append(child)
            out.extend(child.allSubChildren())
        return out


def rop(path: str, type_name: str, output_parm: str, value: str, *, trange: int = 1,
        f: tuple[float, float, float] = (1, 1, 1), bypass: bool = False) -> HouNode:
    return HouNode(path, type_name, "Driver", {output_parm: value, "trange": trange,
                                               "f1": f[0], "f2": f[1], "f3": f[2]}, bypass)


def make_hou(hip: str, nodes: list[HouNode], frame: float = 1.0, new_file: bool = False) -> types.ModuleType:
    """A ``hou`` module whose scene holds ``nodes`` (under /out, /obj...)."""
    hou = types.ModuleType("hou")
    root = HouNode("/", "root", "Manager")
    for node in nodes:
        node.hip = hip
        node.hou_frame = lambda: frame
        root.children.append(node)
    hou.hipFile = types.SimpleNamespace(path=lambda: hip, name=lambda: Path(hip).name,
                                        isNewFile=lambda: new_file)
    hou.node = lambda path: root if path == "/" else next((n for n in root.allSubChildren() if n.path() == path), None)
    hou.frame = lambda: frame
    return hou
