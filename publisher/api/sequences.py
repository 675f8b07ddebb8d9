"""Image-sequence detection: file names and folders to sequences, and sequence strings back.

What it is for: an artist drops a render folder or a pile of files; the publisher must show the
sequences in it (with their holes) at once, and ``AssetVersion.create_component`` must accept the
ftrack sequence string ``'{head}{padding}{tail} [{ranges}]'`` that ``Sequence.format()`` writes.

Public interface:

- ``detect(paths)``: file paths (any mix, any folders) -> ``list[Sequence | File | ScanError]``.
  Pure string work, no file system access; one regular expression per name and dictionary
  grouping, so it runs in time linear in the number of names.
- ``scan(folder, recursive=False)``: the files of a folder (``os.scandir``) -> the same list.
- ``parse(text)``: a sequence string -> ``Sequence``; ``ValueError`` saying what is wrong.

Errors: problems with *one entry* (a subfolder that cannot be read, a symbolic link loop or a
broken link, a name that is not valid UTF-8) never abort a scan; they come back as ``ScanError``
items (``path``, ``message``) in the result list, in the same place a file would be. Only when the
folder given to ``scan`` itself cannot be listed does ``scan`` raise an ``OSError`` (the usual
subclass, e.g. ``FileNotFoundError`` or ``NotADirectoryError``) whose ``filename`` is that folder.

Naming rules (what counts as a frame):

- The frame number is the last run of ASCII digits of a name, directly before the extension
  (zero, one or two parts, e.g. ``.exr``, ``.bgeo.sc``; each part starts with a letter), and
  directly after ``.``, ``_`` or ``-``. So ``plate_v003.exr`` has no frame (version tokens are
  never frames), ``plate_1001_v003.exr`` neither (its last digits are the version).
- A ``-`` right after a separator is a sign: ``f.-0002.exr`` is frame -2 with padding 4 (the sign
  is not counted in the padding, and ``member_name(-2)`` is ``-0002``, as on disk).
- Sequences are grouped per folder, head and tail: different folders, heads, extensions or letter
  case give different sequences. A numbered name alone in its group is a ``File``.
- Padding: a zero-padded frame (``0042``) fixes the padding to its width; a frame without a leading
  zero may be longer than the padding (``098, 099, 100, 1000`` is ``%03d``). When no frame has a
  leading zero and all have the same width, that width is the padding (``1001-1010`` is ``%04d``);
  otherwise it is ``%d``. Only names that truly conflict split into separate sequences
  (``f.001.exr`` and ``f.0001.exr``). Padding 1 is written ``%d``: it names the same files.
- ``.DS_Store``, ``Thumbs.db`` and AppleDouble ``._*`` files are ignored.

Result order: items sorted by folder, then by display name (``File`` names and ``Sequence.name``).
"""

from __future__ import annotations

import errno
import functools
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Union

__all__ = [
    "File",
    "ScanError",
    "Sequence",
    "detect",
    "scan",
    "parse",
    "looks_like_sequence",
]

# Folder separators: on Windows both slashes separate folders, elsewhere only "/".
_SEPS = "/\\" if os.name == "nt" else "/"
_SEP_CLASS = "[/\\\\]" if os.name == "nt" else "/"
_NOT_SEP = "[^/\\\\]" if os.name == "nt" else "[^/]"

# Name rules as one expression. The head ends with "." or "_", or with a "-" that does not itself
# follow a separator (so in "f.-0002" the "-" is the frame's sign, not the separator).
_HEAD = rf"{_NOT_SEP}*(?:[._]|(?<![._-])-)"
_FRAME = r"-?[0-9]+"
_EXT = r"(?:\.[A-Za-z][A-Za-z0-9]*){0,2}"
# A name (no folder part): head, frame, tail.
_NAME_RE = re.compile(rf"(?!\._)({_HEAD})({_FRAME})({_EXT})")
# A whole path: folder (with its trailing separator, or empty), head, frame, tail.
_PATH_RE = re.compile(rf"((?:.*{_SEP_CLASS})?)(?!\._)({_HEAD})({_FRAME})({_EXT})")

_IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "thumbs.db", "Thumbs.DB", "THUMBS.DB"})

# parse() refuses more frames than this: a typo like "[1-100000000]" must not eat all memory.
MAX_PARSED_FRAMES = 10_000_000


def _is_ignored(name: str) -> bool:
    return name in _IGNORED_NAMES or name.startswith("._") or name.lower() == "thumbs.db"


def _split_folder(path: str) -> tuple[str, str]:
    """Return (folder with trailing separator or '', base name)."""
    cut = max(path.rfind(sep) for sep in _SEPS)
    return path[: cut + 1], path[cut + 1 :]


def _strip_folder(prefix: str) -> str:
    """Folder from a prefix ending in a separator ('' stays '', '/' stays '/')."""
    if len(prefix) > 1 and prefix[-1] in _SEPS:
        return prefix[:-1]
    return prefix


def _member(frame: int, padding: int) -> str:
    """The frame as it appears in a file name: zero-filled digits after an optional sign."""
    if frame < 0:
        return "-" + str(-frame).zfill(padding)
    return str(frame).zfill(padding)


def _ranges_text(frames: Iterable[int]) -> str:
    parts: list[str] = []
    start = prev = None
    for frame in frames:
        if start is None:
            start = prev = frame
        elif frame == prev + 1:
            prev = frame
        else:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = prev = frame
    if start is not None:
        parts.append(str(start) if start == prev else f"{start}-{prev}")
    return ", ".join(parts)


def _utf8_problem(path: str, what: str = "file name") -> str | None:
    """A message if ``path`` cannot be written as UTF-8 (undecodable bytes from the OS)."""
    if path.isascii():
        return None
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raw = path.encode("utf-8", "surrogateescape")
        return (
            f"{what} is not valid UTF-8 ({raw!r}); rename it with valid UTF-8 characters "
            "to publish it"
        )
    return None


@dataclass(frozen=True)
class File:
    """A single file that is not part of any sequence (``path`` as given or as found)."""

    path: str

    @property
    def folder(self) -> str:
        return _strip_folder(_split_folder(self.path)[0])

    @property
    def name(self) -> str:
        return _split_folder(self.path)[1]

    def __str__(self) -> str:
        return self.path


