"""``ftrack-publisher find``, paths for ``--task``/``--version``, ``--profile``, the output's
wording and the exit statuses, run as a user would: real subprocesses against embedded servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from publisher.publish.outbox import Outbox
from publisher.units import format_size

from publish_inputs import make_plates

NO_KEYRING = "keyring.backends.fail.Keyring"


@pytest.fixture
def cli_env(server_env, tmp_path):
    env = dict(server_env)
    env["XDG_DATA_HOME"] = str(tmp_path / "data")  # this test's outbox (and demo server)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # this test's settings: no profile
    env["PYTHON_KEYRING_BACKEND"] = NO_KEYRING
    return env


def command(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "publisher", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def ids_of(stdout: str) -> dict:
    out: dict = {"component": []}
    for line in stdout.splitlines()[1:]:
        key, _, value = line.partition(" ")
        if key == "component":
            out["component"].append(value)
        else:
            out[key] = value
    return out


@pytest.fixture(scope="module")
def where(fresh_session, sandbox):
    """The sandbox task's path (``lighthouse/zz_test_…/sh010/comp``), and twin tasks ``Twin``/``twin``."""
    s = fresh_session()
    seq = s.query(f'select parent.name from Shot where id is "{sandbox.shot_id}"').one()["parent"]["name"]
    shot = s.get("Shot", sandbox.shot_id)
    for name in ("Twin", "twin"):
        s.create("Task", {"name": name, "parent": shot})
    s.commit()
    s.close()
    return f"lighthouse/{seq}/sh010/comp"


# find ---------------------------------------------------------------------------------------------

def test_find_lists_projects_children_and_versions_and_json_for_scripts(cli_env, fresh_session):
    top = command(cli_env, "find")
    assert top.returncode == 0, top.stderr
    assert "project  lighthouse" in top.stdout.splitlines()
    shots = command(cli_env, "find", "LightHouse/SQ010")
    assert shots.stdout.splitlines() == ["shot  lighthouse/sq010/sh010", "shot  lighthouse/sq010/sh020",
                                         "shot  lighthouse/sq010/sh030"]
    versions = command(cli_env, "find", "lighthouse/sq010/sh010/compositing")
    lines = versions.stdout.splitlines()
    assert {"version  lighthouse/sq010/sh010/Compositing/comp v001",
            "version  lighthouse/sq010/sh010/Compositing/comp v002",
            "version  lighthouse/sq010/sh010/Compositing/plate v001"} <= set(lines)
    wild = command(cli_env, "find", "lighthouse/*/sh0*")
    assert [line.split("  ")[1] for line in wild.stdout.splitlines()][:5] == [
        "lighthouse/sq010/sh010", "lighthouse/sq010/sh020", "lighthouse/sq010/sh030", "lighthouse/sq020/sh040",
        "lighthouse/sq020/sh050"]

    as_json = command(cli_env, "find", "lighthouse/sq010/sh010/Compositing/comp", "--json")
    assert as_json.returncode == 0, as_json.stderr
    rows = json.loads(as_json.stdout)
    check = fresh_session()
    expected = check.query('select id, version from AssetVersion where asset.name is "comp" and '
                           'task.name is "Compositing" and task.parent.name is "sh010" and '
                           'task.parent.parent.name is "sq010"').all()
    check.close()
    assert {(r["id"], r["version"]) for r in rows} == {(e["id"], e["version"]) for e in expected}
    first = next(r for r in rows if r["version"] == 1)
    assert first["kind"] == "AssetVersion" and first["path"] == "lighthouse/sq010/sh010/Compositing/comp v001"
    assert (first["asset"], first["name"]) == ("comp", "comp v001")
    # Each printed path finds itself again.
    again = command(cli_env, "find", first["path"], "--json")
    assert [r["id"] for r in json.loads(again.stdout)] == [first["id"]]


# Paths for --task and --version, and what the output says ----------------------------------------

