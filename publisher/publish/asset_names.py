"""Asset names proposed from what an artist drops: without version or frame tokens.

An asset holds every version of one piece of work, so its name must not carry the version
(``sh010_comp_v003`` is version 3 of the asset ``sh010_comp``) nor a frame number or pattern; a
proposal that kept them would make every render version an asset of its own. No Qt; any thread.
"""

from __future__ import annotations

import re

# A version token: v3, v003, V012, _v003_ in the middle, .v2 before an extension; also "ver003"
# and "version3". Must stand alone between separators (so "dev2" or "rev" are not versions).
_VERSION_TOKEN = re.compile(r"(?:(?<=^)|(?<=[._\- ]))(?:v|ver|version)\d+(?=$|[._\- ])", re.IGNORECASE)
# Frame numbers and frame patterns: %04d, %d, ####, @@@, $F4, $F, and a run of 3+ digits at the end.
_FRAME_TOKEN = re.compile(r"%0?\d*d|#+|@+|\$F\d?|(?<=[._\-])\d{3,}$")
_SEPARATORS = re.compile(r"[._\- ]{2,}")
_INVALID = re.compile(r"[^A-Za-z0-9_.\-]+")


def propose(name: str, fallback: str = "main") -> str:
    """The asset name to propose for staged work called ``name`` (a component name or a file
    name without its folder): ``sh010_comp_v003`` -> ``sh010_comp``, ``plate.%04d`` -> ``plate``.
    ``fallback`` when nothing is left (``v003``)."""
    text = name.strip()
    previous = None
    while previous != text:  # "comp_v003.1001": the frame goes first, then the version is at the end
        previous = text
        text = _FRAME_TOKEN.sub("", text)
        text = _VERSION_TOKEN.sub("", text)
        text = _INVALID.sub("_", text)
        text = _SEPARATORS.sub(lambda m: m.group(0)[0], text).strip("._- ")
    return text or fallback
