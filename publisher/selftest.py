"""``ftrack-publisher --self-test``: prove an installed (or frozen) publisher works end to end.

Starts its own embedded server on a temporary data folder, publishes a file and an image
sequence into ``ftrack.server``, downloads them back and compares the bytes, encodes a small
movie for review and checks the MP4 decodes and the version got a thumbnail. Each step prints
OK or FAIL with what went wrong; the exit status is 0 only when every step passed. The temporary
folder is removed at the end. No Qt; run from any thread (it blocks).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Callable, TextIO

#: Frames of the generated image sequence and movie.
SEQUENCE_FRAMES = range(1001, 1006)
MOVIE_FRAMES = 24
MOVIE_SIZE = (160, 90)


class SelfTestError(AssertionError):
    """A check of the self-test did not hold; the message says which and what was seen."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SelfTestError(message)


def _digest(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def make_png_sequence(folder: Path, name: str = "plate", frames: range = SEQUENCE_FRAMES) -> list[Path]:
    """Write a small PNG per frame (each different) and return the paths."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, frame in enumerate(frames):
        image = Image.new("RGB", (64, 48), (40 + 30 * i, 90, 160))
        ImageDraw.Draw(image).text((4, 16), str(frame), fill=(255, 255, 255))
        path = folder / f"{name}.{frame:04d}.png"
        image.save(path)
        out.append(path)
    return out


def make_movie(path: Path, frames: int = MOVIE_FRAMES, size: tuple[int, int] = MOVIE_SIZE) -> Path:
    """Write a short MPEG-4 movie of a moving bar with PyAV (the encoder the server uses too)."""
    import av
    from PIL import Image, ImageDraw

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            image = Image.new("RGB", size, (20, 20, 30))
            x = int(i * (size[0] - 16) / max(frames - 1, 1))
            ImageDraw.Draw(image).rectangle((x, 10, x + 16, size[1] - 10), fill=(230, 120, 40))
            for packet in stream.encode(av.VideoFrame.from_image(image)):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _decoded_frames(path: str) -> tuple[int, int, int]:
    """(frames, width, height) of the first video stream of ``path``."""
    import av

    with av.open(path) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(stream))
        return count, stream.codec_context.width, stream.codec_context.height


class _State:
    """What the steps hand each other."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.server: Any = None
        self.session: Any = None
        self.version: Any = None
        self.server_location: Any = None


def _step_server(s: _State) -> str:
    from publisher.embedded import EmbeddedServer

    s.server = EmbeddedServer(s.root / "server")
    info = s.server.start()
    return info.url


def _step_connect(s: _State) -> str:
    from publisher.api import Session

    s.session = Session(s.server.url, s.server.api_user, s.server.api_key, schema_cache_path=False)
    task = s.session.query("select id, name, parent_id from Task").first()
    _check(task is not None, "the demo project has no Task")
    asset_type = s.session.query("AssetType").first()
    _check(asset_type is not None, "the server has no AssetType")
    asset = s.session.create("Asset", {"name": f"selftest_{uuid.uuid4().hex[:6]}",
                                       "parent": task["parent"], "type": asset_type})
    s.version = s.session.create("AssetVersion", {"asset": asset, "task": task,
                                                  "comment": "ftrack-publisher --self-test"})
    s.session.commit()
    s.server_location = s.session.get_location("ftrack.server")
    return f"task {task['name']!r}, version {s.version['id']}"


def _step_file(s: _State) -> str:
    source = s.root / "files" / "notes.bin"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(os.urandom(300_000))
    component = s.version.create_component(str(source), {"name": "notes"}, location=s.server_location)
    back = s.server_location.download(component, s.root / "back" / "notes.bin")
    _check(_digest(back) == _digest(source), "the downloaded file differs from the published one")
    return f"{source.stat().st_size} bytes round trip"


def _step_sequence(s: _State) -> str:
    paths = make_png_sequence(s.root / "files" / "plate")
    first, last = SEQUENCE_FRAMES[0], SEQUENCE_FRAMES[-1]
    text = f"{paths[0].parent}/plate.%04d.png [{first}-{last}]"
    container = s.version.create_component(text, {"name": "plate"}, location=s.server_location)
    members = s.session.query(
        f'select id, name from FileComponent where container_id is "{container["id"]}"').all()
    _check(sorted(m["name"] for m in members) == [str(f) for f in SEQUENCE_FRAMES],
           f"the sequence has members {sorted(m['name'] for m in members)}")
    for member in members:
        original = paths[0].parent / f"plate.{int(member['name']):04d}.png"
        back = s.server_location.download(member, s.root / "back" / original.name)
        _check(_digest(back) == _digest(original), f"frame {member['name']} differs after download")
    return f"{len(members)} frames round trip"


def _step_encode(s: _State) -> str:
    movie = make_movie(s.root / "files" / "preview.mp4")
    job = s.version.encode_media(str(movie))
    job.wait(timeout=120)
    check = s.session.clone()
    try:
        review = check.query(
            f'select id, name, file_type from FileComponent where version_id is "{s.version["id"]}" '
            'and name is "ftrackreview-mp4"').all()
        _check(len(review) == 1, f"expected one ftrackreview-mp4 component, found {len(review)}")
        back = check.get_location("ftrack.server").download(review[0], s.root / "back" / "review.mp4")
        frames, width, height = _decoded_frames(back)
        _check(frames >= MOVIE_FRAMES - 1, f"the review MP4 decodes to {frames} frames, expected {MOVIE_FRAMES}")
        version = check.get("AssetVersion", s.version["id"])
        _check(bool(version["thumbnail_id"]), "the version has no thumbnail after the encode")
    finally:
        check.close()
    return f"review MP4 {width}x{height}, {frames} frames, thumbnail set"


STEPS: list[tuple[str, Callable[[_State], str]]] = [
    ("start the embedded server", _step_server),
    ("connect and create a version on a demo task", _step_connect),
    ("publish a file to ftrack.server and download it", _step_file),
    ("publish a PNG sequence and download each frame", _step_sequence),
    ("encode a movie for review (MP4 + thumbnail)", _step_encode),
]


def run_self_test(out: TextIO | None = None, *, keep: bool = False) -> int:
    """Run every step, print each with OK or FAIL, return 0 when all passed (else 1).

    ``keep`` leaves the temporary folder (server data, files) for a look afterwards.
    """
    out = out or sys.stdout
    from publisher import __version__

    print(f"ftrack-publisher {__version__} self-test ({'frozen app' if getattr(sys, 'frozen', False) else sys.executable})",
          file=out, flush=True)
    root = Path(tempfile.mkdtemp(prefix="ftrack-publisher-selftest-"))
    state = _State(root)
    failed = 0
    started = time.monotonic()
    try:
        for number, (title, step) in enumerate(STEPS, 1):
            label = f"[{number}/{len(STEPS)}] {title}"
            if failed:
                print(f"{label}: NOT RUN (an earlier step failed)", file=out, flush=True)
                continue
            t0 = time.monotonic()
            try:
                detail = step(state)
            except Exception as exc:  # every failure is reported, none escapes
                failed += 1
                print(f"{label}: FAIL ({type(exc).__name__}: {exc})", file=out, flush=True)
            else:
                print(f"{label}: OK ({detail}; {time.monotonic() - t0:.1f} s)", file=out, flush=True)
    finally:
        if state.session is not None:
            state.session.close()
        if state.server is not None:
            state.server.stop()
        if keep:
            print(f"kept {root}", file=out)
        else:
            shutil.rmtree(root, ignore_errors=True)
    verdict = "PASSED" if not failed else "FAILED"
    print(f"self-test {verdict} in {time.monotonic() - started:.1f} s", file=out, flush=True)
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(run_self_test())