@dataclass(frozen=True)
class ScanError:
    """An entry that could not be read or used; ``message`` says what went wrong and what to do."""

    path: str
    message: str

    @property
    def folder(self) -> str:
        return _strip_folder(_split_folder(self.path)[0])

    @property
    def name(self) -> str:
        return _split_folder(self.path)[1]

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Sequence:
    """Numbered files ``{head}{frame padded to padding}{tail}``, e.g. ``/p/plate.1001.exr``.

    ``head`` includes the folder (as in ftrack and clique). ``frames`` is a sorted tuple of
    distinct ints (at least one). ``padding`` is the zero-filled digit count (0: unpadded ``%d``);
    a minus sign is not counted. Immutable and hashable.
    """

    head: str
    tail: str
    padding: int
    frames: tuple[int, ...]

    def __post_init__(self) -> None:
        frames = self.frames
        if not isinstance(frames, tuple):
            frames = tuple(frames)
            object.__setattr__(self, "frames", frames)
        if not frames:
            raise ValueError("a Sequence needs at least one frame")
        if any(b <= a for a, b in zip(frames, frames[1:])):
            raise ValueError("Sequence frames must be sorted and distinct")
        if not isinstance(self.padding, int) or self.padding < 0:
            raise ValueError(f"padding must be an int >= 0, not {self.padding!r}")
        if self.padding == 1:
            # %01d and %d name exactly the same files: keep one spelling so equal sequences compare equal.
            object.__setattr__(self, "padding", 0)

    # --- what the issue asks for -----------------------------------------------------------
    @functools.cached_property
    def holes(self) -> tuple[int, ...]:
        """Missing frames between the first and the last, sorted."""
        frames = self.frames
        if frames[-1] - frames[0] + 1 == len(frames):
            return ()
        present = set(frames)
        return tuple(f for f in range(frames[0], frames[-1] + 1) if f not in present)

    def format(self, pattern: str = "{head}{padding}{tail} [{ranges}]") -> str:
        """ftrack's sequence string, e.g. ``/p/plate.%04d.exr [1001-1005, 1007-1010]``.

        ``pattern`` may use ``{head}``, ``{padding}``, ``{tail}``, ``{ranges}``, ``{holes}``,
        ``{folder}``, ``{name}``, ``{first}``, ``{last}`` (as clique's ``Collection.format``).
        """
        data: dict[str, Any] = {"head": self.head, "padding": self.padding_token, "tail": self.tail}
        if "{ranges}" in pattern:
            data["ranges"] = self.ranges
        if "{holes}" in pattern:
            data["holes"] = _ranges_text(self.holes)
        if "{folder}" in pattern:
            data["folder"] = self.folder
        if "{name}" in pattern:
            data["name"] = self.name
        data["first"] = self.first
        data["last"] = self.last
        return pattern.format(**data)

    # --- what the client and the GUI need --------------------------------------------------
    @property
    def padding_token(self) -> str:
        """``%04d`` for padding 4, ``%d`` when unpadded."""
        return f"%0{self.padding}d" if self.padding else "%d"

    @property
    def first(self) -> int:
        return self.frames[0]

    @property
    def last(self) -> int:
        return self.frames[-1]

    @property
    def ranges(self) -> str:
        """Frames as ranges, e.g. ``1001-1005, 1007-1010``."""
        return _ranges_text(self.frames)

    @property
    def folder(self) -> str:
        return _strip_folder(_split_folder(self.head)[0])

    @property
    def name(self) -> str:
        """Display name without the folder, e.g. ``plate.%04d.exr``."""
        return _split_folder(self.head)[1] + self.padding_token + self.tail

    def member_name(self, frame: int) -> str:
        """The padded index ftrack names a sequence member by (``'1001'``, ``'-0002'``)."""
        return _member(frame, self.padding)

    def path(self, frame: int) -> str:
        """The path that ``frame`` has (or, for a hole, would have)."""
        return self.head + _member(frame, self.padding) + self.tail

    def paths(self) -> list[str]:
        """The full path of every frame, in frame order."""
        head, tail, padding = self.head, self.tail, self.padding
        return [head + _member(f, padding) + tail for f in self.frames]

    def __len__(self) -> int:
        return len(self.frames)

    def __contains__(self, frame: object) -> bool:
        if not isinstance(frame, int):
            return False
        frames = self.frames
        lo, hi = 0, len(frames)
        while lo < hi:
            mid = (lo + hi) // 2
            if frames[mid] < frame:
                lo = mid + 1
            else:
                hi = mid
        return lo < len(frames) and frames[lo] == frame

    def __str__(self) -> str:
        return self.format()

    # --- clique interoperability -----------------------------------------------------------
    def to_collection(self) -> Any:
        """This sequence as a ``clique.Collection`` (clique 1.6 or 2.x)."""
        import clique

        return clique.Collection(self.head, self.tail, self.padding, indexes=set(self.frames))

    @classmethod
    def from_collection(cls, collection: Any) -> "Sequence":
        """A ``Sequence`` from a non-empty ``clique.Collection``."""
        frames = tuple(sorted(collection.indexes))
        if not frames:
            raise ValueError(f"clique collection {collection!r} has no frames")
        return cls(collection.head, collection.tail, int(collection.padding), frames)


Item = Union[Sequence, File, ScanError]


# --- grouping ------------------------------------------------------------------------------

def _resolve_group(prefix: str, tail: str, nums: list[str], out: list) -> None:
    """Turn the frame strings found for one folder+head+tail into Sequences and Files.

    ``prefix`` is folder + head. Appends to ``out``.
    """
    if len(nums) == 1:
        out.append(File(prefix + nums[0] + tail))
        return
    unique = set(nums)
    if len(unique) == 1:  # the same path given several times
        out.append(File(prefix + nums[0] + tail))
        return
    widths = {len(s) for s in unique}
    # Fast path, by far the most common case: no negative frames, all one width. Every frame then
    # fits padding = that width, whether or not it shows a leading zero.
    if len(widths) == 1 and min(unique)[0] != "-":
        width = widths.pop()
        out.append(Sequence(prefix, tail, width, tuple(sorted(map(int, unique)))))
        return
    _resolve_mixed(prefix, tail, unique, out)


