"""Review-media encoder of the embedded server: sources -> browser-playable H.264 MP4 + JPEG.

The server's job worker calls :func:`encode_review` from a worker thread for an
``encode_media`` job, and :func:`make_thumbnail` when ``/component/thumbnail?size=N`` asks for
a smaller picture. No Qt, no server imports: PyAV for decoding and encoding, Pillow only for
the JPEG files.

Decisions (documented here because the server and the tests rely on them):

- Sources are detected by content, never by extension (the server stores files by component
  id): PNG, JPEG, TIFF, OpenEXR and DPX frames by their magic bytes (opened with the matching
  ``*_pipe`` demuxer); anything else is handed to FFmpeg to probe as a movie.
- One source that is a movie -> every frame of its first video stream, re-timed at a constant
  rate (the movie's average rate unless ``frame_rate`` is given). One image -> a still: a
  one-frame MP4 plus the JPEG. Several sources -> an image sequence in the given order, at
  ``frame_rate`` or 24 fps; every frame is scaled to the size of the first.
- ``frameIn``/``frameOut`` are ``0`` and ``n - 1``: the encoder does not know the sequence's
  frame numbers; the server may override them.
- Output: libx264 :data:`X264_OPTIONS`, yuv420p, BT.709 matrix and tags, even width and height
  (odd sizes are scaled up by one pixel), at most :data:`MAX_VIDEO_SIDE` on the longest side,
  ``movflags=+faststart`` so browsers can start playing before the whole file arrived.
- Linear-light OpenEXR is displayed with the sRGB transfer curve applied by FFmpeg's EXR
  decoder (``apply_trc``) and then clamped to 0..1 by the conversion to 8 bits: a simple,
  viewable rendering, not a colour-managed one (no OCIO view transform).
- The JPEG shows the middle frame, at most :data:`JPEG_MAX_SIDE` on its longest side.
- Speed: the loop is the plain decode -> reformat (one cached swscale context) -> libx264 ->
  mux loop, plus decoding the next image files in two background threads (FFmpeg releases the
  GIL), so an image sequence encodes faster than a plain single-threaded-decode loop.
- Not handled: alpha is dropped (no comp over a background), pixel aspect ratio and rotation
  metadata are ignored, variable-frame-rate movies are re-timed at their average rate.
- Outputs are written next to their destination under a temporary name and renamed into place
  only when everything succeeded, so a failure or a cancel never leaves a partial file.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from io import BytesIO
from typing import TYPE_CHECKING, Callable, Iterator

import av
from av.video.reformatter import (
    ColorPrimaries, ColorRange, ColorTrc, Colorspace, Interpolation, VideoReformatter,
)

if TYPE_CHECKING:
    from PIL import Image

#: libx264 settings used for every review MP4 (the benchmark's baseline uses the same ones).
X264_OPTIONS: dict[str, str] = {"preset": "veryfast", "crf": "20"}
#: Pixel format browsers decode everywhere.
PIXEL_FORMAT = "yuv420p"
#: Frame rate of image sequences when the caller gives none.
DEFAULT_FRAME_RATE = Fraction(24)
_MIN_RATE, _MAX_RATE = 1, 240
#: Longest side of the review MP4; larger sources are scaled down (browser decoder limits).
MAX_VIDEO_SIDE = 4096
#: Longest side of the review JPEG.
JPEG_MAX_SIDE = 1280
JPEG_QUALITY = 88
#: Pixels a source image may have: checked from its header, before it is decoded (a small PNG
#: can announce a picture that takes gigabytes to decode).
MAX_SOURCE_PIXELS = 150_000_000
#: Image files decoded ahead of the encoder (bounds memory: a 4K float EXR frame is ~140 MB).
_DECODE_AHEAD = 2
#: Progress is reported every time it advanced by at least this fraction.
PROGRESS_STEP = 0.01

# Still-image formats recognised by their first bytes, and the FFmpeg demuxer that reads them.
_MAGIC_FORMATS: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png_pipe", "PNG"),
    (b"\xff\xd8\xff", "jpeg_pipe", "JPEG"),
    (b"II*\x00", "tiff_pipe", "TIFF"),
    (b"MM\x00*", "tiff_pipe", "TIFF"),
    (b"v/1\x01", "exr_pipe", "OpenEXR"),
    (b"SDPX", "dpx_pipe", "DPX"),
    (b"XPDS", "dpx_pipe", "DPX"),
)
# Formats FFmpeg can render as video although they are not pictures (text files, subtitles).
_NOT_MOVIE_FORMATS = frozenset({"tty", "bin", "idf", "adf", "xbin"})
# FFmpeg's EXR decoder option that maps linear light to sRGB (see the module docstring).
_EXR_DECODER_OPTIONS = {"apply_trc": "iec61966_2_1"}


class EncodeError(Exception):
    """Encoding failed; the message says why in words an artist or TD understands.

    Braces are replaced by parentheses: the message travels to ftrack clients whose error
    formatting breaks on ``{`` and ``}``.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message.replace("{", "(").replace("}", ")"))


