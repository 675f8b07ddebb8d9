"""The ftrack Connect plugin the build writes: its layout, no Qt in it, its hook loaded by the
stock ftrack-python-api 3.1.0 client from the plugin folder, and the host bootstraps."""

from __future__ import annotations

import json
import time
import os
import stat
import subprocess
import sys
import textwrap
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import publisher
from publisher.server import demo

REPO = Path(__file__).resolve().parents[2]
TASK = demo.uid("Task", "sh010/Compositing")

try:
    from tests.conftest import run_stock
except ImportError:  # pytest run without the repository root on sys.path: load it by path
    import importlib.util

    _spec = importlib.util.spec_from_file_location("_tests_root_conftest", REPO / "tests" / "conftest.py")
    _root = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_root)
    run_stock = _root.run_stock


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, str(REPO / "packaging" / "build.py"), "--connect-plugin", "--dist", str(dist)],
                          capture_output=True, text=True, timeout=300, cwd=dist)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folder = dist / "connect-plugin" / f"ftrack-publisher-{publisher.__version__}"
    assert f"Built the Connect plugin {folder}" in proc.stdout
    return folder


@pytest.fixture
def fake_app(tmp_path) -> Path:
    """An executable standing in for the installed app: it writes its arguments and environment."""
    app = tmp_path / "ftrack-publisher"
    out = tmp_path / "app-started.json"
    app.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, os, sys
        json.dump({{"argv": sys.argv[1:], "env": dict(os.environ)}}, open({str(out)!r}, "w"))
        """))
    app.chmod(app.stat().st_mode | stat.S_IXUSR)
    return app


def test_the_plugin_has_connects_layout_and_no_qt(plugin):
    from importlib.util import module_from_spec, spec_from_file_location

    scope: dict = {}
    exec((plugin / "__version__.py").read_text(), scope)
    assert scope["__version__"] == publisher.__version__
    hook = (plugin / "hook" / "ftrack_publisher_hook.py").read_text()
    assert "def register(session, **kw)" in hook
    deps = plugin / "dependencies"
    for name in ("publisher/hosts/menu.py", "publisher/hosts/collect/nuke.py", "requests/__init__.py",
                 "clique/__init__.py", "platformdirs/__init__.py"):
        assert (deps / name).is_file(), name
    assert not (deps / "publisher" / "server").exists()
    names = {p.name.lower() for p in deps.iterdir()}
    assert not any(n.startswith(("pyside", "shiboken", "pyqt")) for n in names), names
    spec = spec_from_file_location("connect_plugin", REPO / "packaging" / "connect_plugin.py")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.qt_files(deps) == []
    assert not any("Qt" in p.name and p.suffix in (".so", ".dylib", ".dll") for p in deps.rglob("*"))
    for name in ("nuke/menu.py", "maya/scripts/userSetup.py", "houdini/MainMenuCommon.xml",
                 "houdini/python3.11libs/pythonrc.py", "houdini/packages/ftrack_publisher.json"):
        assert (plugin / "resource" / name).is_file(), name


#: Run by the stock client's Python: a session loading the hook from the plugin folder, then
#: Connect's events published on its hub (synchronously: the local subscribers answer).
STOCK_SCRIPT = r"""
import json, os, sys
import ftrack_api
from ftrack_api.event.base import Event

plugin = os.environ["PLUGIN"]
session = ftrack_api.Session(plugin_paths=[os.path.join(plugin, "hook")], auto_connect_event_hub=False)
user = session.api_user
out = {}

def ask(topic, data):
    return session.event_hub.publish(Event(topic, data=data, source={"user": {"username": user}}), synchronous=True)

task = {"entityId": os.environ["TASK"], "entityType": "task"}
out["discover_task"] = ask("ftrack.action.discover", {"selection": [task]})
out["discover_version"] = ask("ftrack.action.discover", {"selection": [{"entityId": "v1", "entityType": "assetversion"}]})
out["discover_two"] = ask("ftrack.action.discover", {"selection": [task, task]})
out["discover_project"] = ask("ftrack.action.discover", {"selection": [{"entityId": "p", "entityType": "show"}]})
for app in ("maya_2025", "nuke_15.0", "houdini_20.5", "photoshop_2024"):
    application = {"identifier": app, "label": app.split("_")[0], "version": app.split("_")[1]}
    out["launch_" + app] = ask("ftrack.connect.application.launch",
                                {"application": application, "integration": {"name": "ftrack-publisher", "env": {}},
                                 "context": {"selection": [task]}})
    out["discover_" + app] = ask("ftrack.connect.application.discover", {"application": application})
