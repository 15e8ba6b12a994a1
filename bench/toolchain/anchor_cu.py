"""Our Anchor micro-benchmark: compute units per shape (dispatch among 87 instructions; each
account type for 1/2/4/8 accounts; init of each) for bench/toolchain/anchor_bench built by
tools/sbpf, next to the figures Anchor publishes for the same shapes built with platform-tools
(anchor_bench/published_1_0_2.py). Accounts are made the way Anchor's own test makes them: init
instructions create the accounts their plain twins then load; every mint or token account slot
gets the same initialized account; Program/Interface slots get the System/Token program.

Run: make bench-anchor   (builds the workspace with tools/sbpf, then runs this file; JSON on
stdout, or the README's table with --markdown). make bench-sbpf includes the same summary.
"""
from __future__ import annotations

import hashlib
import json
import math
import struct
import sys
from pathlib import Path

from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "anchor_bench"))
from published_1_0_2 import BINARY_SIZE, COMPUTE_UNITS, SOURCE  # noqa: E402
from shapes import SHAPES, lower_camel  # noqa: E402

ROOT = HERE.parents[1]
# Its own target dir: Anchor's profile (opt-level 3) shares no build with the others anyway.
SO = ROOT / "target" / "anchor-bench" / "sbpf-solana" / "release" / "anchor_bench.so"
PROGRAM_ID = Pubkey.from_string("Bench11111111111111111111111111111111111111")
SYSTEM = Pubkey.from_string("11111111111111111111111111111111")
TOKEN = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
MINT_LEN, TOKEN_LEN = 82, 165


def discriminator(name: str) -> bytes:
    return hashlib.sha256(f"global:{name}".encode()).digest()[:8]


class Bench:
    def __init__(self, so: Path):
        self.svm = LiteSVM()
        self.svm.add_program(PROGRAM_ID, so.read_bytes())
        self.payer = Keypair()
        self.svm.airdrop(self.payer.pubkey(), 10**12)
        self.mint = self._token_account(MINT_LEN, self._mint_data())
        self.token = self._token_account(TOKEN_LEN, self._token_data())

    def _mint_data(self) -> bytes:
        # COption<Pubkey> authority, supply, decimals, is_initialized, COption<Pubkey> freeze.
        return struct.pack("<I32sQBBI32s", 1, bytes(self.payer.pubkey()), 0, 0, 1, 0, bytes(32))

    def _token_data(self) -> bytes:
        # mint, owner, amount, COption delegate, state (1 = initialized), COption<u64> is_native,
        # delegated amount, COption close authority.
        return struct.pack("<32s32sQI32sBIQQI32s", bytes(self.mint), bytes(self.payer.pubkey()), 0, 0, bytes(32),
                           1, 0, 0, 0, 0, bytes(32))

    def _token_account(self, size: int, data: bytes) -> Pubkey:
        key = Keypair().pubkey()
        assert len(data) == size
        self.svm.set_account(key, Account(self.svm.minimum_balance_for_rent_exemption(size), data, TOKEN, False, 0))
        return key

    def send(self, name: str, metas: list[AccountMeta], signers: list[Keypair]) -> int:
        ix = Instruction(PROGRAM_ID, discriminator(name), metas)
        msg = Message.new_with_blockhash([ix], self.payer.pubkey(), self.svm.latest_blockhash())
        res = self.svm.send_transaction(VersionedTransaction(msg, [self.payer, *signers]))
        self.svm.expire_blockhash()
        if hasattr(res, "err"):
            raise RuntimeError(f"{name} failed: {res.err()} {list(res.meta().logs())[-5:]}")
        return res.compute_units_consumed()

    def shape(self, stem: str, n: int, keys: list[Keypair]) -> int:
        """CU of `<stem><n>` with `keys` as the account slots (created fresh unless reused)."""
        init = stem.endswith("_init")
        payer = [AccountMeta(self.payer.pubkey(), True, True)] if init else []
        fixed = {"interface_account_mint": self.mint, "boxed_interface_account_mint": self.mint,
                 "interface_account_token": self.token, "boxed_interface_account_token": self.token,
                 "program": SYSTEM, "interface": TOKEN}.get(stem)
        signs = init or stem == "signer"
        metas = [AccountMeta(fixed or k.pubkey(), signs and fixed is None, init) for k in keys]
        tail = [AccountMeta(SYSTEM, False, False)] if init else []
        return self.send(f"{stem}{n}", payer + metas + tail, keys if signs and fixed is None else [])


def run_shapes(bench: Bench):
    """Runs every shape once, in declaration order; yields (stem, n, account keys, CU)."""
    keys_for: dict[tuple[str, int], list[Keypair]] = {}
    for stem, counts in SHAPES:
        for n in counts:
            # A plain shape loads the accounts its init twin (declared just before it) created.
            keys = keys_for.pop((stem + "_init", n), None) or [Keypair() for _ in range(n)]
            if stem.endswith("_init"):
                keys_for[(stem, n)] = keys
            yield stem, n, keys, bench.shape(stem, n, keys)


def measure(so: Path = SO) -> dict:
    if not so.exists():
        raise SystemExit(f"{so} missing: run `make bench-anchor`")
    rows = []
    for stem, n, _keys, ours in run_shapes(Bench(so)):
        name = f"{lower_camel(stem)}{n}"
        published = COMPUTE_UNITS[name]
        rows.append({"shape": name, "ours_cu": ours, "published_1_0_2_cu": published,
                     "ratio": round(ours / published, 3)})
    ratios = [r["ratio"] for r in rows]
    return {
        "benchmark": "anchor_shapes_vs_published_platform_tools",
        "note": "ours: bench/toolchain/anchor_bench (anchor-lang/anchor-spl 1.0.2 from crates.io, anchor init's "
                "release profile) built by tools/sbpf, run in LiteSVM, CU = the transaction's computeUnitsConsumed "
                "as in Anchor's test; published: Anchor's platform-tools figures, " + SOURCE,
        "shapes": rows,
        "geomean_ratio": round(math.exp(sum(math.log(x) for x in ratios) / len(ratios)), 3),
        "max_ratio": max(ratios),
        "shapes_above_1": [r["shape"] for r in rows if r["ratio"] > 1.0],
        "size_bytes": {"ours": so.stat().st_size, "published_1_0_2": BINARY_SIZE},
    }


def markdown(summary: dict) -> str:
    """The per-shape table the README carries (`anchor_cu.py --markdown`)."""
    lines = ["| shape | ours (CU) | Anchor 1.0.2, platform-tools (CU) | ratio |", "|---|---:|---:|---:|"]
    for r in summary["shapes"]:
        lines.append(f"| {r['shape']} | {r['ours_cu']:,} | {r['published_1_0_2_cu']:,} | {r['ratio']:.3f} |")
    lines.append(f"| **geomean** | | | **{summary['geomean_ratio']:.3f}** |")
    return "\n".join(lines)


if __name__ == "__main__":
    result = measure()
    print(markdown(result) if "--markdown" in sys.argv[1:] else json.dumps(result, indent=2))
