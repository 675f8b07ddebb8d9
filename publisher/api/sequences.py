"""Image-sequence detection: file names and folders to sequences, and sequence strings back.

What it is for: an artist drops a render folder or a pile of files; the publisher must show the
sequences in it (with their holes) at once, and ``AssetVersion.create_component`` must accept the
ftrack sequence string ``'{head}{padding}{tail} [{ranges}]'`` that ``Sequence.format()`` writes.

Public interface:

- ``detect(paths)``: file paths (any mix, any folders) -> ``list[Sequence | File | ScanError]``.
  Pure string work, no file system access, linear in the number of names (see
  ``_sequence_grouping`` for how: no collection is ever compared with another).
- ``scan(folder, recursive=False)``: the files of a folder (``os.scandir``) -> the same list.
- ``parse(text)``: a sequence string -> ``Sequence``; ``ValueError`` saying what is wrong.
- ``Sequence`` (frozen, hashable): ``head``, ``tail``, ``padding``, ``frames``, ``holes``,
  ``format()``, ``paths()``, ``path(frame)``, ``member_name(frame)``, ``padding_token``,
  ``folder``, ``name``, ``ranges``, ``first``, ``last``, ``len()``; ``File``: ``path``;
  ``ScanError``: ``path``, ``message``. ``Sequence.to_collection()`` / ``from_collection()``
  convert to and from ``clique.Collection`` (clique 1.6 or 2.x). clique's own ``assemble`` is not
  used: it compares every collection with every other and takes 1001-1010 for ``%d``.

Errors: problems with *one entry* (a subfolder that cannot be read, a symbolic link loop or a
broken link, a name that is not valid UTF-8) never abort a scan; they come back as ``ScanError``
items (``path``, ``message``) in the result list, in the same place a file would be. Only when the
folder given to ``scan`` itself cannot be listed does ``scan`` raise an ``OSError`` (the usual
subclass, e.g. ``FileNotFoundError`` or ``NotADirectoryError``) whose ``filename`` is that folder,
or ``UnicodeError`` (a ``ValueError``) naming it if its own path is not valid UTF-8. ``detect``
never raises for a path: one that is not valid UTF-8 becomes a ``ScanError`` item too.

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
- ``.DS_Store``, ``Thumbs.db`` (any case) and AppleDouble ``._*`` files are ignored.

Result order: items sorted by folder, then by display name (``File`` names and ``Sequence.name``).
"""

from __future__ import annotations

import errno
import os
import re
from typing import Any, Iterable

from ._sequence_grouping import assemble, sort_key, utf8_problem
from ._sequence_items import SEPS, File, Item, ScanError, Sequence, split_folder

__all__ = [
    "File",
    "Item",
    "MAX_PARSED_FRAMES",
    "ScanError",
    "Sequence",
    "detect",
    "looks_like_sequence",
    "parse",
    "scan",
]

# parse() refuses more frames than this: a typo like "[1-100000000]" must not eat all memory.
MAX_PARSED_FRAMES = 10_000_000


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
    if isinstance(paths, (str, bytes, os.PathLike)):
        raise TypeError(
            f"detect() takes a list of paths, not one path ({paths!r}); "
            "write detect([path]), or scan(folder) for the files in a folder"
        )
    names = [p if type(p) is str else _fspath(p) for p in paths]
    out: list[Item] = []
    if not all(names):
        names = [p for p in names if p]
    assemble(names, "", True, out)
    out.sort(key=sort_key)
    return out


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
    problem = utf8_problem(root, "folder name")
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
        prefix = path if path.endswith(tuple(SEPS)) else path + os.sep
        names, rest, failure = _list_folder(path, iterator)
        if failure is not None:
            out.append(failure)
        subfolders: list[str] = []
        for entry in rest:
            try:
                if entry.is_dir():
                    if recursive:
                        subfolders.append(entry.name)
                elif entry.is_symlink():
                    out.append(_broken_link(prefix + entry.name))
            except OSError:
                out.append(_broken_link(prefix + entry.name))
        assemble(names, prefix, False, out)
        for name in subfolders:
            sub = prefix + name
            problem = utf8_problem(name, "folder name")
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
    out.sort(key=sort_key)
    return out


def _list_folder(
    path: str, iterator: Any
) -> tuple[list[str], list[os.DirEntry[str]], ScanError | None]:
    """(names of files, other entries, error) of an open ``os.scandir`` iterator.

    The fast way is one comprehension: ``d_type`` answers ``is_file()`` without a stat call on
    most file systems, and non-files drop into ``rest`` (``append`` returns None). Only symbolic
    links are followed, and a looping one raises, as does a listing that fails midway: then
    the folder is listed again the careful way, entry by entry, keeping what can be read.
    """
    rest: list[os.DirEntry[str]] = []
    try:
        with iterator:
            names = []
            for entry in iterator:
                if entry.is_file():
                    names.append(entry.name)
                else:
                    rest.append(entry)
        return names, rest, None
    except OSError:
        pass
    names, rest = [], []
    failure = None
    try:
        with os.scandir(path) as again:
            for entry in again:
                try:
                    is_file = entry.is_file()
                except OSError:
                    is_file = False
                if is_file:
                    names.append(entry.name)
                else:
                    rest.append(entry)
    except OSError as exc:
        failure = ScanError(path, f"folder listing stopped early ({exc.strerror or exc}); "
                                  "the files after that point are missing")
    return names, rest, failure


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
    return bool(m and _TOKEN_RE.search(split_folder(m.group(1))[1]))


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
    folder, name = split_folder(pattern)
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
        raise ValueError(
            f"{text!r} has empty frame ranges '[]'; list frames like [1001-1050, 1052]"
        )
    frames: set[int] = set()
    for part in ranges.split(","):
        m = _RANGE_RE.fullmatch(part)
        if m is None:
            raise ValueError(
                f"{text!r}: cannot read frame range {part.strip()!r}; "
                "write single frames or first-last ranges separated by commas, "
                "e.g. [1001-1050, 1052]"
            )
        first = int(m.group(1))
        last = int(m.group(2)) if m.group(2) is not None else first
        if last < first:
            raise ValueError(f"{text!r}: frame range {part.strip()!r} ends before it starts")
        if len(frames) + (last - first + 1) > MAX_PARSED_FRAMES:
            raise ValueError(
                f"{text!r} lists more than {MAX_PARSED_FRAMES:,} frames; "
                "check the ranges for a typo"
            )
        frames.update(range(first, last + 1))
    return tuple(sorted(frames))