out["launch_action"] = ask("ftrack.action.launch", {"actionIdentifier": "ftrack-publisher-publish", "selection": [task]})
print("RESULT " + json.dumps(out))
"""


@pytest.mark.stock
def test_the_stock_client_loads_the_hook_from_the_plugin_folder(plugin, stock_python, server_env, fake_app, tmp_path):
    env = dict(server_env, PLUGIN=str(plugin), TASK=TASK, FTRACK_PUBLISHER_APP=str(fake_app),
               QT_PLUGIN_PATH="/opt/ftrack-connect/PySide6/Qt/plugins", QT_API="pyside6")
    env.pop("PYTHONPATH", None)
    proc = run_stock(stock_python, STOCK_SCRIPT, env, timeout=300)
    found = json.loads(next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))[7:])

    (items,) = [r for r in found["discover_task"] if r]
    assert items["items"][0]["label"] == "Publish with ftrack publisher"
    assert items["items"][0]["actionIdentifier"] == "ftrack-publisher-publish"
    assert [r for r in found["discover_version"] if r][0]["items"][0]["label"] == "Publish with ftrack publisher"
    assert not any(found["discover_two"]) and not any(found["discover_project"])

    deps = str(plugin / "dependencies")
    for app, host_key, host_path in (("maya_2025", "PYTHONPATH.prepend", plugin / "resource" / "maya" / "scripts"),
                                     ("nuke_15.0", "NUKE_PATH.append", plugin / "resource" / "nuke"),
                                     ("houdini_20.5", "HOUDINI_PACKAGE_DIR.append", plugin / "resource" / "houdini" / "packages")):
        (result,) = [r for r in found["launch_" + app] if r]
        integration = result["integration"]
        assert integration["name"] == "ftrack-publisher" and integration["version"] == publisher.__version__
        env_out = integration["env"]
        assert env_out[host_key] == str(host_path) and Path(env_out[host_key]).is_dir()
        assert env_out["PYTHONPATH.append"] == deps
        assert env_out["FTRACK_PUBLISHER_APP"] == str(fake_app)
        # Only our bootstrap and Qt-free code: nothing that points a host at any Qt.
        assert not any(key.split(".")[0].startswith(("QT_", "QML")) for key in env_out), env_out
        assert not any("PySide" in str(value) for value in env_out.values())
        assert [r for r in found["discover_" + app] if r][0]["integration"]["name"] == "ftrack-publisher"
    assert not any(found["launch_photoshop_2024"]) and not any(found["discover_photoshop_2024"])

    # The Action started our app at the task, with Connect's user, without Connect's Qt.
    (launched,) = [r for r in found["launch_action"] if r]
    assert launched == {"success": True, "message": "Opening the ftrack publisher."}
    started = tmp_path / "app-started.json"
    deadline = __import__("time").monotonic() + 30
    while not started.exists() and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.1)
    app_run = json.loads(started.read_text())
    assert app_run["argv"] == ["--context", TASK]
    assert app_run["env"]["FTRACK_CONTEXTID"] == TASK
    assert app_run["env"]["FTRACK_SERVER"] == server_env["FTRACK_SERVER"]
    assert app_run["env"]["FTRACK_API_USER"] == server_env["FTRACK_API_USER"]
    assert "QT_PLUGIN_PATH" not in app_run["env"] and "QT_API" not in app_run["env"]


def test_the_action_without_an_app_installed_says_what_to_do(plugin, monkeypatch, tmp_path):
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("ftrack_publisher_hook_under_test", plugin / "hook" / "ftrack_publisher_hook.py")
    hook = module_from_spec(spec)
    spec.loader.exec_module(hook)
    monkeypatch.delenv("FTRACK_PUBLISHER_APP", raising=False)
    monkeypatch.delenv("FTRACK_PUBLISHER_PYTHON", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    session = types.SimpleNamespace(server_url="http://x", api_user="demo", api_key="k")
    event = {"data": {"selection": [{"entityId": TASK, "entityType": "task"}]}}
    answer = hook.launch_action(session, event, popen=lambda *a, **k: pytest.fail("nothing to start"))
    assert answer["success"] is False and "FTRACK_PUBLISHER_APP" in answer["message"]
    assert hook.launch_action(session, {"data": {"selection": []}})["success"] is False


# Host bootstraps ------------------------------------------------------------------------------
#: A Nuke 15 stand-in running the plugin's menu.py with site-packages off (-S -I): only the
#: standard library and the plugin's dependencies/ can be imported, as in a bare Nuke.
NUKE_BOOT = r"""
import json, sys, types
sys.modules["PySide2"] = types.ModuleType("PySide2")
commands = []
class Menu:
    def addMenu(self, name):
        commands.append(("menu", name)); return self
    def addCommand(self, label, fn):
        commands.append(("command", label)); self.fn = fn
