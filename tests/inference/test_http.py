"""The HTTP 402 endpoint (``PaidInferenceServer``) over real HTTP, in process.

The verifier is fed channel state directly (what ``getProgramAccounts`` or the
channel watch would give it); vouchers are really signed by the payer's ed25519
key and really verified by the server. Each refusal is a 402 carrying the x402
requirements and its own reason, and leaves nothing in the voucher store.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Optional

import httpx
import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.inference.http import (PAYMENT_REQUIRED_HEADER, PAYMENT_RESPONSE_HEADER, SCHEME, ModelOffer,
                                  PaidInferenceServer, PayingClient, b64json, voucher_payload)
from iopay.inference.program import DOMAIN, Voucher
from iopay.inference.vouchers import ChannelInfo, VoucherRejected, VoucherSigner, VoucherStore, VoucherVerifier

PROGRAM = Pubkey.from_string("9rUK5Wp7mPrD8AqASRarNbQB2LC65TZJ2YFZggw5wrKw")
PRICE = 123
DEPOSIT = 10_000
OPEN_SLOT = 42
NETWORK = "solana-localnet"


class Env:
    def __init__(self, tmp_path: Path) -> None:
        self.payer, self.provider = Keypair(), Keypair()
        self.mint = Pubkey.new_unique()
        self.channel = Pubkey.new_unique()
        self.info = ChannelInfo(self.channel, self.provider.pubkey(), self.mint, self.payer.pubkey(), OPEN_SLOT,
                                DEPOSIT, 0, 0, 250, 2**40)
        self.store = VoucherStore(tmp_path / "vouchers.db")
        self.verifier = VoucherVerifier(PROGRAM, self.provider.pubkey(), self.store)
        self.verifier.update(self.info)
        self.offer = ModelOffer(self.provider.pubkey(), self.mint, PROGRAM, PRICE, network=NETWORK)
        #: channels the chain "holds" beyond the verifier's cache (what the resolver reads)
        self.chain: Dict[Pubkey, ChannelInfo] = {}
        self.server = PaidInferenceServer(self.offer, self.verifier, port=0, resolver=self.resolve, refresh_every=0)
        self.http = httpx.AsyncClient(timeout=30)
        self.url = ""

    async def resolve(self, channel: Pubkey) -> Optional[ChannelInfo]:
        return self.chain.get(channel)

    def signer(self, key: Optional[Keypair] = None, channel: Optional[Pubkey] = None) -> VoucherSigner:
        return VoucherSigner(key or self.payer, PROGRAM, channel or self.channel, OPEN_SLOT, DEPOSIT)

    async def infer(self, voucher: Optional[Voucher] = None, *, header: Optional[str] = None,
                    **body: Any) -> httpx.Response:
        headers = {}
        if voucher is not None:
            headers["X-PAYMENT"] = b64json(voucher_payload(voucher, NETWORK))
        if header is not None:
            headers["X-PAYMENT"] = header
        return await self.http.post(f"{self.url}/v1/infer", json={"prompt": "hello", **body}, headers=headers)

    def nothing_stored(self, channel: Optional[Pubkey] = None) -> bool:
        return self.store.best(channel or self.channel) is None and self.store.all() == []


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    e = Env(tmp_path)
    port = await e.server.start()
    e.url = f"http://127.0.0.1:{port}"
    try:
        yield e
    finally:
        await e.http.aclose()
        await e.server.stop()
        e.store.close()


def unb64(s: str) -> Any:
    return json.loads(base64.b64decode(s, validate=True))


def assert_requirements(r: httpx.Response, env: Env, *, price: int = PRICE,
                        channel: Optional[Pubkey] = None) -> Dict[str, Any]:
    """A 402 with the x402 v1 body, the same body base64 in ``PAYMENT-REQUIRED``,
    and the fields the README documents."""
    assert r.status_code == 402, r.text
    body = r.json()
    assert unb64(r.headers[PAYMENT_REQUIRED_HEADER]) == body
    assert body["x402Version"] == 1 and isinstance(body["error"], str) and body["error"]
    [req] = body["accepts"]
    assert req["scheme"] == SCHEME == "iopay-channel"
    assert req["network"] == NETWORK
    assert req["maxAmountRequired"] == str(price)
    assert req["resource"] == "/v1/infer"
    assert req["payTo"] == str(env.provider.pubkey())
    assert req["asset"] == str(env.mint)
    assert req["maxTimeoutSeconds"] > 0
    extra = req["extra"]
    assert extra["program"] == str(PROGRAM)
    assert extra["voucherDomain"] == DOMAIN.decode()
    assert (extra["priceUnit"], extra["unitPrice"]) == ("PerInference", str(PRICE))
    if channel is None:
        assert "channel" not in extra
    else:
        assert extra["channel"] == str(channel)
    assert PAYMENT_RESPONSE_HEADER not in r.headers
    return body


async def test_no_payment_gets_402_with_the_requirements(env: Env) -> None:
    r = await env.infer()
    body = assert_requirements(r, env)
    assert body["error"] == "X-PAYMENT header is required"
    assert env.server.stats.payment_required == 1 and env.server.stats.served == 0
    assert env.nothing_stored()


async def test_the_price_follows_the_listing_unit(env: Env) -> None:
    env.offer.unit, env.offer.price = "PerThousandTokens", 250
    r = await env.infer(max_tokens=4_001)
    assert r.status_code == 402
    assert r.json()["accepts"][0]["maxAmountRequired"] == str(-(-4_001 * 250 // 1000))


async def test_valid_voucher_gets_200_and_the_payment_response(env: Env) -> None:
    v = env.signer().pay(PRICE)
    r = await env.infer(v)
    assert r.status_code == 200, r.text
    assert r.json() == {"model": "stand-in-echo", "output": "olleh", "price": PRICE}
    resp = unb64(r.headers[PAYMENT_RESPONSE_HEADER])
    assert resp == {"success": True, "scheme": SCHEME, "network": NETWORK, "channel": str(env.channel),
                    "cumulative": str(PRICE), "nonce": "1"}
    assert PAYMENT_REQUIRED_HEADER not in r.headers
    # committed before the answer went out
    assert env.store.best(env.channel) == v
    assert env.server.stats.served == 1 and env.server.stats.earned == PRICE


async def test_underpaying_voucher_is_refused(env: Env) -> None:
    s = env.signer()
    r = await env.infer(s.pay(PRICE - 1))
    body = assert_requirements(r, env, channel=env.channel)
    assert body["error"].startswith("underpaid:")
    assert body["accepts"][0]["extra"]["best"] == {"cumulative": "0", "nonce": "0"}
    assert env.nothing_stored()
    # a voucher adding less than the price on top of an accepted one is refused too
    s2 = env.signer()
    assert (await env.infer(s2.pay(PRICE))).status_code == 200
    r = await env.infer(s2.pay(PRICE - 1))
    body = assert_requirements(r, env, channel=env.channel)
    assert body["error"].startswith("underpaid:")
    assert body["accepts"][0]["extra"]["best"] == {"cumulative": str(PRICE), "nonce": "1"}
    assert env.store.best(env.channel).cumulative == PRICE
    assert env.server.stats.rejected == {"underpaid": 2}


async def test_forged_signatures_are_refused(env: Env) -> None:
    mallory = Keypair()
    # signed by another key, claiming the channel's voucher signer
    mallory_voucher = env.signer(key=mallory).pay(PRICE)
    forged = replace(mallory_voucher, signer=env.payer.pubkey())
    r = await env.infer(forged)
    assert assert_requirements(r, env, channel=env.channel)["error"].startswith("bad_signature:")
    # a genuine signature, the amount raised afterwards
    genuine = env.signer().pay(PRICE)
    r = await env.infer(replace(genuine, cumulative=DEPOSIT))
    assert assert_requirements(r, env, channel=env.channel)["error"].startswith("bad_signature:")
    # signed by another key under its own name
    r = await env.infer(mallory_voucher)
    assert assert_requirements(r, env, channel=env.channel)["error"].startswith("wrong_signer:")
    # not a voucher at all
    r = await env.infer(header=base64.b64encode(b'{"scheme": "exact"}').decode())
    assert assert_requirements(r, env)["error"].startswith("malformed_payment:")
    assert env.nothing_stored()
    assert env.server.stats.rejected == {"bad_signature": 2, "wrong_signer": 1, "malformed_payment": 1}
    assert env.server.stats.served == 0 and env.server.stats.earned == 0


async def test_voucher_for_another_providers_channel_is_refused(env: Env) -> None:
    other = Keypair()
    theirs = Pubkey.new_unique()
    # not in the cache and not on chain either
    r = await env.infer(env.signer(channel=theirs).pay(PRICE))
    assert assert_requirements(r, env, channel=theirs)["error"].startswith("unknown_channel:")
    # on chain, paying another provider: looked up once, refused
    env.chain[theirs] = replace(env.info, address=theirs, provider=other.pubkey())
    r = await env.infer(env.signer(channel=theirs).pay(PRICE))
    assert assert_requirements(r, env, channel=theirs)["error"].startswith("wrong_provider:")
    assert env.server.stats.channel_reads == 2
    assert env.nothing_stored(theirs)
    assert env.server.stats.served == 0


async def test_replayed_voucher_is_refused(env: Env, tmp_path: Path) -> None:
    s = env.signer()
    v1 = s.pay(PRICE)
    assert (await env.infer(v1)).status_code == 200
    r = await env.infer(v1)
    body = assert_requirements(r, env, channel=env.channel)
    assert body["error"].startswith("stale_nonce:")
    # an older voucher after a newer one (reordered) is a replay too
    v2 = s.pay(PRICE)
    assert (await env.infer(v2)).status_code == 200
    r = await env.infer(v1)
    assert assert_requirements(r, env, channel=env.channel)["error"].startswith("stale_nonce:")
    assert env.store.best(env.channel) == v2 and len(env.store.all()) == 1
    assert env.server.stats.served == 2 and env.server.stats.earned == 2 * PRICE
    # and after a restart: the store is the verifier's memory
    verifier = VoucherVerifier(PROGRAM, env.provider.pubkey(), env.store)
    verifier.update(env.info)
    server = PaidInferenceServer(env.offer, verifier, port=0)
    status, headers, payload = await server.handle("POST", "/v1/infer", {"x-payment": b64json(
        voucher_payload(v2, NETWORK))}, b'{"prompt": "x"}')
    await server.stop()
    assert status == 402 and json.loads(payload)["error"].startswith("stale_nonce:")


async def test_voucher_above_the_deposit_is_refused(env: Env) -> None:
    s = VoucherSigner(env.payer, PROGRAM, env.channel, OPEN_SLOT, 2 * DEPOSIT)
    r = await env.infer(s.pay(DEPOSIT + 1))
    assert assert_requirements(r, env, channel=env.channel)["error"].startswith("exceeds_deposit:")
    assert env.nothing_stored()
    # after a top-up the chain holds the larger deposit: one read and the next voucher goes through
    env.chain[env.channel] = replace(env.info, deposit=2 * DEPOSIT)
    r = await env.infer(s.pay(PRICE))
    assert r.status_code == 200, r.text
    assert env.store.best(env.channel).cumulative == DEPOSIT + 1 + PRICE


async def test_paying_client_learns_the_price_and_pays_as_it_calls(env: Env) -> None:
    pc = PayingClient(env.url, env.signer(), network=NETWORK)
    try:
        for i in range(5):
            out = await pc.infer(f"q{i}")
            assert out["price"] == PRICE
    finally:
        await pc.aclose()
    assert pc.price == PRICE
    best = env.store.best(env.channel)
    assert (best.cumulative, best.nonce) == (5 * PRICE, 5)
    assert env.server.stats.payment_required == 1 and env.server.stats.served == 5


async def test_out_of_range_fields_are_refused_not_a_server_error(env: Env) -> None:
    """A nonce or amount past u64, or a signature that is not 64 bytes, is a
    malformed payment (402), not a 500; the verifier refuses them the same way."""
    v = env.signer().pay(PRICE)
    for bad in (replace(v, nonce=2**64), replace(v, open_slot=-1), replace(v, signature=v.signature[:63])):
        r = await env.infer(bad)
        assert assert_requirements(r, env)["error"].startswith("malformed_payment:"), r.text
        with pytest.raises(VoucherRejected) as e:
            env.verifier.check(bad, PRICE)
        assert e.value.reason in ("malformed_payment", "bad_signature", "wrong_channel")
    assert env.nothing_stored() and env.server.stats.served == 0
    assert (await env.infer(v)).status_code == 200


async def test_made_up_channels_cost_a_bounded_number_of_chain_reads(tmp_path: Path) -> None:
    """Vouchers naming channels nobody opened: each is refused, but the chain
    reads they cause stay within the server's global budget, and its memory
    of lookups stays bounded."""
    e = Env(tmp_path)
    e.server = PaidInferenceServer(e.offer, e.verifier, port=0, resolver=e.resolve, refresh_every=60,
                                   max_reads_per_s=5)
    port = await e.server.start()
    e.url = f"http://127.0.0.1:{port}"
    try:
        n = 40
        for _ in range(n):
            ch = Pubkey.new_unique()
            r = await e.infer(e.signer(channel=ch).pay(PRICE))
            assert assert_requirements(r, e, channel=ch)["error"].startswith("unknown_channel:")
        reads = e.server.stats.channel_reads
        # a burst of 5, then 5 a second for however long the 40 requests took
        assert 5 <= reads < n
        assert e.server.stats.reads_refused == n - reads
        assert e.server.stats.rejected == {"unknown_channel": n}
        # the paying customer is still served
        r = await e.infer(e.signer().pay(PRICE))
        assert r.status_code == 200
    finally:
        await e.http.aclose()
        await e.server.stop()
        e.store.close()


def test_lookup_memory_is_pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from iopay.inference import http as http_mod
    monkeypatch.setattr(http_mod, "LOOKUP_MEMORY", 8)
    e = Env(tmp_path)
    clock = [1000.0]
    monkeypatch.setattr(http_mod.time, "monotonic", lambda: clock[0])
    server = PaidInferenceServer(e.offer, e.verifier, port=0, resolver=e.resolve, refresh_every=1,
                                 max_reads_per_s=1000)

    async def go() -> None:
        for _ in range(30):
            clock[0] += 0.5
            await server._refresh(Pubkey.new_unique())

    asyncio.run(go())
    # only lookups younger than refresh_every survive a prune: never more than the bound + 1
    assert len(server._looked_up) <= 9
    assert server.stats.channel_reads == 30
    e.store.close()
    with pytest.raises(ValueError):
        PaidInferenceServer(e.offer, e.verifier, port=0, max_reads_per_s=0)
