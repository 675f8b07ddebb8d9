"""``/component/thumbnail?size=N``: an image scaled to N pixels on its longest side, with the
memory it may cost bounded.

An image is checked against :data:`MAX_PIXELS` from its header before a pixel is decoded (a
"decompression bomb" gets a clear 413), JPEGs are decoded already downscaled (Pillow's
``draft``), other formats are halved (``reduce``) right after decoding, before the colour
conversion and the final resize. One image is decoded at a time in the whole server (a second
request, for the same component or not, waits), and answers are kept in a small cache by
component, size and file version, so repeated requests decode nothing.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from io import BytesIO
from pathlib import Path

from publisher.server.errors import ServerError, ValidationError

#: Pixels an image may have to be scaled (150 million: a 12,000 x 12,000 plate fits).
MAX_PIXELS = 150_000_000
#: Bytes of scaled JPEGs kept in memory.
CACHE_BYTES = 64 * 1024 * 1024
JPEG_QUALITY = 88


class ThumbnailScaler:
    """Scales stored images for the thumbnail endpoint; safe to call from any worker thread."""

    def __init__(self, max_pixels: int = MAX_PIXELS, cache_bytes: int = CACHE_BYTES) -> None:
        self.max_pixels = max_pixels
        self.cache_bytes = cache_bytes
        self._cache: OrderedDict[tuple, bytes] = OrderedDict()
        self._cached = 0
        self._cache_lock = threading.Lock()
        # Decoding is the costly part in memory: one at a time, whoever asks.
        self._decode_lock = threading.Lock()
        self.decodes = 0

    def scaled(self, path: Path, component_id: str, size: int) -> bytes:
        """JPEG bytes of the image at ``path`` with its longest side ``size`` pixels (at most
        twice the source's). ValidationError (400) when it is not an image, ServerError 413
        when it has more than :attr:`max_pixels` pixels; messages name the component, never
        the path on the server."""
        stat = path.stat()
        key = (component_id, size, stat.st_mtime_ns, stat.st_size)
        with self._cache_lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        with self._decode_lock:
            with self._cache_lock:  # decoded by the request this one waited for
                if key in self._cache:
                    return self._cache[key]
            data = self._decode(path, component_id, size)
            self.decodes += 1
        with self._cache_lock:
            self._cache[key] = data
            self._cached += len(data)
            while self._cached > self.cache_bytes and len(self._cache) > 1:
                _old, dropped = self._cache.popitem(last=False)
                self._cached -= len(dropped)
        return data

    def _too_big(self, component_id: str, pixels: str) -> ServerError:
        return ServerError(f"The image of component {component_id} has {pixels} pixels; thumbnails are made of "
                           f"images up to {self.max_pixels:,} pixels (the limit). Upload a smaller thumbnail.",
                           exception="ValidationError", status=413)

    def _decode(self, path: Path, component_id: str, size: int) -> bytes:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as image:
                width, height = image.size
                if width * height > self.max_pixels:
                    raise self._too_big(component_id, f"{width} x {height}")
                longest = max(width, height)
                size = min(size, 2 * longest)
                target = (max(1, round(width * size / longest)), max(1, round(height * size / longest)))
                if image.format == "JPEG":
                    image.draft("RGB", target)  # decode at 1/2, 1/4 or 1/8 scale directly
                image.load()
                picture = image
                factor = min(picture.size[0] // target[0], picture.size[1] // target[1])
                if factor >= 2:
                    picture = picture.reduce(factor)
                if picture.mode != "RGB":
                    picture = picture.convert("RGB")
                if picture.size != target:
                    picture = picture.resize(target, Image.Resampling.LANCZOS)
                out = BytesIO()
                picture.save(out, format="JPEG", quality=JPEG_QUALITY)
                return out.getvalue()
        except Image.DecompressionBombError:  # Pillow's own check, at twice its default limit
            raise self._too_big(component_id, "far more") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise ValidationError(f"The file of component {component_id} cannot be read as an image, so no "
                                  "thumbnail can be made of it.") from None
