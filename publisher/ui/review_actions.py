""""Make reviewable" and "Play": the server calls behind them, as worker bodies (no widgets).

:func:`make_reviewable` asks the server to encode a movie or image for a version, from a path on
this machine (uploaded first) or from a file component already in ``ftrack.server``; it returns
the Job id, which the window then follows with a :class:`~publisher.ui.job_poller.JobPoller`.
:func:`fetch_review_movie` downloads a version's ``ftrackreview-mp4`` into the cache so the
desktop's player can open it (the server's URL needs the API key, which must not leave the app).
Both run in a pool thread on the worker's cloned session; they raise ``PublishError`` with a
message that says what to do.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from publisher import paths
from publisher.publish.browse import REVIEW_MOVIE, quote
from publisher.publish.errors import PublishError

SERVER_LOCATION = "ftrack.server"


def make_reviewable(session: Any, version_id: str, media: str, *, worker: Any = None) -> str:
    """Queue the review encode of ``media`` for ``version_id``; returns the Job id.

    ``media`` is a file path, or ``"component:<id>"`` for a FileComponent or SequenceComponent
    in ``ftrack.server``.
    """
    version = session.get("AssetVersion", version_id)
    if version is None:
        raise PublishError(f"The version {version_id} no longer exists on the server: refresh the version list.")
    if media.startswith("component:"):
        component_id = media.split(":", 1)[1]
        component = session.get("FileComponent", component_id) or session.get("SequenceComponent", component_id)
        if component is None:
            raise PublishError("That component is neither a file nor an image sequence (or no longer exists): "
                               "choose a movie, an image or an image sequence, or a file on disk.")
        server = session.get_location(SERVER_LOCATION)
        availability = session.get_component_availability(component, [server]).get(server["id"], 0.0)
        if availability < 100.0:
            raise PublishError(f"The component '{component['name']}' is not in {SERVER_LOCATION}, so the server "
                               "cannot read it: make it reviewable from the file on disk instead.")
        source: Any = component
    else:
        if not os.path.isfile(media):
            raise PublishError(f"The file {media} does not exist or is not a file: choose the movie or image to "
                               "make reviewable again.")
        if not os.access(media, os.R_OK):
            raise PublishError(f"The file {media} cannot be read: check its permissions.")
        source = media
    if worker is not None and worker.cancelled:
        raise PublishError("Cancelled before the encode was queued.")
    job = version.encode_media(source)
    return str(job["id"])


def cancel_encode(session: Any, job_id: str, *, worker: Any = None) -> str:
    """Cancel the encode Job ``job_id``; returns the reason written on it.

    ftrack has no cancel action for jobs: the Job is updated to ``failed`` with the error
    "cancelled by <user>", which the server's encode checks while it runs.
    """
    job = session.query(f"select id, status, data from Job where id is {quote(job_id)}").first()
    if job is None:
        raise PublishError(f"The encode job {job_id} no longer exists on the server: there is nothing to cancel.")
    if job["status"] in ("done", "failed"):
        raise PublishError(f"The encode has already {'finished' if job['status'] == 'done' else 'failed'}: "
                           "there is nothing to cancel.")
    try:
        data = json.loads(job["data"] or "{}")
    except ValueError:
        data = {}
    reason = f"cancelled by {session.api_user}"
    data["error"] = reason
    job["status"] = "failed"
    job["data"] = json.dumps(data)
    session.commit()
    return reason


def review_movie_path(component_id: str) -> Path:
    """Where the review movie of ``component_id`` is cached on this machine."""
    return paths.cache_dir() / "review" / f"{component_id}.mp4"


def fetch_review_movie(session: Any, version_id: str, *, worker: Any = None) -> str:
    """Download the version's review movie into the cache (once) and return its path."""
    rows = session.query(
        f"select id, size from FileComponent where version_id is {quote(version_id)} "
        f"and name is {quote(REVIEW_MOVIE)}").all()
    if not rows:
        raise PublishError("This version has no review movie yet: use Make reviewable first, or wait for its "
                           "encode to finish.")
    component = rows[0]
    target = review_movie_path(str(component["id"]))
    size = component["size"]
    if target.is_file() and (not size or target.stat().st_size == size):
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    server = session.get_location(SERVER_LOCATION)
    server.download(component, partial, cancel=getattr(worker, "cancel_event", None))
    os.replace(partial, target)
    return str(target)


__all__ = ["make_reviewable", "cancel_encode", "fetch_review_movie", "review_movie_path"]
