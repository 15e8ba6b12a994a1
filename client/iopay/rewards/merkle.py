"""The distributor's Merkle tree, byte for byte as ``programs/rewards/src/merkle.rs``.

* leaf = sha256(0x00 || epoch u64 LE || index u32 LE || wallet (32 bytes) || amount u64 LE)
* node = sha256(0x01 || left || right)

The prefix bytes keep leaves (53 bytes hashed) and interior nodes (65 bytes)
apart, so neither can pass for the other (no second preimage). The tree is
index-ordered: leaf ``i`` is at position ``i`` of the bottom level, a node is
the left child when its position is even, and the last node of an odd level
is paired with :data:`EMPTY` (32 zero bytes). Every proof has exactly
``depth(num_leaves) = ceil(log2(num_leaves))`` siblings, bottom-up, and
proves one index only, the one whose bit the claim sets in the bitmap.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import List, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY = bytes(32)
MAX_LEAVES = 2**32 - 1
U64_MAX = 2**64 - 1

_sha256 = hashlib.sha256
_EPOCH_INDEX = struct.Struct("<QI")
_AMOUNT = struct.Struct("<Q")


def leaf_hash(epoch: int, index: int, wallet: bytes, amount: int) -> bytes:
    if len(wallet) != 32:
        raise ValueError("wallet must be 32 bytes")
    if not (0 <= epoch <= U64_MAX and 0 <= index < 2**32 and 0 <= amount <= U64_MAX):
        raise ValueError("epoch, index or amount out of range")
    return _sha256(LEAF_PREFIX + _EPOCH_INDEX.pack(epoch, index) + wallet + _AMOUNT.pack(amount)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(NODE_PREFIX + left + right).digest()


def depth(num_leaves: int) -> int:
    """Siblings per proof: ceil(log2(num_leaves)), 0 for a single leaf."""
    return 0 if num_leaves <= 1 else (num_leaves - 1).bit_length()


def bitmap_len(num_leaves: int) -> int:
    return (num_leaves + 7) // 8


def is_claimed(bitmap: bytes, index: int) -> bool:
    return bool(bitmap[index // 8] >> (index % 8) & 1)


@dataclass
class MerkleTree:
    """Every level of the tree, leaves first; ``root`` is the last level's node."""

    levels: List[List[bytes]]

    @classmethod
    def build(cls, leaves: Sequence[bytes]) -> "MerkleTree":
        if not leaves:
            raise ValueError("a tree needs at least one leaf")
        if len(leaves) > MAX_LEAVES:
            raise ValueError("too many leaves (u32 indexes)")
        levels = [list(leaves)]
        cur = levels[0]
        h = _sha256
        while len(cur) > 1:
            if len(cur) % 2:
                cur = cur + [EMPTY]
            cur = [h(NODE_PREFIX + cur[i] + cur[i + 1]).digest() for i in range(0, len(cur), 2)]
            levels.append(cur)
        return cls(levels)

    @property
    def root(self) -> bytes:
        return self.levels[-1][0]

    @property
    def num_leaves(self) -> int:
        return len(self.levels[0])

    @property
    def depth(self) -> int:
        return len(self.levels) - 1

    def proof(self, index: int) -> List[bytes]:
        if not 0 <= index < self.num_leaves:
            raise IndexError(f"leaf index {index} out of range 0..{self.num_leaves - 1}")
        out = []
        pos = index
        for level in self.levels[:-1]:
            sib = pos ^ 1
            out.append(level[sib] if sib < len(level) else EMPTY)
            pos >>= 1
        return out


def root_from_proof(leaf: bytes, index: int, proof: Sequence[bytes]) -> bytes:
    node, pos = leaf, index
    for sib in proof:
        node = node_hash(node, sib) if pos % 2 == 0 else node_hash(sib, node)
        pos >>= 1
    return node


def verify(root: bytes, num_leaves: int, leaf: bytes, index: int, proof: Sequence[bytes]) -> bool:
    """What the program's ``claim`` checks."""
    return 0 <= index < num_leaves and len(proof) == depth(num_leaves) and root_from_proof(leaf, index, proof) == root
