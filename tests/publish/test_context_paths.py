"""Paths to places (publish/context_paths.py) against the real embedded server: listing,
case, wildcards, version forms, and every way a path can fail."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from publisher.publish import context_paths as cp


@dataclass
class Tree:
    seq: str
    shot_task: str
    twin_ids: tuple[str, str]
    version_ids: list[str]
    plate_id: str
    shot_version_id: str


@pytest.fixture(scope="module")
def tree(fresh_session):
    """lighthouse/<seq>/sh010/{comp, Lighting}, lighthouse/<seq>/sh020/{comp, COMP} (twins in
    case); comp v001-v003 and plate v001 published to sh010/comp; a shot-level "edit" v001."""
    s = fresh_session()
    project = s.query('select id from Project where name is "lighthouse"').one()
    seq_name = f"zz_paths_{uuid.uuid4().hex[:6]}"
    seq = s.create("Sequence", {"name": seq_name, "parent": project})
    sh010 = s.create("Shot", {"name": "sh010", "parent": seq})
    sh020 = s.create("Shot", {"name": "sh020", "parent": seq})
    comp = s.create("Task", {"name": "comp", "parent": sh010})
    s.create("Task", {"name": "Lighting", "parent": sh010})
    twin_a = s.create("Task", {"name": "comp", "parent": sh020})
    twin_b = s.create("Task", {"name": "COMP", "parent": sh020})
    asset_type = s.query("select id from AssetType").first()
    comp_asset = s.create("Asset", {"name": "comp", "parent": sh010, "type": asset_type})
    plate_asset = s.create("Asset", {"name": "plate", "parent": sh010, "type": asset_type})
    edit_asset = s.create("Asset", {"name": "edit", "parent": sh010, "type": asset_type})
    versions = [s.create("AssetVersion", {"asset": comp_asset, "task": comp, "version": n}) for n in (1, 2, 3)]
    plate = s.create("AssetVersion", {"asset": plate_asset, "task": comp, "version": 1})
    edit = s.create("AssetVersion", {"asset": edit_asset, "version": 1})
    s.commit()
    result = Tree(seq_name, comp["id"], (twin_a["id"], twin_b["id"]), [v["id"] for v in versions], plate["id"],
                  edit["id"])
    s.close()
    return result


def paths(places):
    return [p.path for p in places]


def test_find_lists_projects_then_children_then_versions(session, tree):
    assert "lighthouse" in paths(cp.find(session, ""))
    assert f"lighthouse/{tree.seq}" in paths(cp.find(session, "lighthouse"))
    assert paths(cp.find(session, f"lighthouse/{tree.seq}")) == [f"lighthouse/{tree.seq}/sh010",
                                                                 f"lighthouse/{tree.seq}/sh020"]
    # A shot: its tasks, then the versions of its own assets that name no task.
    assert paths(cp.find(session, f"lighthouse/{tree.seq}/sh010")) == [
        f"lighthouse/{tree.seq}/sh010/comp", f"lighthouse/{tree.seq}/sh010/Lighting",
        f"lighthouse/{tree.seq}/sh010/edit v001"]
    # A task: the versions published to it, by asset then number.
    task = f"lighthouse/{tree.seq}/sh010/comp"
    listed = cp.find(session, task)
    assert paths(listed) == [f"{task}/comp v001", f"{task}/comp v002", f"{task}/comp v003", f"{task}/plate v001"]
    assert [p.id for p in listed] == [*tree.version_ids, tree.plate_id]
    assert {p.kind for p in listed} == {"AssetVersion"}
    assert listed[0].label == f"lighthouse / {tree.seq} / sh010 / comp / comp v001"
    # An asset: its versions; a version: itself.
    assert paths(cp.find(session, f"{task}/comp")) == [f"{task}/comp v001", f"{task}/comp v002", f"{task}/comp v003"]
    assert paths(cp.find(session, f"{task}/comp v002")) == [f"{task}/comp v002"]
    assert cp.find(session, f"{task}/comp v002")[0].as_dict()["id"] == tree.version_ids[1]


def test_names_match_in_any_case_and_wildcards_match_within_a_level(session, tree):
    upper = cp.find(session, f"LIGHTHOUSE/{tree.seq.upper()}/SH010/Comp")
    assert [p.id for p in upper][:3] == tree.version_ids
    assert paths(cp.find(session, f"lighthouse/{tree.seq}/sh0*")) == [f"lighthouse/{tree.seq}/sh010",
                                                                       f"lighthouse/{tree.seq}/sh020"]
    across = cp.find(session, f"lighthouse/zz_paths_*/sh010/comp/comp/v00*")
    assert set(tree.version_ids) <= {p.id for p in across}
    assert [p.id for p in cp.find(session, f"lighthouse/{tree.seq}/sh0*0/c*mp/comp v00[23]")] == tree.version_ids[1:]


def test_resolve_task_by_path_or_id(session, tree):
    place = cp.resolve_task(session, f" lighthouse/{tree.seq}/sh010/COMP/ ")
    assert (place.kind, place.id, place.names) == ("Task", tree.shot_task, ("lighthouse", tree.seq, "sh010", "comp"))
    shot = cp.resolve_task(session, f"lighthouse/{tree.seq}/sh010")
    assert shot.kind == "Shot" and place.parent_id == shot.id
    by_id = cp.resolve_task(session, tree.shot_task)
    assert (by_id.id, by_id.path, by_id.parent_id) == (tree.shot_task, place.path, shot.id)


@pytest.mark.parametrize("text, number", [("comp/v2", 2), ("comp/V002", 2), ("comp/3", 3), ("comp/latest", 3),
                                           ("comp v001", 1), ("Comp Latest", 3), ("plate/latest", 1)])
def test_resolve_version_forms(session, tree, text, number):
    place = cp.resolve_version(session, f"lighthouse/{tree.seq}/sh010/comp/{text}")
    assert place.kind == "AssetVersion" and place.version == number
    assert place.id == (tree.plate_id if text.startswith("plate") else tree.version_ids[number - 1])
    assert place.task_id == tree.shot_task
    again = cp.resolve_version(session, place.id)
    assert (again.id, again.label, again.version) == (place.id, place.label, number)


def test_a_missing_part_names_itself_and_what_exists_there(session, tree):
    with pytest.raises(cp.PathNotFound) as caught:
        cp.resolve_task(session, f"lighthouse/{tree.seq}/sh099/comp")
    error = caught.value
    assert (error.part, error.where, error.available) == ("sh099", f"lighthouse/{tree.seq}", ["sh010", "sh020"])
    with pytest.raises(cp.PathNotFound) as caught:
        cp.resolve_version(session, f"lighthouse/{tree.seq}/sh010/comp/comp/v9")
    assert (caught.value.part, caught.value.available) == ("v9", ["comp v001", "comp v002", "comp v003"])
    with pytest.raises(cp.PathNotFound) as caught:
        cp.find(session, "no_such_project_anywhere")
    assert caught.value.where == "" and "lighthouse" in caught.value.available


def test_ambiguous_paths_list_every_match(session, tree):
    with pytest.raises(cp.PathAmbiguous) as caught:
        cp.resolve_task(session, f"lighthouse/{tree.seq}/sh020/comp")  # comp and COMP
    assert sorted(p.id for p in caught.value.matches) == sorted(tree.twin_ids)
    with pytest.raises(cp.PathAmbiguous) as caught:
        cp.resolve_task(session, f"lighthouse/{tree.seq}/sh0*")
    assert len(caught.value.matches) == 2


def test_wrong_kinds_and_unknown_ids(session, tree):
    with pytest.raises(cp.WrongKind) as caught:
        cp.resolve_task(session, f"lighthouse/{tree.seq}/sh010/comp/comp v001")
    assert (caught.value.place.kind, caught.value.wanted) == ("AssetVersion", "task")
    with pytest.raises(cp.WrongKind) as caught:
        cp.resolve_version(session, f"lighthouse/{tree.seq}/sh010/comp")
    assert caught.value.place.kind == "Task"
    with pytest.raises(cp.WrongKind) as caught:
        cp.resolve_version(session, f"lighthouse/{tree.seq}/sh010/comp/comp")
    assert caught.value.place.kind == "Asset"
    missing = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(cp.NoSuchId):
        cp.resolve_task(session, missing)
    with pytest.raises(cp.NoSuchId):
        cp.resolve_version(session, missing)
