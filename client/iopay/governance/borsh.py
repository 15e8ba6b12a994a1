"""Minimal Borsh reader/writer for SPL Governance's accounts and instructions.

SPL Governance is a native (non-Anchor) program: its accounts and instruction
data are plain Borsh (``#[derive(BorshSerialize, BorshDeserialize)]``), with no
discriminator besides the leading ``GovernanceAccountType`` byte of each
account and the ``GovernanceInstruction`` variant byte of each instruction.
"""

from __future__ import annotations

import struct
from typing import Callable, List, Optional, TypeVar

from solders.pubkey import Pubkey

T = TypeVar("T")


class BorshError(ValueError):
    """The bytes do not decode as the expected layout."""


class Reader:
    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = bytes(data)
        self.pos = offset

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise BorshError(f"need {n} bytes at {self.pos}, have {len(self.data) - self.pos}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def _unpack(self, fmt: str, n: int) -> int:
        return struct.unpack(fmt, self.take(n))[0]

    def u8(self) -> int:
        return self._unpack("<B", 1)

    def u16(self) -> int:
        return self._unpack("<H", 2)

    def u32(self) -> int:
        return self._unpack("<I", 4)

    def u64(self) -> int:
        return self._unpack("<Q", 8)

    def i64(self) -> int:
        return self._unpack("<q", 8)

    def bool(self) -> bool:
        b = self.u8()
        if b > 1:
            raise BorshError(f"invalid bool {b} at {self.pos - 1}")
        return b == 1

    def pubkey(self) -> Pubkey:
        return Pubkey.from_bytes(self.take(32))

    def string(self) -> str:
        n = self.u32()
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError as e:
            raise BorshError(f"invalid UTF-8 string: {e}") from e

    def bytes_vec(self) -> bytes:
        return self.take(self.u32())

    def option(self, item: Callable[[], T]) -> Optional[T]:
        tag = self.u8()
        if tag == 0:
            return None
        if tag != 1:
            raise BorshError(f"invalid Option tag {tag} at {self.pos - 1}")
        return item()

    def vec(self, item: Callable[[], T]) -> List[T]:
        return [item() for _ in range(self.u32())]


class Writer:
    def __init__(self) -> None:
        self.parts: List[bytes] = []

    def raw(self, b: bytes) -> "Writer":
        self.parts.append(bytes(b))
        return self

    def _pack(self, fmt: str, v: int, bits: int, signed: bool = False) -> "Writer":
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"expected an int, got {type(v).__name__}")
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        if not lo <= v <= hi:
            raise ValueError(f"{v} does not fit in {'i' if signed else 'u'}{bits}")
        return self.raw(struct.pack(fmt, v))

    def u8(self, v: int) -> "Writer":
        return self._pack("<B", v, 8)

    def u16(self, v: int) -> "Writer":
        return self._pack("<H", v, 16)

    def u32(self, v: int) -> "Writer":
        return self._pack("<I", v, 32)

    def u64(self, v: int) -> "Writer":
        return self._pack("<Q", v, 64)

    def i64(self, v: int) -> "Writer":
        return self._pack("<q", v, 64, signed=True)

    def bool(self, v: bool) -> "Writer":
        if not isinstance(v, bool):
            raise TypeError(f"expected a bool, got {type(v).__name__}")
        return self.raw(b"\x01" if v else b"\x00")

    def pubkey(self, v: Pubkey) -> "Writer":
        if not isinstance(v, Pubkey):
            raise TypeError(f"expected a Pubkey, got {type(v).__name__}")
        return self.raw(bytes(v))

    def string(self, v: str) -> "Writer":
        if not isinstance(v, str):
            raise TypeError(f"expected a str, got {type(v).__name__}")
        b = v.encode("utf-8")
        return self.u32(len(b)).raw(b)

    def bytes_vec(self, v: bytes) -> "Writer":
        return self.u32(len(v)).raw(v)

    def option(self, v: Optional[T], item: Callable[[T], object]) -> "Writer":
        if v is None:
            return self.u8(0)
        self.u8(1)
        item(v)
        return self

    def vec(self, items: List[T], item: Callable[[T], object]) -> "Writer":
        self.u32(len(items))
        for it in items:
            item(it)
        return self

    def done(self) -> bytes:
        return b"".join(self.parts)