def test_publish_by_path_names_the_context_and_version(cli_env, fresh_session, sandbox, where, tmp_path):
    movie = tmp_path / "edit.mov"
    movie.write_bytes(b"m" * 20000)
    plates = make_plates(tmp_path / "plates")
    size = 20000 + sum(f.stat().st_size for f in plates.iterdir())
    label = " / ".join(where.split("/"))

    first = command(cli_env, "publish", str(movie), str(plates), "--task", where.upper(), "--asset", "farm")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[0] == f"Published {label} / farm v001: 2 components, {format_size(size)}"
    made = ids_of(first.stdout)
    # The progress names the place too, not only an id.
    assert f"{label} / farm: version {made['version']} created" in first.stderr

    second = command(cli_env, "publish", str(movie), "--task", where, "--asset", "farm")
    assert second.stdout.splitlines()[0] == f"Published {label} / farm v002: 1 component, {format_size(20000)}"
    v2 = ids_of(second.stdout)["version"]

    added = command(cli_env, "publish", str(movie), "--version", f"{where}/Farm/latest",
                    "--location", "ftrack.unmanaged")
    assert added.returncode == 0, added.stderr
    assert added.stdout.splitlines()[0] == f"Added to {label} / farm v002: 1 component, {format_size(20000)}"
    assert ids_of(added.stdout)["version"] == v2
    onto_v1 = command(cli_env, "publish", str(movie), "--version", f"{where}/farm v1", "--location", "ftrack.unmanaged")
    assert onto_v1.stdout.splitlines()[0].startswith(f"Added to {label} / farm v001: 1 component")

    check = fresh_session()
    rows = check.query(f'select id, version, task_id, components.name from AssetVersion where asset.name is "farm" '
                       f'and asset.context_id is "{sandbox.shot_id}"').all()
    check.close()
    found = {r["version"]: (r["id"], r["task_id"], sorted(c["name"] for c in r["components"])) for r in rows}
    assert found == {1: (made["version"], sandbox.task_id, ["edit", "edit_mov", "plate"]),
                     2: (v2, sandbox.task_id, ["edit", "edit_mov"])}


def test_a_review_only_publish_says_the_encode_is_queued(cli_env, where, tmp_path):
    from publish_inputs import make_movie

    movie = make_movie(tmp_path / "dailies.mp4")
    done = command(cli_env, "publish", "--task", where, "--review", str(movie), "--asset", "dailies")
    assert done.returncode == 0, done.stderr
    label = " / ".join(where.split("/"))
    assert done.stdout.splitlines()[0] == f"Published {label} / dailies v001: review encode queued"
    assert ids_of(done.stdout)["job"]


@pytest.mark.parametrize("case", ["missing-part", "ambiguous", "version-as-task", "task-as-version",
                                  "asset-as-version", "missing-version", "find-missing"])
def test_path_errors_name_the_part_and_what_is_there(cli_env, sandbox, where, tmp_path, case):
    movie = tmp_path / "edit.mov"
    movie.write_bytes(b"m" * 100)
    shot = where.rsplit("/", 1)[0]
    seq = shot.rsplit("/", 1)[0]
    args, expected = {
        "missing-part": (["publish", str(movie), "--task", f"{seq}/sh099/comp"],
                         [f"Nothing called 'sh099' in {seq}", f"{seq} holds sh010",
                          f"ftrack-publisher find {seq}"]),
        "ambiguous": (["publish", str(movie), "--task", f"{shot}/TWIN"],
                      [f"names 2 places: {shot}/Twin, {shot}/twin", "Give the one you mean in full"]),
        "version-as-task": (["publish", str(movie), "--task", "lighthouse/sq010/sh010/Compositing/comp v001"],
                            ["is a version, not a task", "lighthouse/sq010/sh010/Compositing", "use --version"]),
        "task-as-version": (["publish", str(movie), "--version", "lighthouse/sq010/sh010/Compositing"],
                            ["is a task, not a version", "lighthouse/sq010/sh010/Compositing/comp/latest"]),
        "asset-as-version": (["publish", str(movie), "--version", "lighthouse/sq010/sh010/Compositing/plate"],
                             ["is the asset 'plate', not a version",
                              "lighthouse/sq010/sh010/Compositing/plate/latest"]),
        "missing-version": (["publish", str(movie), "--version", "lighthouse/sq010/sh010/Compositing/plate/v7"],
                            ["Nothing called 'v7' in lighthouse/sq010/sh010/Compositing/plate",
                             "holds plate v001"]),
        "find-missing": (["find", "lighthouse/sq010/sh010/Paint"],
                         ["Nothing called 'Paint' in lighthouse/sq010/sh010",
                          "holds Animation, Compositing, Lighting"]),
    }[case]
    done = command(cli_env, *args)
    assert (done.returncode, done.stdout) == (1, ""), done.stderr
    for text in expected:
        assert text in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert movie.read_bytes() == b"m" * 100


