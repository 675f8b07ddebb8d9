"""The shot's range against the range on disk: the comparison itself, the shot's range read from
the demo project's custom attributes, and the headless publish's warning."""

from __future__ import annotations

import subprocess
import sys

import pytest

from publisher.publish.frame_range import (
    FrameSpan, ShotRange, check_sequences, compare, disk_range, shot_range_for_context,
)
from publisher.publish.staging import stage_paths

from publish_inputs import make_plates

SH020 = ShotRange("sh020", 1009, 1040, handles=8, fps=24)


def test_handles_are_counted():
    assert (SH020.first, SH020.last) == (1001, 1048)
    assert compare(SH020, 1001, 1048).matches
    assert compare(SH020, 1001, 1048).warning("plate") is None
    # The cut range alone is short of the handles on both sides.
    short = compare(SH020, 1009, 1040)
    assert short.missing == (FrameSpan(1001, 1008), FrameSpan(1041, 1048))
    assert short.extra == ()


@pytest.mark.parametrize("disk, missing, extra", [
    ((1001, 1040), [(1041, 1048)], []),
    ((995, 1048), [], [(995, 1000)]),
    ((1005, 1060), [(1001, 1004)], [(1049, 1060)]),
    ((1, 10), [(1001, 1048)], [(1, 10)]),
    ((2001, 2001), [(1001, 1048)], [(2001, 2001)]),
])
def test_the_frames_that_differ_are_named(disk, missing, extra):
    check = compare(SH020, *disk)
    assert [(s.first, s.last) for s in check.missing] == missing
    assert [(s.first, s.last) for s in check.extra] == extra
    text = check.warning("plate")
    assert text.startswith(f"plate: frames {disk[0]}-{disk[1]} on disk, but shot sh020 is 1001-1048 (1009-1040 with 8 handles)")
    for first, last in missing + extra:
        assert (f"{first}-{last}" if first != last else str(first)) in text


def test_a_backwards_range_is_refused():
    with pytest.raises(ValueError):
        compare(SH020, 1048, 1001)


def test_disk_range_reads_staged_ranges():
    assert disk_range("1001-1048") == (1001, 1048)
    assert disk_range("7") == (7, 7)
    assert disk_range("-5-3") == (-5, 3)
    assert disk_range(None) is None and disk_range("abc") is None


def test_only_sequences_that_differ_are_warned_about(tmp_path):
    good = make_plates(tmp_path / "good", frames=range(1001, 1049))
    bad = make_plates(tmp_path / "bad", frames=range(1001, 1041))
    (tmp_path / "notes.txt").write_text("notes")
    staged = stage_paths([str(good), str(bad), str(tmp_path / "notes.txt")])
    assert not staged.errors
    warnings = check_sequences(SH020, staged.components)
    assert len(warnings) == 1
    assert "frames 1041-1048 of the shot are not on disk" in warnings[0]
    assert check_sequences(None, staged.components) == []


def _demo_task(session, shot: str) -> str:
    task = session.query(f'select id from Task where name is "Compositing" and parent.name is "{shot}"').one()
    return task["id"]


def test_the_demo_shots_range_comes_from_its_custom_attributes(session):
    task_id = _demo_task(session, "sh020")
    assert shot_range_for_context(session, task_id) == ShotRange("sh020", 1009, 1040, 8, 24)
    project = session.query('select id from Project where name is "lighthouse"').one()
    assert shot_range_for_context(session, project["id"]) is None  # not in a shot
    assert shot_range_for_context(session, "00000000-0000-0000-0000-000000000000") is None


def test_the_headless_publish_prints_the_range_warning(server_env, tmp_path, session):
    env = dict(server_env, XDG_DATA_HOME=str(tmp_path / "data"))
    task_id = _demo_task(session, "sh020")
    short = make_plates(tmp_path / "short", frames=range(1001, 1041))
    done = subprocess.run([sys.executable, "-m", "publisher", "publish", str(short), "--task", task_id,
                           "--asset", "rangecheck"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert ("warning: plate: frames 1001-1040 on disk, but shot sh020 is 1001-1048 (1009-1040 with 8 handles): "
            "frames 1041-1048 of the shot are not on disk.") in done.stderr

    full = make_plates(tmp_path / "full", frames=range(1001, 1049))
    done = subprocess.run([sys.executable, "-m", "publisher", "publish", str(full), "--task", task_id,
                           "--asset", "rangecheck"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "on disk, but shot" not in done.stderr
