"""The high-level async SDK (iopay.escrow.client) end to end on the real
program in LiteSVM, plus its RPC backend's request shapes against a fake
client."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, List

import base58
import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature

from iopay.core.errors import error_class
from iopay.escrow.client import EscrowClient, RpcChain
from iopay.escrow.state import Memcmp, due_slots, vault_owed
from iopay.core.events import EVENT_IX_TAG, EventDecoder
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import PriceRejected, booking_cost, usd_to_tokens
from iopay.core.harness import Harness

HOUR = 3_600
RATES = [1_000_000, 2_000_000, 3_000_000, 500_000, 250_000]


@pytest.fixture
def world(escrow_harness: Harness, escrow_idl: ProgramIdl) -> SimpleNamespace:
    h = escrow_harness
    sdk = EscrowClient.for_harness(h, escrow_idl)
    mint_auth, authority, customer = Keypair(), h.funded_keypair(), h.funded_keypair()
    mint = h.create_mint(mint_auth, 6)
    treasury = h.create_token_account(mint, authority.pubkey())
    ctok = h.create_ata(mint, customer.pubkey())
    h.mint_to(mint, ctok, 10**12, mint_auth)
    workers = [h.funded_keypair() for _ in RATES]
    for w in workers:
        h.create_ata(mint, w.pubkey())
    return SimpleNamespace(h=h, sdk=sdk, mint=mint, authority=authority, customer=customer, ctok=ctok,
                           treasury=treasury, workers=workers)


async def _market(w: SimpleNamespace, fee_bps: int = 250) -> None:
    await w.sdk.init_market(w.h.payer, w.mint, w.treasury, authority=w.authority.pubkey(), fee_bps=fee_bps,
                            max_workers=8, max_hours=100)


async def test_sdk_lifecycle_with_keeper_pieces(world: SimpleNamespace) -> None:
    w, sdk = world, world.sdk
    await _market(w)
    quote = await sdk.quote_open(w.mint, RATES, 3)
    opened = await sdk.open_job(w.customer, w.mint, [(k.pubkey(), r) for k, r in zip(w.workers, RATES)], 3,
                                job_id=42)
    assert opened.job_id == 42 and w.h.token_balance(opened.vault) == quote.total
    (ev,) = opened.sent.events_named("JobOpened")
    assert (ev.principal, ev.fee) == (quote.principal, quote.fee) == booking_cost(RATES, 3, 250)
    for k in w.workers:
        await sdk.accept(k, opened.job)

    # Keeper: list running jobs, compute due hours from state + clock, settle in batches of 2.
    running = await sdk.running_jobs(w.mint)
    assert [j.address for j in running] == [opened.job]
    assert await sdk.settle(opened.job) == []  # nothing due yet: nothing sent
    w.h.warp_seconds(2 * HOUR)
    now = await sdk.now()
    assert now == w.h.now()
    dues = await sdk.due(opened.job)
    assert [(d.slot, d.hours) for d in dues] == [(i, 2) for i in range(5)]
    ixs = sdk.settle_instructions(running[0], await sdk.market(w.mint), now, max_payees=2)
    assert len(ixs) == 3
    sent = await sdk.settle(opened.job, max_payees=2)
    assert [len(s.events_named("HoursSettled")[0].paid) for s in sent] == [2, 2, 1]
    assert sum(p.amount for s in sent for e in s.events_named("HoursSettled") for p in e.paid) == 2 * sum(RATES)
    assert await sdk.due(opened.job) == []
    # Replays are rejected by the program with a typed error.
    with pytest.raises(error_class("NothingToSettle")):
        await w.sdk.chain.send([sdk.esc.settle(job=opened.job,
                                               payees=[(0, sdk.token_account_of(w.workers[0].pubkey(), w.mint))])],
                               [], w.h.payer)

    # A worker quits, the customer extends, then ends early (pay + refund + close in one transaction).
    await sdk.quit(w.workers[4], opened.job)
    await sdk.extend(w.customer, opened.job, 2)
    job = await sdk.job(opened.job)
    assert [s.hours for s in job.workers] == [5, 5, 5, 5, 2]
    assert w.h.token_balance(opened.vault) == vault_owed(job)
    w.h.warp_seconds(HOUR + 600)
    before = w.h.token_balance(w.ctok)
    sent = await sdk.end_job(w.customer, opened.job)
    (ended,) = sent.events_named("JobEnded")
    assert w.h.token_balance(w.ctok) - before == ended.refund > 0
    assert sent.events_named("JobClosed") and w.h.account_data(opened.job) is None
    assert await sdk.running_jobs(w.mint) == []


async def test_sdk_cancel_close_and_client_side_checks(world: SimpleNamespace) -> None:
    w, sdk = world, world.sdk
    await _market(w)
    a = await sdk.open_job(w.customer, w.mint, [(w.workers[0].pubkey(), 10)], 1)
    b = await sdk.open_job(w.customer, w.mint, [(w.workers[0].pubkey(), 10)], 1)
    assert a.job_id != b.job_id
    assert {j.address for j in await sdk.jobs(w.mint, customer=w.customer.pubkey())} == {a.job, b.job}
    await sdk.cancel(w.customer, a.job)
    with pytest.raises(error_class("OutstandingPayments")):
        await sdk.close_job(w.customer, b.job)
    await sdk.accept(w.workers[0], b.job)
    with pytest.raises(error_class("JobStarted")):
        await sdk.cancel(w.customer, b.job)
    w.h.warp_seconds(HOUR)
    await sdk.settle(b.job)
    await sdk.close_job(w.customer, b.job)
    assert await sdk.jobs(w.mint, state=None) == []


async def test_sdk_usd_quote_matches_what_open_locks(world: SimpleNamespace) -> None:
    w, sdk = world, world.sdk
    await _market(w)
    with pytest.raises(PriceRejected):
        await sdk.quote_open(w.mint, [2_000_000], 2, usd=True)
    await sdk.init_price_feed(w.authority, w.mint, max_staleness=60, max_conf_bps=100)
    await sdk.set_price(w.authority, w.mint, price=31_234_567, conf=10_000, expo=-8)
    usd = [2_000_000, 777_777]
    q = await sdk.quote_open(w.mint, usd, 2, usd=True)
    assert q.rates == tuple(usd_to_tokens(r, 31_234_567, -8, 6) for r in usd)
    opened = await sdk.open_job(w.customer, w.mint, list(zip([k.pubkey() for k in w.workers], usd)), 2, usd=True)
    assert w.h.token_balance(opened.vault) == q.total
    assert tuple(s.rate_per_hour for s in (await sdk.job(opened.job)).workers) == q.rates
    w.h.warp_seconds(61)
    with pytest.raises(PriceRejected) as e:
        await sdk.quote_open(w.mint, usd, 2, usd=True)
    assert e.value.name == "StalePrice"
    # Without max_total the SDK quotes first, so a stale price fails before sending...
    with pytest.raises(PriceRejected):
        await sdk.open_job(w.customer, w.mint, [(w.workers[0].pubkey(), 1)], 1, usd=True)
    # ...and the program refuses it too.
    with pytest.raises(error_class("StalePrice")):
        await sdk.open_job(w.customer, w.mint, [(w.workers[0].pubkey(), 1)], 1, usd=True, max_total=10**12)
    # The quote's slippage bound: a price drop beyond it fails with MaxTotalExceeded, within it opens.
    await sdk.set_price(w.authority, w.mint, price=31_234_567, conf=10_000, expo=-8)
    q = await sdk.quote_open(w.mint, usd, 2, usd=True)
    assert q.max_total(100) == -(-q.total * 10_100 // 10_000)
    await sdk.set_price(w.authority, w.mint, price=30_000_000, conf=10_000, expo=-8, publish_time=w.h.now())
    with pytest.raises(error_class("MaxTotalExceeded")):
        await sdk.open_job(w.customer, w.mint, list(zip([k.pubkey() for k in w.workers], usd)), 2, usd=True,
                           max_total=q.max_total(100))
    await sdk.set_price(w.authority, w.mint, price=31_000_000, conf=10_000, expo=-8, publish_time=w.h.now())
    await sdk.open_job(w.customer, w.mint, list(zip([k.pubkey() for k in w.workers], usd)), 2, usd=True,
                       max_total=q.max_total(100))
    with pytest.raises(ValueError):
        q.max_total(-1)


async def test_sdk_settle_can_create_missing_worker_token_accounts(world: SimpleNamespace) -> None:
    w, sdk = world, world.sdk
    await _market(w)
    newcomer = w.h.funded_keypair()  # has no token account yet
    opened = await sdk.open_job(w.customer, w.mint, [(newcomer.pubkey(), 5)], 1)
    await sdk.accept(newcomer, opened.job)
    w.h.warp_seconds(HOUR)
    (sent,) = await sdk.settle(opened.job, create_missing_token_accounts=True)
    assert w.h.token_balance(sdk.token_account_of(newcomer.pubkey(), w.mint)) == 5


# -- RPC backend shapes --------------------------------------------------------------------

class FakeSender:
    def __init__(self, responses: dict) -> None:
        self.responses = responses
        self.calls: List[tuple] = []

    async def call(self, name: str, *args: Any) -> Any:
        self.calls.append((name, args))
        return self.responses[name]


async def test_rpc_chain_program_accounts_and_events(escrow_idl: ProgramIdl) -> None:
    a, b = Keypair().pubkey(), Keypair().pubkey()
    gpa = SimpleNamespace(value=[SimpleNamespace(pubkey=b, account=SimpleNamespace(data=b"\x02")),
                                 SimpleNamespace(pubkey=a, account=SimpleNamespace(data=b"\x01"))])
    # HoursSettled { job, settled_ts, paid: [SlotPaid { slot 1, worker, hours 2, secs 0, hours_paid 2,
    # amount 3, fee 3 }], skipped: [] }
    body = bytes(Keypair().pubkey()) + (4).to_bytes(8, "little") + (1).to_bytes(4, "little")
    body += bytes([1]) + bytes(Keypair().pubkey()) + (2).to_bytes(4, "little") + (0).to_bytes(2, "little")
    body += (2).to_bytes(4, "little") + (3).to_bytes(8, "little") * 2 + (0).to_bytes(4, "little")
    data = EVENT_IX_TAG + escrow_idl.event_discriminator("HoursSettled") + body
    keys = [Keypair().pubkey(), escrow_idl.program_id]
    tx = SimpleNamespace(
        transaction=SimpleNamespace(message=SimpleNamespace(account_keys=keys)),
        meta=SimpleNamespace(
            loaded_addresses=SimpleNamespace(writable=[], readonly=[]),
            inner_instructions=[SimpleNamespace(instructions=[
                SimpleNamespace(program_id_index=1, data=base58.b58encode(data).decode()),
                SimpleNamespace(program_id_index=0, data=base58.b58encode(data).decode()),
            ])],
        ),
    )
    sender = FakeSender({"get_program_accounts": gpa, "get_transaction": SimpleNamespace(value=SimpleNamespace(transaction=tx))})
    chain = RpcChain(client=None, sender=sender, decoders=[EventDecoder(escrow_idl)])
    rows = await chain.get_program_accounts(escrow_idl.program_id, [Memcmp(8, bytes(a))])
    assert rows == sorted([(a, b"\x01"), (b, b"\x02")], key=lambda r: bytes(r[0]))
    name, args = sender.calls[0]
    assert name == "get_program_accounts" and args[0] == escrow_idl.program_id
    (f,) = args[4]
    assert (f.offset, f.bytes) == (8, str(a))
    evs = await chain.fetch_events(Signature.default())
    assert [(e.name, [(p.slot, p.hours, p.amount) for p in e.paid]) for e in evs] == [("HoursSettled", [(1, 2, 3)])]
    assert sender.calls[1][0] == "get_transaction" and sender.calls[1][1][1] == "base64"
