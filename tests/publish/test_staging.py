"""stage_paths and validate_name on real folders and files (no server)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from publisher.publish import staging
from publisher.publish.staging import STAGE_LOCATIONS, StagedComponent, stage_paths, validate_name


def write(path: Path, size: int = 10) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    return path


def make_sequence(folder: Path, head: str, frames, tail: str = ".exr", padding: int = 4, size: int = 100) -> None:
    for f in frames:
        write(folder / f"{head}{f:0{padding}d}{tail}", size)


def test_a_single_file_becomes_a_file_component(tmp_path):
    movie = write(tmp_path / "comp_v002.mov", 1234)
    result = stage_paths([str(movie)])
    assert result.errors == [] and result.warnings == []
    [c] = result.components
    assert (c.name, c.kind, c.path, c.size, c.frame_range, c.holes, c.file_type, c.location) == (
        "comp_v002", "file", str(movie), 1234, None, [], ".mov", "ftrack.server")
    assert c.files == [str(movie)]


def test_a_sequence_folder_becomes_one_sequence_component_with_its_holes(tmp_path):
    folder = tmp_path / "plates"
    make_sequence(folder, "plate.", [*range(1001, 1011), *range(1013, 1021)], size=50)
    result = stage_paths([str(folder)])
    assert result.errors == []
    [c] = result.components
    assert c.kind == "sequence"
    assert c.name == "plate"
    assert c.path == f"{folder}/plate.%04d.exr [1001-1010, 1013-1020]"
    assert c.frame_range == "1001-1020"
    assert c.holes == [1011, 1012]
    assert c.size == 18 * 50
    assert c.file_type == ".exr"
    assert len(c.files) == 18 and c.frame_count == 18
    assert any("missing 2 frames: 1011, 1012" in w for w in result.warnings)


def test_a_mixed_drop_keeps_drop_order_and_makes_names_unique(tmp_path):
    renders = tmp_path / "renders"
    make_sequence(renders, "comp.", range(1, 6))
    write(renders / "comp.mov", 5)            # same stem as the sequence: one gets its extension
    loose = write(tmp_path / "notes.txt", 3)
    frames_dir = tmp_path / "loose_frames"
    make_sequence(frames_dir, "bg_", range(10, 13), tail=".png", padding=3)
    loose_frames = sorted(str(p) for p in frames_dir.iterdir())

    result = stage_paths([str(loose), str(renders), *loose_frames], existing_names={"Notes"})
    assert result.errors == []
    by_kind = [(c.kind, c.name) for c in result.components]
    assert {c.name for c in result.components[:2]} == {"notes_txt", "bg"}
    # loose files (grouped by detect) first, as the first dropped path was loose; then the folder.
    assert ("file", "notes_txt") in by_kind  # "Notes" exists on the version (compared ignoring case)
    assert ("sequence", "bg") in by_kind
    assert by_kind[2:] == [("sequence", "comp"), ("file", "comp_mov")]  # folder items in name order
    names = [c.name for c in result.components]
    assert len({n.lower() for n in names}) == len(names)
    for n in names:
        assert validate_name(n, set()) is None


def test_missing_paths_and_broken_links_are_errors_and_the_rest_still_stages(tmp_path):
    good = write(tmp_path / "good.exr")
    missing = tmp_path / "nope" / "gone.exr"
    link = tmp_path / "dangling.exr"
    link.symlink_to(tmp_path / "not-there.exr")
    inside_file = good / "sub"  # a folder inside a file path
    result = stage_paths([str(missing), str(good), str(link), str(inside_file)])
    assert [c.path for c in result.components] == [str(good)]
    assert len(result.errors) == 3
    assert f"{missing} does not exist" in result.errors[0] and "drop it again" in result.errors[0]
    assert str(link) in result.errors[1] and "does not exist" in result.errors[1] and "fix the link" in result.errors[1]
    assert str(inside_file) in result.errors[2]


def test_empty_folder_and_folder_of_subfolders_are_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    only_dirs = tmp_path / "shots"
    (only_dirs / "sh010").mkdir(parents=True)
    junk_only = tmp_path / "junk"
    write(junk_only / ".DS_Store")
    result = stage_paths([str(empty), str(only_dirs), str(junk_only)])
    assert result.components == []
    assert len(result.errors) == 3
    assert f"Folder {empty} is empty" in result.errors[0]
    assert "only subfolders" in result.errors[1] and "drop the subfolders themselves" in result.errors[1]
    assert f"Folder {junk_only} is empty" in result.errors[2]


def test_subfolders_of_a_dropped_folder_are_reported_not_staged(tmp_path):
    folder = tmp_path / "delivery"
    write(folder / "edit.mov")
    write(folder / "extra" / "other.mov")
    result = stage_paths([str(folder)])
    assert [c.name for c in result.components] == ["edit"]
    assert any("1 subfolder was not staged" in w for w in result.warnings)


def test_unreadable_folder_is_an_error(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    make_sequence(locked, "plate.", range(1, 4))
    if os.geteuid() == 0:
        # root reads anything, whatever the mode bits: show the fault the OS gives a normal user.
        def refuse(path):
            if os.path.samefile(path, locked):
                raise PermissionError(13, "Permission denied", path)
            return real(path)
        real = staging._open_dir
        monkeypatch.setattr(staging, "_open_dir", refuse)
        result = stage_paths([str(locked)])
    else:
        locked.chmod(0)
        try:
            result = stage_paths([str(locked)])
        finally:
            locked.chmod(0o755)
    assert result.components == []
    assert result.errors == [
        f"Cannot read folder {locked} (permission denied): ask for read access, "
        "or copy its files somewhere readable and drop them."
    ]


def test_unreadable_file_is_an_error(tmp_path, monkeypatch):
    f = write(tmp_path / "secret.mov")
    if os.geteuid() == 0:
        # root reads anything whatever the mode bits; os.access is what staging asks, so make it
        # answer as it would for a normal user.
        real = os.access
        monkeypatch.setattr(staging.os, "access", lambda p, mode: False if str(p) == str(f) else real(p, mode))
    else:
        f.chmod(0)
    try:
        result = stage_paths([str(f)])
    finally:
        f.chmod(0o644)
    assert result.components == []
    assert result.errors == [
        f"Cannot read {f} (permission denied): ask for read access or copy it somewhere readable, then drop it again."
    ]


def test_the_same_path_twice_is_staged_once(tmp_path):
    f = write(tmp_path / "a.mov")
    result = stage_paths([str(f), str(tmp_path / "." / "a.mov")])
    assert len(result.components) == 1
    assert any("dropped twice" in w for w in result.warnings)


def test_empty_file_is_staged_with_a_warning(tmp_path):
    f = write(tmp_path / "empty.mov", 0)
    result = stage_paths([str(f)])
    assert result.components[0].size == 0
    assert any("is empty (0 bytes)" in w for w in result.warnings)


def test_ten_thousand_frames_stage_as_one_sequence(tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    for f in range(1, 10001):
        (folder / f"render.{f:05d}.exr").write_bytes(b"")
    (folder / "render.05000.exr").unlink()
    result = stage_paths([str(folder)])
    assert result.errors == []
    [c] = result.components
    assert c.frame_range == "1-10000" and c.holes == [5000] and len(c.files) == 9999
    assert c.path == f"{folder}/render.%05d.exr [1-4999, 5001-10000]"


def test_names_suggested_from_frame_only_files_take_the_folder_name(tmp_path):
    folder = tmp_path / "comp exr"
    make_sequence(folder, "_", range(1, 4))  # _0001.exr: the head has no name of its own
    [c] = stage_paths([str(folder)]).components
    assert c.name == "comp_exr"


def test_suggested_names_avoid_reserved_and_taken_names(tmp_path):
    f = write(tmp_path / "thumbnail.jpg")
    assert stage_paths([str(f)]).components[0].name == "thumbnail_jpg"
    g = write(tmp_path / "main.mov")
    assert stage_paths([str(g)], existing_names={"main", "main_mov"}).components[0].name == "main_2"


@pytest.mark.parametrize(
    "name, taken, expected",
    [
        ("plate", set(), None),
        ("comp_exr-v2.1", set(), None),
        ("", set(), "Give the component a name."),
        ("   ", set(), "Give the component a name."),
        (" plate", set(), "Remove the spaces at the start or end of the name."),
        ("my plate", set(), "Use only letters, digits, '_', '-' and '.' in the name (remove space)."),
        ("plate#1/2", set(), "Use only letters, digits, '_', '-' and '.' in the name (remove '#' '/')."),
        ("-plate", set(), "Start the name with a letter, a digit or '_'."),
        ("x" * 65, set(), "Shorten the name to 64 characters or fewer (it has 65)."),
        ("ftrackreview-mp4", set(), "'ftrackreview-mp4' is reserved for ftrack's review media and thumbnails: choose another name."),
        ("Plate", {"plate"}, "This version already has a component named 'Plate': choose another name."),
        ("plate", {"main"}, None),
    ],
)
def test_validate_name(name, taken, expected):
    assert validate_name(name, taken) == expected


def test_stage_locations_offers_server_unmanaged_and_disk_locations():
    assert STAGE_LOCATIONS[:2] == ["ftrack.server", "ftrack.unmanaged"]
    offered = staging.stage_locations(["ftrack.origin", "ftrack.review", "studio.disk", "ftrack.server"])
    assert offered == ["ftrack.server", "ftrack.unmanaged", "studio.disk"]


def test_check_still_there_reports_files_deleted_after_staging(tmp_path):
    folder = tmp_path / "seq"
    make_sequence(folder, "plate.", range(1, 6))
    [c] = stage_paths([str(folder)]).components
    assert staging.check_still_there(c) is None
    (folder / "plate.0003.exr").unlink()
    message = staging.check_still_there(c)
    assert message is not None
    assert "Component 'plate': 1 file is missing since it was staged" in message
    assert str(folder / "plate.0003.exr") in message and "put it back" in message


def test_staged_component_is_editable():
    c = StagedComponent("a", "file", "/x/a.mov", 1, None, [], ".mov")
    c.name = "b"
    c.location = "ftrack.unmanaged"
    assert (c.name, c.location) == ("b", "ftrack.unmanaged")


def test_suggest_name_takes_a_file_path_a_sequence_head_or_a_sequence_string():
    assert staging.suggest_name("/p/comp_v002.mov", "file") == "comp_v002"
    assert staging.suggest_name("/p/plate.", "sequence") == "plate"
    assert staging.suggest_name("/p/plate.%04d.exr [1001-1010, 1012]", "sequence") == "plate"
    assert staging.suggest_name("/p/plate.%04d.exr [1001-1010]", "sequence", {"plate"}) == "plate_exr"
    assert staging.suggest_name("/p/plate.", "sequence", {"plate", "plate_exr"}, ".exr") == "plate_2"
    assert staging.suggest_name("/p/edit.mov", "file", {"EDIT"}) == "edit_mov"


def test_two_frames_far_apart_stage_quickly_with_the_true_hole_count(tmp_path):
    """f.1 and f.1000000000: a billion missing frames are counted, not listed."""
    folder = tmp_path / "sparse"
    folder.mkdir()
    (folder / "f.1.exr").write_bytes(b"")
    (folder / "f.1000000000.exr").write_bytes(b"")
    result = stage_paths([str(folder)])
    assert result.errors == []
    [c] = result.components
    assert c.kind == "sequence" and c.frame_range == "1-1000000000" and len(c.files) == 2
    assert c.hole_count == 999_999_998
    assert len(c.holes) == staging.HOLES_LISTED
    assert c.holes[:3] == [2, 3, 4] and c.holes[-1] == staging.HOLES_LISTED + 1
    [warning] = [w for w in result.warnings if "missing" in w]
    assert "missing 999999998 frames: 2-999999999." in warning


def test_many_gaps_are_shown_as_the_first_ranges_with_the_true_count(tmp_path):
    folder = tmp_path / "gappy"
    make_sequence(folder, "plate.", range(1, 40, 3), size=1)  # 1, 4, 7 ... 37: 12 gaps of 2
    result = stage_paths([str(folder)])
    [c] = result.components
    assert c.hole_count == len(c.holes) == 24
    [warning] = [w for w in result.warnings if "missing" in w]
    assert "missing 24 frames: 2-3, 5-6, 8-9, 11-12, 14-15, 17-18, 20-21, 23-24, 26-27, 29-30 and 2 more ranges." in warning


def test_components_saved_without_a_hole_count_count_their_holes():
    """Outbox entries written before ``hole_count`` existed load with the count of their list."""
    c = StagedComponent("plate", "sequence", "/x/plate.%04d.exr [1-3, 6]", 4, "1-6", [4, 5], ".exr")
    assert c.hole_count == 2
