"""What a drop becomes: dropped files, folders and sequences turned into staged components.

``stage_paths`` looks at the disk only (no server): it groups frames into sequences, measures
sizes, suggests component names and reports what it could not use, with what to do about it.
``validate_name`` checks a component name as the artist types it. No Qt; callable from any
thread (the window calls ``stage_paths`` from a worker for large drops).
"""

from __future__ import annotations

import itertools
import os
import re
import stat
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from publisher.api import sequences
from publisher.api.components import REVIEW_COMPONENT_NAMES

#: Locations the staging list offers. A studio's disk locations are added by the window from
#: the server's Location list (anything not ftrack.* with a name); see ``stage_locations``.
STAGE_LOCATIONS: list[str] = ["ftrack.server", "ftrack.unmanaged"]

#: Built-in locations that never hold staged components (origin is in-memory, review is for
#: the encoder's outputs, connect is legacy).
_NOT_STAGEABLE = {"ftrack.origin", "ftrack.review", "ftrack.connect"}

#: Names the server gives to encoder outputs or thumbnails: a staged component must not take them.
RESERVED_NAMES = {*REVIEW_COMPONENT_NAMES, "thumbnail"}

NAME_MAX_LENGTH = 64
_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
_INVALID_CHAR_RE = re.compile(r"[^A-Za-z0-9_.\-]")

#: How many missing frames ``StagedComponent.holes`` lists at most (``hole_count`` has them all).
HOLES_LISTED = 10_000

#: Files a file manager leaves in folders; never worth publishing.
_JUNK_FILES = {"thumbs.db", "desktop.ini", ".ds_store"}


@dataclass
class StagedComponent:
    """One component-to-be: a file or a sequence, with the name and location it will get.

    ``path`` is the file path, or for a sequence the string in ftrack's form
    ``'{head}{padding}{tail} [{ranges}]'`` that ``AssetVersion.create_component`` accepts.
    ``holes`` lists the missing frame numbers between the first and last frame, at most
    ``HOLES_LISTED`` of them (the first ones): two frames a billion apart must not become a
    billion-element list. ``hole_count`` is the true number missing (when left out, as in
    entries an older outbox saved, it is ``len(holes)``).
    """

    name: str
    kind: str  # "file" | "sequence"
    path: str
    size: int
    frame_range: str | None
    holes: list[int]
    file_type: str
    location: str = "ftrack.server"
    #: Every file on disk the component reads (one for a file, one per frame for a sequence).
    files: list[str] = field(default_factory=list, repr=False)
    hole_count: int | None = None
    #: Metadata the component gets (key -> text), e.g. ``ftr_meta`` of review media.
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.hole_count is None:
            self.hole_count = len(self.holes)

    @property
    def frame_count(self) -> int:
        """Frames in a sequence (1 for a file)."""
        return len(self.files) if self.kind == "sequence" else 1


@dataclass
class StagingResult:
    """What ``stage_paths`` made of a drop: the components, and what it could not use."""

    components: list[StagedComponent]
    errors: list[str]
    warnings: list[str]


def stage_locations(location_names: Iterable[str] = ()) -> list[str]:
    """The locations to offer: ``STAGE_LOCATIONS`` plus the server's other (disk) locations.

    ``location_names`` are the names of the server's Location rows (e.g. from
    ``select name from Location``); built-in non-storage locations are left out.
    """
    offered = list(STAGE_LOCATIONS)
    for name in sorted(set(location_names)):
        if name and name not in offered and name not in _NOT_STAGEABLE:
            offered.append(name)
    return offered


# Names ---------------------------------------------------------------------------------------

def is_review_component(component: Any) -> bool:
    """Whether ``component`` was staged as the version's review media (a review name and its
    ``ftr_meta``): only then may it carry one of :data:`REVIEW_COMPONENT_NAMES`."""
    return (getattr(component, "name", "") in REVIEW_COMPONENT_NAMES
            and "ftr_meta" in (getattr(component, "metadata", None) or {}))


