"""Tests of the review-media encoder (publisher.server.encoder) on small real media files.

Inputs are made with PyAV and Pillow in the test's temporary folder, stored WITHOUT file
extensions as the server stores uploads; every output is decoded again to check it.
"""

from __future__ import annotations

import io
import os
import struct
import threading
import wave
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from publisher.server.encoder import EncodeError, ReviewResult, encode_review, make_thumbnail

W, H = 64, 48


# -- input makers ----------------------------------------------------------------------------

def _picture(width: int = W, height: int = H, seed: int = 0) -> np.ndarray:
    """A mid-grey gradient with a little noise: never black, never flat."""
    rng = np.random.default_rng(seed)
    x = np.linspace(60, 200, width)[None, :, None]
    y = np.linspace(0, 40, height)[:, None, None]
    pic = x + y + rng.integers(0, 16, (height, width, 3))
    return np.clip(pic, 0, 255).astype(np.uint8)


def _save_pillow(path: Path, fmt: str, width: int = W, height: int = H, seed: int = 0) -> Path:
    Image.fromarray(_picture(width, height, seed)).save(path, format=fmt)
    return path


def _encode_with_pyav(path: Path, codec: str, frame: av.VideoFrame) -> Path:
    """One still image written by an FFmpeg image encoder (EXR, DPX)."""
    ctx = av.codec.CodecContext.create(codec, "w")
    ctx.width, ctx.height, ctx.pix_fmt = frame.width, frame.height, frame.format.name
    ctx.time_base = Fraction(1, 24)
    frame.pts = 0
    path.write_bytes(b"".join(bytes(p) for p in ctx.encode(frame) + ctx.encode(None)))
    return path


