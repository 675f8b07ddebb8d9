"""FTRACK_CONTEXTID (and --context) open the window, the docked panel and the CLI at the task."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from publisher.api import Session
from publisher.server import demo

REPO = Path(__file__).resolve().parents[2]
#: Not the task the window opens at by default (the first one with versions).
TASK = demo.uid("Task", "sh040/Lighting")
OTHER = demo.uid("Task", "sh050/Animation")


def context_of(widget) -> str | None:
    context = widget.controller.context
    return context.id if context is not None else None


@pytest.fixture
def open_app(qapp, qtbot, host_env):
    """``open_app(argv)`` runs ``ftrack-publisher argv`` in this process (the window outlives the
    call, as inside a host) and returns its window."""
    from publisher import cli
    from publisher.hosts import standalone as app

    opened = []

    def run(argv: list[str]):
        before = list(app._open_windows)
        assert cli.main(argv) == 0
        (window,) = [w for w in app._open_windows if w not in before]
        opened.append(window)
        return window

    yield run
    for window in opened:
        qtbot.waitUntil(lambda w=window: not w.controller.busy(), timeout=30000)
        window.close()


def test_ftrack_contextid_opens_the_window_at_the_task(qtbot, open_app, monkeypatch):
    monkeypatch.setenv("FTRACK_CONTEXTID", TASK)
    window = open_app([])
    qtbot.waitUntil(lambda: context_of(window.widget) == TASK, timeout=30000)
    assert not window.widget.banner.isVisible()


def test_context_option_wins_over_the_variable(qtbot, open_app, monkeypatch):
    monkeypatch.setenv("FTRACK_CONTEXTID", OTHER)
    window = open_app(["--context", TASK])
    qtbot.waitUntil(lambda: context_of(window.widget) == TASK, timeout=30000)


def test_a_context_that_names_nothing_opens_the_last_task_and_says_so(qtbot, open_app, monkeypatch):
    monkeypatch.delenv("FTRACK_CONTEXTID", raising=False)
    window = open_app(["--context", "0000-not-a-task"])
    qtbot.waitUntil(lambda: window.widget.banner.isVisible(), timeout=30000)
    assert "--context=0000-not-a-task names no task" in window.widget.banner.label.text()
    assert context_of(window.widget) not in (None, "0000-not-a-task")


def test_ftrack_contextid_opens_the_docked_panel_at_the_task(qtbot, stand_in, monkeypatch):
    monkeypatch.setenv("FTRACK_CONTEXTID", TASK)
    stand_in("nuke")
    from publisher.hosts import nuke

    panel = nuke.show()
    widget = panel.widget.publisher
    qtbot.waitUntil(lambda: context_of(widget) == TASK, timeout=30000)
    assert widget.findChild(type(widget.refresh_button), "CollectButton").text() == "Collect from Nuke"


def test_ftrack_contextid_is_the_default_task_of_the_cli(host_env, tmp_path):
    render = tmp_path / "notes.txt"
    render.write_text("notes for the lighting task")
    env = dict(os.environ, FTRACK_CONTEXTID=TASK, XDG_DATA_HOME=str(tmp_path / "data"), PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "publisher", "publish", str(render), "--asset", "ctxnotes"],
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    version_id = next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("version "))
    session = Session(os.environ["FTRACK_SERVER"], os.environ["FTRACK_API_USER"], os.environ["FTRACK_API_KEY"])
    try:
        version = session.query(f'select task_id, asset.name from AssetVersion where id is "{version_id}"').one()
        assert version["task_id"] == TASK and version["asset"]["name"] == "ctxnotes"
    finally:
        session.close()
    # Without the variable and without --task the CLI still says what to give.
    env.pop("FTRACK_CONTEXTID")
    refused = subprocess.run([sys.executable, "-m", "publisher", "publish", str(render)], env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "--task PATH (or id)" in refused.stderr


def test_a_stage_file_that_cannot_be_read_says_to_collect_again(qtbot, open_app, monkeypatch, tmp_path):
    monkeypatch.delenv("FTRACK_CONTEXTID", raising=False)
    window = open_app(["--stage", str(tmp_path / "gone.json"), "--context", TASK])
    assert "Cannot read the stage file" in window.widget.banner.label.text()
    assert "collect again from the host's menu" in window.widget.banner.label.text()
    qtbot.waitUntil(lambda: context_of(window.widget) == TASK, timeout=30000)
    assert window.controller.staging_model.rowCount() == 0