# Saved profiles -----------------------------------------------------------------------------------

SAVE_PROFILES = """
import sys
from publisher.settings import ServerProfile, SettingsStore
store = SettingsStore()
settings = store.load()
for label, url, user, key in zip(*[iter(sys.argv[2:])] * 4):
    store.save_profile(settings, ServerProfile(label, url, user), key, allow_file=True)
settings.active = sys.argv[1] or None
store.save(settings)
"""


def save_profiles(env: dict, active: str, *profiles: tuple[str, str, str, str]) -> None:
    flat = [value for profile in profiles for value in profile]
    subprocess.run([sys.executable, "-c", SAVE_PROFILES, active, *flat], env=env, check=True, timeout=60)


@pytest.fixture
def two_servers(cli_env, embedded_server, server_factory, session_on, tmp_path):
    """A second embedded server holding a sequence only it has, profiles ``first`` and
    ``second`` saved (keys in the key file: no keyring), and an environment without FTRACK_*."""
    second = server_factory()
    s = session_on(second)
    project = s.query('select id from Project where name is "lighthouse"').one()
    s.create("Sequence", {"name": "only_on_second", "parent": project})
    s.commit()
    s.close()
    env = {k: v for k, v in cli_env.items() if not k.startswith("FTRACK_")}
    save_profiles(env, "", ("first", embedded_server.url, embedded_server.api_user, embedded_server.api_key),
                  ("second", second.url, second.api_user, second.api_key))
    return env, second


def sequences(done: subprocess.CompletedProcess) -> set[str]:
    return {line.split("  ")[-1] for line in done.stdout.splitlines()}


def test_profile_chooses_the_server_when_no_ftrack_variables_are_set(two_servers, server_env, session_on, tmp_path):
    env, second = two_servers
    on_second = command(env, "find", "lighthouse", "--profile", "second")
    assert on_second.returncode == 0, on_second.stderr
    assert "lighthouse/only_on_second" in sequences(on_second)
    assert f"note: using the profile 'second' ({second.url})" in on_second.stderr
    on_first = command(env, "find", "lighthouse", "--profile", "first")
    assert on_first.returncode == 0 and "lighthouse/only_on_second" not in sequences(on_first)

    # A publish by path goes to the profile's server.
    movie = tmp_path / "shot.mov"
    movie.write_bytes(b"s" * 5000)
    done = command(env, "publish", str(movie), "--task", "lighthouse/only_on_second", "--profile", "second")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "Published lighthouse / only_on_second / shot v001: 1 component, 5.0 KB"
    check = session_on(second)
    version = check.query(f'select asset.name from AssetVersion where id is "{ids_of(done.stdout)["version"]}"').one()
    check.close()
    assert version["asset"]["name"] == "shot"

    # The active profile is used without --profile; FTRACK_* still wins over it.
    save_profiles(env, "second")
    assert "lighthouse/only_on_second" in sequences(command(env, "find", "lighthouse"))
    with_env = dict(env, **{k: v for k, v in server_env.items() if k.startswith("FTRACK_")})
    assert "lighthouse/only_on_second" not in sequences(command(with_env, "find", "lighthouse"))


def test_profile_mistakes_are_usage_errors(two_servers, server_env):
    env, second = two_servers
    unknown = command(env, "find", "--profile", "nope")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert "There is no saved server profile named 'nope': the saved ones are 'first', 'second'." in unknown.stderr
    # --profile naming another server than FTRACK_SERVER: asked, not guessed.
    clash = command(server_env | {k: v for k, v in env.items() if k.startswith(("XDG_", "PYTHON_KEYRING"))},
                    "find", "--profile", "second")
    assert clash.returncode == 2
    assert f"but the profile 'second' is {second.url}: unset FTRACK_SERVER" in clash.stderr


def test_no_server_and_no_profile_uses_the_embedded_demo_server(cli_env):
    env = {k: v for k, v in cli_env.items() if not k.startswith("FTRACK_")}
    done = command(env, "find", "lighthouse/sq010/sh010/Compositing")
    assert done.returncode == 0, done.stderr
    assert "using the embedded demo server on " + str(Path(env["XDG_DATA_HOME"]) / "ftrack-publisher" / "server") \
        in done.stderr
    assert "version  lighthouse/sq010/sh010/Compositing/comp v002" in done.stdout.splitlines()


# Exit statuses ------------------------------------------------------------------------------------

