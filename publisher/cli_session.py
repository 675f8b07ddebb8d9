"""Which server a command-line command talks to, and a session on it.

The order every ftrack tool uses: ``FTRACK_SERVER`` (with ``FTRACK_API_USER``,
``FTRACK_API_KEY``) > the saved profile named by ``--profile`` (else the active one, as saved by
the window's Settings…) > the embedded demo server (the window's own, on the same data folder,
started for the command and stopped after it). Failures become :class:`CliFailure` with words
for someone at a terminal. No Qt.
"""

from __future__ import annotations

import os
from typing import Mapping, TextIO

from publisher import paths
from publisher.api.exceptions import AuthenticationError, ConfigurationError, FtrackError, ServerConnectionError
from publisher.cli_errors import USAGE, CliFailure
from publisher.connection import Connection, ConnectionFailure, ServerChoice, configured_server, open_session, \
    start_demo_server
from publisher.credentials import normalise_url
from publisher.settings import SettingsStore


def choose_server(profile: str | None, env: Mapping[str, str] | None = None,
                  store: SettingsStore | None = None) -> ServerChoice:
    """The server for a command given ``--profile`` (``None`` when not given).

    Raises :class:`CliFailure` (usage) for a profile that is not saved, or one that names
    another server than ``FTRACK_SERVER``: publishing to the wrong one of the two is worse than
    asking.
    """
    env = dict(os.environ if env is None else env)
    store = store if store is not None else SettingsStore()
    loaded = store.load()
    if profile is not None:
        saved = loaded.profile(profile)
        if saved is None:
            names = ", ".join(repr(p.label) for p in loaded.profiles)
            raise CliFailure(
                f"There is no saved server profile named {profile!r}: "
                + (f"the saved ones are {names}." if names else "none is saved yet: add one in the window's Settings….")
                + (f" ({store.problem})" if store.problem else ""), USAGE)
        if env.get("FTRACK_SERVER") and normalise_url(env["FTRACK_SERVER"]) != normalise_url(saved.url):
            raise CliFailure(
                f"FTRACK_SERVER is {env['FTRACK_SERVER']} but the profile {profile!r} is {saved.url}: unset "
                "FTRACK_SERVER to use the profile, or leave out --profile to use FTRACK_SERVER.", USAGE)
    try:
        return configured_server(env, store=store, profile=profile)
    except KeyError:  # the file changed between the two reads
        raise CliFailure(f"There is no saved server profile named {profile!r}.", USAGE) from None


def _where(choice: ServerChoice) -> str:
    if choice.source == "profile":
        return f"the profile {choice.label!r} ({choice.url})"
    return f"{choice.url} (FTRACK_SERVER)"


def _what_to_check(choice: ServerChoice) -> str:
    if choice.source == "profile":
        return f"the profile {choice.label!r} in the window's Settings… (or set FTRACK_API_KEY)"
    return "FTRACK_API_USER and FTRACK_API_KEY"


def connect(profile: str | None, err: TextIO, env: Mapping[str, str] | None = None) -> Connection:
    """A session on the chosen server (see the module); says on ``err`` which server it is when
    it is not the environment's. Raises :class:`CliFailure`."""
    choice = choose_server(profile, env)
    if choice.embedded:
        data_dir = paths.embedded_server_dir()
        err.write(f"note: no server configured (FTRACK_SERVER, or a profile saved in Settings…): using the "
                  f"embedded demo server on {data_dir}\n")
        try:
            connection = start_demo_server(data_dir)
        except ConnectionFailure as failure:
            raise CliFailure(f"The embedded demo server could not be used ({failure.cause}). Set FTRACK_SERVER, "
                             "FTRACK_API_USER and FTRACK_API_KEY, or use --profile NAME, to publish to "
                             "your ftrack server.") from failure
        err.write(f"note: the demo server is at {connection.session.server_url}\n")
        return connection
    if choice.source == "profile":
        err.write(f"note: using {_where(choice)}\n")
    if choice.source == "environment" and not choice.api_key:
        raise CliFailure(f"No API key for {choice.url}: set FTRACK_API_KEY (and FTRACK_API_USER).", USAGE)
    try:
        session = open_session(choice)
    except ConfigurationError as error:
        raise CliFailure(f"No API key for {_where(choice)}: {error}") from error
    except AuthenticationError as error:
        raise CliFailure(f"The server at {choice.url} refused the API user or key ({error}). Check "
                         f"{_what_to_check(choice)}.") from error
    except ServerConnectionError as error:
        check = "FTRACK_SERVER" if choice.source == "environment" else f"the address of the profile {choice.label!r}"
        raise CliFailure(f"Cannot reach the ftrack server at {choice.url}: {error} Check {check} and that "
                         "the server is running, then run the command again.") from error
    except FtrackError as error:
        raise CliFailure(f"Cannot connect to the ftrack server at {choice.url}: {error}") from error
    return Connection(session, None, _where(choice))


__all__ = ["choose_server", "connect"]
