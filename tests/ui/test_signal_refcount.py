"""The guard against PySide6's emit() reference leak: after it, emitting signals never brings
``True`` near zero references (which aborts Python 3.10/3.11 with "bool_dealloc")."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_many_emits_do_not_abort_the_interpreter():
    # In a child: the abort kills the process, and the guard must run as the app runs it
    # (importing publisher.ui). 100,000 emits are more than True has references at start.
    code = textwrap.dedent("""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        import publisher.ui
        from publisher.ui import signal_refcount
        from PySide6.QtCore import QObject, Signal

        class S(QObject):
            tick = Signal(int, bool)

        s = S()
        s.tick.connect(lambda *_: None)
        start = sys.getrefcount(True)
        for i in range(100_000):
            s.tick.emit(i, True)
        print("leak", signal_refcount.leaks_per_emit(), "left", sys.getrefcount(True) > 1000)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "left True" in done.stdout


def test_guard_is_idempotent_and_reports_what_it_did():
    from publisher.ui import signal_refcount

    first = signal_refcount.guard()
    assert signal_refcount.guard() == first
    if sys.version_info >= (3, 12):
        assert first is False  # True is immortal there: nothing to guard
