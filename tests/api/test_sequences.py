"""Sequence detection: naming cases through detect() and scan(), parse(), and error handling."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import clique
import pytest

from publisher.api import sequences
from publisher.api.sequences import File, ScanError, Sequence, detect, parse, scan

# Each case: the names in one folder (a "/" makes a subfolder, scanned recursively) and what an
# artist must see: a sequence as its format() relative to the folder, "file:<name>" for a single
# file. Junk (.DS_Store, Thumbs.db, ._*) must not appear at all.
CASES: list[tuple[str, list[str], list[str]]] = [
    ("plate with a hole",
     [f"plate.{f}.exr" for f in [1001, 1002, 1003, 1004, 1005, 1007, 1008, 1009, 1010]],
     ["plate.%04d.exr [1001-1005, 1007-1010]"]),
    ("lone numbered file", ["plate_1001.exr"], ["file:plate_1001.exr"]),
    ("lone file beside a sequence",
     ["plate.1001.exr", "plate.1002.exr", "plate_1001.exr"],
     ["plate.%04d.exr [1001-1002]", "file:plate_1001.exr"]),
    ("underscore separator", ["bg_0001.exr", "bg_0002.exr", "bg_0003.exr"], ["bg_%04d.exr [1-3]"]),
    ("dash separator", ["scan-0001.dpx", "scan-0002.dpx"], ["scan-%04d.dpx [1-2]"]),
    ("underscore versions are not frames", ["comp_v002.nk", "comp_v003.nk"],
     ["file:comp_v002.nk", "file:comp_v003.nk"]),
    ("dot versions are not frames", ["comp.v002.exr", "comp.v003.exr", "comp.v004.exr"],
     ["file:comp.v002.exr", "file:comp.v003.exr", "file:comp.v004.exr"]),
    ("version before the frame", ["comp_v003.1001.exr", "comp_v003.1002.exr"],
     ["comp_v003.%04d.exr [1001-1002]"]),
    ("two versions of a render are two sequences",
     ["comp_v002.1001.exr", "comp_v002.1002.exr", "comp_v003.1001.exr", "comp_v003.1002.exr"],
     ["comp_v002.%04d.exr [1001-1002]", "comp_v003.%04d.exr [1001-1002]"]),
    ("frame then version token", ["plate_1001_v003.exr", "plate_1002_v003.exr"],
     ["file:plate_1001_v003.exr", "file:plate_1002_v003.exr"]),
    ("double extension", ["fluid.0001.bgeo.sc", "fluid.0002.bgeo.sc", "fluid.bgeo.sc"],
     ["fluid.%04d.bgeo.sc [1-2]", "file:fluid.bgeo.sc"]),
    ("no extension", ["frame_0001", "frame_0002", "frame_0003"], ["frame_%04d [1-3]"]),
    ("different extensions", ["a.0001.exr", "a.0002.exr", "a.0001.jpg", "a.0002.jpg"],
     ["a.%04d.exr [1-2]", "a.%04d.jpg [1-2]"]),
    ("letter case splits", ["Plate.0001.exr", "Plate.0002.exr", "plate.0001.exr", "plate.0002.exr",
                            "plate.0003.EXR", "plate.0004.EXR"],
     ["Plate.%04d.exr [1-2]", "plate.%04d.exr [1-2]", "plate.%04d.EXR [3-4]"]),
    ("different heads", ["bg.0001.exr", "bg.0002.exr", "fg.0001.exr", "fg.0002.exr"],
     ["bg.%04d.exr [1-2]", "fg.%04d.exr [1-2]"]),
    ("same width without zeros pads to the width", [f"r.{f}.exr" for f in range(1001, 1011)],
     ["r.%04d.exr [1001-1010]"]),
    ("frames past the padding", ["f.098.exr", "f.099.exr", "f.100.exr", "f.1000.exr"],
     ["f.%03d.exr [98-100, 1000]"]),
    ("unpadded across a digit boundary", ["f.8.exr", "f.9.exr", "f.10.exr"], ["f.%d.exr [8-10]"]),
    ("padded across a digit boundary", ["f.0999.exr", "f.1000.exr"], ["f.%04d.exr [999-1000]"]),
    ("conflicting paddings split",
     ["f.001.exr", "f.002.exr", "f.0001.exr", "f.0002.exr"],
     ["f.%03d.exr [1-2]", "f.%04d.exr [1-2]"]),
    ("a short unpadded frame next to a padded sequence",
     ["f.0101.exr", "f.0102.exr", "f.99.exr"], ["f.%04d.exr [101-102]", "file:f.99.exr"]),
    ("frame zero", ["z.0000.exr", "z.0001.exr", "z.0002.exr"], ["z.%04d.exr [0-2]"]),
    ("negative frames", ["f.-0002.exr", "f.-0001.exr", "f.0000.exr", "f.0001.exr"],
     ["f.%04d.exr [-2-1]"]),
    ("unpadded negative frames", ["n_-2.exr", "n_-1.exr", "n_0.exr", "n_1.exr"],
     ["n_%d.exr [-2-1]"]),
    ("dash is a separator, not a sign, after letters", ["shot-1001.exr", "shot-1002.exr"],
     ["shot-%04d.exr [1001-1002]"]),
    ("junk files ignored",
     ["plate.1001.exr", "plate.1002.exr", ".DS_Store", "Thumbs.db", "._plate.1001.exr",
      "._plate.1002.exr"],
     ["plate.%04d.exr [1001-1002]"]),
    ("stereo eyes in the head",
     ["shot_left.1001.exr", "shot_left.1002.exr", "shot_right.1001.exr", "shot_right.1002.exr"],
     ["shot_left.%04d.exr [1001-1002]", "shot_right.%04d.exr [1001-1002]"]),
    ("stereo eyes as %V letters",
     ["shot.l.1001.exr", "shot.l.1002.exr", "shot.r.1001.exr", "shot.r.1002.exr"],
     ["shot.l.%04d.exr [1001-1002]", "shot.r.%04d.exr [1001-1002]"]),
    ("stereo eyes in the tail",
     ["shot.1001.left.exr", "shot.1002.left.exr", "shot.1001.right.exr", "shot.1002.right.exr"],
     ["shot.%04d.left.exr [1001-1002]", "shot.%04d.right.exr [1001-1002]"]),
    ("stereo eyes in subfolders",
     ["left/shot.1001.exr", "left/shot.1002.exr", "right/shot.1001.exr", "right/shot.1002.exr"],
     ["left/shot.%04d.exr [1001-1002]", "right/shot.%04d.exr [1001-1002]"]),
    ("UDIM-like tiles",
     ["tex.1001.tif", "tex.1002.tif", "tex.1003.tif", "tex.1011.tif", "tex.1012.tif"],
     ["tex.%04d.tif [1001-1003, 1011-1012]"]),
    ("UDIM tiles per channel",
     ["diffuse_1001.tx", "diffuse_1002.tx", "spec_1001.tx", "spec_1002.tx", "spec_1011.tx"],
     ["diffuse_%04d.tx [1001-1002]", "spec_%04d.tx [1001-1002, 1011]"]),
    ("six-digit zero-padded plate", ["p.000001.exr", "p.000002.exr", "p.000003.exr"],
     ["p.%06d.exr [1-3]"]),
    ("six-digit plate without zeros", ["p.100001.exr", "p.100002.exr", "p.100004.exr"],
     ["p.%06d.exr [100001-100002, 100004]"]),
    ("spaces in the name", ["my plate.0001.exr", "my plate.0002.exr", "my notes.txt"],
     ["my plate.%04d.exr [1-2]", "file:my notes.txt"]),
    ("non-ASCII names",
     ["café_0001.exr", "café_0002.exr", "ショット.0001.exr", "ショット.0002.exr"],
     ["café_%04d.exr [1-2]", "ショット.%04d.exr [1-2]"]),
    ("mixed work folder",
     ["shot010.nk", "shot010.nk~", "shot010_v001.nk", "shot010_v002.nk", "notes.txt", "README",
      "comp.1001.exr", "comp.1002.exr", "comp.1004.exr", "ref.mov", ".DS_Store"],
     ["comp.%04d.exr [1001-1002, 1004]", "file:shot010.nk", "file:shot010.nk~",
      "file:shot010_v001.nk", "file:shot010_v002.nk", "file:notes.txt", "file:README",
      "file:ref.mov"]),
    ("single-digit frames", ["s.1.png", "s.2.png", "s.3.png", "s.5.png"], ["s.%d.png [1-3, 5]"]),
    ("digits without a separator are not frames", ["render1001.exr", "render1002.exr"],
     ["file:render1001.exr", "file:render1002.exr"]),
    ("shot number in the head", ["sh010_comp_v002.1001.exr", "sh010_comp_v002.1002.exr"],
     ["sh010_comp_v002.%04d.exr [1001-1002]"]),
    ("date in the head", ["scan_2024_0001.jpg", "scan_2024_0002.jpg"],
     ["scan_2024_%04d.jpg [1-2]"]),
    ("camera stills with capital extension", ["DSC_0001.NEF", "DSC_0002.NEF", "DSC_0003.NEF"],
     ["DSC_%04d.NEF [1-3]"]),
    ("volume cache", ["smoke.0001.vdb", "smoke.0002.vdb", "smoke.0003.vdb", "smoke.abc"],
     ["smoke.%04d.vdb [1-3]", "file:smoke.abc"]),
    ("proxy beside full res",
     ["plate.1001.exr", "plate.1002.exr", "plate_proxy.1001.jpg", "plate_proxy.1002.jpg"],
     ["plate.%04d.exr [1001-1002]", "plate_proxy.%04d.jpg [1001-1002]"]),
    ("sparse unpadded frames", ["k.1.exr", "k.3.exr", "k.5.exr"], ["k.%d.exr [1, 3, 5]"]),
    ("same names in nested folders stay apart",
     ["a.0001.exr", "a.0002.exr", "sub/a.0001.exr", "sub/a.0002.exr", "sub/deeper/a.0003.exr"],
     ["a.%04d.exr [1-2]", "sub/a.%04d.exr [1-2]", "file:sub/deeper/a.0003.exr"]),
    ("dot-led hidden sequence", [".cache.0001.bin", ".cache.0002.bin"], [".cache.%04d.bin [1-2]"]),
    ("digits in the extension",
     ["clip.0001.mp4", "clip.0002.mp4", "clip.0001.mp3", "clip.0002.mp3", "clip.0003.mp3"],
     ["clip.%04d.mp4 [1-2]", "clip.%04d.mp3 [1-3]"]),
    ("shot numbers differ only in digits",
     ["sh010_0001.exr", "sh010_0002.exr", "sh020_0001.exr", "sh020_0002.exr", "sh030_0007.exr"],
     ["sh010_%04d.exr [1-2]", "sh020_%04d.exr [1-2]", "file:sh030_0007.exr"]),
    ("an unpadded long frame joins the widest padding it fits",
     ["f.001.exr", "f.002.exr", "f.0001.exr", "f.0002.exr", "f.12345.exr"],
     ["f.%03d.exr [1-2]", "f.%04d.exr [1-2, 12345]"]),
    ("zero-padded and unpadded negatives apart",
     ["m.-0002.exr", "m.-0001.exr", "m.-3.exr", "m.-4.exr"],
     ["m.%04d.exr [-2--1]", "m.%d.exr [-4--3]"]),
    ("non-ASCII heads that differ in digits",
     ["é_sh010.0001.exr", "é_sh010.0002.exr", "é_sh020.0001.exr", "é_sh020.0002.exr"],
     ["é_sh010.%04d.exr [1-2]", "é_sh020.%04d.exr [1-2]"]),
    ("thumbs.db in any case", ["thumbs.db", "THUMBS.DB", "a.0001.png", "a.0002.png"],
     ["a.%04d.png [1-2]"]),
    ("frame numbers alone (Blender's default output) with a hole",
     ["0001.exr", "0002.exr", "0003.exr", "0005.exr", "notes.txt"],
     ["%04d.exr [1-3, 5]", "file:notes.txt"]),
    ("frame numbers alone in a subfolder", ["render/0001.png", "render/0002.png"],
     ["render/%04d.png [1-2]"]),
    ("a lone frame number is a file", ["0001.exr", "take.0001.exr", "take.0002.exr"],
     ["file:0001.exr", "take.%04d.exr [1-2]"]),
]

assert len(CASES) >= 40


def describe(items: list, root: str) -> list[str]:
    """Items as folder-relative strings; also checks each Sequence round-trips through parse."""
    prefix = root.rstrip(os.sep) + os.sep
    described = []
    for item in items:
        if isinstance(item, Sequence):
            assert parse(item.format()) == item
            text = item.format()
            assert text.startswith(prefix)
            described.append(text[len(prefix):])
        elif isinstance(item, File):
            assert item.path.startswith(prefix)
            described.append("file:" + item.path[len(prefix):])
        else:
            described.append(f"error:{item.path}: {item.message}")
    return described


def _make(root: Path, names: list[str]) -> list[str]:
    paths = []
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("names,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_naming_case_detect(tmp_path: Path, names: list[str], expected: list[str]) -> None:
    paths = [str(tmp_path / name) for name in names]
    assert sorted(describe(detect(paths), str(tmp_path))) == sorted(expected)


@pytest.mark.parametrize("names,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_naming_case_scan(tmp_path: Path, names: list[str], expected: list[str]) -> None:
    _make(tmp_path, names)
    recursive = any("/" in name for name in names)
    assert sorted(describe(scan(tmp_path, recursive=recursive), str(tmp_path))) == sorted(expected)


def test_names_split_over_several_chunks_group_the_same(monkeypatch) -> None:
    # Names are masked in chunks; a sequence whose frames fall in different chunks must not split.
    from publisher.api import _sequence_grouping

    every_case = [f"/case{i}/{name}" for i, (_, names, _) in enumerate(CASES) for name in names]
    expected = [i.format() if isinstance(i, Sequence) else str(i) for i in detect(every_case)]
    monkeypatch.setattr(_sequence_grouping, "_CHUNK", 3)
    chunked = [i.format() if isinstance(i, Sequence) else str(i) for i in detect(every_case)]
    assert chunked == expected
    assert "/case0/plate.%04d.exr [1001-1005, 1007-1010]" in chunked


def test_detect_groups_per_folder_and_keeps_relative_paths() -> None:
    items = detect(["a/x.0001.exr", "a/x.0002.exr", "b/x.0003.exr", "x.0001.exr", "x.0002.exr"])
    assert [str(i) for i in items] == ["x.%04d.exr [1-2]", "a/x.%04d.exr [1-2]", "b/x.0003.exr"]
    assert items[0].folder == "" and items[1].folder == "a" and items[2].folder == "b"


def test_detect_accepts_pathlike_and_bytes_and_dedupes(tmp_path: Path) -> None:
    items = detect([tmp_path / "p.0001.exr", os.fsencode(tmp_path / "p.0002.exr"),
                    str(tmp_path / "p.0002.exr"), str(tmp_path / "one.txt"),
                    str(tmp_path / "one.txt")])
    assert items == [File(str(tmp_path / "one.txt")),
                     Sequence(str(tmp_path / "p."), ".exr", 4, (1, 2))]
    assert detect([]) == []
    assert detect(["/p/a.0001.exr", "/p/a.0001.exr"]) == [File("/p/a.0001.exr")]
    repeated = ["/p/f.098.exr", "/p/f.099.exr", "/p/f.100.exr", "/p/f.1000.exr", "/p/f.1000.exr",
                "/p/f.-0001.exr", "/p/f.-0001.exr", "/p/f.0000.exr"]
    # 1000 fits both paddings; it joins the widest (%04d), as documented.
    assert [str(i) for i in detect(repeated)] == ["/p/f.%03d.exr [98-100]",
                                                  "/p/f.%04d.exr [-1-0, 1000]"]


def test_detect_handles_names_with_nul_and_newline() -> None:
    # No file system allows NUL in a name, but detect() takes any strings.
    items = detect(["/p/a\0b.0001.exr", "/p/a\0b.0002.exr", "/p/line\nbreak.0001.exr",
                    "/p/line\nbreak.0002.exr", "/p/x\0.txt"])
    assert [str(i) for i in items] == ["/p/a\0b.%04d.exr [1-2]", "/p/line\nbreak.%04d.exr [1-2]",
                                       "/p/x\0.txt"]


def test_scan_handles_a_newline_in_a_name(tmp_path: Path) -> None:
    _make(tmp_path, ["two\nlines.0001.exr", "two\nlines.0002.exr", "plain.txt"])
    assert sorted(describe(scan(tmp_path), str(tmp_path))) == \
        ["file:plain.txt", "two\nlines.%04d.exr [1-2]"]


def test_detect_many_folders_and_shuffled_order() -> None:
    import random

    paths = [f"/show/sq{s:02d}/sh{h:03d}/{layer}.{f:04d}.exr"
             for s in range(3) for h in range(0, 30, 10) for layer in ("beauty", "depth")
             for f in range(1001, 1011) if f != 1005]
    random.Random(7).shuffle(paths)
    items = detect(paths)
    assert len(items) == 3 * 3 * 2
    assert all(isinstance(i, Sequence) and i.holes == (1005,) and i.padding == 4 for i in items)
    assert items[0].format() == "/show/sq00/sh000/beauty.%04d.exr [1001-1004, 1006-1010]"
    assert sorted(p for i in items for p in i.paths()) == sorted(paths)


def test_detect_refuses_a_single_path_instead_of_a_list(tmp_path: Path) -> None:
    for one in ("/p/a.0001.exr", tmp_path, b"/p/a.0001.exr"):
        with pytest.raises(TypeError, match=r"list of paths.*detect\(\[path\]\)"):
            detect(one)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        detect([1, 2])  # type: ignore[list-item]


def test_detect_results_are_sorted_by_folder_then_name() -> None:
    items = detect(["/b/z.txt", "/a/y.0001.exr", "/a/y.0002.exr", "/a/b.txt"])
    assert [str(i) for i in items] == ["/a/b.txt", "/a/y.%04d.exr [1-2]", "/b/z.txt"]


def test_sequence_interface() -> None:
    seq = detect([f"/p/plate.{f}.exr" for f in (1001, 1002, 1003, 1005, 1008)])[0]
    assert isinstance(seq, Sequence)
    assert (seq.head, seq.tail, seq.padding) == ("/p/plate.", ".exr", 4)
    assert seq.frames == (1001, 1002, 1003, 1005, 1008)
    assert seq.holes == (1004, 1006, 1007)
    assert (seq.hole_count, seq.hole_ranges) == (3, "1004, 1006-1007")
    assert seq.format() == "/p/plate.%04d.exr [1001-1003, 1005, 1008]"
    assert seq.format("{name} missing {holes}") == "plate.%04d.exr missing 1004, 1006-1007"
    assert seq.ranges == "1001-1003, 1005, 1008"
    assert (seq.first, seq.last, len(seq)) == (1001, 1008, 5)
    assert (seq.folder, seq.name, seq.padding_token) == ("/p", "plate.%04d.exr", "%04d")
    assert seq.paths()[:2] == ["/p/plate.1001.exr", "/p/plate.1002.exr"]
    assert seq.path(1004) == "/p/plate.1004.exr"
    assert seq.member_name(1001) == "1001" and seq.member_name(7) == "0007"
    assert 1005 in seq and 1004 not in seq and "1005" not in seq
    assert {seq: 1}[parse(seq.format())] == 1
    with pytest.raises(AttributeError):
        seq.padding = 3  # type: ignore[misc]


def test_member_names_and_paths_for_unpadded_and_negative_frames() -> None:
    unpadded = Sequence("/p/f.", ".exr", 0, (8, 9, 10))
    assert unpadded.paths() == ["/p/f.8.exr", "/p/f.9.exr", "/p/f.10.exr"]
    assert unpadded.member_name(10) == "10" and unpadded.padding_token == "%d"
    negative = Sequence("/p/f.", ".exr", 4, (-2, -1, 0, 1))
    # The sign is not counted in the padding: members are named as the files on disk.
    assert negative.paths() == ["/p/f.-0002.exr", "/p/f.-0001.exr", "/p/f.0000.exr",
                                "/p/f.0001.exr"]
    assert negative.format() == "/p/f.%04d.exr [-2-1]"
    assert parse(negative.format()) == negative
    assert parse("/p/f.%04d.exr [-5--3, 1]").frames == (-5, -4, -3, 1)


def test_far_apart_frames_do_not_hang_hole_display() -> None:
    (seq,) = detect(["/p/f.1.exr", "/p/f.1000000000.exr"])
    assert (seq.padding, seq.frames) == (0, (1, 1000000000))
    assert seq.hole_count == 999999998 and seq.hole_ranges == "2-999999999"
    assert seq.format("{holes}") == "2-999999999"
    assert Sequence("/p/f.", ".exr", 4, (1, 2)).hole_ranges == ""


def test_sequence_rejects_invalid_values() -> None:
    with pytest.raises(ValueError, match="at least one frame"):
        Sequence("/p/a.", ".exr", 4, ())
    with pytest.raises(ValueError, match="sorted"):
        Sequence("/p/a.", ".exr", 4, (3, 1))
    with pytest.raises(ValueError, match="padding"):
        Sequence("/p/a.", ".exr", -1, (1,))
    assert Sequence("/p/a.", ".exr", 1, (1, 2)) == Sequence("/p/a.", ".exr", 0, [1, 2])


def test_clique_round_trip() -> None:
    seq = Sequence("/p/plate.", ".exr", 4, (1001, 1002, 1004))
    collection = seq.to_collection()
    assert isinstance(collection, clique.Collection)
    assert collection.format() == seq.format()
    assert Sequence.from_collection(collection) == seq
    # The stock ftrack client parses sequence strings with clique: ours must read the same way.
    assert Sequence.from_collection(clique.parse(seq.format())) == seq


@pytest.mark.parametrize("text,expected", [
    ("/p/plate.%04d.exr [1001-1050, 1052]",
     Sequence("/p/plate.", ".exr", 4, tuple(range(1001, 1051)) + (1052,))),
    ("/p/plate.%d.exr [8-10]", Sequence("/p/plate.", ".exr", 0, (8, 9, 10))),
    ("/p/plate.####.exr [1-2]", Sequence("/p/plate.", ".exr", 4, (1, 2))),
    ("/p/plate.@@@@.exr [1-2]", Sequence("/p/plate.", ".exr", 4, (1, 2))),
    ("/p/plate.$F4.exr [1-2]", Sequence("/p/plate.", ".exr", 4, (1, 2))),
    ("/p/plate.$F.exr [1-2]", Sequence("/p/plate.", ".exr", 0, (1, 2))),
    ("/p/plate.%06d.exr [7]", Sequence("/p/plate.", ".exr", 6, (7,))),
    ("  /p/plate.%04d.exr  [ 3 , 1 - 2 ]  ", Sequence("/p/plate.", ".exr", 4, (1, 2, 3))),
    ("/p/plate.%04d.exr [1-3, 2-4]", Sequence("/p/plate.", ".exr", 4, (1, 2, 3, 4))),
    ("/p/a [old]/plate.%04d.exr [1-2]", Sequence("/p/a [old]/plate.", ".exr", 4, (1, 2))),
    ("/p/100%/plate.%04d.exr [1-2]", Sequence("/p/100%/plate.", ".exr", 4, (1, 2))),
    ("/p/take#2.%04d.exr [1-2]", Sequence("/p/take#2.", ".exr", 4, (1, 2))),
    ("/p/plate.%04d.bgeo.sc [1-2]", Sequence("/p/plate.", ".bgeo.sc", 4, (1, 2))),
    ("plate_%04d [1-2]", Sequence("plate_", "", 4, (1, 2))),
])
def test_parse_accepts(text: str, expected: Sequence) -> None:
    assert parse(text) == expected
    assert parse(expected.format()) == expected


def test_format_parse_round_trip_with_awkward_heads() -> None:
    import random

    rng = random.Random(11)
    alphabet = "ab_.-09 %#@$[]()é/"
    for _ in range(2000):
        head = "/p/" + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        tail = rng.choice(["", ".exr", ".bgeo.sc", ".v2.tif"])
        first = rng.randint(-50, 2000)
        frames = tuple(sorted(set(rng.randint(first, first + 40) for _ in range(rng.randint(1, 9)))))
        seq = Sequence(head, tail, rng.choice([0, 2, 3, 4, 6]), frames)
        assert parse(seq.format()) == seq, seq.format()


@pytest.mark.parametrize("text,message", [
    ("", "empty sequence string"),
    ("   ", "empty sequence string"),
    ("/p/plate.exr [1-2]", "no frame number token"),
    ("/p/plate.%04d.exr", "no frame ranges"),
    ("/p/plate.%04d.exr 1001-1002", "no frame ranges"),
    ("/p/plate.%4d.exr [1-2]", "pads with spaces"),
    ("/p/plate.%04d.exr []", "empty frame ranges"),
    ("/p/plate.%04d.exr [5-1]", "ends before it starts"),
    ("/p/plate.%04d.exr [1-2,]", "cannot read frame range ''"),
    ("/p/plate.%04d.exr [1001-1050x2]", "cannot read frame range '1001-1050x2'"),
    ("/p/plate.%04d.exr [a-b]", "cannot read frame range 'a-b'"),
    ("/p/plate.%04d.exr [1-100000000]", "more than 10,000,000 frames"),
    ("/p/####/plate.exr [1-2]", "no frame number token"),
])
def test_parse_rejects_with_a_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[")) as info:
        parse(text)
    if text.strip():  # the message quotes the input it refuses
        assert repr(text) in str(info.value)


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(TypeError, match="sequence string"):
        parse(None)  # type: ignore[arg-type]


def test_looks_like_sequence() -> None:
    assert sequences.looks_like_sequence("/p/plate.%04d.exr [1-2]")
    assert not sequences.looks_like_sequence("/p/plate.0001.exr")
    assert not sequences.looks_like_sequence("/p/[1-2]/plate.exr")


# --- errors ------------------------------------------------------------------------------------

def test_scan_missing_folder_raises_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError) as info:
        scan(missing)
    assert info.value.filename == str(missing) and "cannot scan folder" in str(info.value)


def test_scan_of_a_file_raises_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.touch()
    with pytest.raises(NotADirectoryError) as info:
        scan(path)
    assert info.value.filename == str(path)


def test_unreadable_subfolder_is_an_error_item(tmp_path: Path, monkeypatch) -> None:
    _make(tmp_path, ["ok/a.0001.exr", "ok/a.0002.exr", "locked/b.0001.exr"])
    locked = str(tmp_path / "locked")
    real_scandir = os.scandir

    # Tests may run as root, which reads any folder: refuse this one the way the OS would.
    def scandir(path):
        if os.fspath(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", locked)
        return real_scandir(path)

    monkeypatch.setattr(sequences.os, "scandir", scandir)
    items = scan(tmp_path, recursive=True)
    assert describe([i for i in items if not isinstance(i, ScanError)], str(tmp_path)) == \
        ["ok/a.%04d.exr [1-2]"]
    errors = [i for i in items if isinstance(i, ScanError)]
    assert [e.path for e in errors] == [locked]
    assert "Permission denied" in errors[0].message and "permissions" in errors[0].message


def test_listing_that_fails_midway_keeps_what_was_read(tmp_path: Path, monkeypatch) -> None:
    _make(tmp_path, ["a.0001.exr", "a.0002.exr", "a.0003.exr"])
    real_scandir = os.scandir

    class Failing:
        def __init__(self, path):
            self._inner = real_scandir(path)
            self._count = 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._inner.close()

        def __iter__(self):
            return self

        def __next__(self):
            self._count += 1
            if self._count == 3:
                raise OSError(errno.EIO, "Input/output error")
            return next(self._inner)

    monkeypatch.setattr(sequences.os, "scandir", Failing)
    items = scan(tmp_path)
    error = next(i for i in items if isinstance(i, ScanError))
    assert error.path == str(tmp_path) and "stopped early" in error.message
    assert sum(len(i) if isinstance(i, Sequence) else 1 for i in items
               if not isinstance(i, ScanError)) == 2


def test_symlink_loops_and_broken_links_do_not_hang(tmp_path: Path) -> None:
    _make(tmp_path, ["r.0001.exr", "r.0002.exr", "sub/s.0001.exr", "sub/s.0002.exr"])
    (tmp_path / "sub" / "up").symlink_to(tmp_path)          # folder loop
    (tmp_path / "self").symlink_to(tmp_path / "self")        # link to itself
    (tmp_path / "broken").symlink_to(tmp_path / "missing")   # dangling
    (tmp_path / "r.0003.exr").symlink_to(tmp_path / "r.0001.exr")  # a linked frame counts
    for recursive in (False, True):
        items = scan(tmp_path, recursive=recursive)
        good = describe([i for i in items if not isinstance(i, ScanError)], str(tmp_path))
        errors = {Path(i.path).name: i.message for i in items if isinstance(i, ScanError)}
        assert "r.%04d.exr [1-3]" in good
        assert "loop" in errors["self"] and "broken symbolic link" in errors["broken"]
        if recursive:
            assert "sub/s.%04d.exr [1-2]" in good
            assert "loop" in errors["up"]
        else:
            assert "up" not in errors and len(good) == 1


def test_non_utf8_names_are_error_items(tmp_path: Path) -> None:
    root = os.fsencode(tmp_path)
    for name in (b"p.0001.exr", b"p.0002.exr", b"caf\xe9.0001.exr"):
        open(root + b"/" + name, "wb").close()
    os.mkdir(root + b"/dir\xff")
    open(root + b"/dir\xff/x.0001.exr", "wb").close()
    items = scan(tmp_path, recursive=True)
    errors = [i for i in items if isinstance(i, ScanError)]
    assert sorted(e.message.split(" is not")[0] for e in errors) == ["file name", "folder name"]
    assert all("UTF-8" in e.message and "rename" in e.message for e in errors)
    assert any("caf\\xe9" in e.message for e in errors)
    assert describe([i for i in items if not isinstance(i, ScanError)], str(tmp_path)) == \
        ["p.%04d.exr [1-2]"]
    # detect() gets the same names as the OS hands them to Python (surrogate escapes) or bytes.
    detected = detect([os.fsdecode(root + b"/caf\xe9.0002.exr"), root + b"/caf\xe9.0003.exr",
                       str(tmp_path / "ok.txt")])
    assert [type(i) for i in detected] == [ScanError, ScanError, File]


def test_non_utf8_folder_given_to_scan_raises_naming_it(tmp_path: Path) -> None:
    bad = os.fsencode(tmp_path) + b"/bad\xff"
    os.mkdir(bad)
    with pytest.raises(UnicodeError, match=r"bad\\xff"):
        scan(os.fsdecode(bad))
