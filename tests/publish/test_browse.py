"""browse against the real embedded server: the tree, version pages, details, review states."""

from __future__ import annotations

import uuid

import pytest

from publisher.publish import browse, version_filter
from publisher.publish.errors import PublishError
from publisher.publish.runner import NewVersion, PublishRequest, run_publish
from publisher.publish.staging import stage_paths


@pytest.fixture(scope="module")
def many_versions(fresh_session, sandbox):
    """23 versions on three assets of the sandbox shot, made in one commit."""
    s = fresh_session()
    shot = s.get("Shot", sandbox.shot_id)
    asset_type = s.get("AssetType", sandbox.asset_type_id)
    ids = []
    for a, (name, count) in enumerate([("bg", 10), ("fg", 8), ("Fx_special", 5)]):
        asset = s.create("Asset", {"name": name, "parent": shot, "type": asset_type})
        for n in range(count):
            v = s.create("AssetVersion", {"asset": asset, "comment": f"{name} take {n + 1}",
                                         "task_id": sandbox.task_id if n % 2 else None})
            ids.append(v["id"])
    s.commit()
    s.close()
    return ids


def test_projects_children_and_path(session, sandbox):
    projects = browse.list_projects(session)
    lighthouse = next(p for p in projects if p.name == "lighthouse")
    assert lighthouse.entity_type == "Project" and lighthouse.parent_id is None and lighthouse.has_children
    children = browse.list_children(session, lighthouse.id)
    assert children == sorted(children, key=lambda r: browse._natural_key(r.name))
    ours = next(c for c in children if c.id != lighthouse.id and c.entity_type == "Sequence" and c.name.startswith("zz_test_")
                and browse.list_children(session, c.id)[0].id == sandbox.shot_id)
    assert ours.parent_id == lighthouse.id and ours.has_children
    [shot] = browse.list_children(session, ours.id)
    assert (shot.id, shot.entity_type, shot.name, shot.has_children) == (sandbox.shot_id, "Shot", "sh010", True)
    [task] = browse.list_children(session, shot.id)
    assert (task.id, task.entity_type, task.name, task.has_children) == (sandbox.task_id, "Task", "comp", False)
    assert task.type_name == "Compositing"
    path = browse.context_path(session, task.id)
    assert [r.id for r in path] == [lighthouse.id, ours.id, shot.id, task.id]
    assert [r.entity_type for r in path] == ["Project", "Sequence", "Shot", "Task"]
    assert path[-1] == task and path[0].has_children
    assert browse.context_path(session, lighthouse.id) == [lighthouse]


def test_children_are_sorted_naturally(session, sandbox):
    shot = session.get("Shot", sandbox.shot_id)
    for name in ["light10", "light9", "Light2"]:
        session.create("Task", {"name": name, "parent": shot})
    session.commit()
    names = [r.name for r in browse.list_children(session, sandbox.shot_id)]
    assert names.index("Light2") < names.index("light9") < names.index("light10")


def test_demo_project_tree_has_versions_somewhere(session):
    # The demo data: lighthouse has sequences, shots, tasks, and versions on its assets.
    lighthouse = next(p for p in browse.list_projects(session) if p.name == "lighthouse")
    seq = next(c for c in browse.list_children(session, lighthouse.id) if not c.name.startswith("zz_test_"))
    shots = browse.list_children(session, seq.id)
    assert shots
    assert sum(browse.count_versions(session, s.id) for s in shots) > 0


def test_unknown_context_and_version_give_clear_errors(session):
    missing = str(uuid.uuid4())
    with pytest.raises(PublishError, match="may have been deleted; refresh the project list"):
        browse.context_path(session, missing)
    with pytest.raises(PublishError, match="no longer exists on the server: refresh the version list"):
        browse.version_details(session, missing)
    assert browse.list_children(session, missing) == []
    assert browse.count_versions(session, missing) == 0
    assert browse.list_versions(session, missing, offset=0, limit=50) == []


def test_version_pages_are_one_request_each_and_cover_everything_once(session, sandbox, many_versions):
    total = browse.count_versions(session, sandbox.shot_id)
    assert total == len(many_versions)
    seen = []
    for offset in range(0, total + 10, 10):
        before = session.request_count
        page = browse.list_versions(session, sandbox.shot_id, offset=offset, limit=10)
        assert session.request_count - before == 1  # no review components here: no jobs query
        seen.extend(page)
    assert len(seen) == total and {r.id for r in seen} == set(many_versions)
    dates = [r.date for r in seen]
    assert all(d is not None for d in dates) and dates == sorted(dates, reverse=True)
    row = next(r for r in seen if r.asset_name == "fg")
    assert row.asset_type == sandbox.asset_type_name
    assert row.context_id == sandbox.shot_id and row.review_state == "none"
    assert row.user_name and row.status_name and row.component_count == 0
    assert row.comment.startswith("fg take ")


def test_versions_of_a_task_are_those_published_with_that_task(session, sandbox, many_versions):
    rows = browse.list_versions(session, sandbox.task_id, offset=0, limit=100)
    assert rows and all(r.task_id == sandbox.task_id for r in rows)
    assert {r.id for r in rows} <= set(many_versions) | {r.id for r in rows}
    assert browse.count_versions(session, sandbox.task_id) == len(rows)


