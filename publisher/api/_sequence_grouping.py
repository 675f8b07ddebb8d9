"""The grouping engine behind ``sequences.detect`` and ``sequences.scan``: names in, items out.

Why it looks the way it does: a million names must group in about a second, and a scan must cost
little more than listing the folder. Running the naming regular expression on every name costs
about as much as the listing itself, so names are first *masked* (every digit 1-9 becomes 0, by
C-level ``str.translate`` over chunks of names joined): all frames of a sequence share one mask
(``sh010_beauty.0000.exr``), and the expression runs once per mask. Its match positions hold for
every name with that mask, because masking keeps every character class the expression tests.
Names of one mask that agree outside the frame (checked column by column) form one group as they
are; the others are grouped by (head, tail) with dictionaries. Frame texts are cut by slicing in
C only when turned into ints. All of it is linear in the number of names: no collection is ever
compared with another.
"""

from __future__ import annotations

import os
import re
from operator import itemgetter
from typing import Any

from ._sequence_items import File, Item, ScanError, Sequence, split_folder, trusted_sequence

_SEP_CLASS = "[/\\\\]" if os.name == "nt" else "/"
_NOT_SEP = "[^/\\\\]" if os.name == "nt" else "[^/]"

# The naming rules as one expression. The head ends with "." or "_", or with a "-" that does not
# itself follow a separator (so in "f.-0002" the "-" is the frame's sign, not a separator). The
# extension has at most two parts, each starting with a letter; "(?!\._)" leaves out AppleDouble.
# The head may also be empty: a name that is a frame number alone ("0001.exr", Blender's default
# output) is a frame of a sequence whose head is its folder.
_HEAD = rf"(?:{_NOT_SEP}*(?:[._]|(?<![._-])-))?"
_FRAME = r"-?[0-9]+"
_EXT = r"(?:\.[A-Za-z][A-Za-z0-9]*){0,2}"
NAME_RE = re.compile(rf"(?!\._){_HEAD}(?P<frame>{_FRAME}){_EXT}")
PATH_RE = re.compile(rf"(?:.*{_SEP_CLASS})?(?!\._){_HEAD}(?P<frame>{_FRAME}){_EXT}")

_MASK = str.maketrans("123456789", "000000000")
Part = tuple[list[str], int, int, "int | None"]
_CHUNK = 32768  # names masked at a time
_IGNORED_NAMES = frozenset({".DS_Store"})


def is_ignored(name: str) -> bool:
    """Desktop clutter that is never published: ``.DS_Store``, ``Thumbs.db``, ``._*``."""
    return name in _IGNORED_NAMES or name.startswith("._") or name.lower() == "thumbs.db"


def utf8_problem(path: str, what: str = "file name") -> str | None:
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


def split_bad_utf8(names: list[str], prefix: str, out: list[Item]) -> list[str]:
    """Names that are valid UTF-8; the others become ``ScanError`` items in ``out``."""
    good = []
    for name in names:
        problem = utf8_problem(name)
        if problem is None:
            good.append(name)
        else:
            out.append(ScanError(prefix + name, problem))
    return good


def assemble(names: list[str], prefix: str, whole_paths: bool, out: list[Any]) -> None:
    """Group ``names`` into Sequence and File items appended to ``out``.

    ``whole_paths``: names are full paths (``detect``: folder is part of the head, duplicates are
    dropped); otherwise they are the distinct names of the folder ``prefix`` (``scan``).
    """
    if not names:
        return
    if not all(map(str.isascii, names)):
        names = split_bad_utf8(names, prefix, out)
    by_mask: dict[str, list[str]] = {}
    # In chunks: the joined and masked copies then stay small enough for the CPU caches, which
    # keeps the time per name nearly flat from a thousand names to millions.
    for offset in range(0, len(names), _CHUNK):
        chunk = names[offset:offset + _CHUNK]
        joined = "\0".join(chunk)
        # No file name holds a NUL, but detect() takes any string: trust the split if it fits.
        if joined.count("\0") == len(chunk) - 1:
            masked = joined.translate(_MASK).split("\0")
        else:
            masked = [name.translate(_MASK) for name in chunk]
        del joined
        for mask, name in zip(masked, chunk):
            members = by_mask.get(mask)
            if members is None:
                by_mask[mask] = [name]
            else:
                members.append(name)

    match = (PATH_RE if whole_paths else NAME_RE).fullmatch
    # (head, tail) -> parts; a part is (names, frame start, frame end, unsigned width or None),
    # the names of one mask. Names are kept whole: frame texts are cut only when needed.
    groups: dict[tuple[str, str], list[Part]] = {}

    def add(key: tuple[str, str], part: Part) -> None:
        parts = groups.get(key)
        if parts is None:
            groups[key] = [part]
        else:
            parts.append(part)

    singles: list[str] = []
    for mask, members in by_mask.items():
        m = match(mask)
        if m is None:
            singles.extend(members)
            continue
        start, end = m.span("frame")
        # Frames with a sign take the careful path: give them no width.
        width = end - start if mask[start] != "-" else None
        first = members[0]
        if len(members) == 1 or _same_outside(mask, start, end, members):
            add((first[:start], first[end:]), (members, start, end, width))
            continue
        # Heads (or tails) differ in their digits (sh010_, sh020_): group name by name.
        heads = map(itemgetter(slice(0, start)), members)  # slicing in C
        if "0" not in mask[end:]:  # a tail without digits is the same text in every name
            tail = mask[end:]
            by_head: dict[str, list[str]] = {}
            for head, name in zip(heads, members):
                same_head = by_head.get(head)
                if same_head is None:
                    by_head[head] = [name]
                else:
                    same_head.append(name)
            for head, same_head in by_head.items():
                add((head, tail), (same_head, start, end, width))
            continue
        tails = map(itemgetter(slice(end, None)), members)
        split: dict[tuple[str, str], list[str]] = {}
        for key, name in zip(zip(heads, tails), members):
            same_key = split.get(key)
            if same_key is None:
                split[key] = [name]
            else:
                same_key.append(name)
        for key, same_key in split.items():
            add(key, (same_key, start, end, width))

    if whole_paths:
        singles = list(dict.fromkeys(singles))
    for name in singles:
        if not is_ignored(split_folder(name)[1] if whole_paths else name):
            out.append(File(prefix + name))
    for (head, tail), parts in groups.items():
        resolve_group(prefix, head, tail, parts, whole_paths, out)