menu = Menu()
nuke = types.ModuleType("nuke")
nuke.NUKE_VERSION_MAJOR = 15
nuke.menu = lambda name: menu
nuke.message = lambda text: commands.append(("message", text))
class Knob:
    def __init__(self, v): self.v = v
    def value(self): return self.v
class Root:
    def name(self): return "Root"
    def __getitem__(self, k): return Knob({"first_frame": 1, "last_frame": 10}[k])
nuke.root = lambda: Root()
nuke.allNodes = lambda *a, **k: []
nuke.filename = lambda node: None
sys.modules["nuke"] = nuke
path = sys.argv[1]
exec(compile(open(path).read(), path, "exec"), {"__name__": "__main__"})
menu.fn()  # the artist picks ftrack > Publish...
import publisher
print("RESULT " + json.dumps({"commands": commands, "publisher": publisher.__file__,
                              "qt": sorted(m for m in sys.modules if m.startswith(("PySide6", "shiboken6")))}))
"""


def test_nukes_menu_entry_collects_and_starts_the_app_from_the_plugin_alone(plugin, fake_app, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "XDG_STATE_HOME": str(tmp_path / "state"), "FTRACK_CONTEXTID": TASK, "FTRACK_PUBLISHER_APP": str(fake_app)}
    proc = subprocess.run([sys.executable, "-S", "-I", "-c", NUKE_BOOT, str(plugin / "resource" / "nuke" / "menu.py")],
                          env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(next(l for l in proc.stdout.splitlines() if l.startswith("RESULT "))[7:])
    assert ["menu", "ftrack"] in found["commands"] and ["command", "Publish..."] in found["commands"]
    assert not any(c[0] == "message" for c in found["commands"]), found["commands"]
    assert found["publisher"].startswith(str(plugin / "dependencies"))
    assert found["qt"] == []
    started = tmp_path / "app-started.json"
    deadline = __import__("time").monotonic() + 30
    while not started.exists() and __import__("time").monotonic() < deadline:
        __import__("time").sleep(0.1)
    app_run = json.loads(started.read_text())
    assert app_run["argv"][0] == "--stage" and app_run["argv"][2:] == ["--context", TASK]
    stage = json.loads(Path(app_run["argv"][1]).read_text())
    assert stage["host"] == "Nuke" and stage["notes"][0].startswith("The script is not saved")


def test_mayas_user_setup_adds_the_ftrack_menu(plugin, monkeypatch):
    calls = []
    maya = types.ModuleType("maya")
    cmds = types.ModuleType("maya.cmds")
    cmds.menu = lambda name=None, **kw: calls.append(("menu", name, kw)) or (False if kw.get("exists") else name)
    cmds.menuItem = lambda **kw: calls.append(("menuItem", kw["label"]))
    mel = types.ModuleType("maya.mel")
    mel.eval = lambda text: "MayaWindow"
    utils = types.ModuleType("maya.utils")
    utils.executeDeferred = lambda fn: fn()
    maya.cmds, maya.mel, maya.utils = cmds, mel, utils
    for name, module in {"maya": maya, "maya.cmds": cmds, "maya.mel": mel, "maya.utils": utils}.items():
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(sys, "path", list(sys.path))
    path = plugin / "resource" / "maya" / "scripts" / "userSetup.py"
    exec(compile(path.read_text(), str(path), "exec"), {"__name__": "__main__"})
    assert str(plugin / "dependencies") in sys.path
    created = [c for c in calls if c[0] == "menu" and not c[2].get("exists")]
    assert created[0][1] == "ftrackPublisherMenu" and created[0][2]["parent"] == "MayaWindow"
    assert [c[1] for c in calls if c[0] == "menuItem"] == ["Publish...", "Publish with a playblast..."]


def test_houdinis_package_menu_and_pythonrc(plugin, monkeypatch):
    houdini = plugin / "resource" / "houdini"
    package = json.loads((houdini / "packages" / "ftrack_publisher.json").read_text())
    assert (houdini / "packages" / Path(package["hpath"].replace("$HOUDINI_PACKAGE_PATH/", ""))).resolve() == houdini.resolve()
    deps = package["env"][0]["PYTHONPATH"]["value"].replace("$HOUDINI_PACKAGE_PATH/", "")
    assert (houdini / "packages" / deps).resolve() == (plugin / "dependencies").resolve()
    menu = ET.parse(houdini / "MainMenuCommon.xml").getroot()
    script = menu.find("./menuBar/subMenu/scriptItem/scriptCode").text
    assert 'menu.open_publisher("Houdini")' in script
    monkeypatch.setattr(sys, "path", list(sys.path))
    path = houdini / "python3.11libs" / "pythonrc.py"
    exec(compile(path.read_text(), str(path), "exec"), {"__name__": "__main__"})
    assert str(plugin / "dependencies") in sys.path


#: Connect's side: the stock client's session with the plugin's hook, on the server's hub.
CONNECT_ON_HUB = r"""
import os, sys, time
import ftrack_api

