"""``ftrack-publisher publish`` run as a farm script would: a real subprocess against the
embedded server, its exit status, its output, and what reached the server."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from publisher.publish.outbox import Outbox

from publish_inputs import make_movie, make_plates


@pytest.fixture
def cli_env(server_env, tmp_path):
    env = dict(server_env)
    env["XDG_DATA_HOME"] = str(tmp_path / "data")  # the outbox of this test only
    return env


def publish(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "publisher", "publish", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def parse_output(stdout: str) -> dict:
    result: dict = {"component": []}
    for line in stdout.splitlines():
        key, _, value = line.partition(" ")
        if key == "component":
            result["component"].append(value)
        else:
            result[key] = value
    return result


def components_of(session, version_id: str) -> dict:
    rows = session.query(
        "select id, name, component_locations.location.name from Component "
        f'where version_id is "{version_id}"').all()
    return {r["name"]: sorted(cl["location"]["name"] for cl in r["component_locations"]) for r in rows}


def test_a_file_and_a_sequence_to_a_task_then_more_onto_that_version(cli_env, fresh_session, sandbox, tmp_path):
    movie = tmp_path / "edit.mov"
    movie.write_bytes(b"m" * 20000)
    plates = make_plates(tmp_path / "plates")
    done = publish(cli_env, str(movie), str(plates), "--task", sandbox.task_id, "--asset", "farmplate",
                   "--comment", "from the farm")
    assert done.returncode == 0, done.stderr
    out = parse_output(done.stdout)
    assert len(out["component"]) == 2
    # Plain progress lines (stderr is not a terminal): percentages, rate and ETA, no \r.
    assert "100.0%" in done.stderr and "ETA" in done.stderr and "\r" not in done.stderr
    check = fresh_session()
    version = check.query("select id, comment, task_id, asset.name, asset.context_id from AssetVersion "
                          f'where id is "{out["version"]}"').one()
    assert (version["comment"], version["task_id"], version["asset"]["name"]) == (
        "from the farm", sandbox.task_id, "farmplate")
    assert version["asset"]["context_id"] == sandbox.shot_id
    assert components_of(check, out["version"]) == {"edit": ["ftrack.server"], "plate": ["ftrack.server"]}

    # Onto that version: a clashing name is renamed; unmanaged files stay where they are.
    more = publish(cli_env, str(movie), "--version", out["version"], "--location", "ftrack.unmanaged")
    assert more.returncode == 0, more.stderr
    assert "already has a component named 'edit'" in more.stderr
    assert parse_output(more.stdout)["version"] == out["version"]
    assert components_of(check, out["version"]) == {
        "edit": ["ftrack.server"], "plate": ["ftrack.server"], "edit_mov": ["ftrack.unmanaged"]}
    row = check.query('select resource_identifier from ComponentLocation where component.name is "edit_mov" '
                      f'and component.version_id is "{out["version"]}"').one()
    assert row["resource_identifier"] == str(movie)
    check.close()
    # Both publishes went through this user's outbox and are done there.
    entries = Outbox(Path(cli_env["XDG_DATA_HOME"]) / "ftrack-publisher" / "outbox").entries()
    assert [e.state for e in entries] == ["done", "done"]


def test_review_wait_ends_when_the_encode_is_done(cli_env, fresh_session, sandbox, tmp_path):
    movie = make_movie(tmp_path / "movie.mp4")
    done = publish(cli_env, str(movie), "--task", sandbox.task_id, "--review", str(movie), "--wait")
    assert done.returncode == 0, done.stderr
    out = parse_output(done.stdout)
    assert "review done" in done.stdout and "encode done 100%" in done.stderr
    check = fresh_session()
    job = check.query(f'select status from Job where id is "{out["job"]}"').one()
    assert job["status"] == "done"
    names = set(components_of(check, out["version"]))
    assert {"movie", "ftrackreview-mp4", "ftrackreview-image"} <= names
    check.close()


def test_a_corrupt_review_movie_fails_with_the_servers_message(cli_env, fresh_session, sandbox, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a movie at all" * 100)
    done = publish(cli_env, "--task", sandbox.task_id, "--review", str(bad), "--wait")
    assert done.returncode == 1
    out = parse_output(done.stdout)
    check = fresh_session()
    job = check.query(f'select status, data from Job where id is "{out["job"]}"').one()
    check.close()
    assert job["status"] == "failed"
    import json

    server_error = json.loads(job["data"])["error"]
    assert server_error and server_error in done.stderr
    assert "review encode failed" in done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("case", ["missing-path", "unknown-task", "unknown-version", "wrong-key",
                                  "unreachable", "no-target", "no-server", "bad-asset-type",
                                  "wait-without-review", "missing-review"])
def test_bad_input_exits_non_zero_with_a_clear_message(cli_env, sandbox, tmp_path, case):
    movie = tmp_path / "edit.mov"
    movie.write_bytes(b"m" * 100)
    env = dict(cli_env)
    args = [str(movie), "--task", sandbox.task_id]
    if case == "missing-path":
        args[0] = str(tmp_path / "gone.mov")
    elif case == "unknown-task":
        args[2] = "00000000-0000-0000-0000-000000000000"
    elif case == "unknown-version":
        args[1:] = ["--version", "00000000-0000-0000-0000-000000000000"]
    elif case == "wrong-key":
        env["FTRACK_API_KEY"] = "not-the-key"
    elif case == "unreachable":
        env["FTRACK_SERVER"] = f"http://127.0.0.1:{_free_port()}"
    elif case == "no-target":
        args = args[:1]
    elif case == "no-server":
        env.pop("FTRACK_SERVER")
    elif case == "bad-asset-type":
        args += ["--asset-type", "nonsense"]
    elif case == "wait-without-review":
        args += ["--wait"]
    elif case == "missing-review":
        args += ["--review", str(tmp_path / "nomovie.mp4")]
    done = publish(env, *args)
    expected = {
        "missing-path": (1, "gone.mov does not exist"),
        "unknown-task": (1, "There is no task (or shot, or folder) with id 00000000"),
        "unknown-version": (1, "There is no version with id 00000000"),
        "wrong-key": (1, "refused"),
        "unreachable": (1, "Cannot reach the ftrack server"),
        "no-target": (2, "Say where to publish"),
        # Neither FTRACK_SERVER nor a saved profile: the embedded demo server, which has no such task.
        "no-server": (1, "using the embedded demo server"),
        "bad-asset-type": (2, "Unknown asset type 'nonsense'"),
        "wait-without-review": (2, "give --review PATH with it"),
        "missing-review": (1, "nomovie.mp4 does not exist"),
    }[case]
    assert (done.returncode, done.stdout) == (expected[0], "")
    assert expected[1] in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert movie.read_bytes() == b"m" * 100


def test_usage_errors_of_argparse_exit_2(cli_env):
    done = publish(cli_env, "a", "--task", "x", "--version", "y")
    assert done.returncode == 2 and "not allowed with argument" in done.stderr


CTRL_C_SCRIPT = """
import os, signal, sys
from publisher import cli_publish as headless
from publisher.publish import events
from publisher import cli

