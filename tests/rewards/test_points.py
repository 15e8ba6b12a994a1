"""Points formula, inputs file validation, exact split, determinism (pure Python)."""

from __future__ import annotations

import hashlib
import json
import random

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.rewards import merkle
from iopay.rewards.epoch import EpochRewards, compute_epoch
from iopay.rewards.hours import hours_from_events
from iopay.rewards.points import (DEFAULT_CONFIG, EpochRefused, RewardsConfig, allocate, parse_inputs,
                                  points_of)

CFG = RewardsConfig.load()
W = [Pubkey(bytes([i + 1]) * 32) for i in range(6)]


def csv_text(rows):
    return "wallet,gpu_model,download_mbps,upload_mbps,uptime_bps\n" + "".join(
        f"{w},{g},{d},{u},{up}\n" for w, g, d, u, up in rows)


def test_points_formula_term_by_term():
    [w] = parse_inputs(csv_text([(W[0], "RTX 4090", 600, 300, 9_500)]), "csv", CFG)
    p = points_of(w, 12, CFG)
    # (100 * 12 + 1 * 9500) * 150 (RTX 4090) * 110 (fast band: >= 500/250)
    assert (p.hours_term, p.uptime_term, p.gpu_pct, p.band, p.band_pct) == (1200, 9500, 150, "fast", 110)
    assert p.points == (1200 + 9500) * 150 * 110 == 176_550_000
    # Below the minimum uptime the uptime term is 0; bands need both directions.
    [w] = parse_inputs(csv_text([(W[0], "T4", 2_000, 999, 4_999)]), "csv", CFG)
    p = points_of(w, 3, CFG)
    assert (p.uptime_term, p.band, p.points) == (0, "fast", 300 * 80 * 110)


@pytest.mark.parametrize("row,line,msg", [
    ("notakey,H100,1,1,1", 3, "not a base58 public key"),
    (f"{W[2]},GTX 9999,1,1,1", 3, "unknown gpu_model"),
    (f"{W[2]},H100,-1,1,1", 3, "download_mbps must be an integer"),
    (f"{W[2]},H100,1,1,10001", 3, "uptime_bps must be an integer 0..10000"),
    (f"{W[2]},H100,1,,1", 3, "missing upload_mbps"),
    (f"{W[2]},H100,1,1,1,7", 3, "too many fields"),
    (f"{W[0]},H100,1,1,1", 3, "already listed on line 2"),
])
def test_bad_csv_row_refuses_the_epoch_with_its_line(row, line, msg):
    text = csv_text([(W[0], "H100", 1, 1, 1)]) + row + "\n" + csv_text([(W[3], "T4", 1, 1, 1)]).split("\n", 1)[1]
    with pytest.raises(EpochRefused) as e:
        parse_inputs(text, "csv", CFG)
    assert f"line {line}:" in str(e.value) and msg in str(e.value) and "epoch refused" in str(e.value)


def test_json_inputs_and_their_line_numbers():
    rows = [{"wallet": str(W[0]), "gpu_model": "A100", "download_mbps": 10, "upload_mbps": 5, "uptime_bps": 8000},
            {"wallet": str(W[1]), "gpu_model": "A100", "download_mbps": 10, "upload_mbps": 5, "uptime_bps": 8000}]
    text = json.dumps(rows, indent=1)
    assert [w.wallet for w in parse_inputs(text, "json", CFG)] == W[:2]
    rows[1]["uptime_bps"] = "high"
    text = json.dumps(rows, indent=1)
    with pytest.raises(EpochRefused, match=r"line 9: uptime_bps"):
        parse_inputs(text, "json", CFG)
    with pytest.raises(EpochRefused, match="line 1: a JSON inputs file is an array"):
        parse_inputs("{}", "json", CFG)


def test_bad_header_and_empty_file():
    with pytest.raises(EpochRefused, match="line 1: CSV header"):
        parse_inputs("wallet,gpu\n", "csv", CFG)
    with pytest.raises(EpochRefused, match="lists no worker"):
        parse_inputs(csv_text([]), "csv", CFG)


def test_allocate_is_exact_largest_remainder_with_wallet_tie_break():
    # 10 split 1:1:1 -> 3,3,3 and the remainder unit to the smallest key.
    assert allocate(10, [(b"\x02", 1), (b"\x01", 1), (b"\x03", 1)]) == [3, 4, 3]
    # Largest fractional part wins before the key: 7 * (1, 2) / 3 = 2.33, 4.67.
    assert allocate(7, [(b"\x01", 1), (b"\x02", 2)]) == [2, 5]
    # Zero-point workers never get a remainder unit.
    assert allocate(5, [(b"\x00", 0), (b"\x01", 1), (b"\x02", 1)]) == [0, 3, 2]
    with pytest.raises(EpochRefused):
        allocate(5, [(b"\x00", 0)])


def test_allocate_randomized_invariants():
    rng = random.Random(14)
    for _ in range(300):
        n = rng.randint(1, 40)
        weights = [(rng.randbytes(4), rng.choice([0, rng.randint(1, 10**12)])) for _ in range(n)]
        if not any(p for _, p in weights):
            continue
        pool = rng.randint(0, 2**64 - 1)
        out = allocate(pool, weights)
        total = sum(p for _, p in weights)
        assert sum(out) == pool
        for (_, p), a in zip(weights, out):
            exact_floor = pool * p // total
            assert a in (exact_floor, exact_floor + 1)
            if p == 0:
                assert a == 0


