"""Proposed asset names drop version and frame tokens (a render version is not a new asset)."""

from __future__ import annotations

import pytest

from publisher.publish import asset_names


@pytest.mark.parametrize("name, expected", [
    ("sh010_comp_v003", "sh010_comp"),
    ("sh010_comp_v003.1001", "sh010_comp"),
    ("sh010_v003_comp", "sh010_comp"),
    ("plate.v12", "plate"),
    ("beauty_V012", "beauty"),
    ("comp-ver003", "comp"),
    ("lookdev_version4", "lookdev"),
    ("plate.%04d", "plate"),
    ("render.####", "render"),
    ("fx_$F4", "fx"),
    ("bg_1001", "bg"),
    ("comp", "comp"),
    ("dev2_rig", "dev2_rig"),       # "dev2" is not a version token
    ("sh010", "sh010"),             # a shot number is not a frame
    ("review movie", "review_movie"),
    ("v003", "main"),
    ("", "main"),
])
def test_proposed_asset_names(name, expected):
    assert asset_names.propose(name) == expected


def test_fallback_is_used_when_nothing_is_left():
    assert asset_names.propose("v001", fallback="comp") == "comp"
