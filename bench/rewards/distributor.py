"""Rewards distributor benchmark: ``.venv/bin/python bench/rewards/distributor.py``
(``make bench-rewards``). Prints one JSON object:

* ``tree``: for 10,000 and 1,000,000 workers, seconds to hash the leaves and
  build the tree (Python, :mod:`iopay.rewards.merkle`), and to compute a
  whole 10,000-worker epoch (points, split, tree) from inputs;
* ``claim``: for the same sizes, a distributor published on the compiled
  program (LiteSVM, real SPL Token) and the CU of claims at the first, a
  middle and the last index (proof depth 14 and 20), min/max/mean;
* ``rent``: lamports of new accounts per claim (payer's balance change
  minus the signature fees), and the one-off bitmap rent per distributor
  and per leaf; a Jito-style ClaimStatus account (97 bytes) for comparison.

Measurements of this build, not assertions.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from typing import Any, Dict, List

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core.harness import Harness, ProgramNotBuilt
from iopay.core.idl import ProgramIdl
from iopay.rewards import merkle
from iopay.rewards.client import rent_exempt
from iopay.rewards.epoch import compute_epoch
from iopay.rewards.points import RewardsConfig, WorkerInput
from iopay.rewards.program import Rewards, claims_space

SIZES = [10_000, 1_000_000]
FEE_PER_SIGNATURE = 5_000


def tree_timings(n: int, sample_wallets: List[Keypair]) -> Dict[str, Any]:
    rng = random.Random(n)
    wallets = [os.urandom(32) for _ in range(n)]
    # The claimers of claim_bench at the first, a middle and the last index.
    for kp, idx in zip(sample_wallets, [0, n // 2, n - 1]):
        wallets[idx] = bytes(kp.pubkey())
    amounts = [rng.randint(1, 10**9) for _ in range(n)]
    t0 = time.perf_counter()
    leaves = [merkle.leaf_hash(0, i, w, a) for i, (w, a) in enumerate(zip(wallets, amounts))]
    t1 = time.perf_counter()
    tree = merkle.MerkleTree.build(leaves)
    t2 = time.perf_counter()
    return {"workers": n, "depth": tree.depth, "leaf_hash_s": round(t1 - t0, 3), "tree_build_s": round(t2 - t1, 3),
            "total_s": round(t2 - t0, 3), "_tree": tree, "_wallets": wallets, "_amounts": amounts}


def epoch_timing(n: int) -> float:
    config = RewardsConfig.load()
    rng = random.Random(1)
    gpus = sorted(config.gpu_tiers)
    inputs = [WorkerInput(Pubkey(os.urandom(32)), rng.choice(gpus), rng.randint(0, 1500), rng.randint(0, 1500),
                          rng.randint(0, 10_000), i + 2) for i in range(n)]
    hours = {w.wallet: rng.randint(0, 100) for w in inputs}
    t0 = time.perf_counter()
    compute_epoch(0, inputs, hours, 10**12, config)
    return round(time.perf_counter() - t0, 3)


def claim_bench(t: Dict[str, Any], claimers: List[Keypair]) -> Dict[str, Any]:
    prog = ProgramIdl.load("rewards")
    h = Harness()
    h.load_program(prog)
    rw = Rewards(prog)
    mint_auth, creator = Keypair(), h.funded_keypair(100)
    mint = h.create_mint(mint_auth, 6)
    ctok = h.create_token_account(mint, creator.pubkey())
    total = sum(t["_amounts"])
    h.mint_to(mint, ctok, total, mint_auth)
    treasury = h.create_token_account(mint, creator.pubkey())
    tree: merkle.MerkleTree = t["_tree"]
    n = tree.num_leaves
    claims = Keypair()
    from solders.system_program import CreateAccountParams, create_account

    create = create_account(CreateAccountParams(from_pubkey=creator.pubkey(), to_pubkey=claims.pubkey(),
                                                lamports=rent_exempt(claims_space(n)), space=claims_space(n),
                                                owner=prog.program_id))
    ix = rw.new_distributor(creator=creator.pubkey(), admin=creator.pubkey(), mint=mint, treasury=treasury,
                            claims=claims.pubkey(), creator_token=ctok, epoch=0, root=tree.root, num_leaves=n,
                            total=total, claim_deadline=h.now() + 86_400)
    pub = h.send_ok([create, ix], [creator, claims])
    dist = rw.distributor_address(creator.pubkey(), mint, 0)
    cus, rents = [], []
    for i, kp in enumerate(claimers):
        idx = [0, n // 2, n - 1][i]
        tok = h.create_token_account(mint, kp.pubkey())
        cix = rw.claim(claimant=kp.pubkey(), distributor=dist, claims=claims.pubkey(), claimant_token=tok,
                       index=idx, amount=t["_amounts"][idx], proof=tree.proof(idx))
        before = h.lamports(h.payer.pubkey()) + h.lamports(kp.pubkey())
        res = h.send_ok([cix], [kp])
        after = h.lamports(h.payer.pubkey()) + h.lamports(kp.pubkey())
        cus.append(res.compute_units)
        rents.append(before - after - 2 * FEE_PER_SIGNATURE)
    return {"workers": n, "depth": tree.depth, "claim_cu": cus, "claim_cu_min": min(cus), "claim_cu_max": max(cus),
            "claim_cu_mean": round(sum(cus) / len(cus)), "publish_cu": pub.compute_units,
            "rent_per_claim_lamports": max(rents),
            "bitmap_bytes": claims_space(n), "bitmap_rent_lamports": rent_exempt(claims_space(n)),
            "bitmap_rent_per_leaf_lamports": round(rent_exempt(claims_space(n)) / n, 3)}


def main() -> int:
    try:
        ProgramIdl.load("rewards")
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    out: Dict[str, Any] = {"tree": [], "claim": [], "epoch_compute_10000_s": epoch_timing(10_000)}
    for n in SIZES:
        claimers = [Keypair() for _ in range(3)]
        t = tree_timings(n, claimers)
        out["tree"].append({k: v for k, v in t.items() if not k.startswith("_")})
        try:
            out["claim"].append(claim_bench(t, claimers))
        except ProgramNotBuilt as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    out["rent"] = {
        "per_claim_lamports": max(c["rent_per_claim_lamports"] for c in out["claim"]),
        "jito_style_claim_status_lamports": rent_exempt(97),
        "note": "claims set a bit in the distributor's bitmap; the bitmap's rent is paid once by the publisher",
    }
    out["reference"] = {"target_claim_cu": 12_000, "helium_lazy_distributor_claim_cu": 30_900}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
