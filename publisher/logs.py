"""The publisher's log file: rotating, under the user log folder, with every API key blanked out.

:func:`setup` installs a :class:`logging.handlers.RotatingFileHandler` writing
``publisher.log`` under :func:`publisher.paths.log_dir` (1 MiB x 5 files). A :class:`RedactingFilter`
on that handler replaces API keys before anything is written: the keys the app knows
(:func:`register_secret`, called by :mod:`publisher.credentials` and the app for every key it reads,
stores or is given by the embedded server or ``FTRACK_API_KEY``) and anything shaped like one
(``apiKey=...`` in a file URL, an ``ftrack-api-key`` header, ``FTRACK_API_KEY=...`` as in the
embedded server's ready line, ``--api-key ...``). :func:`redact` does the same to any text, for
error messages and the diagnostics. No Qt; callable from any thread.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import threading
from pathlib import Path

from publisher import paths

#: What replaces a secret.
MASK = "***"

LOG_FILE_NAME = "publisher.log"
MAX_BYTES = 1024 * 1024
BACKUP_COUNT = 5

#: Keys shorter than this are not replaced by value (a one-letter test key would blank every
#: occurrence of that letter); the patterns below still catch them in their usual places.
_MIN_SECRET_LENGTH = 4

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secret_re: re.Pattern[str] | None = None

_PATTERNS = [
    # ftrack-api-key: K, 'ftrack-api-key': 'K', FTRACK_API_KEY=K, FTRACK_APIKEY=K, apiKey=K,
    # api_key=K, "api_key": "K", api-key: K (headers, dict reprs, query strings, env dumps)
    re.compile(r"(?i)((?:ftrack[-_])?api[-_]?key['\"]?\s*[:=]\s*['\"]?)([^\s'\"&,;}\])]+)"),
    # --api-key K / --api-key=K (the server command line)
    re.compile(r"(?i)(--api-key(?:\s+|=))(\S+)"),
    # ?token=T in an upload URL (urllib3 logs request lines at DEBUG): a token opens an upload
    re.compile(r"(?i)([?&]token=)([^\s&'\"]+)"),
]


def register_secret(secret: str | None) -> None:
    """Remember ``secret`` so that it is blanked wherever it appears in the log or a message."""
    global _secret_re
    if not secret or len(secret) < _MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        if secret in _secrets:
            return
        _secrets.add(secret)
        # Longest first, so a key that contains another is replaced whole.
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_re = re.compile("|".join(re.escape(s) for s in ordered))


def known_secrets() -> frozenset[str]:
    """The secrets registered so far (for tests that scan files for them)."""
    with _secrets_lock:
        return frozenset(_secrets)


def redact(text: str) -> str:
    """``text`` with every known secret and anything shaped like an API key replaced by ``***``."""
    if not text:
        return text
    pattern = _secret_re
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for shape in _PATTERNS:
        text = shape.sub(lambda m: m.group(1) + (m.group(2) if m.group(2) == MASK else MASK), text)
    return text


class RedactingFilter(logging.Filter):
    """Blanks secrets in a record's message, exception text and stack before a handler writes it.

    The record is rewritten in place (message formatted once, arguments dropped), so every handler
    after this one sees the redacted text too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what there is, redacted
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            # The formatter would format exc_info again only when exc_text is empty; dropping it
            # also keeps the traceback's frames (and their locals) from any later handler.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def log_file() -> Path:
    """The current log file (older ones have ``.1`` ... ``.5`` appended)."""
    return paths.log_dir() / LOG_FILE_NAME


_handler: logging.Handler | None = None


def setup(level: int = logging.INFO, *, logger: str = "", max_bytes: int = MAX_BYTES,
          backup_count: int = BACKUP_COUNT) -> Path:
    """Log ``logger`` (the root logger by default; ``"publisher"`` inside a DCC, whose own logging
    is not ours to change) at ``level`` into the rotating log file; returns the file's path.

    Calling it again replaces the handler installed before (a different folder, level or logger).
    ``FTRACK_API_KEY`` from the environment is registered as a secret.
    """
    global _handler
    register_secret(os.environ.get("FTRACK_API_KEY"))
    register_secret(os.environ.get("FTRACK_APIKEY"))
    path = log_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    teardown()
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backup_count,
                                                   encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
    handler.addFilter(RedactingFilter())
    handler.setLevel(level)
    target = logging.getLogger(logger or None)
    target.addHandler(handler)
    if target.level == logging.NOTSET or target.level > level:
        target.setLevel(level)
    handler._publisher_logger = target  # type: ignore[attr-defined]  # for teardown
    _handler = handler
    return path


def teardown() -> None:
    """Remove and close the handler :func:`setup` installed (if any)."""
    global _handler
    handler = _handler
    _handler = None
    if handler is not None:
        getattr(handler, "_publisher_logger", logging.getLogger()).removeHandler(handler)
        handler.close()


def last_lines(count: int = 100) -> list[str]:
    """The last ``count`` lines of the log (across a rotation), redacted again for safety."""
    handler = _handler
    if handler is not None:
        handler.flush()
    files = [log_file()] + [Path(f"{log_file()}.{n}") for n in range(1, BACKUP_COUNT + 1)]
    lines: list[str] = []
    for path in files:
        if len(lines) >= count:
            break
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        lines = text.splitlines()[-(count - len(lines)):] + lines
    return [redact(line) for line in lines[-count:]]