def validate_name(name: str, taken: set[str]) -> str | None:
    """``None`` when ``name`` can be a new component's name, else a message saying what to change.

    ``taken`` holds the names already used on the version (and by other staged components);
    leave out the component's own current name. Names are compared ignoring case, because
    files named after them may land on case-insensitive disks.
    """
    if not name or not name.strip():
        return "Give the component a name."
    if name != name.strip():
        return "Remove the spaces at the start or end of the name."
    if len(name) > NAME_MAX_LENGTH:
        return f"Shorten the name to {NAME_MAX_LENGTH} characters or fewer (it has {len(name)})."
    if not _NAME_RE.match(name):
        bad = sorted(set(_INVALID_CHAR_RE.findall(name)))
        shown = " ".join("space" if c == " " else repr(c) for c in bad)
        return f"Use only letters, digits, '_', '-' and '.' in the name (remove {shown})."
    if name[0] in ".-":
        return "Start the name with a letter, a digit or '_'."
    if name.lower() in RESERVED_NAMES:
        return f"'{name}' is reserved for ftrack's review media and thumbnails: choose another name."
    if name.lower() in {t.lower() for t in taken}:
        return f"This version already has a component named '{name}': choose another name."
    return None


def _clean_name(text: str) -> str:
    """Turn a file name stem into a valid component name (may be empty)."""
    text = _INVALID_CHAR_RE.sub("_", text.strip())
    text = re.sub(r"_{2,}", "_", text)
    text = text.strip("._- ")
    return text[:NAME_MAX_LENGTH].rstrip("._-")


def _unique_name(base: str, file_type: str, taken_lower: set[str]) -> str:
    """``base``, or ``base_<ext>``, or ``base_2``... whichever is free (case-insensitively)."""
    candidates = [base]
    ext = _clean_name(file_type.lstrip(".").lower())
    if ext and not base.lower().endswith("_" + ext):
        candidates.append(f"{base}_{ext}")
    for candidate in candidates:
        if candidate.lower() not in taken_lower and candidate.lower() not in RESERVED_NAMES:
            return candidate
    n = 2
    while True:
        suffix = f"_{n}"
        candidate = base[: NAME_MAX_LENGTH - len(suffix)] + suffix
        if candidate.lower() not in taken_lower:
            return candidate
        n += 1


def suggest_name(path: str, kind: str, taken: Iterable[str] = (), file_type: str | None = None) -> str:
    """A component name for ``path`` (a file path, a sequence's head or its sequence string),
    unique against ``taken`` (compared ignoring case).

    ``plate.1001.exr`` frames give ``plate`` (``plate_exr`` when ``plate`` is taken); ``comp.mov``
    gives ``comp``, or ``comp_mov`` when ``comp`` is taken; then ``_2``, ``_3``... A head with no
    name of its own (``_0001.exr``) takes its folder's name. ``file_type`` (e.g. ``.exr``) is the
    extension to try for a sequence head; a file path or a sequence string carries its own.
    """
    taken_lower = {t.lower() for t in taken}
    if kind == "sequence" and sequences.looks_like_sequence(path):
        # A staged sequence's path ('/p/plate.%04d.exr [1-9]'): name it after its head.
        try:
            parsed = sequences.parse(path)
            path = parsed.head
            file_type = file_type or _file_type("x" + parsed.tail)
        except ValueError:
            pass
    folder, base = os.path.split(path)
    if kind == "sequence":
        stem = base  # the head: everything before the frame number
    else:
        stem = os.path.splitext(base)[0]
    name = _clean_name(stem)
    if not name:
        name = _clean_name(os.path.basename(folder)) or ("sequence" if kind == "sequence" else "file")
    if name[0] in ".-":
        name = name.lstrip(".-") or "file"
    ext = os.path.splitext(base)[1] if kind == "file" else (file_type or "")
    return _unique_name(name, ext, taken_lower)


# Paths ---------------------------------------------------------------------------------------

def _open_dir(path: str) -> list[os.DirEntry[str]]:
    """List a folder (a seam so tests running as root can show an unreadable folder)."""
    with os.scandir(path) as it:
        return list(it)


def _is_junk(name: str) -> bool:
    return name.lower() in _JUNK_FILES or name.startswith(".")


def _file_type(path: str) -> str:
    return os.path.splitext(path)[1]


def _frame_range(frames: list[int]) -> str:
    return f"{frames[0]}-{frames[-1]}" if len(frames) > 1 else str(frames[0])


def _seq_frames(seq: sequences.Sequence) -> list[int]:
    return sorted(int(f) for f in seq.frames)


