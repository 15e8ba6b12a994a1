"""An epoch's rewards: points, amounts and the Merkle tree, and its file.

:func:`compute_epoch` is pure: the same inputs, hours, pool and config give
the same :class:`EpochRewards` and the same file, byte for byte
(:meth:`EpochRewards.to_json`: sorted keys, no floats, no timestamps).

Leaves are the workers with a non-zero amount, indexed in ascending order of
their wallet's bytes. The file holds every worker's terms (for ``iopay
rewards show``) and every leaf, but no proofs: a claimant's proof is rebuilt
from the leaves and checked against the root (1M leaves rebuild in seconds,
while stored proofs would take over a gigabyte).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from solders.pubkey import Pubkey

from iopay.rewards import merkle
from iopay.rewards.points import (EpochRefused, Points, RewardsConfig, WorkerInput, allocate,
                                  compute_points)

FILE_VERSION = 1


@dataclass(frozen=True)
class Leaf:
    index: int
    wallet: Pubkey
    amount: int

    def hash(self, epoch: int) -> bytes:
        """The leaf's hash for ``epoch``, byte for byte as the program hashes it."""
        return merkle.leaf_hash(epoch, self.index, bytes(self.wallet), self.amount)


@dataclass
class EpochRewards:
    epoch: int
    pool: int
    config: RewardsConfig
    start_ts: int
    end_ts: int
    workers: List[Points]          # every input row, in wallet order
    amounts: Dict[Pubkey, int]     # every input row's amount (0 included)
    leaves: List[Leaf]             # amount > 0, wallet order
    tree: merkle.MerkleTree

    @property
    def root(self) -> bytes:
        """The Merkle root the distributor is published with (32 bytes)."""
        return self.tree.root

    @property
    def total_points(self) -> int:
        """Sum of every worker's points this epoch."""
        return sum(p.points for p in self.workers)

    def leaf_of(self, wallet: Pubkey) -> Leaf:
        """``wallet``'s leaf (index, amount in base units); ``LookupError`` if it earned nothing."""
        for leaf in self.leaves:
            if leaf.wallet == wallet:
                return leaf
        raise LookupError(f"wallet {wallet} has no reward in epoch {self.epoch}")

    def points_of(self, wallet: Pubkey) -> Points:
        """``wallet``'s points breakdown; ``LookupError`` if it is not in the epoch."""
        for p in self.workers:
            if p.wallet == wallet:
                return p
        raise LookupError(f"wallet {wallet} is not in epoch {self.epoch}")

    def proof(self, index: int) -> List[bytes]:
        """The Merkle proof of leaf ``index`` (``IndexError`` out of range)."""
        return self.tree.proof(index)

    # -- file ---------------------------------------------------------------------------

    def to_dict(self) -> Dict[str, Any]:
        """The epoch file as a JSON-ready dict (versioned)."""
        return {
            "version": FILE_VERSION,
            "epoch": self.epoch,
            "pool": str(self.pool),
            "start_ts": self.start_ts,
            "end_ts": self.end_ts,
            "config": self.config.to_dict(),
            "config_sha256": self.config.digest,
            "remainder_rule": "floor(pool*points/total), remainder +1 to the largest fractional parts, "
                              "ties by wallet bytes ascending",
            "total_points": str(self.total_points),
            "root": self.root.hex(),
            "num_leaves": len(self.leaves),
            "depth": self.tree.depth,
            "leaf_hash": "sha256(0x00 || epoch u64le || index u32le || wallet 32 || amount u64le); "
                         "node = sha256(0x01 || left || right); index-ordered, odd level padded with 32 zero bytes",
            "leaves": [[leaf.index, str(leaf.wallet), str(leaf.amount)] for leaf in self.leaves],
            "workers": [_points_row(p, self.amounts[p.wallet]) for p in self.workers],
        }

    def to_json(self) -> str:
        """The epoch file's canonical JSON text (sorted keys, compact, newline-terminated)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")) + "\n"

    def write(self, path: str | Path) -> None:
        """Write :meth:`to_json` to ``path``."""
        Path(path).write_text(self.to_json())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "EpochRewards":
        """Load an epoch file dict; ``ValueError`` on an unknown version, leaves out of order, or leaves that do
        not hash to the stated root."""
        if d.get("version") != FILE_VERSION:
            raise ValueError(f"unsupported rewards file version {d.get('version')!r}")
        config = RewardsConfig.from_dict(d["config"])
        epoch = int(d["epoch"])
        leaves = [Leaf(int(i), Pubkey.from_string(w), int(a)) for i, w, a in d["leaves"]]
        if [leaf.index for leaf in leaves] != list(range(len(leaves))):
            raise ValueError("rewards file: leaf indexes must be 0..n-1 in order")
        tree = merkle.MerkleTree.build([leaf.hash(epoch) for leaf in leaves])
        if tree.root.hex() != d["root"]:
            raise ValueError("rewards file: the leaves do not hash to the stated root")
        workers, amounts = [], {}
        for row in d["workers"]:
            p = Points(**{k: (Pubkey.from_string(v) if k == "wallet" else int(v) if k in _INT_FIELDS else v)
                          for k, v in row.items() if k != "amount"})
            workers.append(p)
            amounts[p.wallet] = int(row["amount"])
        return cls(epoch, int(d["pool"]), config, int(d["start_ts"]), int(d["end_ts"]), workers, amounts,
                   leaves, tree)

    @classmethod
    def from_json(cls, text: str) -> "EpochRewards":
        """:meth:`from_dict` of JSON text."""
        return cls.from_dict(json.loads(text))

    @classmethod
    def read(cls, path: str | Path) -> "EpochRewards":
        """:meth:`from_json` of the file at ``path``."""
        return cls.from_json(Path(path).read_text())


_INT_FIELDS = {"job_hours", "hours_term", "uptime_bps", "uptime_term", "gpu_pct", "download_mbps",
               "upload_mbps", "band_pct", "points"}


def _points_row(p: Points, amount: int) -> Dict[str, Any]:
    row: Dict[str, Any] = {f.name: getattr(p, f.name) for f in fields(p)}
    row["wallet"] = str(p.wallet)
    row["points"] = str(p.points)  # may exceed 2^53
    row["amount"] = str(amount)
    return row


def compute_epoch(epoch: int, inputs: Sequence[WorkerInput], hours: Mapping[Pubkey, int], pool: int,
                  config: RewardsConfig, *, start_ts: Optional[int] = None,
                  end_ts: Optional[int] = None) -> EpochRewards:
    """Points, amounts (summing to ``pool`` exactly) and the tree of one epoch."""
    if not isinstance(epoch, int) or not 0 <= epoch <= merkle.U64_MAX:
        raise ValueError("epoch must be an integer in u64 range")
    if not isinstance(pool, int) or not 0 < pool <= merkle.U64_MAX:
        raise ValueError("pool must be a positive integer of base units (u64)")
    s, e = config.epoch_range(epoch)
    start_ts = s if start_ts is None else start_ts
    end_ts = e if end_ts is None else end_ts
    pts = sorted(compute_points(inputs, hours, config), key=lambda p: bytes(p.wallet))
    amounts_list = allocate(pool, [(bytes(p.wallet), p.points) for p in pts])
    amounts = {p.wallet: a for p, a in zip(pts, amounts_list)}
    leaves = [Leaf(i, w, a) for i, (w, a) in enumerate((p.wallet, amounts[p.wallet]) for p in pts
                                                       if amounts[p.wallet] > 0)]
    if not leaves:
        raise EpochRefused("no worker gets a non-zero amount; epoch refused")
    tree = merkle.MerkleTree.build([leaf.hash(epoch) for leaf in leaves])
    return EpochRewards(epoch, pool, config, start_ts, end_ts, pts, amounts, leaves, tree)
