"""Run a program built by the offline SBPF toolchain in LiteSVM and collect what it logged."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from solders.compute_budget import set_compute_unit_limit
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

ROOT = Path(__file__).resolve().parents[2]
LOG_PREFIX = "Program log: "


@dataclass
class Run:
    ok: bool
    logs: list[str]  # program log lines only (prefix stripped)
    raw_logs: list[str]
    compute_units: int
    error: str | None


class Runner:
    def __init__(self, so_path: Path, program_id: Pubkey | None = None):
        if not so_path.exists():
            raise FileNotFoundError(f"{so_path} is missing: run `make programs`")
        self.svm = LiteSVM()
        self.program_id = program_id or Pubkey.new_unique()
        self.svm.add_program(self.program_id, so_path.read_bytes())
        self.payer = Keypair()
        self.svm.airdrop(self.payer.pubkey(), 10**10)

    def call(self, data: bytes, accounts=(), cu_limit: int = 1_400_000) -> Run:
        ix = Instruction(self.program_id, data, list(accounts))
        msg = Message.new_with_blockhash([set_compute_unit_limit(cu_limit), ix], self.payer.pubkey(),
                                         self.svm.latest_blockhash())
        res = self.svm.send_transaction(VersionedTransaction(msg, [self.payer]))
        self.svm.expire_blockhash()
        meta = res.meta() if hasattr(res, "meta") else res
        raw = list(meta.logs())
        logs = [l[len(LOG_PREFIX):] for l in raw if l.startswith(LOG_PREFIX)]
        err = str(res.err()) if hasattr(res, "err") else None
        consumed = 0
        for line in raw:
            if line.startswith(f"Program {self.program_id} consumed "):
                consumed = int(line.split()[3])
        return Run(err is None, logs, raw, consumed, err)
