"""The Qt-free collectors against stand-ins of Nuke, Maya and Houdini with real render folders."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from publisher.hosts.collect import houdini, maya, nuke
from publisher.hosts.collect.items import Collection, Role, StageFileError
from scene_stand_ins import make_hou, make_maya_cmds, make_nuke, render_folder, rop, write_node


# Nuke ------------------------------------------------------------------------------------------
@pytest.fixture
def nuke_scene(tmp_path: Path):
    script = tmp_path / "sh010" / "comp_v003.nk"
    script.parent.mkdir()
    script.write_text("Root {}\n")
    render_folder(tmp_path / "sh010" / "render", "comp_v003", 1001, 1050, missing=(1017, 1033))
    render_folder(tmp_path / "sh010" / "precomp", "fg", 1010, 1020, padding=4)
    nodes = [
        write_node("Write1", "[file dirname [value root.name]]/render/comp_v003.%04d.exr"),
        write_node("Write2", str(tmp_path / "sh010" / "precomp" / "fg.####.exr"), limit=(1010, 1020), parent="Group1"),
        write_node("Write3", str(tmp_path / "sh010" / "off" / "off.%04d.exr"), disable=True),
        write_node("Write4", str(tmp_path / "sh010" / "later" / "later.%04d.exr")),
    ]
    return make_nuke(str(script), 1001, 1050, nodes), script, tmp_path / "sh010"


def test_nuke_collects_the_script_and_each_enabled_writes_frames(nuke_scene):
    module, script, shot = nuke_scene
    found = nuke.collect(module)
    assert found.host == "Nuke" and found.scene == str(script)
    by_source = {item.source: item for item in found.items}
    assert by_source["scene"].role is Role.SCENE and by_source["scene"].files == (str(script),)

    write1 = by_source["Write1"]
    assert write1.role is Role.RENDER
    assert write1.path == str(shot / "render" / "comp_v003.%04d.exr")
    assert write1.expected == (1001, 1050)
    assert write1.missing == (1017, 1033)
    assert len(write1.frames) == 48 and write1.frames[0] == 1001 and write1.frames[-1] == 1050
    assert write1.files[0] == str(shot / "render" / "comp_v003.1001.exr")
    assert "script's frame range 1001-1050" in write1.reason

    write2 = by_source["Group1.Write2"]  # inside a group, with its own limit range
    assert write2.expected == (1010, 1020) and write2.missing == () and len(write2.files) == 11
    assert "limit range 1010-1020" in write2.reason

    assert "Write3" not in by_source
    assert any("Write3: the Write node is disabled" in n for n in found.notes)
    assert by_source["Write4"].files == () and by_source["Write4"].missing == tuple(range(1001, 1051))
    assert any(n.startswith("Write4: the folder") and "not rendered yet" in n for n in found.notes)
    assert any("Write1: missing on disk: frames 1017, 1033 (2 frames)" in n for n in found.notes)
    # Staged: the script and the frames on disk; nothing of the disabled or unrendered Writes.
    assert len(found.paths()) == 1 + 48 + 11


def test_nuke_an_unsaved_script_is_a_note_not_an_item(tmp_path):
    module = make_nuke("Root", 1, 10, [])
    found = nuke.collect(module)
    assert found.scene is None and found.items == []
    assert found.notes == ["The script is not saved: save it (File > Save) to publish it with its renders."]


def test_nuke_a_movie_write_is_one_file(tmp_path):
    movie = tmp_path / "review.mov"
    movie.write_bytes(b"mov")
    found = nuke.collect(make_nuke("Root", 1, 10, [write_node("Write1", str(movie))]))
    (item,) = found.items
    assert item.expected is None and item.files == (str(movie),)


# Maya ------------------------------------------------------------------------------------------
@pytest.fixture
def maya_scene(tmp_path: Path):
    scene = tmp_path / "anim_v002.ma"
    scene.write_text("//Maya ASCII\n")
    images = tmp_path / "images"
    render_folder(images / "beauty", "anim_v002", 1, 24, missing=(7,))
    render_folder(images / "crypto", "anim_v002", 1, 24)
    attrs = {"defaultRenderGlobals.currentRenderer": "arnold", "defaultRenderGlobals.startFrame": 1.0,
             "defaultRenderGlobals.endFrame": 24.0, "defaultRenderGlobals.byFrameStep": 1.0,
             "defaultRenderGlobals.animation": True, "defaultRenderGlobals.extensionPadding": 4}
    layers = {
        "defaultRenderLayer": {"renderable": False, "images": [str(images / "master" / "anim_v002.####.exr")]},
        "rs_beauty": {"renderable": True, "images": [str(images / "beauty" / "anim_v002.####.exr")]},
        "rs_crypto": {"renderable": True, "images": [str(images / "crypto" / "anim_v002.####.exr")]},
        "ref:rs_other": {"renderable": True, "images": [str(images / "other" / "x.####.exr")]},
    }
    return scene, attrs, layers, images


def test_maya_collects_the_scene_and_renderable_layers(maya_scene):
    scene, attrs, layers, images = maya_scene
    cmds = make_maya_cmds(str(scene), attrs, layers)
    found = maya.collect(cmds)
    assert found.scene == str(scene)
    renders = {item.source: item for item in found.items if item.role is Role.RENDER}
    assert set(renders) == {"render layer rs_beauty", "render layer rs_crypto"}
    beauty = renders["render layer rs_beauty"]
    assert beauty.path == str(images / "beauty" / "anim_v002.%04d.exr")
    assert beauty.expected == (1, 24) and beauty.missing == (7,) and len(beauty.files) == 23
    assert "arnold output" in beauty.reason
    assert renders["render layer rs_crypto"].missing == ()
    assert any("masterLayer: not renderable" in n for n in found.notes)
    # Maya was asked for the image names with the padding of the render globals.
    assert {c[1]["genericFrameImageName"] for c in cmds.calls if c[0] == "renderSettings"} == {"####"}
    assert not any(item.role is Role.REVIEW for item in found.items)


def test_maya_playblast_on_request_is_the_review(maya_scene, tmp_path):
    scene, attrs, layers, _images = maya_scene
    cmds = make_maya_cmds(str(scene), attrs, layers, panels={"modelPanel4": "shotCam"},
                          playblast_frames=tuple(range(1, 24)))
    found = maya.collect(cmds, playblast=True, playblast_dir=str(tmp_path / "pb"))
    (review,) = [item for item in found.items if item.role is Role.REVIEW]
    assert review.path == str(tmp_path / "pb" / "anim_v002_playblast.%04d.png")
    assert "active camera shotCam" in review.reason
    assert review.expected == (1, 24) and review.missing == (24,)
    (call,) = [c[1] for c in cmds.calls if c[0] == "playblast"]
    assert call["editorPanelName"] == "modelPanel4" and call["viewer"] is False


def test_maya_playblast_without_a_viewport_says_so(maya_scene):
    scene, attrs, layers, _images = maya_scene
    cmds = make_maya_cmds(str(scene), attrs, layers, panels={}, focused="scriptEditorPanel1")
    found = maya.collect(cmds, playblast=True)
    assert "No viewport is open to playblast: open one, then collect again." in found.notes


# Houdini ---------------------------------------------------------------------------------------
@pytest.fixture
def hip_scene(tmp_path: Path):
    hip = tmp_path / "fx_v010.hip"
    hip.write_text("hip")
    render_folder(tmp_path / "render", "fx_v010.mantra1", 1001, 1024, missing=(1012,))
    render_folder(tmp_path / "geo", "sim", 1, 10, ext="bgeo.sc")
    nodes = [
        rop("/out/mantra1", "ifd", "vm_picture", "$HIP/render/$HIPNAME.$OS.$F4.exr", f=(1001, 1024, 1)),
        rop("/obj/geo1/rop_geometry1", "rop_geometry", "sopoutput", "$HIP/geo/sim.$F4.bgeo.sc", f=(1, 10, 1)),
        rop("/out/karma1", "karma", "picture", "$HIP/karma/k.$F4.exr", f=(1, 5, 1), bypass=True),
        rop("/out/still", "opengl", "picture", "$HIP/still.jpg", trange=0),
        rop("/out/merge1", "merge", "unused", "", f=(1, 1, 1)),
    ]
    (tmp_path / "still.jpg").write_bytes(b"jpg")
    nodes[-1]._parms.pop("unused")
    return make_hou(str(hip), nodes, frame=1001), hip, tmp_path


def test_houdini_collects_the_hip_and_each_rops_output_over_its_range(hip_scene):
    module, hip, root = hip_scene
    found = houdini.collect(module)
    assert found.scene == str(hip)
    by_source = {item.source: item for item in found.items}
    mantra = by_source["/out/mantra1"]
    assert mantra.path == str(root / "render" / "fx_v010.mantra1.%04d.exr")
    assert mantra.expected == (1001, 1024) and mantra.missing == (1012,) and len(mantra.files) == 23
    assert "vm_picture" in mantra.reason and "frame range 1001-1024" in mantra.reason
    geo = by_source["/obj/geo1/rop_geometry1"]
    assert geo.path == str(root / "geo" / "sim.%04d.bgeo.sc") and geo.missing == () and len(geo.files) == 10
    assert "/out/karma1" not in by_source
    assert any("/out/karma1: the ROP is bypassed" in n for n in found.notes)
    still = by_source["/out/still"]
    assert still.expected is None and still.files == (str(root / "still.jpg"),)
    assert "current frame 1001" in still.reason
    assert "/out/merge1" not in by_source and not any("merge1" in n for n in found.notes)


def test_houdini_an_unsaved_hip_is_a_note(tmp_path):
    found = houdini.collect(make_hou(str(tmp_path / "untitled.hip"), [], new_file=True))
    assert found.scene is None
    assert found.notes == ["The hip file is not saved: save it (File > Save) to publish it with its renders."]


# The stage file -----------------------------------------------------------------------------
def test_a_collection_round_trips_through_its_stage_file(nuke_scene, tmp_path):
    module, _script, _shot = nuke_scene
    found = nuke.collect(module)
    path = found.write(tmp_path / "stage.json")
    assert Collection.read(path) == found


@pytest.mark.parametrize("content, says", [
    (None, "Cannot read the stage file"),
    ("{not json", "is not one the publisher wrote"),
    (json.dumps({"format": 99, "host": "Nuke"}), "is not one the publisher wrote"),
    (json.dumps({"format": 1, "host": "Nuke", "items": [{"role": "bogus", "path": "x"}]}), "is not one the publisher wrote"),
])
def test_a_bad_stage_file_says_to_collect_again(tmp_path, content, says):
    path = tmp_path / "stage.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(StageFileError, match=says) as info:
        Collection.read(path)
    assert "collect again from the host's menu" in str(info.value)


# The shot's range ----------------------------------------------------------------------------
class _ShotSession:
    """Answers the one query ``shot_range.read`` makes, as a server with the custom attributes
    would (the embedded server has none yet: its path is tested in test_collect_in_app)."""

    def __init__(self, values):
        self.values = values

    def query(self, expression):
        assert expression.startswith("select id, custom_attributes from Shot where id is ")
        shot = {"id": "s1", "custom_attributes": self.values}
        return type("Result", (), {"first": lambda _self: shot})()


def test_renders_are_checked_against_the_shots_cut_and_handles(nuke_scene):
    from publisher.hosts.collect import shot_range

    module, _script, _shot = nuke_scene
    found = nuke.collect(module)  # Write1 renders 1001-1050, Group1.Write2 1010-1020
    rng = shot_range.read(_ShotSession({"fstart": 1001, "fend": 1048, "handles": 1}), "s1", "sh010")
    assert rng == shot_range.ShotRange("sh010", 1001, 1048, 1)
    notes = shot_range.check(found, rng)
    assert "Write1: renders 1001-1050, past the shot sh010's 1001-1048 with 1 handles (1000-1049)." in notes
    assert ("Group1.Write2: renders 1010-1020, but the shot sh010 is 1001-1048: part of the cut is not rendered."
            in notes)
    # CustomAttributeValue rows (key, value) read the same; a shot without values is a note.
    rows = [{"key": "fstart", "value": 1001}, {"configuration": {"key": "fend"}, "value": 1050}]
    assert shot_range.read(_ShotSession(rows), "s1", "sh010") == shot_range.ShotRange("sh010", 1001, 1050, 0)
    assert "has no fstart/fend set" in shot_range.read(_ShotSession({}), "s1", "sh010")
