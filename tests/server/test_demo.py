"""The demo project shows every feature in the first minute: review movies that play, a plate
sequence with a missing frame, notes, several users and every status."""

from __future__ import annotations

import json

import av
import requests
from server_http import Raw

from publisher.server import demo


def _ids(asset: str, number: int) -> str:
    return demo.uid("version", "sh010", asset, str(number))


def test_demo_has_playable_review_movies(raw: Raw, tmp_path):
    version = _ids("comp", 2)
    [review] = raw.query(f'select id, name, file_type, metadata.key, metadata.value from FileComponent '
                         f'where version_id is "{version}" and name is "ftrackreview-mp4"')
    meta = json.loads(next(m["value"] for m in review["metadata"] if m["key"] == "ftr_meta"))
    assert meta == demo.REVIEW_META
    body = requests.get(f"{raw.url}/component/get", params=raw.file_params(review["id"]), timeout=30)
    assert body.status_code == 200
    movie = tmp_path / "review.mp4"
    movie.write_bytes(body.content)
    with av.open(str(movie)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.width, stream.height) == (meta["width"], meta["height"])
    assert frames == meta["frameOut"] - meta["frameIn"] + 1


def test_demo_plate_is_a_sequence_with_a_missing_frame(raw: Raw):
    version = _ids("plate", 1)
    [plate] = raw.query(f'select id, padding, members.name from SequenceComponent where version_id is "{version}"')
    frames = sorted(int(m["name"]) for m in plate["members"])
    assert plate["padding"] == 4 and frames == demo.PLATE_FRAMES
    assert 1006 not in frames and min(frames) == 1001 and max(frames) == 1012
    first = next(m for m in plate["members"] if m["name"] == "1001")
    assert requests.get(f"{raw.url}/component/get", params=raw.file_params(first["id"]),
                        timeout=30).content[:2] == b"\xff\xd8"  # a JPEG


def test_demo_has_notes_users_and_every_status(raw: Raw):
    notes = raw.query(f'select content, user_id from Note where parent_id is "{_ids("comp", 2)}"')
    assert {n["user_id"] for n in notes} == {demo.uid("user", "kim"), demo.uid("user", demo.DEMO_USERNAME)} and len(notes) == 2
    demo_versions = ", ".join(f'"{demo.uid("version", "sh010", a, str(n))}"'
                              for a, _t, _task, vs in demo.ASSETS for n in range(1, len(vs) + 1))
    versions = raw.query(f"select status.name, user.username from AssetVersion where id in ({demo_versions})")
    assert {v["status"]["name"] for v in versions} == set(demo.STATUS_IDS)
    assert len({v["user"]["username"] for v in versions}) >= 4