def test_unmeasured_worker_with_hours_refuses_the_epoch():
    inputs = parse_inputs(csv_text([(W[0], "H100", 1, 1, 9000)]), "csv", CFG)
    with pytest.raises(EpochRefused, match=f"{W[1]} .*no row in the inputs file"):
        compute_epoch(0, inputs, {W[1]: 3}, 1000, CFG)


def test_hours_from_events_sums_per_wallet_inside_the_range():
    class Ev:
        def __init__(self, name, **kw):
            self.name = name
            self.__dict__.update(kw)

    def settled(ts, *paid):  # job_escrow's batched event: one per instruction
        return Ev("HoursSettled", job=W[3], settled_ts=ts, skipped=[],
                  paid=[Ev("SlotPaid", slot=i, worker=w, hours=h, secs=s, hours_paid=h, amount=1, fee=0)
                        for i, (w, h, s) in enumerate(paid)])

    evs = [settled(100, (W[0], 2, 0), (W[2], 4, 0)),
           settled(199, (W[0], 3, 1800)),
           settled(150, (W[0], 0, 1799), (W[1], 0, 3599)),  # W[0]: 5 h + 3599 s; W[1] under an hour
           settled(200, (W[1], 5, 0)),  # end is exclusive
           settled(99, (W[1], 7, 0)),
           Ev("JobOpened", worker=W[2], hours=9, settled_ts=150)]
    assert hours_from_events(evs, 100, 200) == {W[0]: 5, W[2]: 4}
    # partial hours add up across cut bookings, rounded down at the end
    assert hours_from_events(evs + [settled(150, (W[0], 0, 1))], 100, 200) == {W[0]: 6, W[2]: 4}


def test_hours_from_events_refuses_other_shapes():
    class Ev:
        def __init__(self, name, **kw):
            self.name = name
            self.__dict__.update(kw)

    with pytest.raises(ValueError, match="HoursSettled has no 'paid'"):
        hours_from_events([Ev("HoursSettled", worker=W[0], hours=2, settled_ts=100)], 0, 200)
    with pytest.raises(ValueError, match=r"paid\[0\]: secs must be an integer in 0..3599"):
        hours_from_events([Ev("HoursSettled", settled_ts=100, paid=[Ev("P", worker=W[0], hours=1, secs=3600)])],
                          0, 200)
    with pytest.raises(ValueError, match="settled_ts must be an integer"):
        hours_from_events([Ev("HoursSettled", settled_ts="100", paid=[])], 0, 200)


def _epoch(seed: int, n: int = 300):
    rng = random.Random(seed)
    wallets = [Keypair.from_seed(rng.randbytes(32)).pubkey() for _ in range(n)]
    gpus = sorted(DEFAULT_CONFIG["gpu_tiers"])
    rows = [(w, rng.choice(gpus), rng.randint(0, 2000), rng.randint(0, 2000), rng.randint(0, 10_000))
            for w in wallets]
    inputs = parse_inputs(csv_text(rows), "csv", CFG)
    hours = {w: rng.randint(0, 200) for w in wallets[: n // 2]}
    return compute_epoch(5, inputs, hours, 123_456_789_012, CFG), inputs, hours


def test_same_inputs_same_file_byte_for_byte_and_file_round_trip(tmp_path):
    a, inputs, hours = _epoch(1)
    b = compute_epoch(5, list(reversed(inputs)), dict(reversed(list(hours.items()))), 123_456_789_012, CFG)
    assert a.to_json() == b.to_json()
    assert sum(a.amounts.values()) == 123_456_789_012 == sum(leaf.amount for leaf in a.leaves)
    path = tmp_path / "r.json"
    a.write(path)
    back = EpochRewards.read(path)
    assert back.to_json() == a.to_json()
    # Every leaf proves against the root with exactly depth siblings.
    for leaf in a.leaves[:50]:
        proof = back.proof(leaf.index)
        assert len(proof) == merkle.depth(len(a.leaves))
        assert merkle.verify(a.root, len(a.leaves), leaf.hash(5), leaf.index, proof)
    # A tampered file is refused.
    d = json.loads(path.read_text())
    d["leaves"][3][2] = str(int(d["leaves"][3][2]) + 1)
    with pytest.raises(ValueError, match="do not hash to the stated root"):
        EpochRewards.from_dict(d)


def test_merkle_layout_matches_the_program():
    # Same pinned bytes as programs/rewards/src/merkle.rs::leaf_layout_is_stable.
    pre = b"\x00" + (1).to_bytes(8, "little") + (2).to_bytes(4, "little") + bytes([3]) * 32 + (4).to_bytes(8, "little")
    assert merkle.leaf_hash(1, 2, bytes([3]) * 32, 4) == hashlib.sha256(pre).digest()
    assert merkle.node_hash(merkle.EMPTY, merkle.EMPTY) == hashlib.sha256(b"\x01" + bytes(64)).digest()
    for n in range(1, 20):
        leaves = [merkle.leaf_hash(7, i, bytes([i]) * 32, 100 + i) for i in range(n)]
        t = merkle.MerkleTree.build(leaves)
        assert t.depth == merkle.depth(n)
        for i in range(n):
            assert merkle.verify(t.root, n, leaves[i], i, t.proof(i))
            assert not merkle.verify(t.root, n, leaves[i], (i + 1) % n, t.proof(i)) or n == 1
