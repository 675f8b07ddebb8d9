"""``ftrack-publisher find [PATH]``: projects, shots, tasks and versions by path, for artists and scripts.

``find`` lists the projects; ``find lighthouse/sq010/sh010/Compositing`` what that task holds
(its versions, as ``…/Compositing/comp v004``); a last part with ``*`` lists what matches
(``find 'lighthouse/*/sh0*'``). Each line is ``KIND PATH``, and every PATH can be given back to
``find`` or to ``publish --task``/``--version``. ``--json`` prints a JSON list instead, one
object per place (kind, id, path, name, asset, version, task_id, context_id). Also the words of
path errors for every command. No Qt.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TextIO

from publisher.api.exceptions import FtrackError
from publisher.api.session import Session
from publisher.cli_errors import FAILED, OK, CliFailure
from publisher.cli_session import connect
from publisher.publish.context_paths import NoSuchId, PathAmbiguous, PathError, PathNotFound, Place, WrongKind, find
from publisher.publish.errors import PublishError

#: How a place's kind is printed.
KIND_WORDS = {"AssetVersion": "version", "Asset": "asset"}
#: How many matches an ambiguity error lists.
AMBIGUOUS_LISTED = 10


def kind_word(place: Place) -> str:
    return KIND_WORDS.get(place.kind, place.kind.lower())


def describe_path_error(error: PathError, server_url: str, option: str = "") -> str:
    """What went wrong with a path or id, and what to do, for someone at a terminal."""
    if isinstance(error, NoSuchId):
        if error.wanted == "version":
            return (f"There is no version with id {error.text} on {server_url}: check the id (copy it from "
                    "the version's details), or give its path, such as lighthouse/sq010/sh010/Compositing/comp/v4.")
        return (f"There is no task (or shot, or folder) with id {error.text} on {server_url}: check the id "
                "(copy it from the task's details), or give its path, such as lighthouse/sq010/sh010/Compositing.")
    if isinstance(error, PathNotFound):
        where = error.where or "the projects"
        if error.available:
            held = ", ".join(error.available) + (f" and {error.more} more" if error.more else "")
            there = f"{where} holds {held}"
        else:
            there = f"{where} holds nothing"
        listing = f"ftrack-publisher find {error.where}".rstrip()
        return (f"Nothing called {error.part!r} in {where} (in {error.text!r}): {there}. Check the spelling "
                f"(case does not matter, * matches within a level), or see what is there with: {listing}")
    if isinstance(error, PathAmbiguous):
        paths = [p.path for p in error.matches]
        # Two assets of one name (of two asset types) give equal paths: the ids tell them apart.
        shown = ", ".join(f"{p.path} (id {p.id})" if paths.count(p.path) > 1 else p.path
                          for p in error.matches[:AMBIGUOUS_LISTED])
        more = len(error.matches) - AMBIGUOUS_LISTED
        shown += f" and {more} more" if more > 0 else ""
        return (f"{error.text!r} names {len(error.matches)} places: {shown}. Give the one you mean "
                "in full, or its id.")
    if isinstance(error, WrongKind):
        place = error.place
        if error.wanted == "version":
            if place.kind == "Asset":
                return (f"{error.text!r} is the asset {place.asset_name!r}, not a version: add the version, "
                        f"such as {place.path}/v4 or {place.path}/latest.")
            return (f"{error.text!r} is a {kind_word(place)}, not a version: end the path with the asset and "
                    f"the version, such as {place.path}/comp/latest (see: ftrack-publisher find {place.path}), "
                    "or use --task to publish a new version there.")
        return (f"{error.text!r} is {'an asset' if place.kind == 'Asset' else 'a version'}, not a task: give the "
                f"task it is in ({'/'.join(place.names)})"
                + (", or use --version to add to that version." if place.kind == "AssetVersion" else "."))
    return str(error)


def run(args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the ``find`` subcommand; the exit status."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        connection = connect(args.profile, err)
        try:
            places = _find(connection.session, args.path)
        finally:
            connection.close()
    except CliFailure as failure:
        err.write(f"error: {failure.message}\n")
        return failure.status
    except KeyboardInterrupt:
        err.write("error: interrupted.\n")
        return 130
    if args.json:
        json.dump([p.as_dict() for p in places], out, indent=2)
        out.write("\n")
    else:
        width = max((len(kind_word(p)) for p in places), default=0)
        for place in places:
            out.write(f"{kind_word(place):<{width}}  {place.path}\n")
        if not places:
            err.write(f"nothing below {args.path.strip('/') or 'the top'}\n")
    out.flush()
    return OK


def _find(session: Session, path: str) -> list[Place]:
    try:
        return find(session, path)
    except PathError as error:
        raise CliFailure(describe_path_error(error, session.server_url)) from error
    except (FtrackError, PublishError) as error:
        raise CliFailure(f"The server could not be asked about {path or 'the projects'}: {error}", FAILED) from error


__all__ = ["describe_path_error", "kind_word", "run"]
