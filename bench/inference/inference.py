"""Inference payments benchmark: ``make bench-inference`` (JSON on stdout).

* ``vouchers``: vouchers signed per second and verified per second on one
  core (the provider's full check, :meth:`VoucherVerifier.check`, and a bare
  solders ed25519 verify for reference);
* ``settle``: compute units of ``settle`` on the compiled program (LiteSVM,
  real Ed25519 precompile and SPL Token) for 1..k channels in one
  transaction, with the transaction size, CU per channel, and the on-chain
  cost per inference at 10,000 inferences per channel per settlement, as a
  ratio against one SPL Token transfer per inference (base fee: 5,000
  lamports per signature, precompile signatures included; and CU);
* ``http``: requests per second through the 402 endpoint with payment (a
  voucher per request, verified and committed to SQLite before answering)
  and without payment checks, the server in its own process, and the ratio.

Numbers are measurements on this machine, not assertions.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import Transaction

from iopay.core import spl
from iopay.core.harness import Harness
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import JobEscrow
from iopay.inference.program import InferencePay, voucher_message
from iopay.inference.vouchers import ChannelInfo, VoucherSigner, VoucherStore, VoucherVerifier

TX_LIMIT = 1_232
LAMPORTS_PER_SIGNATURE = 5_000
INFERENCES_PER_SETTLEMENT = 10_000
HTTP_CHANNELS = 16
HTTP_REQUESTS = int(os.environ.get("BENCH_HTTP_REQUESTS", "4000"))
HTTP_ROUNDS = int(os.environ.get("BENCH_HTTP_ROUNDS", "3"))


def bench_vouchers(n: int = 20_000) -> Dict[str, Any]:
    program = Pubkey.new_unique()
    payer, provider = Keypair(), Keypair()
    ch = Pubkey.new_unique()
    signer = VoucherSigner(payer, program, ch, 1, 10**15)
    t = time.perf_counter()
    vouchers = [signer.pay(7) for _ in range(n)]
    sign_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as d:
        ver = VoucherVerifier(program, provider.pubkey(), VoucherStore(Path(d) / "b.db"))
        ver.update(ChannelInfo(ch, provider.pubkey(), Pubkey.new_unique(), payer.pubkey(), 1, 10**15, 0, 0, 250, 2**40))
        t = time.perf_counter()
        for v in vouchers:
            ver.check(v, 7)
            ver.best[ch] = (v.cumulative, v.nonce)
        verify_s = time.perf_counter() - t
    msgs = [voucher_message(program, ch, 1, v.cumulative, v.nonce) for v in vouchers]
    sigs = [Signature.from_bytes(v.signature) for v in vouchers]
    pk = payer.pubkey()
    t = time.perf_counter()
    for s, m in zip(sigs, msgs):
        s.verify(pk, m)
    bare_s = time.perf_counter() - t
    return {"n": n, "signed_per_s": round(n / sign_s), "verified_per_s": round(n / verify_s),
            "bare_ed25519_verify_per_s": round(n / bare_s), "verifier_vs_bare": round(bare_s / verify_s, 3)}


def tx_size(h: Harness, ixs: List[Instruction], signers: List[Keypair]) -> int:
    from solders.compute_budget import set_compute_unit_limit

    msg = Message.new_with_blockhash([set_compute_unit_limit(400_000), *ixs], signers[0].pubkey(),
                                     h.svm.latest_blockhash())
    return len(bytes(Transaction(signers, msg, h.svm.latest_blockhash())))


def bench_settle(max_k: int = 4) -> Dict[str, Any]:
    h = Harness()
    esc_idl, pay_idl = ProgramIdl.load("job_escrow"), ProgramIdl.load("inference_pay")
    h.load_program(esc_idl)
    h.load_program(pay_idl)
    esc, pay = JobEscrow(esc_idl, fetch=h.account_data), InferencePay(pay_idl, fetch=h.account_data)
    mint_auth, authority = Keypair(), h.funded_keypair()
    mint = h.create_mint(mint_auth, 6)
    treasury = h.create_token_account(mint, authority.pubkey())
    h.send_ok([esc.init_market(payer=h.payer.pubkey(), upgrade_authority=h.payer.pubkey(), authority=authority.pubkey(),
                               mint=mint, treasury=treasury, fee_bps=250, max_workers=8, max_hours=720)])
    h.send_ok([pay.init_pool(payer=h.payer.pubkey(), mint=mint)])
    provider = h.funded_keypair()
    ptok = h.create_ata(mint, provider.pubkey())
    market = esc.market_address(mint)
    signers: List[VoucherSigner] = []
    for i in range(max_k * 2):
        p = h.funded_keypair()
        tok = h.create_ata(mint, p.pubkey())
        h.mint_to(mint, tok, 10**12, mint_auth)
        ch = pay.channel_address(p.pubkey(), provider.pubkey(), mint, i)
        h.send_ok([pay.open_channel(payer=p.pubkey(), provider=provider.pubkey(), mint=mint, market=market,
                                    payer_token=tok, channel_id=i, deposit=10**11, expires_at=h.now() + 86_400,
                                    dispute_window=3_600)], [p])
        open_slot = pay_idl.decode_account_as("Channel", h.account_data(ch)).open_slot
        signers.append(VoucherSigner(p, pay.program_id, ch, open_slot, 10**11))
    out: Dict[str, Any] = {"batches": []}
    price = 123
    for k in range(1, max_k + 1):
        # 10,000 inferences on each channel, then settle k channels at once
        vouchers = []
        for s in signers[:k]:
            s.cumulative += price * (INFERENCES_PER_SETTLEMENT - 1)
            s.nonce += INFERENCES_PER_SETTLEMENT - 1
            vouchers.append(s.pay(price))
        ixs = pay.settle(provider=provider.pubkey(), mint=mint, provider_token=ptok, vouchers=vouchers)
        size = tx_size(h, ixs, [provider])
        res = h.send(ixs, [provider], payer=provider).raise_for_error()
        cu_per_channel = res.compute_units / k
        fee_per_channel = LAMPORTS_PER_SIGNATURE * (1 + k) / k
        out["batches"].append({"channels": k, "compute_units": res.compute_units,
                               "cu_per_channel": round(cu_per_channel), "tx_bytes": size, "fits": size <= TX_LIMIT,
                               "lamports_per_channel": fee_per_channel})
    # One SPL Token transfer, for comparison.
    a = h.funded_keypair()
    ta, tb = h.create_ata(mint, a.pubkey()), h.create_ata(mint, Keypair().pubkey())
    h.mint_to(mint, ta, 10, mint_auth)
    transfer = h.send([spl.transfer(ta, tb, a.pubkey(), 1)], [a], payer=a).raise_for_error()
    best = min(out["batches"], key=lambda b: b["cu_per_channel"] if b["fits"] else 10**9)
    alone = out["batches"][0]
    per_inf = lambda b: {"lamports": b["lamports_per_channel"] / INFERENCES_PER_SETTLEMENT,  # noqa: E731
                         "compute_units": b["cu_per_channel"] / INFERENCES_PER_SETTLEMENT}
    out["spl_transfer"] = {"compute_units": transfer.compute_units, "lamports": LAMPORTS_PER_SIGNATURE}
    out["per_inference"] = {
        "alone": per_inf(alone), "batched": {"channels": best["channels"], **per_inf(best)},
        "ratio_vs_spl_transfer_lamports_alone": per_inf(alone)["lamports"] / LAMPORTS_PER_SIGNATURE,
        "ratio_vs_spl_transfer_lamports_batched": per_inf(best)["lamports"] / LAMPORTS_PER_SIGNATURE,
        "ratio_vs_spl_transfer_cu_batched": per_inf(best)["compute_units"] / transfer.compute_units,
        "inferences_per_settlement": INFERENCES_PER_SETTLEMENT}
    return out


# -- HTTP --------------------------------------------------------------------------------

SERVER_SEED = bytes(range(32))


def _keys() -> List[Keypair]:
    return [Keypair.from_seed(bytes([i + 1]) * 32) for i in range(HTTP_CHANNELS)]


def channel_of(i: int) -> Pubkey:
    return Pubkey.create_with_seed(Pubkey.default(), f"bench-{i}", Pubkey.default())


async def serve(port_file: str, payment: bool, store_path: str) -> None:
    from iopay.inference.http import ModelOffer, PaidInferenceServer

    provider, mint = Keypair.from_seed(SERVER_SEED), Pubkey.new_unique()
    ver = VoucherVerifier(PROGRAM, provider.pubkey(), VoucherStore(store_path))
    for i, k in enumerate(_keys()):
        ver.update(ChannelInfo(channel_of(i), provider.pubkey(), mint, k.pubkey(), 1, 10**15, 0, 0, 250, 2**40))
    server = PaidInferenceServer(ModelOffer(provider.pubkey(), mint, PROGRAM, 123), ver if payment else None,
                                 port=0, require_payment=payment)
    port = await server.start()
    Path(port_file).write_text(str(port))
    await asyncio.Event().wait()


PROGRAM = Pubkey.from_string("9rUK5Wp7mPrD8AqASRarNbQB2LC65TZJ2YFZggw5wrKw")


async def load(url: str, payment: bool, n: int) -> float:
    import httpx

    from iopay.inference.http import PayingClient

    per = n // HTTP_CHANNELS
    limits = httpx.Limits(max_connections=HTTP_CHANNELS, max_keepalive_connections=HTTP_CHANNELS)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        clients = [PayingClient(url, VoucherSigner(k, PROGRAM, channel_of(i), 1, 10**15),
                                price=123 if payment else None, client=http) for i, k in enumerate(_keys())]

        async def drive(pc: PayingClient) -> None:
            for j in range(per):
                if payment:
                    await pc.infer(f"p{j}")
                else:
                    r = await pc.http.post(f"{url}/v1/infer", json={"prompt": f"p{j}"})
                    assert r.status_code == 200

        await drive_warm(clients, payment, url)
        t = time.perf_counter()
        await asyncio.gather(*(drive(pc) for pc in clients))
        return per * HTTP_CHANNELS / (time.perf_counter() - t)


async def drive_warm(clients: List[Any], payment: bool, url: str) -> None:
    for pc in clients:
        if payment:
            await pc.infer("warm")
        else:
            await pc.http.post(f"{url}/v1/infer", json={"prompt": "warm"})


def _http_round(payment: bool) -> float:
    with tempfile.TemporaryDirectory() as d:
        pf = Path(d) / "port"
        proc = subprocess.Popen([sys.executable, __file__, "--serve", str(pf), "1" if payment else "0",
                                 str(Path(d) / "s.db")], stdout=subprocess.DEVNULL)
        try:
            for _ in range(600):
                if pf.exists() and pf.read_text():
                    break
                time.sleep(0.05)
            url = f"http://127.0.0.1:{pf.read_text()}"
            return asyncio.run(load(url, payment, HTTP_REQUESTS))
        finally:
            proc.kill()
            proc.wait()


def bench_http(rounds: int = HTTP_ROUNDS) -> Dict[str, Any]:
    """Without and with payment in alternating rounds (a shared machine's load
    then weighs on both alike); the medians and their ratio."""
    out: Dict[str, Any] = {"channels": HTTP_CHANNELS, "requests": HTTP_REQUESTS, "rounds": rounds,
                           "store": "sqlite WAL synchronous=FULL, group commit"}
    runs: Dict[bool, List[float]] = {False: [], True: []}
    for _ in range(rounds):
        for payment in (False, True):
            runs[payment].append(_http_round(payment))
    for payment, key in ((False, "without_payment_rps"), (True, "with_payment_rps")):
        out[key] = round(statistics.median(runs[payment]))
        out[key + "_rounds"] = [round(x) for x in runs[payment]]
    out["ratio"] = round(statistics.median(runs[True]) / statistics.median(runs[False]), 3)
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        asyncio.run(serve(sys.argv[2], sys.argv[3] == "1", sys.argv[4]))
        return
    result = {"vouchers": bench_vouchers(), "settle": bench_settle(), "http": bench_http()}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
