"""Side-by-side benchmark: official SPL programs built by our offline SBPF toolchain vs the
platform-tools builds that LiteSVM ships, run in one LiteSVM on identical inputs.

Prints a JSON summary: compute units per case for both builds, their ratio (ours / official),
the geometric mean ratio per program, binary sizes, and whether every case ended the same way
(success/failure and resulting balances).

The summary's "anchor_shapes" is bench/toolchain/anchor_cu.py's: Anchor's benchmark shapes built by
tools/sbpf, per shape next to the compute units Anchor publishes for its platform-tools build.

Run: make bench-sbpf   (builds bench/toolchain/sbpf_compare and bench/toolchain/anchor_bench with
tools/sbpf, then runs this file)
"""
from __future__ import annotations

import json
import math
import struct
import sys
from pathlib import Path

from solders.compute_budget import set_compute_unit_limit
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, create_account
from solders.transaction import VersionedTransaction

sys.path.insert(0, str(Path(__file__).resolve().parent))
import anchor_cu  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "target" / "sbpf-solana" / "release"
MEMO_OFFICIAL = Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")
TOKEN_OFFICIAL = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
MINT_LEN, ACCOUNT_LEN = 82, 165


class Chain:
    def __init__(self):
        self.svm = LiteSVM()
        self.payer = Keypair()
        self.svm.airdrop(self.payer.pubkey(), 10**12)

    def send(self, ixs, signers=()):
        msg = Message.new_with_blockhash([set_compute_unit_limit(1_400_000), *ixs], self.payer.pubkey(),
                                         self.svm.latest_blockhash())
        res = self.svm.send_transaction(VersionedTransaction(msg, [self.payer, *signers]))
        self.svm.expire_blockhash()
        meta = res.meta() if hasattr(res, "meta") else res
        program_cu = 0
        for line in meta.logs():
            parts = line.split()
            if len(parts) > 3 and parts[2] == "consumed" and parts[1] != "ComputeBudget111111111111111111111111111111":
                program_cu = int(parts[3])  # the last program's own consumption
        return (not hasattr(res, "err")), program_cu

    def create(self, owner: Pubkey, space: int) -> Keypair:
        kp = Keypair()
        ix = create_account(CreateAccountParams(from_pubkey=self.payer.pubkey(), to_pubkey=kp.pubkey(),
                                                lamports=self.svm.minimum_balance_for_rent_exemption(space),
                                                space=space, owner=owner))
        ok, _ = self.send([ix], [kp])
        assert ok
        return kp


def memo_cases():
    signers = [Keypair() for _ in range(3)]
    cases = []
    for text, n in [(b"hi", 0), (b"iopay job 42 settled hour 3", 1), (("x" * 200).encode(), 2),
                    ("GPU hours \u2713 ".encode() * 30, 3), (b"\xff\xfe not utf8", 0)]:
        cases.append((f"memo {len(text)}B {n} signer(s)", text, signers[:n]))
    return cases


def bench_memo(chain: Chain, ours: Pubkey):
    rows = []
    for name, data, signers in memo_cases():
        result = {}
        for label, pid in (("ours", ours), ("official", MEMO_OFFICIAL)):
            metas = [AccountMeta(s.pubkey(), True, False) for s in signers]
            result[label] = chain.send([Instruction(pid, data, metas)], signers)
        rows.append(row(name, result))
    return rows


def row(name, result):
    (ok_a, cu_a), (ok_b, cu_b) = result["ours"], result["official"]
    return {"case": name, "ours_cu": cu_a, "official_cu": cu_b, "ratio": round(cu_a / cu_b, 3) if cu_b else None,
            "same_outcome": ok_a == ok_b, "succeeded": ok_b}


def token_balance(chain: Chain, acct: Pubkey) -> int:
    return struct.unpack_from("<Q", chain.svm.get_account(acct).data, 64)[0]


