"""``--ledger DIR``: what the local validator keeps across restarts.

Layout (like ``solana-test-validator``'s ``test-ledger/``)::

    genesis.json                     genesis hash, creation time, format version
    validator-keypair.json           node identity
    faucet-keypair.json              requestAirdrop's funding account
    upgrade-authority-keypair.json   upgrade authority of the loaded programs
    journal.jsonl                    write-ahead journal, one JSON entry a line
    localnet.json                    this run: URLs, ports, pid (rewritten at start)

The journal is the durable state. Every committed transaction appends one
entry (the transaction record for getTransaction/getSignatureStatuses/
getSignaturesForAddress *and* the post-state of every account it changed),
written to the file (unbuffered: it is the kernel's once ``write`` returns)
**before** the transaction's status becomes visible over RPC, so a
processed transaction survives ``SIGKILL`` of the validator. The journal is
``fsync``'d once per slot (``sync``, called by the slot ticker off the event
loop), not per transaction: an OS crash or power loss can lose at most the
last slot's transactions, as a validator (which does not sync every
transaction either) would lose its unrooted slots. An ``fsync`` per
transaction made a shared disk the validator's bottleneck (44% of its time
in ``bench-rpc``). Genesis accounts, clock warps and account edits are
``fsync``'d at once; slot marks are not (losing one only means the slot
resumes a little earlier).

On start the journal is replayed in order; a torn last line (killed mid
write) is cut off. Keypair and genesis files are written atomically
(temp file, fsync, rename, fsync of the directory).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

from solders.keypair import Keypair

FORMAT_VERSION = 1
JOURNAL = "journal.jsonl"
GENESIS = "genesis.json"


class LedgerError(RuntimeError):
    pass


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Ledger:
    def __init__(self, path: Path | str, *, reset: bool = False) -> None:
        self.path = Path(path)
        if reset and self.path.exists():
            self._reset()
        self.path.mkdir(parents=True, exist_ok=True)
        self._journal: Optional[Any] = None
        self.appended = 0
        #: entries written since the last fsync
        self._unsynced = False

    def _reset(self) -> None:
        p = self.path
        if not p.is_dir():
            raise LedgerError(f"--reset: {p} is not a directory")
        if any(p.iterdir()) and not (p / GENESIS).is_file():
            raise LedgerError(f"--reset: {p} is not empty and is not a localnet ledger (no {GENESIS}); refusing to delete it")
        shutil.rmtree(p)

    @property
    def fresh(self) -> bool:
        return not (self.path / GENESIS).is_file()

    # -- files ---------------------------------------------------------------

    def keypair(self, name: str) -> Keypair:
        """``DIR/<name>.json`` (Solana CLI format), created if missing."""
        p = self.path / f"{name}.json"
        if p.is_file():
            raw = json.loads(p.read_text())
            return Keypair.from_bytes(bytes(raw))
        kp = Keypair()
        atomic_write(p, json.dumps(list(bytes(kp))).encode(), mode=0o600)
        return kp

    def keypair_path(self, name: str) -> Path:
        return self.path / f"{name}.json"

    def read_genesis(self) -> Optional[Dict[str, Any]]:
        p = self.path / GENESIS
        if not p.is_file():
            return None
        g = json.loads(p.read_text())
        if g.get("version") != FORMAT_VERSION:
            raise LedgerError(f"{p}: ledger format {g.get('version')} is not {FORMAT_VERSION}; start with --reset")
        return g

    def write_genesis(self, genesis: Dict[str, Any]) -> None:
        atomic_write(self.path / GENESIS, json.dumps({**genesis, "version": FORMAT_VERSION}, indent=2).encode())

    def write_info(self, info: Dict[str, Any]) -> None:
        atomic_write(self.path / "localnet.json", json.dumps(info, indent=2).encode())

    # -- journal -------------------------------------------------------------

    def entries(self) -> Iterator[Dict[str, Any]]:
        """Replay the journal; a torn or corrupt tail is truncated away."""
        p = self.path / JOURNAL
        if not p.is_file():
            return
        good = 0
        with open(p, "rb") as f:
            for line in f:
                if not line.endswith(b"\n"):
                    break
                try:
                    entry = json.loads(line)
                except ValueError:
                    break
                if not isinstance(entry, dict):
                    break
                good += len(line)
                yield entry
        if good != p.stat().st_size:
            with open(p, "r+b") as f:
                f.truncate(good)
                os.fsync(f.fileno())

    def _open_journal(self) -> Any:
        if self._journal is None:
            p = self.path / JOURNAL
            new = not p.exists()
            self._journal = open(p, "ab", buffering=0)
            if new:
                fsync_dir(self.path)
        return self._journal

    def append(self, entry: Dict[str, Any], sync: bool = True) -> None:
        """Write one entry (in the kernel once this returns: it survives the
        process being killed); ``sync`` also ``fsync``s it (survives the OS)."""
        f = self._open_journal()
        f.write(json.dumps(entry, separators=(",", ":")).encode() + b"\n")
        if sync:
            os.fsync(f.fileno())
            self._unsynced = False
        else:
            self._unsynced = True
        self.appended += 1

    def sync(self) -> bool:
        """``fsync`` what was written since the last one; False if nothing was.
        Safe from another thread while the loop keeps appending (what is
        written after the flag is cleared sets it again)."""
        f = self._journal
        if f is None or not self._unsynced:
            return False
        self._unsynced = False
        os.fsync(f.fileno())
        return True

    def close(self) -> None:
        if self._journal is not None:
            try:
                os.fsync(self._journal.fileno())
            finally:
                self._journal.close()
                self._journal = None