@dataclass
class ReviewResult:
    """What :func:`encode_review` produced, as ftrack's ``ftr_meta`` values.

    ``video_meta``: ``{"frameIn", "frameOut", "frameRate", "width", "height"}`` of the MP4;
    ``image_meta``: ``{"format": "image", "width", "height"}`` of the JPEG.
    """

    video_meta: dict
    image_meta: dict


@dataclass
class _Source:
    path: str
    demuxer: str | None  # None: let FFmpeg probe it (a movie)
    kind: str  # "PNG", "OpenEXR", ..., or "movie"


def encode_review(
    sources: list[str],
    mp4_path: str,
    jpeg_path: str,
    *,
    frame_rate: float | None = None,
    threads: int | None = None,
    progress: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ReviewResult:
    """Encode a movie, a still image or an image sequence into a review MP4 and a JPEG.

    ``sources`` is one movie, one image, or the ordered frames of an image sequence.
    ``threads`` is the libx264 and movie-decoder thread count (``None``: FFmpeg chooses); image
    sequences are also decoded two files ahead in background threads unless ``threads`` is 1.
    ``progress``
    receives fractions from 0 to 1 (1.0 once both files are in place); ``cancelled`` is
    polled between frames. Raises :class:`EncodeError`; on any failure neither output file is
    left behind. Safe to call from any thread; one call per output pair at a time.
    """
    if not sources:
        raise EncodeError("No files were given to encode.")
    if frame_rate is not None and not _MIN_RATE <= frame_rate <= _MAX_RATE:
        raise EncodeError(
            f"The frame rate must be between {_MIN_RATE} and {_MAX_RATE} frames per second, not {frame_rate}."
        )
    detected = [_detect(path) for path in sources]
    if len(detected) > 1:
        for source in detected:
            if source.demuxer is None:
                raise EncodeError(
                    f"The file {source.path} is not a still image (PNG, JPEG, TIFF, EXR or DPX), "
                    "so it cannot be a frame of an image sequence."
                )

    mp4_tmp = _partial_name(mp4_path)
    jpeg_tmp = _partial_name(jpeg_path)
    placed: list[str] = []
    try:
        result = _encode(detected, mp4_tmp, jpeg_tmp, frame_rate, threads, progress, cancelled)
        os.replace(mp4_tmp, mp4_path)
        placed.append(mp4_path)
        os.replace(jpeg_tmp, jpeg_path)
    except EncodeError:
        _remove(mp4_tmp, jpeg_tmp, *placed)
        raise
    except av.FFmpegError as exc:
        _remove(mp4_tmp, jpeg_tmp, *placed)
        raise EncodeError(f"The media could not be encoded: {exc}") from exc
    except OSError as exc:
        _remove(mp4_tmp, jpeg_tmp, *placed)
        raise EncodeError(f"The review files could not be written: {exc}") from exc
    except BaseException:
        _remove(mp4_tmp, jpeg_tmp, *placed)
        raise
    if progress is not None:
        progress(1.0)
    return result


def make_thumbnail(src_jpeg: str, size: int) -> bytes:
    """JPEG bytes of ``src_jpeg`` scaled so its longest side is ``size`` pixels.

    Never scales up beyond twice the source (a 4 px request of a big image is fine, a 10000 px
    request of a 1280 px image returns 2560 px at most). Raises :class:`EncodeError` for a bad
    size or an unreadable picture.
    """
    from PIL import Image, UnidentifiedImageError

    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise EncodeError(f"The thumbnail size must be a whole number of pixels above 0, not {size!r}.")
    try:
        with Image.open(src_jpeg) as image:
            image.load()
            width, height = image.size
            longest = max(width, height)
            size = min(size, 2 * longest)
            scale = size / longest
            new_size = (max(1, round(width * scale)), max(1, round(height * scale)))
            picture = image.convert("RGB")
            if new_size != picture.size:
                picture = picture.resize(new_size, Image.Resampling.LANCZOS)
            out = BytesIO()
            picture.save(out, format="JPEG", quality=JPEG_QUALITY)
            return out.getvalue()
    except FileNotFoundError as exc:
        raise EncodeError(f"The picture {src_jpeg} does not exist.") from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise EncodeError(f"The picture {src_jpeg} could not be read as an image: {exc}") from exc


# -- detection -----------------------------------------------------------------------------

def _detect(path: str) -> _Source:
    """Find out what ``path`` holds from its first bytes (names carry no extension)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except FileNotFoundError:
        raise EncodeError(f"The file {path} does not exist.") from None
    except IsADirectoryError:
        raise EncodeError(f"{path} is a folder, not a movie or an image.") from None
    except OSError as exc:
        raise EncodeError(f"The file {path} could not be read: {exc.strerror or exc}.") from None
    if not head:
        raise EncodeError(f"The file {path} is empty (0 bytes): upload it again.")
    for magic, demuxer, kind in _MAGIC_FORMATS:
        if head.startswith(magic):
            return _Source(path, demuxer, kind)
    return _Source(path, None, "movie")


# -- encoding ------------------------------------------------------------------------------

def _encode(
    sources: list[_Source],
    mp4_tmp: str,
    jpeg_tmp: str,
    frame_rate: float | None,
    threads: int | None,
    progress: Callable[[float], None] | None,
    cancelled: Callable[[], bool] | None,
) -> ReviewResult:
    # ``announced``: the movie's header says how many frames it has (not an estimate).
    if len(sources) == 1 and sources[0].demuxer is None:
        frames, total, source_rate, announced = _movie_frames(sources[0], threads)
    else:
        frames, total, source_rate, announced = _image_frames(sources, threads), len(sources), None, False
    if frame_rate is not None:
        rate = _exact_rate(frame_rate)
    else:
        rate = source_rate or DEFAULT_FRAME_RATE

    reformatter = VideoReformatter()
    frame_time_base = 1 / rate
    output: av.container.OutputContainer | None = None
    stream = None
    width = height = 0
    jpeg_index = max(0, (total - 1) // 2)
    jpeg_picture = None
    count = 0
    reported = 0.0
    try:
        for frame in frames:
            if cancelled is not None and cancelled():
                raise EncodeError("Encoding was cancelled")
            if output is None:
                width, height = _video_size(frame.width, frame.height)
                output = av.open(mp4_tmp, "w", format="mp4", options={"movflags": "+faststart"})
                stream = output.add_stream("libx264", rate=rate, options=dict(X264_OPTIONS))
                stream.width, stream.height, stream.pix_fmt = width, height, PIXEL_FORMAT
                context = stream.codec_context
                context.thread_count = threads or 0
                # Tag what the conversion below does, so players do not guess BT.601.
                context.colorspace = Colorspace.ITU709
                context.color_primaries = ColorPrimaries.BT709
                context.color_trc = ColorTrc.BT709
                context.color_range = ColorRange.MPEG
            if count == jpeg_index or jpeg_picture is None:
                # Made from the source frame (full chroma), and small: no big frame is kept.
                jpeg_picture = _jpeg_picture(frame)
            out = reformatter.reformat(
                frame, width, height, PIXEL_FORMAT,
                dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG,
                interpolation=Interpolation.BICUBIC,
            )
            out.pts = count
            out.time_base = frame_time_base
            output.mux(stream.encode(out))
            count += 1
            if progress is not None and total:
                # Leave the last percent for the flush and the JPEG.
                fraction = min(0.99, count / total)
                if fraction - reported >= PROGRESS_STEP:
                    reported = fraction
                    progress(fraction)
        if output is None:
            raise EncodeError(f"{_describe(sources)} has no frames that could be read.")
        if cancelled is not None and cancelled():
            raise EncodeError("Encoding was cancelled")
        output.mux(stream.encode(None))
        output.close()
        output = None
    finally:
        frames.close()  # stops decode-ahead threads and closes the movie
        if output is not None:
            try:
                output.close()
            except Exception:  # closing a broken muxer must not hide the real error
                pass
    if announced and total - count > max(2, total // 100):
        # The movie announced more frames than it delivered: a cut-off upload. A small gap is
        # tolerated because edit lists may legitimately hide a frame or two.
        raise EncodeError(
            f"The movie {sources[0].path} is truncated or damaged: only {count} of its "
            f"{total} frames could be read. Upload the complete file again."
        )
    jpeg_picture.save(jpeg_tmp, format="JPEG", quality=JPEG_QUALITY)
    jpeg_size = jpeg_picture.size
    return ReviewResult(
        video_meta={
            "frameIn": 0,
            "frameOut": count - 1,
            "frameRate": float(rate),
            "width": width,
            "height": height,
        },
        image_meta={"format": "image", "width": jpeg_size[0], "height": jpeg_size[1]},
    )


def _movie_frames(
    source: _Source, threads: int | None
) -> tuple[Iterator[av.VideoFrame], int, Fraction | None, bool]:
    """Open a movie; return its decoded frames, its (estimated) frame count, its rate, and
    whether that count is the one written in the movie's header rather than an estimate."""
    try:
        container = av.open(source.path)
    except av.FFmpegError as exc:
        raise EncodeError(
            f"The file {source.path} is not a movie or an image this encoder can read, or it is "
            "damaged or truncated (supported: movies FFmpeg reads, PNG, JPEG, TIFF, EXR and "
            f"DPX). Detail: {exc.strerror or exc}"
        ) from None
    if container.format.name in _NOT_MOVIE_FORMATS:
        container.close()
        raise EncodeError(f"The file {source.path} is a text or data file, not a movie or an image.")
    if not container.streams.video:
        container.close()
        raise EncodeError(f"The file {source.path} has no video in it (audio or data only).")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    stream.codec_context.thread_count = threads or 0
    # A time base (GIF: 1/100) is not a frame rate: only trust plausible rates.
    rate = stream.average_rate
    if not (rate and _MIN_RATE <= rate <= _MAX_RATE):
        tick_rate = 1 / stream.time_base if stream.time_base else None
        rate = stream.guessed_rate
        if not (rate and _MIN_RATE <= rate <= _MAX_RATE) or rate == tick_rate:
            rate = None
    total = stream.frames
    announced = total > 0
    if not total and rate and stream.duration and stream.time_base:
        total = int(stream.duration * stream.time_base * rate)
    elif not total and rate and container.duration:
        total = int(container.duration / av.time_base * rate)

    def frames() -> Iterator[av.VideoFrame]:
        try:
            for frame in container.decode(stream):
                yield frame
        except av.FFmpegError as exc:
            raise EncodeError(
                f"The movie {source.path} is damaged or truncated and could not be read to the "
                f"end ({exc.strerror or exc}). Upload the complete file again."
            ) from None
        finally:
            container.close()

    return frames(), total or 0, Fraction(rate) if rate else None, announced


def _image_frames(sources: list[_Source], threads: int | None) -> Iterator[av.VideoFrame]:
    """Decode one frame from each image file, in order.

    Unless ``threads`` is 1, the next few files are decoded in background threads while the
    caller encodes the current frame: FFmpeg releases the GIL while decoding, and a still-image
    decoder uses one core only, so this overlaps decoding with libx264 instead of waiting for it.
    """
    if threads == 1 or len(sources) == 1:
        for source in sources:
            yield _decode_image(source)
        return
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="review-decode")
    try:
        pending: deque[Future[av.VideoFrame]] = deque()
        upcoming = iter(sources)
        for source in upcoming:
            pending.append(pool.submit(_decode_image, source))
            if len(pending) >= _DECODE_AHEAD:
                break
        while pending:
            frame = pending.popleft().result()
            for source in upcoming:
                pending.append(pool.submit(_decode_image, source))
                break
            yield frame
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _decode_image(source: _Source) -> av.VideoFrame:
    try:
        with av.open(source.path, format=source.demuxer) as container:
            stream = container.streams.video[0]
            if source.demuxer == "exr_pipe":
                stream.codec_context.options = dict(_EXR_DECODER_OPTIONS)
            width, height = stream.codec_context.width, stream.codec_context.height
            if width * height > MAX_SOURCE_PIXELS:
                raise EncodeError(
                    f"The {source.kind} image {source.path} is {width} x {height} pixels; review media is made of "
                    f"images up to {MAX_SOURCE_PIXELS:,} pixels (the limit). Scale it down first."
                )
            frame = next(container.decode(stream), None)
    except av.FFmpegError as exc:
        raise EncodeError(
            f"The {source.kind} image {source.path} is damaged or not a supported "
            f"{source.kind} variant ({exc.strerror or exc})."
        ) from None
    if frame is None:
        raise EncodeError(f"The {source.kind} image {source.path} holds no picture (damaged or truncated).")
    return frame


