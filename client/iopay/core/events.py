"""Decode Anchor events from transaction metadata.

Two channels:

* ``emit!``: a ``Program data: <base64>`` log line (8-byte event
  discriminator + borsh). Lost when logs are truncated.
* ``emit_cpi!``: the program invokes itself; the inner instruction's data is
  ``EVENT_IX_TAG`` + event discriminator + borsh. Survives log truncation.
  Anchor defines the tag as the u64 ``0x1d9acb512ea545e4`` (the first 8 bytes
  of ``sha256("anchor:event")`` read big-endian) written ``to_le_bytes``, so
  on the wire it is the hash prefix *reversed*: ``e4 45 a5 2e 51 cb 9a 1d``.

For ``Program data:`` lines we track the program-invocation stack from the
``invoke``/``success``/``failed`` lines so data logged by *other* programs
(e.g. return data of a CPI target) is not mistaken for ours.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Sequence

from solders.pubkey import Pubkey

from iopay.core.idl import ProgramIdl

EVENT_IX_TAG = hashlib.sha256(b"anchor:event").digest()[:8][::-1]
assert EVENT_IX_TAG == bytes.fromhex("e445a52e51cb9a1d")

_INVOKE_RE = re.compile(r"^Program (\w+) invoke \[(\d+)\]$")
_EXIT_RE = re.compile(r"^Program (\w+) (success|failed: .*)$")
_DATA_PREFIX = "Program data: "


@dataclass(frozen=True)
class DecodedEvent:
    name: str
    data: Any  # construct Container with snake_case fields
    source: str  # "cpi" or "log"

    def __getattr__(self, item: str) -> Any:  # ev.amount shorthand
        return getattr(self.data, item)


class EventDecoder:
    def __init__(self, program: ProgramIdl) -> None:
        self.program = program
        self._coder = program.coder.events

    def decode_bytes(self, payload: bytes, source: str = "raw") -> Optional[DecodedEvent]:
        """``payload`` = event discriminator + borsh; None if not one of ours."""
        if len(payload) < 8 or payload[:8] not in self._coder.discriminators:
            return None
        ev = self._coder.parse(payload)
        if ev is None:
            return None
        return DecodedEvent(ev.name, ev.data, source)

    # -- emit! ----------------------------------------------------------------

    def from_logs(self, logs: Iterable[str]) -> List[DecodedEvent]:
        pid = str(self.program.program_id)
        stack: List[str] = []
        out: List[DecodedEvent] = []
        for line in logs:
            m = _INVOKE_RE.match(line)
            if m:
                stack.append(m.group(1))
                continue
            if _EXIT_RE.match(line):
                if stack:
                    stack.pop()
                continue
            if line.startswith(_DATA_PREFIX) and stack and stack[-1] == pid:
                # One line can hold several space-separated base64 chunks
                # (sol_log_data); Anchor's emit! uses a single chunk.
                for chunk in line[len(_DATA_PREFIX):].split(" "):
                    try:
                        raw = base64.b64decode(chunk, validate=True)
                    except (binascii.Error, ValueError):
                        continue
                    ev = self.decode_bytes(raw, "log")
                    if ev:
                        out.append(ev)
        return out

    # -- emit_cpi! ------------------------------------------------------------

    def from_inner_instructions(
        self, inner: Sequence[Sequence[Any]], account_keys: Sequence[Pubkey]
    ) -> List[DecodedEvent]:
        """``inner`` is LiteSVM/RPC meta's per-top-level-instruction list of
        inner instructions; each item exposes ``instruction`` (a
        ``CompiledInstruction`` or a method returning one) with
        ``program_id_index`` and ``data``."""
        out: List[DecodedEvent] = []
        for group in inner:
            for item in group:
                ci = getattr(item, "instruction", item)
                if callable(ci):
                    ci = ci()
                data = bytes(ci.data)
                if account_keys[ci.program_id_index] != self.program.program_id:
                    continue
                if data[:8] != EVENT_IX_TAG:
                    continue
                ev = self.decode_bytes(data[8:], "cpi")
                if ev:
                    out.append(ev)
        return out

    def from_meta(self, meta: Any, account_keys: Sequence[Pubkey]) -> List[DecodedEvent]:
        """Events of a LiteSVM ``TransactionMetadata``: self-CPI events first
        (authoritative), then ``emit!`` log events."""
        return self.from_inner_instructions(meta.inner_instructions(), account_keys) + self.from_logs(
            meta.logs()
        )


def encode_cpi_event_data(discriminator: bytes, body: bytes) -> bytes:
    """The inner-instruction data ``emit_cpi!`` produces (for tests/tools)."""
    return EVENT_IX_TAG + discriminator + body


def encode_log_event(discriminator: bytes, body: bytes) -> str:
    return _DATA_PREFIX + base64.b64encode(discriminator + body).decode()
