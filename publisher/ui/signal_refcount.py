"""A guard against reference-counting bugs in some PySide6 releases.

PySide6 6.12.0 returns ``True`` from ``SignalInstance.emit()`` without taking a reference to it,
so every signal emitted from Python takes one reference of ``True`` away. On Python 3.12 and
later ``True`` is immortal and nothing happens; on Python 3.10 and 3.11 (what Maya, Nuke and
Houdini embed) the interpreter aborts with "Fatal Python error: bool_dealloc" once the
references run out: after a few thousand progress updates of a long publish, or at exit.

:func:`guard` gives ``True`` and ``False`` a reserve of references so large that no session
can spend it, on every Python before 3.12: harmless where there is no leak (they are never freed
anyway), and a measurement at start-up cannot be trusted while other threads are taking and
dropping references to ``True`` (it once missed the leak that way). :func:`leaks_per_emit`
measures it, for diagnostics and tests. Called once when :mod:`publisher.ui` is imported, before
any signal is emitted; any thread, idempotent.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject, Signal

#: References added to ``True`` and ``False`` (2**40: about 10**12 emits, far beyond any
#: session, and far below the counter's limit).
RESERVE = 1 << 40
_PROBES = 8


class _Probe(QObject):
    fired = Signal(int)


def leaks_per_emit() -> int:
    """How many references of ``True`` one ``emit()`` takes away here (0 when it is sound)."""
    probe = _Probe()
    probe.fired.connect(lambda _value: None)
    before = sys.getrefcount(True)
    for i in range(_PROBES):
        probe.fired.emit(i)
    return max(0, (before - sys.getrefcount(True)) // _PROBES)


_guarded = False


def guard() -> bool:
    """Reserve references for ``True``, ``False`` and ``None`` (Python < 3.12); True when it did."""
    global _guarded
    if _guarded or sys.version_info >= (3, 12):
        return _guarded
    # None too: the full test suite also ran out of None's references (none_dealloc) after about
    # 1,400 tests, from a leak not pinned down in the time there was (PySide's own calls measured
    # clean one by one); like True and False it is never freed, so a reserve costs nothing.
    for value in (True, False, None):
        # ob_refcnt is the first field of every object in a release build of CPython.
        ctypes.c_ssize_t.from_address(id(value)).value += RESERVE
    _guarded = True
    return True