shown = headless.ProgressPrinter.__call__

def call(self, event):
    shown(self, event)
    # Ctrl+C as the artist would press it: a real SIGINT, mid-transfer of big.
    if isinstance(event, events.BytesProgress) and event.name == "big" and not getattr(self, "sent", False):
        self.sent = True
        os.kill(os.getpid(), signal.SIGINT)

headless.ProgressPrinter.__call__ = call
sys.exit(cli.main(sys.argv[1:]))
"""


def test_ctrl_c_cancels_and_removes_what_was_published(cli_env, fresh_session, sandbox, tmp_path):
    plates = make_plates(tmp_path / "plates")
    big = tmp_path / "big.mov"
    big.write_bytes(bytes(range(256)) * 16384)  # 4 MiB
    asset = "ctrlc_" + sandbox.shot_id[:6]
    done = subprocess.run([sys.executable, "-c", CTRL_C_SCRIPT, "publish", str(plates), str(big),
                           "--task", sandbox.task_id, "--asset", asset],
                          env=cli_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, done.stderr
    assert "cancelling" in done.stderr and "The publish was cancelled. Nothing was published." in done.stderr
    assert done.stdout == ""
    check = fresh_session()
    assert check.query(f'select id from AssetVersion where asset.name is "{asset}"').all() == []
    assert check.query(f'select id from Asset where name is "{asset}"').all() == []
    check.close()
    entries = Outbox(Path(cli_env["XDG_DATA_HOME"]) / "ftrack-publisher" / "outbox").entries()
    assert [e.state for e in entries] == ["cancelled"]
    assert big.read_bytes() == bytes(range(256)) * 16384


def test_the_progress_bar_redraws_in_place_on_a_terminal_and_prints_lines_otherwise():
    import io

    from publisher.publish import events
    from publisher.cli_publish import ProgressPrinter

    total = 50_000_000
    steps = [events.BytesProgress("plate", done, total, done, total) for done in range(0, total + 1, total // 40)]
    tty, log = io.StringIO(), io.StringIO()
    for stream, is_tty in ((tty, True), (log, False)):
        printer = ProgressPrinter(stream, tty=is_tty)
        printer(events.PublishStarted(total, ["plate"]))
        printer.last_draw = -1.0
        for event in steps:
            printer(event)
        printer(events.ComponentDone("plate", "c1"))
        printer.close()
    assert "\r[" in tty.getvalue() and "#" * ProgressPrinter.WIDTH in tty.getvalue()
    assert "100.0% 50.0 MB / 50.0 MB" in tty.getvalue() and "done: plate (c1)" in tty.getvalue()
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue()
    percent_lines = [line for line in lines if "% " in line and "ETA" in line]
    # One line per 10 % step (0 % .. 100 %), not one per event.
    assert [line.split("%")[0].strip() for line in percent_lines] == [
        "0.0", "10.0", "20.0", "30.0", "40.0", "50.0", "60.0", "70.0", "80.0", "90.0", "100.0"]


def test_the_phase_before_the_first_byte_has_its_own_line_and_the_speed_leaves_it_out(monkeypatch):
    import io

    from publisher import cli_publish
    from publisher.cli_publish import ProgressPrinter
    from publisher.publish import events

    clock = [1000.0]
    monkeypatch.setattr(cli_publish.time, "monotonic", lambda: clock[0])
    mib = 1024 * 1024
    log = io.StringIO()
    printer = ProgressPrinter(log, tty=False)
    printer(events.PublishStarted(100 * mib, ["plate"]))
    printer(events.TransferPhase("plate", "reading", 0, 10 * mib))
    printer(events.TransferPhase("plate", "planning", 0, 1))
    clock[0] += 40.0  # forty seconds of set-up before the first byte
    printer(events.BytesProgress("plate", 50 * mib, 100 * mib, 50 * mib, 100 * mib))  # resumed from half
    clock[0] += 10.0
    printer(events.BytesProgress("plate", 60 * mib, 100 * mib, 60 * mib, 100 * mib))
    lines = log.getvalue().splitlines()
    assert lines[1] == "reading plate: 0 B / 10.5 MB"
    assert lines[2] == "planning plate…"
    # 10 MiB in the 10 s since the first figure: 1.0 MiB/s and 40 s left, not the 50 MiB resumed.
    assert lines[-1] == " 60.0% 62.9 MB / 104.9 MB 1.0 MB/s ETA 0:40  plate"