def _measure(paths: Iterable[str], errors: list[str], what: str,
             known_sizes: dict[str, int] | None = None) -> int | None:
    """Sum the sizes of ``paths``; ``None`` (and an error) when one cannot be read."""
    total = 0
    known = known_sizes or {}
    for p in paths:
        size = known.get(p)
        if size is not None:
            total += size
            continue
        try:
            st = os.stat(p)
        except FileNotFoundError:
            errors.append(f"{p} disappeared while it was being staged: check the file is still there and drop {what} again.")
            return None
        except OSError as exc:
            errors.append(f"Cannot read {p} ({exc.strerror or exc}): check its permissions and drop {what} again.")
            return None
        if not os.access(p, os.R_OK):
            errors.append(f"Cannot read {p} (permission denied): ask for read access or copy it somewhere readable, then drop {what} again.")
            return None
        total += st.st_size
    return total


def stage_paths(paths: list[str], existing_names: AbstractSet[str] = frozenset()) -> StagingResult:
    """Turn dropped ``paths`` into staged components.

    Files become file components; frames of one sequence dropped together become one sequence
    component; folders are scanned (not recursively: subfolders are reported, to be dropped on
    their own). Names are suggested from file names and made unique against ``existing_names``
    (the version's components and those already staged). Missing paths, broken links, empty or
    unreadable folders give an error each and do not stop the rest of the drop.
    """
    components: list[StagedComponent] = []
    errors: list[str] = []
    warnings: list[str] = []
    taken: set[str] = {n.lower() for n in existing_names}
    loose_files: list[str] = []
    known_sizes: dict[str, int] = {}  # loose files already stat'ed and checked readable
    seen: set[str] = set()
    # Sources in drop order: ("items", [File|Sequence...]) from a folder, or ("loose", None).
    groups: list[tuple[str, list[sequences.Item] | None]] = []

    for raw in paths:
        if not raw or not str(raw).strip():
            continue
        path = os.path.abspath(os.path.expanduser(str(raw)))
        if path in seen:
            warnings.append(f"{path} was dropped twice; it is staged once.")
            continue
        seen.add(path)
        # One stat per dropped path: thousands of loose frames are common.
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            if os.path.islink(path):
                target = os.readlink(path)
                errors.append(f"{path} is a link to {target}, which does not exist: fix the link or drop the file it should point to.")
            else:
                parent = os.path.dirname(path)
                hint = "" if os.path.isdir(parent) else f" (its folder {parent} does not exist either)"
                errors.append(f"{path} does not exist{hint}: check the path, or whether it was moved or renamed, and drop it again.")
            continue
        except OSError as exc:
            errors.append(f"Cannot read {path} ({exc.strerror or exc}): check the path and its permissions, then drop it again.")
            continue
        if stat.S_ISDIR(st.st_mode):
            items = _stage_folder(path, errors, warnings)
            if items:
                groups.append(("items", items))
            continue
        if not stat.S_ISREG(st.st_mode):
            errors.append(f"{path} is not a regular file or folder (a device or pipe?): drop files, folders or sequences only.")
            continue
        if not os.access(path, os.R_OK):
            errors.append(f"Cannot read {path} (permission denied): ask for read access or copy it somewhere readable, then drop it again.")
            continue
        if not loose_files:
            groups.append(("loose", None))
        loose_files.append(path)
        known_sizes[path] = st.st_size

    for kind, group in groups:
        items = list(sequences.detect(loose_files)) if kind == "loose" else group or []
        for item in items:
            comp = _component_for(item, taken, errors, known_sizes)
            if comp is None:
                continue
            if comp.size == 0:
                warnings.append(f"{comp.path} is empty (0 bytes); it is staged anyway: remove it if that is a mistake.")
            if comp.hole_count and isinstance(item, sequences.Sequence):
                warnings.append(
                    f"Sequence '{comp.name}' ({comp.frame_range}) is missing {comp.hole_count} frame"
                    f"{'s' if comp.hole_count != 1 else ''}: {_missing_text(item, comp.holes)}."
                )
            taken.add(comp.name.lower())
            components.append(comp)
    return StagingResult(components, errors, warnings)


def _missing_text(sequence: sequences.Sequence, holes: list[int], limit: int = 10) -> str:
    """The missing frames one by one when there are a few, else as the first ``limit`` ranges."""
    if sequence.hole_count <= limit:
        return ", ".join(str(f) for f in holes)
    ranges = sequence.hole_ranges.split(", ")
    shown = ", ".join(ranges[:limit])
    return shown + (f" and {len(ranges) - limit} more ranges" if len(ranges) > limit else "")