def _resolve_mixed(prefix: str, tail: str, nums: set[str], out: list) -> None:
    # width -> {frame: original digits}; a zero-padded frame fixes its sequence's padding.
    padded: dict[int, dict[int, str]] = {}
    plain: list[tuple[int, int, str]] = []  # (digit count, frame, text): no leading zero
    for text in nums:
        digits = text[1:] if text[0] == "-" else text
        frame = int(text)
        if len(digits) > 1 and digits[0] == "0":
            bucket = padded.setdefault(len(digits), {})
            if frame in bucket:  # "-0000" next to "0000": the same frame twice
                out.append(File(prefix + text + tail))
            else:
                bucket[frame] = text
        else:
            plain.append((len(digits), frame, text))

    widths_desc = sorted(padded, reverse=True)
    leftover: list[tuple[int, int, str]] = []
    for width, frame, text in plain:
        # A frame without leading zero fits any padding up to its own width: prefer the widest.
        for padding in widths_desc:
            if padding <= width and frame not in padded[padding]:
                padded[padding][frame] = text
                break
        else:
            leftover.append((width, frame, text))

    groups: list[tuple[int, dict[int, str]]] = list(padded.items())
    if leftover:
        widths = {w for w, _, _ in leftover}
        padding = widths.pop() if len(widths) == 1 else 0
        bucket: dict[int, str] = {}
        for _, frame, text in leftover:
            if frame in bucket:  # "-0" next to "0"
                out.append(File(prefix + text + tail))
            else:
                bucket[frame] = text
        groups.append((padding, bucket))

    for padding, bucket in groups:
        if len(bucket) == 1:
            (text,) = bucket.values()
            out.append(File(prefix + text + tail))
        else:
            out.append(Sequence(prefix, tail, padding, tuple(sorted(bucket))))


def _sort_key(item: Item) -> tuple[str, str, int]:
    if type(item) is Sequence:
        folder, name = _split_folder(item.head)
        return (folder, name + item.padding_token + item.tail, 0)
    folder, name = _split_folder(item.path)
    return (folder, name, 1)


def _fspath(path: Any) -> str:
    path = os.fspath(path)
    if isinstance(path, bytes):
        return os.fsdecode(path)
    return path


def detect(paths: Iterable[str | os.PathLike[str] | bytes]) -> list[Item]:
    """Group file paths into ``Sequence`` and ``File`` items (no file system access).

    Paths are kept as given (relative paths stay relative); names in different folders never
    share a sequence. Ignored names (``.DS_Store``, ``Thumbs.db``, ``._*``) are dropped; a path
    whose name is not valid UTF-8 becomes a ``ScanError``; a path given twice counts once.
    """
    match = _PATH_RE.fullmatch
    groups: defaultdict[tuple[str, str, str], list[str]] = defaultdict(list)
    out: list[Item] = []
    singles: set[str] = set()
    for path in paths:
        if type(path) is not str:
            path = _fspath(path)
        if not path.isascii():
            problem = _utf8_problem(path)
            if problem is not None:
                out.append(ScanError(path, problem))
                continue
        m = match(path)
        if m is None:
            if not _is_ignored(_split_folder(path)[1]) and path:
                singles.add(path)
            continue
        folder, head, num, tail = m.groups()
        groups[folder, head, tail].append(num)
    out.extend(File(p) for p in singles)
    for (folder, head, tail), nums in groups.items():
        _resolve_group(folder + head, tail, nums, out)
    out.sort(key=_sort_key)
    return out


