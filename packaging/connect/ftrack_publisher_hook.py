# ftrack publisher: the ftrack Connect plugin hook (copied by packaging/build.py --connect-plugin).
"""Registers, in ftrack Connect's event hub session:

- the Action "Publish with ftrack publisher" on one task (or shot, folder) or one version
  (``ftrack.action.discover`` / ``ftrack.action.launch``): it starts the publisher app at that
  context, with Connect's server and user, in an environment without Connect's Qt;
- the launch of Maya, Nuke and Houdini (``ftrack.connect.application.discover`` /
  ``ftrack.connect.application.launch``): the environment keys (``.prepend`` / ``.append``) that
  put our host bootstrap (``resource/``) and our Qt-free code (``dependencies/``) on the host's
  search paths.

Connect calls :func:`register` with its ``ftrack_api.Session``.
"""

import logging
import os
import subprocess
import sys

PLUGIN = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPENDENCIES = os.path.join(PLUGIN, "dependencies")
RESOURCE = os.path.join(PLUGIN, "resource")
if DEPENDENCIES not in sys.path:
    sys.path.append(DEPENDENCIES)

from publisher.hosts import environment  # noqa: E402 (found in dependencies/)
from publisher.hosts.launch import LaunchError, app_command  # noqa: E402

logger = logging.getLogger("ftrack_publisher_hook")

#: The integration name Connect's launcher configurations list for Maya, Nuke and Houdini.
NAME = "ftrack-publisher"
ACTION_IDENTIFIER = "ftrack-publisher-publish"
ACTION_LABEL = "Publish with ftrack publisher"
#: Entity types of a selection the Action is offered on ("task" covers shots and folders).
SELECTABLE = ("task", "assetversion")
#: Application identifiers (as Connect's launcher names them) we add our bootstrap to.
HOSTS = {"maya": "Maya", "nuke": "Nuke", "houdini": "Houdini"}


def _version():
    scope = {}
    with open(os.path.join(PLUGIN, "__version__.py")) as handle:
        exec(handle.read(), scope)
    return scope["__version__"]


def _host_of(application):
    identifier = str((application or {}).get("identifier", "")).lower()
    for prefix, host in HOSTS.items():
        if identifier.startswith(prefix) and not identifier.startswith("nukestudio") and "hiero" not in identifier:
            return host
    return None


def host_environment(host):
    """The environment keys for ``host``: our bootstrap and dependencies on its search paths."""
    env = {"PYTHONPATH.append": DEPENDENCIES}
    if host == "Nuke":
        env["NUKE_PATH.append"] = os.path.join(RESOURCE, "nuke")
    elif host == "Maya":
        env["PYTHONPATH.prepend"] = os.path.join(RESOURCE, "maya", "scripts")
    elif host == "Houdini":
        env["HOUDINI_PACKAGE_DIR.append"] = os.path.join(RESOURCE, "houdini", "packages")
    try:
        command = app_command()
    except LaunchError:
        command = []  # the host's menu entry says what to install when it is needed
    if len(command) == 1:
        env["FTRACK_PUBLISHER_APP"] = command[0]
    return env


def discover_integration(session, event):
    """``ftrack.connect.application.discover``: our name and version."""
    if _host_of(event["data"].get("application")) is None:
        return None
    return {"integration": {"name": NAME, "version": _version()}}


def launch_integration(session, event):
    """``ftrack.connect.application.launch``: the environment for Maya, Nuke or Houdini."""
    host = _host_of(event["data"].get("application"))
    if host is None:
        return None
    integration = dict(event["data"].get("integration") or {})
    integration.update(name=NAME, version=_version())
    env = dict(integration.get("env") or {})
    env.update(host_environment(host))
    integration["env"] = env
    return {"integration": integration}


def _selection(event):
    selection = event["data"].get("selection") or []
    if len(selection) != 1:
        return None
    entity = selection[0]
    if str(entity.get("entityType", "")).lower() not in SELECTABLE:
        return None
    return entity


def discover_action(session, event):
    """``ftrack.action.discover``: offer the Action on one task or one version."""
    if _selection(event) is None:
        return None
    return {"items": [{"label": ACTION_LABEL, "actionIdentifier": ACTION_IDENTIFIER,
                       "description": "Open the ftrack publisher at this task to publish files, "
                                      "folders and image sequences"}]}


def launch_action(session, event, popen=subprocess.Popen):
    """``ftrack.action.launch``: start the publisher at the selected context."""
    entity = _selection(event)
    if entity is None:
        return {"success": False, "message": "Select one task or one version, then publish."}
    try:
        argv = app_command() + ["--context", str(entity["entityId"])]
    except LaunchError as exc:
        return {"success": False, "message": str(exc)}
    env = environment.for_publisher_app(os.environ, environment.bundle_folders())
    env.update(FTRACK_SERVER=session.server_url, FTRACK_API_USER=session.api_user,
               FTRACK_API_KEY=session.api_key, FTRACK_CONTEXTID=str(entity["entityId"]))
    kwargs = {"env": env, "stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL,
              "stderr": subprocess.DEVNULL, "close_fds": True}
    if sys.platform == "win32":
        kwargs["creationflags"] = getattr(subprocess, "DETACHED_PROCESS", 0)
    else:
        kwargs["start_new_session"] = True
    try:
        popen(argv, **kwargs)
    except OSError as exc:
        return {"success": False, "message": "Could not start %s: %s" % (argv[0], exc)}
    return {"success": True, "message": "Opening the ftrack publisher."}


def register(session, **kw):
    """Called by ftrack Connect (and ``ftrack_api``'s plugin loader) with its session."""
    if not hasattr(session, "event_hub"):
        return  # a plugin loader of the legacy API: nothing to register there
    hub = session.event_hub
    user = session.api_user
    hub.subscribe("topic=ftrack.action.discover and source.user.username=\"%s\"" % user,
                  lambda event: discover_action(session, event))
    hub.subscribe("topic=ftrack.action.launch and data.actionIdentifier=%s and source.user.username=\"%s\""
                  % (ACTION_IDENTIFIER, user), lambda event: launch_action(session, event))
    for prefix in HOSTS:
        hub.subscribe("topic=ftrack.connect.application.discover and data.application.identifier=%s*" % prefix,
                      lambda event: discover_integration(session, event), priority=40)
        hub.subscribe("topic=ftrack.connect.application.launch and data.application.identifier=%s*" % prefix,
                      lambda event: launch_integration(session, event), priority=40)
    logger.info("ftrack publisher %s: Action and Maya/Nuke/Houdini launch hooks registered", _version())
