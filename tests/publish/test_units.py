"""Sizes and durations read the same in the window and in the publish command (publisher.units)."""

from __future__ import annotations

import io

from publisher.cli_publish import ProgressPrinter
from publisher.publish import events
from publisher.units import format_clock, format_duration, format_holes, format_rate, format_size


def test_sizes_are_decimal() -> None:
    assert format_size(None) == ""
    assert format_size(0) == "0 B"
    assert format_size(999) == "999 B"
    assert format_size(1000) == "1.0 KB"
    assert format_size(1_500_000) == "1.5 MB"
    assert format_size(12_400_000_000) == "12.4 GB"
    assert format_size(3_000_000_000_000_000) == "3000.0 TB"
    assert format_rate(0) == "" and format_rate(2_500_000.4) == "2.5 MB/s"


def test_the_window_and_the_command_show_the_same_size(qapp) -> None:
    from publisher.ui import component_model as cm
    from publisher.publish.browse import ComponentRow
    from publisher.ui.component_model import ComponentModel

    model = ComponentModel()
    model.set_rows([ComponentRow(id="c1", name="plate", kind="file", file_type=".exr", size=1_500_000,
                                 frame_range=None, holes=0, locations=[], availability=0.0)])
    stream = io.StringIO()
    ProgressPrinter(stream, tty=False)(events.PublishStarted(1_500_000, ["plate"]))
    assert model.index(0, cm.SIZE).data() == "1.5 MB"
    assert "(1.5 MB to move)" in stream.getvalue()


def test_durations_in_words_and_as_a_clock() -> None:
    assert format_duration(None) == "" and format_duration(-1) == ""
    assert format_duration(42) == "42 s"
    assert format_duration(75) == "1 min 15 s"
    assert format_duration(3725) == "1 h 02 min"
    assert format_clock(75) == "1:15" and format_clock(3725) == "1:02:05" and format_clock(-3) == "0:00"


def test_missing_frames_are_shortened() -> None:
    assert format_holes(None) == "" and format_holes(3) == "3 missing"
    assert format_holes([1010, 1003, 1004]) == "3 missing: 1003-1004, 1010"
    assert format_holes([1, 3], limit=1) == "2 missing: 1, …"
    assert format_holes([5], count=40) == "40 missing: 5, …"