def bench_token(chain: Chain, ours: Pubkey):
    """The same sequence of SPL Token instructions against each build; returns rows and balances."""
    per_program = {}
    for label, pid in (("ours", ours), ("official", TOKEN_OFFICIAL)):
        owner, delegate = Keypair(), Keypair()
        mint = chain.create(pid, MINT_LEN).pubkey()
        a = chain.create(pid, ACCOUNT_LEN).pubkey()
        b = chain.create(pid, ACCOUNT_LEN).pubkey()
        auth = chain.payer.pubkey()

        def ix(data, metas):
            return Instruction(pid, data, metas)

        w, r, s = (lambda k: AccountMeta(k, False, True)), (lambda k: AccountMeta(k, False, False)), \
            (lambda k: AccountMeta(k, True, False))
        steps = [
            ("InitializeMint2", ix(bytes([20, 6]) + bytes(auth) + b"\0", [w(mint)]), []),
            ("InitializeAccount3 (a)", ix(bytes([18]) + bytes(owner.pubkey()), [w(a), r(mint)]), []),
            ("InitializeAccount3 (b)", ix(bytes([18]) + bytes(owner.pubkey()), [w(b), r(mint)]), []),
            ("MintTo", ix(bytes([7]) + struct.pack("<Q", 1_000_000_000), [w(mint), w(a), s(auth)]), []),
            ("Transfer", ix(bytes([3]) + struct.pack("<Q", 250_000_000), [w(a), w(b), s(owner.pubkey())]), [owner]),
            ("TransferChecked", ix(bytes([12]) + struct.pack("<QB", 1_234_567, 6),
                                   [w(a), r(mint), w(b), s(owner.pubkey())]), [owner]),
            ("Approve", ix(bytes([4]) + struct.pack("<Q", 5_000), [w(a), r(delegate.pubkey()), s(owner.pubkey())]),
             [owner]),
            ("Transfer (delegate)", ix(bytes([3]) + struct.pack("<Q", 4_000), [w(a), w(b), s(delegate.pubkey())]),
             [delegate]),
            ("Transfer (over allowance)", ix(bytes([3]) + struct.pack("<Q", 4_000),
                                             [w(a), w(b), s(delegate.pubkey())]), [delegate]),
            ("Burn", ix(bytes([8]) + struct.pack("<Q", 10_000), [w(b), w(mint), s(owner.pubkey())]), [owner]),
            ("Transfer (insufficient)", ix(bytes([3]) + struct.pack("<Q", 10**15), [w(a), w(b), s(owner.pubkey())]),
             [owner]),
        ]
        results = {}
        for name, instr, signers in steps:
            results[name] = chain.send([instr], signers)
        per_program[label] = (results, (token_balance(chain, a), token_balance(chain, b)))
    rows = [row(name, {k: per_program[k][0][name] for k in per_program}) for name in per_program["ours"][0]]
    return rows, per_program["ours"][1], per_program["official"][1]


def geomean(rows):
    ratios = [r["ratio"] for r in rows if r["ratio"]]
    return round(math.exp(sum(math.log(x) for x in ratios) / len(ratios)), 3)


def main():
    memo_so, token_so = BUILD / "bench_spl_memo.so", BUILD / "bench_spl_token.so"
    for p in (memo_so, token_so):
        if not p.exists():
            sys.exit(f"{p} missing: run `make bench-sbpf`")
    chain = Chain()
    ours_memo, ours_token = Pubkey.new_unique(), Pubkey.new_unique()
    chain.svm.add_program(ours_memo, memo_so.read_bytes())
    chain.svm.add_program(ours_token, token_so.read_bytes())
    memo_rows = bench_memo(chain, ours_memo)
    token_rows, ours_bal, official_bal = bench_token(chain, ours_token)
    summary = {
        "benchmark": "sbpf_toolchain_vs_platform_tools",
        "note": "ours = crates.io source built by tools/sbpf (rustc 1.96, upstream LLVM 22); official = the "
                "platform-tools build LiteSVM (solders 0.26.0) ships. Official memo is the deployed Memo v3 "
                "binary, ours is spl-memo 7.0.0; token: spl-token 9.0.0 vs the deployed Token program.",
        "spl_memo": {"cases": memo_rows, "geomean_cu_ratio": geomean(memo_rows),
                     "size_bytes": {"ours": memo_so.stat().st_size,
                                    "official": len(chain.svm.get_account(MEMO_OFFICIAL).data)}},
        "spl_token": {"cases": token_rows, "geomean_cu_ratio": geomean(token_rows),
                      "final_balances": {"ours": ours_bal, "official": official_bal},
                      "size_bytes": {"ours": token_so.stat().st_size,
                                     "official": len(chain.svm.get_account(TOKEN_OFFICIAL).data)}},
    }
    summary["all_outcomes_match"] = all(r["same_outcome"] for r in memo_rows + token_rows) and ours_bal == official_bal
    summary["anchor_shapes"] = anchor_cu.measure()
    print(json.dumps(summary, indent=2))
    return 0 if summary["all_outcomes_match"] else 1


if __name__ == "__main__":
    sys.exit(main())