def _exact_rate(frame_rate: float) -> Fraction:
    """The rational rate meant by ``frame_rate``: 23.976 is 24000/1001, 29.97 is 30000/1001."""
    ntsc = Fraction(round(frame_rate * 1.001) * 1000, 1001)
    if frame_rate != round(frame_rate) and abs(float(ntsc) - frame_rate) < 0.002:
        return ntsc
    return Fraction(frame_rate).limit_denominator(1000)


def _video_size(width: int, height: int) -> tuple[int, int]:
    """Even dimensions no longer than MAX_VIDEO_SIDE, keeping the aspect ratio."""
    scale = min(1.0, MAX_VIDEO_SIDE / max(width, height))
    width, height = max(2, round(width * scale)), max(2, round(height * scale))
    return width + width % 2, height + height % 2


def _jpeg_picture(frame: av.VideoFrame) -> "Image.Image":
    """The frame as an RGB Pillow image at most JPEG_MAX_SIDE on its longest side."""
    scale = min(1.0, JPEG_MAX_SIDE / max(frame.width, frame.height))
    width, height = max(1, round(frame.width * scale)), max(1, round(frame.height * scale))
    return frame.reformat(width, height, "rgb24", interpolation=Interpolation.AREA).to_image()


def _describe(sources: list[_Source]) -> str:
    if len(sources) == 1:
        kind = "movie" if sources[0].demuxer is None else f"{sources[0].kind} image"
        return f"The {kind} {sources[0].path}"
    return f"The image sequence of {len(sources)} files starting with {sources[0].path}"


def _partial_name(path: str) -> str:
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.partial")


def _remove(*paths: str | None) -> None:
    for path in paths:
        if path:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
