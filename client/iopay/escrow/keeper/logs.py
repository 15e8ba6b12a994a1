"""Structured logs: one JSON object per line, ``{"ts", "level", "event", ...}``.

Event names are stable (``keeper_started``, ``round``, ``batch_sent``,
``batch_failed``, ``payout_failed``, ``already_settled``, ``metrics``,
``keeper_stopped``, ...) so log pipelines can filter on them. Public keys and
signatures are written as base58 strings.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any, Callable, IO, List, Optional

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class JsonLog:
    def __init__(self, stream: Optional[IO[str]] = None, *, level: str = "info",
                 clock: Callable[[], float] = time.time, keep: int = 0) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.level = LEVELS[level]
        self.clock = clock
        #: the last ``keep`` records, for tests and embedding services
        self.records: List[dict] = []
        self._keep = keep

    def event(self, event: str, level: str = "info", **fields: Any) -> dict:
        rec = {"ts": round(self.clock(), 3), "level": level, "event": event, **fields}
        if self._keep:
            self.records.append(rec)
            del self.records[:-self._keep]
        if LEVELS[level] >= self.level:
            try:
                self.stream.write(json.dumps(rec, default=str, separators=(",", ":")) + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass  # a closed stream must not stop payouts
        return rec

    def info(self, event: str, **fields: Any) -> dict:
        return self.event(event, "info", **fields)

    def warning(self, event: str, **fields: Any) -> dict:
        return self.event(event, "warning", **fields)

    def error(self, event: str, **fields: Any) -> dict:
        return self.event(event, "error", **fields)

    def debug(self, event: str, **fields: Any) -> dict:
        return self.event(event, "debug", **fields)


class NullLog(JsonLog):
    def __init__(self) -> None:
        super().__init__(stream=None, level="error", keep=0)

    def event(self, event: str, level: str = "info", **fields: Any) -> dict:
        return {"event": event, **fields}