def _first_holes(frames: list[int], limit: int) -> list[int]:
    """The first ``limit`` missing frames of sorted ``frames``, without listing the others."""
    def missing() -> Iterator[int]:
        for before, after in zip(frames, frames[1:]):
            yield from range(before + 1, after)
    return list(itertools.islice(missing(), limit))


def _unreadable_folder(path: str, exc: OSError) -> str:
    """What to tell the artist when folder ``path`` cannot be listed."""
    if isinstance(exc, PermissionError):
        return (f"Cannot read folder {path} (permission denied): ask for read access, or copy its files "
                "somewhere readable and drop them.")
    return f"Cannot read folder {path} ({exc.strerror or exc}): check the folder and drop it again."


def _stage_folder(path: str, errors: list[str], warnings: list[str]) -> list[sequences.Item]:
    """The files and sequences directly in folder ``path`` (errors for what cannot be used)."""
    try:
        entries = _open_dir(path)
    except OSError as exc:
        errors.append(_unreadable_folder(path, exc))
        return []
    subfolders = 0
    wanted = False
    for entry in entries:
        if _is_junk(entry.name):
            continue
        try:
            if entry.is_dir():
                subfolders += 1
                continue
        except OSError:
            continue
        wanted = True
    if not wanted:
        if subfolders:
            errors.append(f"Folder {path} holds only subfolders ({subfolders}): drop the subfolders themselves.")
        else:
            errors.append(f"Folder {path} is empty: drop a folder that holds the files to publish.")
        return []
    if subfolders:
        warnings.append(f"Folder {path}: {subfolders} subfolder{'s were' if subfolders != 1 else ' was'} not staged; drop them on their own to publish them.")
    try:
        items = list(sequences.scan(path))
    except OSError as exc:
        errors.append(_unreadable_folder(path, exc))
        return []
    kept: list[sequences.Item] = []
    for item in items:
        if isinstance(item, sequences.ScanError):
            kept.append(item)
            continue
        name = os.path.basename(item.head if isinstance(item, sequences.Sequence) else item.path)
        if name and _is_junk(name):
            continue
        kept.append(item)
    return kept


def _component_for(item: sequences.Item, taken: set[str], errors: list[str],
                   known_sizes: dict[str, int] | None = None) -> StagedComponent | None:
    if isinstance(item, sequences.ScanError):
        errors.append(f"{item.path}: {item.message}.")
        return None
    if isinstance(item, sequences.Sequence):
        frames = _seq_frames(item)
        files = [str(p) for p in item.paths()]
        size = _measure(files, errors, "the sequence", known_sizes)
        if size is None:
            return None
        tail = item.tail
        name = suggest_name(item.head, "sequence", taken, _file_type("x" + tail))
        return StagedComponent(
            name=name,
            kind="sequence",
            path=item.format(),
            size=size,
            frame_range=_frame_range(frames),
            holes=_first_holes(frames, HOLES_LISTED),
            hole_count=item.hole_count,
            file_type=_file_type("x" + tail),  # "x": splitext sees no extension in ".exr" alone
            files=files,
        )
    path = str(item.path)
    size = _measure([path], errors, "the file", known_sizes)
    if size is None:
        return None
    return StagedComponent(
        name=suggest_name(path, "file", taken),
        kind="file",
        path=path,
        size=size,
        frame_range=None,
        holes=[],
        file_type=_file_type(path),
        files=[path],
    )


def check_still_there(component: StagedComponent) -> str | None:
    """``None`` when every file of a staged component is still readable, else what is wrong.

    The runner calls it before creating anything, so a file deleted after staging stops the
    publish before the server is touched.
    """
    files = component.files or [component.path]
    missing = [p for p in files if not os.path.isfile(p)]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        return (f"Component '{component.name}': {len(missing)} file{'s are' if len(missing) != 1 else ' is'} "
                f"missing since it was staged ({shown}): put {'them' if len(missing) != 1 else 'it'} back, "
                "or remove the component and drop the files again.")
    unreadable = [p for p in files if not os.access(p, os.R_OK)]
    if unreadable:
        return (f"Component '{component.name}': cannot read {unreadable[0]} (permission denied): "
                "fix its permissions and publish again.")
    return None