def _same_outside(mask: str, start: int, end: int, members: list[str]) -> bool:
    """Whether all ``members`` (names sharing ``mask``) are equal outside ``[start:end]``.

    Names with one mask can differ only where the mask has digits. For ASCII names that is
    checked column by column on the joined bytes (strided slices run in C), instead of cutting
    and hashing every head.
    """
    columns = [i for i, c in enumerate(mask) if c == "0" and not start <= i < end]
    if not columns:
        return True
    stride = len(mask) + 1
    data = "\0".join(members).encode("utf-8", "surrogateescape")
    count = len(members)
    if len(data) != count * stride - 1:  # non-ASCII: byte columns do not line up
        first = members[0]
        head, tail = first[:start], first[end:]
        return all(n.startswith(head) and n.endswith(tail) for n in members)
    for i in columns:
        column = data[i::stride]
        if column.count(column[:1]) != count:
            return False
    return True


def resolve_group(prefix: str, head: str, tail: str, parts: list[Part], dedupe: bool,
                  out: list[Any]) -> None:
    """Turn the names found for one folder + head + tail into Sequences and Files.

    ``dedupe``: the same name may occur more than once (detect() takes any list of paths).
    """
    if len(parts) == 1:
        names, start, end, width = parts[0]
        if dedupe and len(names) > 1:
            unique = set(names)
            if len(unique) != len(names):
                names = list(unique)
        if len(names) == 1:
            out.append(File(prefix + names[0]))
            return
        if width is not None:
            # By far the most common case: one mask, so one width and no sign. Every frame then
            # fits padding = that width, leading zero or not (1001-1010 is %04d).
            frames = sorted(map(int, map(itemgetter(slice(start, end)), names)))
            out.append(trusted_sequence(prefix + head, tail, width, tuple(frames)))
            return
    nums = [name[start:end] for names, start, end, _ in parts for name in names]
    if dedupe:
        nums = list(set(nums))
    if len(nums) == 1:
        out.append(File(prefix + head + nums[0] + tail))
        return
    widths = set(map(len, nums))
    if len(widths) == 1 and min(nums)[0] != "-":
        frames = sorted(map(int, nums))
        out.append(trusted_sequence(prefix + head, tail, widths.pop(), tuple(frames)))
        return
    _resolve_mixed(prefix + head, tail, nums, out)


def _resolve_mixed(prefix: str, tail: str, nums: list[str], out: list[Any]) -> None:
    # width -> {frame: text}: a zero-padded frame ("0042") fixes its sequence's padding.
    padded: dict[int, dict[int, str]] = {}
    plain: list[tuple[int, int, str]] = []  # (digit count, frame, text), no leading zero
    for text in nums:
        digits = text[1:] if text[0] == "-" else text
        frame = int(text)
        if len(digits) > 1 and digits[0] == "0":
            bucket = padded.setdefault(len(digits), {})
            if frame in bucket:  # "-0000" beside "0000": one frame twice
                out.append(File(prefix + text + tail))
            else:
                bucket[frame] = text
        else:
            plain.append((len(digits), frame, text))

    widest_first = sorted(padded, reverse=True)
    leftover: list[tuple[int, int, str]] = []
    for width, frame, text in plain:
        # A frame without a leading zero fits any padding up to its own width ("1000" in %03d).
        for padding in widest_first:
            if padding <= width and frame not in padded[padding]:
                padded[padding][frame] = text
                break
        else:
            leftover.append((width, frame, text))

    buckets: list[tuple[int, dict[int, str]]] = list(padded.items())
    if leftover:
        widths = {width for width, _, _ in leftover}
        # Unpadded frames of one width pad to it; of several widths (8, 9, 10) they are %d.
        padding = widths.pop() if len(widths) == 1 else 0
        bucket = {}
        for _, frame, text in leftover:
            if frame in bucket:  # "-0" beside "0"
                out.append(File(prefix + text + tail))
            else:
                bucket[frame] = text
        buckets.append((padding, bucket))

    for padding, bucket in buckets:
        if len(bucket) == 1:
            (text,) = bucket.values()
            out.append(File(prefix + text + tail))
        else:
            out.append(trusted_sequence(prefix, tail, padding, tuple(sorted(bucket))))


def sort_key(item: Item) -> tuple[str, str]:
    """Order items by folder, then by display name."""
    if isinstance(item, Sequence):
        folder, name = split_folder(item.head)
        return (folder, name + item.padding_token + item.tail)
    return split_folder(item.path)