session = ftrack_api.Session(plugin_paths=[os.path.join(os.environ["PLUGIN"], "hook")])
session.event_hub.connect()
print("READY", flush=True)
deadline = time.time() + 90
while time.time() < deadline and not os.path.exists(os.environ["STOP"]):
    session.event_hub.wait(0.2)
session.event_hub.disconnect()
"""


@pytest.mark.stock
def test_the_hook_answers_the_action_through_the_servers_event_hub(plugin, stock_python, server_env, fake_app,
                                                                   tmp_path):
    """The web UI's side is our own client: it asks on the embedded server's hub, Connect's
    session (the stock client with the hook from the plugin folder) answers."""
    from publisher.api import Session
    from publisher.api.event_hub import make_event

    stop = tmp_path / "stop"
    env = dict(server_env, PLUGIN=str(plugin), STOP=str(stop), FTRACK_PUBLISHER_APP=str(fake_app))
    env.pop("PYTHONPATH", None)
    connect = subprocess.Popen([str(stock_python), "-c", CONNECT_ON_HUB], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    session = Session(server_env["FTRACK_SERVER"], server_env["FTRACK_API_USER"], server_env["FTRACK_API_KEY"])
    try:
        assert connect.stdout.readline().strip() == "READY", connect.stderr.read()
        hub = session.event_hub
        hub.connect()

        def ask(topic: str, data: dict) -> list:
            replies: list = []
            hub.publish(make_event(topic, data), on_reply=lambda event: replies.append(event["data"]))
            deadline = time.monotonic() + 20
            while not replies and time.monotonic() < deadline:
                hub.wait(0.2)
            return replies

        selection = [{"entityId": TASK, "entityType": "task"}]
        (discovered,) = ask("ftrack.action.discover", {"selection": selection})
        assert discovered["items"][0]["label"] == "Publish with ftrack publisher"
        (launched,) = ask("ftrack.action.launch", {"actionIdentifier": "ftrack-publisher-publish", "selection": selection})
        assert launched == {"success": True, "message": "Opening the ftrack publisher."}
        started = tmp_path / "app-started.json"
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert json.loads(started.read_text())["argv"] == ["--context", TASK]
    finally:
        stop.write_text("")
        session.close()
        try:
            connect.wait(30)
        finally:
            if connect.poll() is None:
                connect.kill()
