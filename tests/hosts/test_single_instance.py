"""One running instance per user and server profile (issue 11, point 6b): a second launch of
the same profile raises the first window and exits; another profile runs beside it."""

from __future__ import annotations

import subprocess
import sys

from publisher.hosts import single_instance

_SECOND_LAUNCH = r"""
import sys
from pathlib import Path
from PySide6.QtCore import QCoreApplication
from publisher.hosts import single_instance

app = QCoreApplication([])
claimed = single_instance.claim(sys.argv[1], lock_dir=Path(sys.argv[2]))
print("first" if claimed is not None else "second", flush=True)
"""


def _launch(profile: str, lock_dir) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _SECOND_LAUNCH, profile, str(lock_dir)],
                            stdout=subprocess.PIPE, text=True)


def test_second_launch_of_a_profile_raises_the_first(qtbot, tmp_path):
    first = single_instance.claim("http://studio|sam", lock_dir=tmp_path)
    assert first is not None
    try:
        with qtbot.waitSignal(first.raiseRequested, timeout=20000):
            second = _launch("http://studio|sam", tmp_path)
            qtbot.waitUntil(lambda: second.poll() is not None, timeout=20000)
        assert second.stdout.read().strip() == "second"
        # Another server (or user) is another profile: it runs beside the first.
        other = _launch("http://studio|kim", tmp_path)
        assert other.wait(20) == 0 and other.stdout.read().strip() == "first"
    finally:
        first.release()
    # Released (the window closed): the next launch is the first again.
    again = _launch("http://studio|sam", tmp_path)
    assert again.wait(20) == 0 and again.stdout.read().strip() == "first"


def test_a_crashed_holder_does_not_block_the_next_launch(tmp_path):
    crashed = _launch("embedded:/data", tmp_path)  # exits without releasing: the OS drops its lock
    assert crashed.wait(20) == 0 and crashed.stdout.read().strip() == "first"
    nxt = _launch("embedded:/data", tmp_path)
    assert nxt.wait(20) == 0 and nxt.stdout.read().strip() == "first"


def test_names_differ_by_profile_and_user():
    assert single_instance.instance_name("a", "sam") != single_instance.instance_name("b", "sam")
    assert single_instance.instance_name("a", "sam") != single_instance.instance_name("a", "kim")
    assert single_instance.instance_name("a", "sam") == single_instance.instance_name("a", "sam")
