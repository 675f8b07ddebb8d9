"""``--record FILE``: one JSON line per request received, for protocol checks. Never the API key."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any


class Recorder:
    """Appends request records to a file; safe to call from any request thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, sort_keys=True, default=str) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