def test_ordering_and_text_filter(session, sandbox, many_versions):
    by_asset = browse.list_versions(session, sandbox.shot_id, offset=0, limit=100, order_by="asset", descending=False)
    names = [r.asset_name for r in by_asset]
    # Each asset's versions together, assets in the server's name order (binary or case-blind).
    distinct = list(dict.fromkeys(names))
    assert distinct in (["Fx_special", "bg", "fg"], ["bg", "fg", "Fx_special"])
    assert names == sorted(names, key=distinct.index)
    by_version = browse.list_versions(session, sandbox.shot_id, offset=0, limit=100, order_by="version", descending=True)
    assert [r.version for r in by_version] == sorted((r.version for r in by_version), reverse=True)
    fx = browse.list_versions(session, sandbox.shot_id, offset=0, limit=100, text_filter="special")
    assert {r.asset_name for r in fx} == {"Fx_special"} and len(fx) == 5
    assert browse.count_versions(session, sandbox.shot_id, text_filter="special") == 5
    takes = browse.list_versions(session, sandbox.shot_id, offset=0, limit=100, text_filter='bg take 1"')
    assert takes == []  # a quote in the filter is searched for, not a syntax error
    with pytest.raises(PublishError, match="Cannot sort versions by 'colour'"):
        browse.list_versions(session, sandbox.shot_id, offset=0, limit=10, order_by="colour")


def test_server_filter_matches_exactly_what_the_loaded_rows_match(session, sandbox, many_versions):
    """The window filters loaded rows at once and then shows the server's answer: they must agree
    on every kind of word an artist types (status, version token, user, comment, type, wildcard)."""
    everything = browse.list_versions(session, sandbox.shot_id, offset=0, limit=100)
    first = everything[0]
    status = first.status_name
    user_first, username = first.search_values().texts[5], first.search_values().texts[4]
    texts = [status, status.lower()[:4], "v002", "V2", "2", "special", "fx_sp", "take 1", "bg take",
             user_first, username, "Upload", "zz-nothing-matches", "v2 bg", "%take%"]
    for text in texts:
        words = version_filter.words(text)
        local = {r.id for r in everything if version_filter.matches(r.search_values(), words)}
        server = {r.id for r in browse.list_versions(session, sandbox.shot_id, offset=0, limit=100,
                                                     text_filter=text)}
        assert server == local, f"filter {text!r}: server and window disagree"
        if text != "zz-nothing-matches":
            assert local, f"filter {text!r} should match some of the sandbox's versions"
    assert len({r.id for r in everything if version_filter.matches(
        r.search_values(), ["v002"])}) == 3, "v002 is version 2 of each of the three assets"


@pytest.mark.parametrize("asset_ids", [500, 0], ids=["assets-by-id", "assets-joined"])
def test_count_beyond_one_page_probes_the_end(session, sandbox, many_versions, monkeypatch, asset_ids):
    monkeypatch.setattr(browse, "COUNT_ASSET_IDS", asset_ids)
    task_total = len(browse.list_versions(session, sandbox.task_id, offset=0, limit=500))
    for page in (4, 5, 22, 23):  # 23 versions: a full first page at 23, one short at 22
        monkeypatch.setattr(browse, "COUNT_PAGE", page)
        assert browse.count_versions(session, sandbox.shot_id) == len(many_versions)
        assert browse.count_versions(session, sandbox.task_id) == task_total
        assert browse.count_versions(session, sandbox.shot_id, text_filter="special") == 5


def test_asset_types_and_assets(session, sandbox, many_versions):
    types = browse.list_asset_types(session)
    assert (sandbox.asset_type_id, sandbox.asset_type_name) in types
    names = [n for _, n in browse.list_assets(session, sandbox.shot_id)]
    assert {"bg", "fg", "Fx_special"} <= set(names)


def test_thumbnail_url_points_at_the_server(session):
    url = browse.thumbnail_url(session, "abc", size=128)
    assert url.startswith(session.server_url + "/component/thumbnail?")
    assert "id=abc" in url and "size=128" in url and "username=" in url and "apiKey=" in url


def test_review_state_is_encoding_while_a_job_writes_the_review_component(session, fresh_session, sandbox, tmp_path):
    movie = tmp_path / "cut.mov"
    movie.write_bytes(b"not really a movie")
    published = run_publish(session, PublishRequest(
        stage_paths([str(movie)]).components,
        new_version=NewVersion(sandbox.shot_id, f"enc_{uuid.uuid4().hex[:6]}", sandbox.asset_type_id)))
    # What the server's encode_media makes when it queues a job: the output component on the
    # version, and a queued Job linked to it. Made here through the API so the job stays queued.
    s = fresh_session()
    version = s.get("AssetVersion", published.version_id)
    output = s.create("FileComponent", {"name": "ftrackreview-mp4", "file_type": ".mp4", "size": 0, "version": version})
    job = s.create("Job", {"status": "queued", "type": "api_job",
                           "data": '{"output": [{"format": "video/mp4", "component_id": "%s"}]}' % output["id"]})
    s.create("JobComponent", {"job_id": job["id"], "component_id": output["id"]})
    s.commit()

    def state() -> str:
        rows = browse.list_versions(session, sandbox.shot_id, offset=0, limit=500)
        return next(r for r in rows if r.id == published.version_id).review_state

    before = session.request_count
    assert state() == "encoding"
    assert session.request_count - before == 2  # the page, and the jobs of its review components
    job["status"] = "running"
    s.commit()
    assert state() == "encoding"
    job["status"] = "done"
    s.commit()
    assert state() == "playable"
    assert browse.version_details(session, published.version_id).row.review_state == "playable"
    job["status"] = "failed"
    s.commit()
    assert state() == "playable"  # an older failure does not hide a playable review
    s.delete(s.query(f'select job_id, component_id from JobComponent where job_id is "{job["id"]}"').one())
    s.delete(output)
    s.commit()
    assert state() == "none"
    s.close()