def _assemble_folder(prefix: str, names: list[str], out: list) -> None:
    """Group the file names of one folder (``prefix`` = folder + separator)."""
    match = _NAME_RE.fullmatch
    groups: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    for name in names:
        m = match(name)
        if m is None:
            if not _is_ignored(name):
                out.append(File(prefix + name))
            continue
        head, num, tail = m.groups()
        groups[head, tail].append(num)
    for (head, tail), nums in groups.items():
        _resolve_group(prefix + head, tail, nums, out)


def _open_error(path: str, exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if isinstance(exc, PermissionError):
        return f"cannot read folder ({reason}); check its permissions"
    if exc.errno == errno.ELOOP:
        return f"symbolic link loop ({reason}); remove or fix the link"
    return f"cannot read folder ({reason})"


def scan(folder: str | os.PathLike[str], recursive: bool = False) -> list[Item]:
    """List a folder with ``os.scandir`` and group its files into ``Sequence`` and ``File`` items.

    With ``recursive=True`` subfolders are scanned too (symbolic links to folders are followed
    once; a folder reached again is reported as a loop, not scanned twice). Subfolders themselves
    are not items. Entry problems come back as ``ScanError`` items; if ``folder`` itself cannot be
    listed an ``OSError`` naming it is raised. Paths are ``folder`` joined with the names found.
    """
    root = _fspath(folder)
    problem = _utf8_problem(root, "folder name")
    if problem is not None:
        raise UnicodeError(f"cannot scan {root!r}: {problem}")
    try:
        top = os.scandir(root)
    except OSError as exc:
        raise type(exc)(exc.errno, f"cannot scan folder: {exc.strerror or exc}", root) from exc

    out: list[Item] = []
    seen: set[tuple[int, int]] = set()
    if recursive:
        try:
            st = os.stat(root)
            seen.add((st.st_dev, st.st_ino))
        except OSError:
            pass
    pending: list[tuple[str, Any]] = [(root, top)]
    while pending:
        path, iterator = pending.pop()
        if iterator is None:
            try:
                iterator = os.scandir(path)
            except OSError as exc:
                out.append(ScanError(path, _open_error(path, exc)))
                continue
        prefix = path if path.endswith(tuple(_SEPS)) else path + os.sep
        names: list[str] = []
        subfolders: list[str] = []
        with iterator:
            try:
                for entry in iterator:
                    # d_type answers is_file()/is_dir() without a stat call on most file systems;
                    # only symbolic links are followed, and a looping one raises here.
                    try:
                        if entry.is_file():
                            names.append(entry.name)
                        elif entry.is_dir():
                            if recursive:
                                subfolders.append(entry.name)
                        elif entry.is_symlink():
                            out.append(_broken_link(prefix + entry.name))
                    except OSError:
                        out.append(_broken_link(prefix + entry.name))
            except OSError as exc:
                out.append(ScanError(path, f"folder listing stopped early ({exc.strerror or exc})"))
        bad = [n for n in names if not n.isascii() and _utf8_problem(n)]
        if bad:
            bad_set = set(bad)
            names = [n for n in names if n not in bad_set]
            out.extend(ScanError(prefix + n, _utf8_problem(n) or "") for n in bad)
        _assemble_folder(prefix, names, out)
        for name in subfolders:
            sub = prefix + name
            problem = _utf8_problem(name, "folder name")
            if problem is not None:
                out.append(ScanError(sub, problem + "; its files were not scanned"))
                continue
            try:
                st = os.stat(sub)
            except OSError as exc:
                out.append(ScanError(sub, _open_error(sub, exc)))
                continue
            key = (st.st_dev, st.st_ino)
            if key in seen:
                out.append(ScanError(sub, "symbolic link loop or second link to a folder already "
                                          "scanned; skipped"))
                continue
            seen.add(key)
            pending.append((sub, None))
    out.sort(key=_sort_key)
    return out


def _broken_link(path: str) -> ScanError:
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return ScanError(path, "symbolic link loop; fix or remove the link")
        return ScanError(path, f"broken symbolic link ({exc.strerror or exc}); fix or remove it")
    return ScanError(path, "symbolic link to something that is not a file or folder; skipped")


# --- parsing -------------------------------------------------------------------------------

_RANGES_RE = re.compile(r"(.*?)\s*\[([^\[\]]*)\]\s*", re.S)
_TOKEN_RE = re.compile(r"%(?P<pct>[0-9]*)d|(?P<hash>#+)|(?P<at>@+)|\$F(?P<hou>[0-9]*)")
_RANGE_RE = re.compile(r"\s*(-?[0-9]+)\s*(?:-\s*(-?[0-9]+)\s*)?")
_TOKENS_HELP = "%04d, %d, ####, @@@@ or $F4"


def looks_like_sequence(text: str) -> bool:
    """Whether ``text`` has the shape of a sequence string (a frame token and ``[ranges]``)."""
    if not isinstance(text, str):
        return False
    m = _RANGES_RE.fullmatch(text.strip())
    return bool(m and _TOKEN_RE.search(_split_folder(m.group(1))[1]))


def parse(text: str) -> Sequence:
    """Parse ``'{head}{padding}{tail} [{ranges}]'`` into a ``Sequence``.

    ``padding`` may be ``%04d``, ``%d``, ``####``, ``@@@@`` or Houdini's ``$F4`` (``$F``:
    unpadded); ranges look like ``[1001-1050, 1052]`` (negative frames: ``[-5--1, 3]``). If the
    file name holds several tokens the last one is the frame number. ``parse(seq.format())``
    equals ``seq``. Raises ``ValueError`` saying what is wrong, ``TypeError`` for a non-string.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() needs a sequence string, not {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise ValueError("empty sequence string; expected e.g. '/p/plate.%04d.exr [1001-1050]'")
    m = _RANGES_RE.fullmatch(stripped)
    if m is None:
        raise ValueError(
            f"{text!r} has no frame ranges at the end; add them in brackets, "
            f"e.g. '{stripped} [1001-1050, 1052]'"
        )
    pattern, ranges = m.group(1), m.group(2)
    folder, name = _split_folder(pattern)
    tokens = list(_TOKEN_RE.finditer(name))
    if not tokens:
        raise ValueError(
            f"{text!r} has no frame number token in its file name {name!r}; "
            f"use one of {_TOKENS_HELP}"
        )
    token = tokens[-1]
    padding = _token_padding(token, text)
    head = folder + name[: token.start()]
    tail = name[token.end():]
    frames = _parse_ranges(ranges, text)
    return Sequence(head, tail, padding, frames)


def _token_padding(token: re.Match[str], text: str) -> int:
    if token.group("hash") is not None:
        return len(token.group("hash"))
    if token.group("at") is not None:
        return len(token.group("at"))
    if token.group("hou") is not None:
        digits = token.group("hou")
        return int(digits) if digits else 0
    digits = token.group("pct")
    if not digits or digits == "0":
        return 0
    if digits[0] != "0" or len(digits) == 1:
        raise ValueError(
            f"{text!r}: {token.group(0)!r} pads with spaces, not zeros; "
            f"write '%0{int(digits)}d' for zero-padded frames or '%d' for unpadded ones"
        )
    return int(digits)


def _parse_ranges(ranges: str, text: str) -> tuple[int, ...]:
    if not ranges.strip():
        raise ValueError(f"{text!r} has empty frame ranges '[]'; list frames like [1001-1050, 1052]")
    frames: set[int] = set()
    for part in ranges.split(","):
        m = _RANGE_RE.fullmatch(part)
        if m is None:
            raise ValueError(
                f"{text!r}: cannot read frame range {part.strip()!r}; "
                "write single frames or first-last ranges separated by commas, e.g. [1001-1050, 1052]"
            )
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) is not None else first
        if last < first:
            raise ValueError(f"{text!r}: frame range {part.strip()!r} ends before it starts")
        if len(frames) + (last - first + 1) > MAX_PARSED_FRAMES:
            raise ValueError(
                f"{text!r} lists more than {MAX_PARSED_FRAMES:,} frames; check the ranges for a typo"
            )
        frames.update(range(first, last + 1))
    return tuple(sorted(frames))