def _make_movie(path: Path, frames: int = 20, rate: int = 25, faststart: bool = False) -> Path:
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=options) as out:
        stream = out.add_stream("mpeg4", rate=rate)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(_picture(seed=i), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def _png_sequence(folder: Path, count: int, width: int = W, height: int = H) -> list[str]:
    folder.mkdir(exist_ok=True)
    return [str(_save_pillow(folder / f"frame{i:04d}", "PNG", width, height, seed=i)) for i in range(count)]


# -- output checks ---------------------------------------------------------------------------

def _top_level_atoms(path: Path) -> list[str]:
    data = path.read_bytes()
    atoms, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        atoms.append(kind.decode("latin-1"))
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
        if size < 8:
            break
        pos += size
    return atoms


def _check_mp4(path: Path, frames: int, width: int, height: int, rate: float) -> None:
    atoms = _top_level_atoms(path)
    assert atoms.index("moov") < atoms.index("mdat"), f"not faststart: {atoms}"
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert (stream.width, stream.height) == (width, height)
        assert float(stream.average_rate) == pytest.approx(rate, rel=1e-3)
        decoded = list(container.decode(stream))
    assert len(decoded) == frames
    assert all(f.format.name == "yuv420p" for f in decoded)


def _check_jpeg(path: Path, result: ReviewResult) -> np.ndarray:
    with Image.open(path) as image:
        assert image.format == "JPEG"
        assert image.size == (result.image_meta["width"], result.image_meta["height"])
        return np.asarray(image.convert("RGB"))


def _outputs(tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return out / "review.mp4", out / "review.jpg"


def _run(sources: list[str], tmp_path: Path, **kwargs) -> tuple[ReviewResult, Path, Path]:
    mp4, jpeg = _outputs(tmp_path)
    result = encode_review(sources, str(mp4), str(jpeg), **kwargs)
    return result, mp4, jpeg


# -- happy paths -----------------------------------------------------------------------------

def test_movie_without_extension(tmp_path: Path) -> None:
    movie = _make_movie(tmp_path / "movie.mp4", frames=20, rate=25)
    stored = tmp_path / "0f3c2a5e-component-id"
    movie.rename(stored)
    result, mp4, jpeg = _run([str(stored)], tmp_path, threads=1)
    assert result.video_meta == {"frameIn": 0, "frameOut": 19, "frameRate": 25.0, "width": W, "height": H}
    assert result.image_meta == {"format": "image", "width": W, "height": H}
    _check_mp4(mp4, 20, W, H, 25.0)
    assert _check_jpeg(jpeg, result).mean() > 60


def test_frame_rate_argument_overrides_movie_rate(tmp_path: Path) -> None:
    movie = _make_movie(tmp_path / "movie", frames=6, rate=25)
    result, mp4, _ = _run([str(movie)], tmp_path, frame_rate=23.976)
    assert result.video_meta["frameRate"] == pytest.approx(24000 / 1001)
    _check_mp4(mp4, 6, W, H, 24000 / 1001)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF"])
def test_single_image_becomes_one_frame_mp4_and_jpeg(tmp_path: Path, fmt: str) -> None:
    image = _save_pillow(tmp_path / "still", fmt)
    result, mp4, jpeg = _run([str(image)], tmp_path)
    assert result.video_meta == {"frameIn": 0, "frameOut": 0, "frameRate": 24.0, "width": W, "height": H}
    _check_mp4(mp4, 1, W, H, 24.0)
    pixels = _check_jpeg(jpeg, result)
    # The picture survives the trip: compare with the source roughly (JPEG + yuv rounding).
    assert abs(float(pixels.mean()) - float(_picture().mean())) < 8


@pytest.mark.parametrize("fmt", ["BMP", "GIF", "WEBP"])
def test_other_still_formats_are_probed(tmp_path: Path, fmt: str) -> None:
    image = _save_pillow(tmp_path / "still", fmt)
    result, mp4, jpeg = _run([str(image)], tmp_path)
    # A GIF's 1/100 s time base must not become a 100 fps review.
    assert result.video_meta == {"frameIn": 0, "frameOut": 0, "frameRate": pytest.approx(24.0, abs=1.01),
                                 "width": W, "height": H}
    _check_mp4(mp4, 1, W, H, result.video_meta["frameRate"])
    _check_jpeg(jpeg, result)


@pytest.mark.parametrize("threads", [None, 1, 2])
def test_png_sequence_with_frame_rate(tmp_path: Path, threads: int | None) -> None:
    frames = _png_sequence(tmp_path / "seq", 8)
    result, mp4, jpeg = _run(frames, tmp_path, frame_rate=12, threads=threads)
    assert result.video_meta == {"frameIn": 0, "frameOut": 7, "frameRate": 12.0, "width": W, "height": H}
    _check_mp4(mp4, 8, W, H, 12.0)
    _check_jpeg(jpeg, result)


def test_sequence_order_is_kept_and_jpeg_is_the_middle_frame(tmp_path: Path) -> None:
    folder = tmp_path / "levels"
    folder.mkdir()
    levels = [20, 60, 100, 140, 180]
    paths = []
    for i, level in enumerate(levels):
        path = folder / f"{i}"
        Image.new("RGB", (W, H), (level, level, level)).save(path, format="PNG")
        paths.append(str(path))
    result, mp4, jpeg = _run(paths, tmp_path)
    assert abs(float(_check_jpeg(jpeg, result).mean()) - levels[2]) < 4
    with av.open(str(mp4)) as container:
        means = [f.to_ndarray(format="rgb24").mean() for f in container.decode(video=0)]
    assert means == sorted(means) and abs(means[0] - 20) < 6 and abs(means[-1] - 180) < 6


def test_linear_exr_sequence_is_viewable(tmp_path: Path) -> None:
    # 18% grey in linear light: about 118 of 255 once the sRGB curve is applied, 46 without it.
    linear = np.full((H, W, 3), 0.18, dtype=np.float32)
    paths = [
        str(_encode_with_pyav(tmp_path / f"plate{i}", "exr", av.VideoFrame.from_ndarray(linear, format="gbrpf32le")))
        for i in range(3)
    ]
    assert Path(paths[0]).read_bytes()[:4] == b"v/1\x01"
    result, mp4, jpeg = _run(paths, tmp_path)
    _check_mp4(mp4, 3, W, H, 24.0)
    mean = float(_check_jpeg(jpeg, result).mean())
    assert 100 < mean < 135, f"EXR not shown with an sRGB transfer: mean {mean}"
    with av.open(str(mp4)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert 100 < frame.mean() < 135


def test_dpx_sequence(tmp_path: Path) -> None:
    frame = av.VideoFrame.from_ndarray(_picture(), format="rgb24")
    paths = [str(_encode_with_pyav(tmp_path / f"scan{i}", "dpx", frame)) for i in range(3)]
    assert Path(paths[0]).read_bytes()[:4] in (b"SDPX", b"XPDS")
    result, mp4, jpeg = _run(paths, tmp_path)
    _check_mp4(mp4, 3, W, H, 24.0)
    assert abs(float(_check_jpeg(jpeg, result).mean()) - float(_picture().mean())) < 8


def test_odd_size_becomes_even(tmp_path: Path) -> None:
    frames = _png_sequence(tmp_path / "odd", 3, width=63, height=47)
    result, mp4, jpeg = _run(frames, tmp_path)
    assert (result.video_meta["width"], result.video_meta["height"]) == (64, 48)
    assert (result.image_meta["width"], result.image_meta["height"]) == (63, 47)
    _check_mp4(mp4, 3, 64, 48, 24.0)


def test_mixed_frame_sizes_are_scaled_to_the_first(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    paths = [
        str(_save_pillow(folder / "a", "PNG", W, H)),
        str(_save_pillow(folder / "b", "PNG", 32, 30)),
        str(_save_pillow(folder / "c", "JPEG", 100, 80)),
    ]
    result, mp4, _ = _run(paths, tmp_path)
    assert (result.video_meta["width"], result.video_meta["height"]) == (W, H)
    _check_mp4(mp4, 3, W, H, 24.0)


def test_large_image_gives_bounded_jpeg(tmp_path: Path) -> None:
    image = _save_pillow(tmp_path / "big", "PNG", 1600, 900)
    result, mp4, jpeg = _run([str(image)], tmp_path)
    assert result.image_meta == {"format": "image", "width": 1280, "height": 720}
    assert (result.video_meta["width"], result.video_meta["height"]) == (1600, 900)
    _check_jpeg(jpeg, result)


def test_progress_is_regular_monotonic_and_ends_at_one(tmp_path: Path) -> None:
    frames = _png_sequence(tmp_path / "seq", 60, width=16, height=16)
    seen: list[float] = []
    _run(frames, tmp_path, progress=seen.append)
    assert seen[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in seen)
    assert seen == sorted(seen)
    gaps = np.diff([0.0, *seen])
    assert gaps.max() <= 0.025, f"progress jumped by {gaps.max()}"


def test_progress_of_a_movie(tmp_path: Path) -> None:
    movie = _make_movie(tmp_path / "m", frames=30)
    seen: list[float] = []
    _run([str(movie)], tmp_path, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 10


def test_cancel_stops_and_leaves_no_files(tmp_path: Path) -> None:
    frames = _png_sequence(tmp_path / "seq", 20)
    checks = []

    def cancelled() -> bool:
        checks.append(1)
        return len(checks) > 5

    mp4, jpeg = _outputs(tmp_path)
    with pytest.raises(EncodeError, match="Encoding was cancelled"):
        encode_review(frames, str(mp4), str(jpeg), cancelled=cancelled)
    assert len(checks) == 6
    assert list(mp4.parent.iterdir()) == []
    assert not [t for t in threading.enumerate() if t.name.startswith("review-decode")]


def test_cancel_a_movie(tmp_path: Path) -> None:
    movie = _make_movie(tmp_path / "m", frames=30)
    mp4, jpeg = _outputs(tmp_path)
    calls = []
    with pytest.raises(EncodeError, match="Encoding was cancelled"):
        encode_review([str(movie)], str(mp4), str(jpeg), cancelled=lambda: calls.append(1) or len(calls) > 10)
    assert list(mp4.parent.iterdir()) == []


def test_existing_outputs_are_replaced(tmp_path: Path) -> None:
    mp4, jpeg = _outputs(tmp_path)
    mp4.write_bytes(b"old")
    jpeg.write_bytes(b"old")
    encode_review([str(_save_pillow(tmp_path / "s", "PNG"))], str(mp4), str(jpeg))
    assert mp4.read_bytes() != b"old" and jpeg.read_bytes()[:2] == b"\xff\xd8"
    assert sorted(p.name for p in mp4.parent.iterdir()) == ["review.jpg", "review.mp4"]


# -- thumbnails ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "source_size, size, expected",
    [((1280, 720), 300, (300, 169)), ((720, 1280), 100, (56, 100)), ((64, 48), 64, (64, 48)),
     ((64, 48), 32, (32, 24)), ((64, 48), 1000, (128, 96))],
)
def test_make_thumbnail_sizes(tmp_path: Path, source_size, size, expected) -> None:
    src = _save_pillow(tmp_path / "review.jpg", "JPEG", *source_size)
    data = make_thumbnail(str(src), size)
    with Image.open(io.BytesIO(data)) as thumb:
        assert thumb.format == "JPEG"
        assert thumb.size == expected


@pytest.mark.parametrize("size", [0, -5, 2.5, "100"])
def test_make_thumbnail_bad_size(tmp_path: Path, size) -> None:
    src = _save_pillow(tmp_path / "review.jpg", "JPEG")
    with pytest.raises(EncodeError, match="thumbnail size"):
        make_thumbnail(str(src), size)


def test_make_thumbnail_bad_source(tmp_path: Path) -> None:
    with pytest.raises(EncodeError, match="does not exist"):
        make_thumbnail(str(tmp_path / "missing"), 100)
    text = tmp_path / "text"
    text.write_text("not a picture")
    with pytest.raises(EncodeError, match="could not be read as an image"):
        make_thumbnail(str(text), 100)


# -- bad inputs ------------------------------------------------------------------------------

def _bad_inputs(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    text = tmp_path / "notes.txt"
    text.write_text("shot 010: fix the hair\n" * 20)
    data = tmp_path / "stored-text"
    data.write_text("just some words, no header {x}\n" * 20)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage"
    garbage.write_bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    plain = _make_movie(tmp_path / "plain", frames=30).read_bytes()
    cut_plain = tmp_path / "cut-plain"  # moov atom at the end: cut off
    cut_plain.write_bytes(plain[: len(plain) // 2])
    fast = _make_movie(tmp_path / "fast", frames=30, faststart=True).read_bytes()
    cut_fast = tmp_path / "cut-fast"  # moov first, frames cut off
    cut_fast.write_bytes(fast[: len(fast) // 2])
    good = _save_pillow(tmp_path / "good", "PNG")
    broken_png = tmp_path / "broken-png"
    broken_png.write_bytes(good.read_bytes()[:60])
    movie = _make_movie(tmp_path / "movie", frames=3)
    folder = tmp_path / "folder"
    folder.mkdir()
    sound = tmp_path / "sound"
    with wave.open(str(sound), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x01" * 8000)
    return {
        "audio-only": ([str(sound)], "has no video"),
        "missing": ([str(tmp_path / "nope")], "does not exist"),
        "empty": ([str(empty)], "is empty"),
        "text": ([str(text)], "not a movie or an image"),
        "text-no-extension": ([str(data)], "not a movie or an image"),
        "garbage": ([str(garbage)], "not a movie or an image"),
        "truncated-movie": ([str(cut_plain)], "damaged or truncated"),
        "truncated-faststart-movie": ([str(cut_fast)], "truncated or damaged"),
        "zero-sources": ([], "No files"),
        "corrupt-frame-in-sequence": ([str(good), str(good), str(broken_png)], "PNG image .* is damaged"),
        "missing-frame-in-sequence": ([str(good), str(tmp_path / "gone")], "does not exist"),
        "movie-in-sequence": ([str(good), str(movie)], "cannot be a frame of an image sequence"),
        "folder": ([str(folder)], "is a folder"),
    }


BAD_CASES = [
    "audio-only", "missing", "empty", "text", "text-no-extension", "garbage", "truncated-movie",
    "truncated-faststart-movie", "zero-sources", "corrupt-frame-in-sequence",
    "missing-frame-in-sequence", "movie-in-sequence", "folder",
]


@pytest.mark.parametrize("case", BAD_CASES)
def test_bad_input_gives_clear_error_and_no_files(tmp_path: Path, case: str) -> None:
    sources, message = _bad_inputs(tmp_path)[case]
    mp4, jpeg = _outputs(tmp_path)
    with pytest.raises(EncodeError, match=message) as info:
        encode_review(sources, str(mp4), str(jpeg))
    text = str(info.value)
    assert "{" not in text and "}" not in text
    assert list(mp4.parent.iterdir()) == [], "partial output left behind"


@pytest.mark.parametrize("rate", [0, -24.0, float("nan"), float("inf"), 10_000])
def test_bad_frame_rate(tmp_path: Path, rate: float) -> None:
    image = _save_pillow(tmp_path / "s", "PNG")
    mp4, jpeg = _outputs(tmp_path)
    with pytest.raises(EncodeError, match="frame rate"):
        encode_review([str(image)], str(mp4), str(jpeg), frame_rate=rate)


def test_unwritable_destination(tmp_path: Path) -> None:
    image = _save_pillow(tmp_path / "s", "PNG")
    with pytest.raises(EncodeError, match="could not be"):
        encode_review([str(image)], str(tmp_path / "no" / "dir" / "r.mp4"), str(tmp_path / "r.jpg"))
    assert not (tmp_path / "r.jpg").exists()


def test_error_message_never_has_braces(tmp_path: Path) -> None:
    with pytest.raises(EncodeError) as info:
        encode_review([str(tmp_path / "{shot}.####.exr")], str(tmp_path / "a.mp4"), str(tmp_path / "a.jpg"))
    assert "{" not in str(info.value) and "does not exist" in str(info.value)
    assert not os.listdir(tmp_path)