def test_exit_statuses(cli_env, sandbox, tmp_path):
    movie = tmp_path / "edit.mov"
    movie.write_bytes(b"m" * 100)
    assert command(cli_env, "find", "lighthouse").returncode == 0
    assert command(cli_env, "find", "nowhere_at_all").returncode == 1
    assert command(cli_env, "publish", str(tmp_path / "gone.mov"), "--task", sandbox.task_id).returncode == 1
    assert command(cli_env, "publish", str(movie)).returncode == 2  # no target
    assert command(cli_env, "find", "--no-such-option").returncode == 2
    assert command(cli_env, "find", "--profile", "nope").returncode == 2


CTRL_C_TWICE = textwrap.dedent("""
    import os, signal, sys, time
    from publisher import cli, cli_publish
    from publisher.publish import events

    shown = cli_publish.ProgressPrinter.__call__

    def call(self, event):
        shown(self, event)
        # Ctrl+C, then Ctrl+C again a moment later (stop at once), mid-transfer of big.
        if isinstance(event, events.BytesProgress) and event.name == "big" and not getattr(self, "sent", False):
            self.sent = True
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.3)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)

    cli_publish.ProgressPrinter.__call__ = call
    sys.exit(cli.main(sys.argv[1:]))
""")


def test_ctrl_c_twice_exits_130_and_the_outbox_finishes_the_publish(cli_env, fresh_session, sandbox, where, tmp_path):
    plates = make_plates(tmp_path / "plates")
    big = tmp_path / "big.mov"
    content = bytes(range(256)) * 32768  # 8 MiB
    big.write_bytes(content)
    asset = "twice_" + sandbox.shot_id[:6]
    stopped = subprocess.run([sys.executable, "-c", CTRL_C_TWICE, "publish", str(plates), str(big),
                              "--task", where, "--asset", asset],
                             env=cli_env, capture_output=True, text=True, timeout=120)
    assert stopped.returncode == 130, stopped.stderr
    assert stopped.stdout == ""
    assert "ftrack-publisher publish --resume" in stopped.stderr and "Traceback" not in stopped.stderr
    outbox = Outbox(Path(cli_env["XDG_DATA_HOME"]) / "ftrack-publisher" / "outbox")
    assert [e.state for e in outbox.unfinished()] == ["running"]  # as a killed run leaves it

    resumed = command(cli_env, "publish", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    label = " / ".join(where.split("/"))
    assert f"resuming plate, big to a new version of '{asset}' in {label}" in resumed.stderr
    assert resumed.stdout.splitlines()[0].startswith(f"Published {label} / {asset} v001: 2 components")
    assert [e.state for e in Outbox(outbox.root).entries()] == ["done"]
    check = fresh_session()
    rows = check.query("select name, size, component_locations.location.name from Component where "
                       f'version.asset.name is "{asset}"').all()
    check.close()
    assert {r["name"]: (r["size"], [cl["location"]["name"] for cl in r["component_locations"]]) for r in rows} \
        == {"plate": (sum(f.stat().st_size for f in plates.iterdir()), ["ftrack.server"]),
            "big": (len(content), ["ftrack.server"])}
    assert big.read_bytes() == content


@pytest.mark.parametrize("case", ["no-key", "wrong-key", "unreachable"])
def test_a_broken_profile_says_what_to_fix(cli_env, embedded_server, tmp_path, case):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = f"http://127.0.0.1:{s.getsockname()[1]}"
    env = {k: v for k, v in cli_env.items() if not k.startswith("FTRACK_")}
    url, key = {"no-key": (embedded_server.url, ""), "wrong-key": (embedded_server.url, "not-the-key"),
                "unreachable": (free, "some-key")}[case]
    save_profiles(env, "", ("studio", url, embedded_server.api_user, key))
    movie = tmp_path / "edit.mov"
    movie.write_bytes(b"m" * 100)
    done = command(env, "publish", str(movie), "--task", "lighthouse/sq010/sh010/Compositing", "--profile", "studio")
    expected = {
        "no-key": f"No API key is stored for {embedded_server.api_user} on {embedded_server.url}",
        "wrong-key": "refused the API user or key",
        "unreachable": f"Cannot reach the ftrack server at {free}",
    }[case]
    assert (done.returncode, done.stdout) == (1, ""), done.stderr
    assert expected in done.stderr and "the profile 'studio'" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and movie.read_bytes() == b"m" * 100
