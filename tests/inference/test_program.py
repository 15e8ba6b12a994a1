"""inference_pay on the compiled program (LiteSVM, real SPL Token and the
real Ed25519 precompile): settlement, batches, every voucher attack by its
error code, closes, fees."""

from __future__ import annotations

import struct

import pytest
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core.harness import Harness
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import fee_for
from iopay.inference.program import (ED25519_PROGRAM_ID, Voucher, ed25519_instruction, settlement,
                                     voucher_message)
from tests.inference.env import DEPOSIT, FEE_BPS, LIFE, WINDOW, Env, load, make_env


@pytest.fixture
def env(harness: Harness) -> Env:
    escrow = load(harness, "job_escrow")
    pay = load(harness, "inference_pay")
    return make_env(harness, escrow, pay)


def signed(env: Env, key: Keypair, channel: Pubkey, open_slot: int, cumulative: int, nonce: int,
           program: Pubkey | None = None, message: bytes | None = None) -> Voucher:
    msg = message or voucher_message(program or env.pay.program_id, channel, open_slot, cumulative, nonce)
    return Voucher(channel, open_slot, cumulative, nonce, key.pubkey(), bytes(key.sign_message(msg)))


def raw_settle(env: Env, entries, channels, back: int = 1) -> list[Instruction]:
    """A precompile instruction over arbitrary (pubkey, sig, message) entries and a settle for ``channels``."""
    ed = ed25519_instruction(entries)
    ix = env.pay.program.build_instruction(
        "settle", {"ed25519_back": back},
        {"provider": env.provider.pubkey(), "pool": env.pay.pool_address(env.mint), "vault": env.vault,
         "provider_token": env.provider_token,
         "instructions": Pubkey.from_string("Sysvar1nstructions1111111111111111111111111")},
        remaining=[AccountMeta(c, False, True) for c in channels])
    return [ed, ix]


async def test_pay_settle_and_cooperative_close_exact(env: Env) -> None:
    ch = env.open(0)
    c = env.channel(ch)
    assert (c.deposit, c.settled, c.nonce, c.fee_bps, c.state) == (DEPOSIT, 0, 0, FEE_BPS, "Open")
    s = env.signer(ch)
    vouchers = [s.pay(1_234) for _ in range(50)]
    res = env.ok(env.settle_ix([vouchers[-1]]), env.provider, name="settle_1")
    gross = 50 * 1_234
    to_provider, fee = settlement(0, gross, FEE_BPS)
    assert fee == fee_for(gross, FEE_BPS) and to_provider + fee == gross
    assert env.h.token_balance(env.provider_token) == to_provider
    ev = res.events_named("ChannelsSettled")[0]
    assert (ev.paid, ev.fees, ev.settlements[0].cumulative, ev.settlements[0].nonce) == (to_provider, fee, gross, 50)
    # More inferences, settled again: fees add up as if settled once.
    more = [s.pay(999) for _ in range(7)][-1]
    env.ok(env.settle_ix([more]), env.provider)
    total = gross + 7 * 999
    assert env.h.token_balance(env.provider_token) == total - fee_for(total, FEE_BPS)
    assert env.pool().fees_accrued == fee_for(total, FEE_BPS)
    # Cooperative close: both sign, the rest goes back at once, rent to the payer.
    before = env.h.token_balance(env.payer_tokens[0])
    lamports = env.h.lamports(env.payers[0].pubkey())
    rent = env.h.lamports(ch)
    close = env.pay.coop_close(payer=env.payers[0].pubkey(), provider=env.provider.pubkey(), channel=ch, mint=env.mint,
                               rent_payer=env.payers[0].pubkey(), refund_to=env.payer_tokens[0])
    res = env.ok(close, env.payers[0], env.provider, name="coop_close")
    assert env.h.token_balance(env.payer_tokens[0]) == before + DEPOSIT - total
    assert env.h.account_data(ch) is None
    assert env.h.lamports(env.payers[0].pubkey()) == lamports + rent
    assert res.events_named("ChannelClosed")[0].refund == DEPOSIT - total
    # Fees: swept permissionlessly to job_escrow's market treasury.
    stranger = env.h.funded_keypair()
    res = env.h.send([env.pay.sweep_fees(mint=env.mint, market=env.market, treasury=env.treasury)], [stranger],
                     payer=stranger).raise_for_error()
    assert env.h.token_balance(env.treasury) == fee_for(total, FEE_BPS)
    assert res.events_named("FeesSwept")[0].amount == fee_for(total, FEE_BPS)
    assert env.h.token_balance(env.vault) == 0
    env.fails(env.pay.sweep_fees(mint=env.mint, market=env.market, treasury=env.treasury), name="NothingToSweep")


async def test_several_channels_one_precompile_one_settle(env: Env) -> None:
    chans = [env.open(i, channel_id=7) for i in range(3)]
    best = []
    for k, ch in enumerate(chans):
        s = env.signer(ch)
        best.append([s.pay(100 + k) for _ in range(10 + k)][-1])
    ixs = env.settle_ix(best)
    assert ixs[0].program_id == ED25519_PROGRAM_ID and ixs[0].data[0] == 3
    res = env.ok(ixs, env.provider, name="settle_3")
    gross = [v.cumulative for v in best]
    want = sum(settlement(0, g, FEE_BPS)[0] for g in gross)
    assert env.h.token_balance(env.provider_token) == want
    assert [e.channel for e in res.events_named("ChannelsSettled")[0].settlements] == chans
    for ch, v in zip(chans, best):
        assert (env.channel(ch).settled, env.channel(ch).nonce) == (v.cumulative, v.nonce)


async def test_voucher_attacks_each_rejected_by_its_error(env: Env) -> None:
    a = env.open(0)
    b = env.open(1)
    ca, cb = env.channel(a), env.channel(b)
    sa = env.signer(a)
    v1, v2 = sa.pay(10), sa.pay(10)
    env.ok(env.settle_ix([v2]), env.provider)
    # replayed: the same voucher again
    env.fails(env.settle_ix([v2]), env.provider, name="VoucherReplayed")
    # reordered: an older voucher after a newer one
    env.fails(env.settle_ix([v1]), env.provider, name="VoucherOutdated")
    # forged: signed by someone else
    mallory = Keypair()
    env.fails(env.settle_ix([signed(env, mallory, a, ca.open_slot, 5_000, 9)]), env.provider,
              name="WrongVoucherSigner")
    # forged bytes: the payer's signature over other bytes (the precompile itself fails the transaction)
    good = signed(env, env.payers[0], a, ca.open_slot, 100, 3)
    forged = Voucher(good.channel, good.open_slot, 5_000_000, good.nonce, good.signer, good.signature)
    before = env.snapshot()
    res = env.h.send(env.settle_ix([forged]), [env.provider])
    assert res.error is not None and res.error.instruction_index == 0 and env.snapshot() == before
    # cross-channel: a voucher for channel a redeemed against b (same payer key would still differ by address)
    vb_for_a = signed(env, env.payers[1], a, ca.open_slot, 100, 5)
    env.fails(raw_settle(env, [(bytes(vb_for_a.signer), vb_for_a.signature, vb_for_a.message(env.pay.program_id))], [b]),
              env.provider, name="WrongChannel")
    # a closed channel's vouchers never count for a new channel at the same address
    stale = signed(env, env.payers[1], b, cb.open_slot + 1, 100, 5)
    env.fails(env.settle_ix([stale]), env.provider, name="WrongChannel")
    # cross-program: a voucher signed for another program
    other = Pubkey.new_unique()
    xp = signed(env, env.payers[0], a, ca.open_slot, 100, 5, program=other)
    env.fails(raw_settle(env, [(bytes(xp.signer), xp.signature, xp.message(other))], [a]), env.provider,
              name="WrongProgram")
    # wrong domain prefix and wrong length
    msg = bytearray(voucher_message(env.pay.program_id, a, ca.open_slot, 100, 5))
    msg[0:16] = b"some-other-appv1"
    sig = bytes(env.payers[0].sign_message(bytes(msg)))
    env.fails(raw_settle(env, [(bytes(env.payers[0].pubkey()), sig, bytes(msg))], [a]), env.provider,
              name="WrongDomain")
    short = bytes(msg[:100])
    env.fails(raw_settle(env, [(bytes(env.payers[0].pubkey()), bytes(env.payers[0].sign_message(short)), short)], [a]),
              env.provider, name="WrongMessageLength")
    # over-deposit
    env.fails(env.settle_ix([signed(env, env.payers[0], a, ca.open_slot, DEPOSIT + 1, 10)]), env.provider,
              name="ExceedsDeposit")
    # a higher nonce with a lower amount
    env.fails(env.settle_ix([signed(env, env.payers[0], a, ca.open_slot, 5, 11)]), env.provider,
              name="AmountDecreased")
    # the same channel twice in one batch
    w = sa.pay(10)
    env.fails(env.settle_ix([w, w]), env.provider, name="VoucherReplayed")
    # signature count differs from the channels listed
    w2 = sa.pay(10)
    entries = [(bytes(w2.signer), w2.signature, w2.message(env.pay.program_id))] * 2
    env.fails(raw_settle(env, entries, [a]), env.provider, name="SignatureCountMismatch")
    # an offset pointing into another instruction's data (precompile accepts it; we do not)
    ed0 = ed25519_instruction([(bytes(w2.signer), w2.signature, w2.message(env.pay.program_id))])
    data = bytearray(ed0.data)
    for off in (4, 8, 14):  # sig/pubkey/message instruction indexes -> instruction 0
        data[off:off + 2] = struct.pack("<H", 0)
    foreign = Instruction(ED25519_PROGRAM_ID, bytes(data), [])
    settle_ix = env.settle_ix([w2])[1]
    env.fails([ed0, foreign, settle_ix], env.provider, name="ForeignSignatureData")
    # the explicit index of the precompile itself is accepted
    data = bytearray(ed0.data)
    for off in (4, 8, 14):
        data[off:off + 2] = struct.pack("<H", 0)
    env.ok([Instruction(ED25519_PROGRAM_ID, bytes(data), []), settle_ix], env.provider)
    # settle pointed at something that is not the precompile
    w3 = sa.pay(10)
    ixs = env.settle_ix([w3])
    noop = Instruction(Pubkey.from_string("ComputeBudget111111111111111111111111111111"), bytes([3]) + (0).to_bytes(8, "little"), [])
    env.fails([ixs[0], noop, ixs[1]], env.provider, name="NotEd25519Instruction")
    # a fake instructions sysvar
    env.fails(env.settle_ix([w3], instructions=Pubkey.new_unique()), env.provider, name="InvalidInstructionsSysvar")
    # another provider, its own token account
    other_p = env.h.funded_keypair()
    other_tok = env.h.create_ata(env.mint, other_p.pubkey())
    ixs = env.pay.settle(provider=other_p.pubkey(), mint=env.mint, provider_token=other_tok, vouchers=[w3])
    env.fails(ixs, other_p, name="WrongProvider")
    # provider paid into someone else's token account
    env.fails(env.settle_ix([w3], provider_token=env.payer_tokens[0]), env.provider, name="WrongOwner")
    env.ok(env.settle_ix([w3]), env.provider)
    assert env.channel(a).settled == w3.cumulative


async def test_unilateral_close_dispute_window(env: Env) -> None:
    ch = env.open(0, deposit=1_000_000)
    s = env.signer(ch)
    early = s.pay(100_000)
    best = s.pay(200_000)
    start = env.pay.start_close(payer=env.payers[0].pubkey(), channel=ch)
    env.fails(start, env.payers[0], name="NotExpired")
    env.fails(env.pay.start_close(payer=env.payers[1].pubkey(), channel=ch), env.payers[1], name="Unauthorized")
    env.h.warp_seconds(LIFE)
    res = env.ok(start, env.payers[0])
    close_at = res.events_named("CloseStarted")[0].close_at
    assert env.channel(ch).state == "Closing" and close_at == env.h.now() + WINDOW
    top = env.pay.top_up(payer=env.payers[0].pubkey(), mint=env.mint, market=env.market,
                         payer_token=env.payer_tokens[0], channel=ch, amount=1, expires_at=env.channel(ch).expires_at)
    env.fails(top, env.payers[0], name="ChannelClosing")
    finish = env.pay.finish_close(channel=ch, mint=env.mint, rent_payer=env.payers[0].pubkey(),
                                  refund_to=env.payer_tokens[0])
    env.fails(finish, name="DisputeWindowOpen")
    # inside the window the provider settles an older voucher, then its best one
    env.h.warp_seconds(WINDOW - 10)
    env.ok(env.settle_ix([early]), env.provider)
    env.ok(env.settle_ix([best]), env.provider)
    later = s.pay(50_000)
    env.h.warp_seconds(10)
    env.fails(env.settle_ix([later]), env.provider, name="ChannelExpired")
    before = env.h.token_balance(env.payer_tokens[0])
    lamports = env.h.lamports(env.payers[0].pubkey())
    rent = env.h.lamports(ch)
    stranger = env.h.funded_keypair()
    res = env.h.send([finish], [stranger], payer=stranger).raise_for_error()
    assert env.h.token_balance(env.payer_tokens[0]) == before + 1_000_000 - 300_000
    assert env.h.token_balance(env.provider_token) == 300_000 - fee_for(300_000, FEE_BPS)
    assert env.h.lamports(env.payers[0].pubkey()) == lamports + rent
    ev = res.events_named("ChannelClosed")[0]
    assert (ev.refund, ev.settled, ev.cooperative) == (700_000, 300_000, False)
    env.check_conservation()


async def test_open_top_up_and_close_rejections(env: Env) -> None:
    p = env.payers[0]
    env.fails(env.open_ix(0, deposit=0), p, name="ZeroAmount")
    env.fails(env.open_ix(0, life=0), p, name="InvalidExpiry")
    env.fails(env.open_ix(0, life=400 * 86_400), p, name="InvalidExpiry")
    env.fails(env.open_ix(0, window=59), p, name="InvalidDisputeWindow")
    env.fails(env.open_ix(0, provider=p.pubkey()), p, name="InvalidParty")
    env.fails(env.open_ix(0, payer_token=env.payer_tokens[1]), p, name="WrongOwner")
    env.fails(env.open_ix(0, market=env.treasury), p, name="WrongMarket")
    other_mint = env.h.create_mint(Keypair(), 6)
    env.fails(env.open_ix(0, refund_to=env.h.create_token_account(other_mint, p.pubkey())), p, name="WrongMint")
    ch = env.open(0)
    exp = env.channel(ch).expires_at
    top = lambda amount, expires_at, payer=p: env.pay.top_up(  # noqa: E731
        payer=payer.pubkey(), mint=env.mint, market=env.market, payer_token=env.payer_tokens[env.payers.index(payer)],
        channel=ch, amount=amount, expires_at=expires_at)
    env.fails(top(0, exp), p, name="ZeroAmount")
    env.fails(top(5, exp - 1), p, name="ExpiryMovedBack")
    env.fails(top(5, exp, env.payers[1]), env.payers[1], name="Unauthorized")
    res = env.ok(top(5_000, exp + 100), p, name="top_up")
    assert (env.channel(ch).deposit, env.channel(ch).expires_at) == (DEPOSIT + 5_000, exp + 100)
    assert res.events_named("ChannelToppedUp")[0].deposit == DEPOSIT + 5_000
    coop = env.pay.coop_close(payer=p.pubkey(), provider=env.provider.pubkey(), channel=ch, mint=env.mint,
                              rent_payer=p.pubkey(), refund_to=env.payer_tokens[1])
    env.fails(coop, p, env.provider, name="WrongRefundAccount")
    coop = env.pay.coop_close(payer=p.pubkey(), provider=env.provider.pubkey(), channel=ch, mint=env.mint,
                              rent_payer=env.payers[1].pubkey(), refund_to=env.payer_tokens[0])
    env.fails(coop, p, env.provider, name="WrongRentPayer")
    fake = env.h.funded_keypair()
    coop = env.pay.coop_close(payer=p.pubkey(), provider=fake.pubkey(), channel=ch, mint=env.mint,
                              rent_payer=p.pubkey(), refund_to=env.payer_tokens[0])
    env.fails(coop, p, fake, name="WrongProvider")
    env.fails(env.pay.sweep_fees(mint=env.mint, market=env.market, treasury=env.payer_tokens[0]),
              name="WrongTreasury")


async def test_paused_market_blocks_new_money_but_never_settlement(env: Env) -> None:
    ch = env.open(0)
    v = env.signer(ch).pay(1_000)
    assert env.authority is not None
    env.ok(env.esc.set_market_paused(authority=env.authority.pubkey(), mint=env.mint, paused=True), env.authority)
    env.fails(env.open_ix(1), env.payers[1], name="MarketPaused")
    top = env.pay.top_up(payer=env.payers[0].pubkey(), mint=env.mint, market=env.market,
                         payer_token=env.payer_tokens[0], channel=ch, amount=5, expires_at=env.channel(ch).expires_at)
    env.fails(top, env.payers[0], name="MarketPaused")
    env.ok(env.settle_ix([v]), env.provider)
    env.ok(env.pay.coop_close(payer=env.payers[0].pubkey(), provider=env.provider.pubkey(), channel=ch, mint=env.mint,
                              rent_payer=env.payers[0].pubkey(), refund_to=env.payer_tokens[0]),
           env.payers[0], env.provider)
    env.ok(env.pay.sweep_fees(mint=env.mint, market=env.market, treasury=env.treasury))


async def test_cpi_seam_separate_rent_payer_signer_and_refund(env: Env) -> None:
    """The open a credits program makes by CPI: owner, rent payer, voucher
    signer and refund account all different; each is honoured at close."""
    owner = env.payers[2]
    rent_payer = env.h.funded_keypair()
    backend = Keypair()
    refund = env.h.create_token_account(env.mint, Pubkey.new_unique())
    ch = env.open(2, channel_id=99, rent_payer=rent_payer.pubkey(), voucher_signer=backend.pubkey(),
                  refund_to=refund, signers=[rent_payer])
    c = env.channel(ch)
    assert (c.payer, c.rent_payer, c.voucher_signer, c.refund_to) == (owner.pubkey(), rent_payer.pubkey(),
                                                                     backend.pubkey(), refund)
    env.fails(env.settle_ix([env.signer(ch, owner).pay(10)]), env.provider, name="WrongVoucherSigner")
    env.ok(env.settle_ix([env.signer(ch, backend).pay(10)]), env.provider)
    lamports = env.h.lamports(rent_payer.pubkey())
    rent = env.h.lamports(ch)
    env.ok(env.pay.coop_close(payer=owner.pubkey(), provider=env.provider.pubkey(), channel=ch, mint=env.mint,
                              rent_payer=rent_payer.pubkey(), refund_to=refund), owner, env.provider)
    assert env.h.token_balance(refund) == DEPOSIT - 10
    assert env.h.lamports(rent_payer.pubkey()) == lamports + rent


async def test_listings(env: Env) -> None:
    p = env.provider
    env.fails(env.pay.create_listing(provider=p.pubkey(), mint=env.mint, model_id=1, price=0), p, name="ZeroPrice")
    res = env.ok(env.pay.create_listing(provider=p.pubkey(), mint=env.mint, model_id=1, price=250,
                                        unit="PerThousandTokens"), p, name="create_listing")
    listing = env.pay.listing_address(p.pubkey(), env.mint, 1)
    ev = res.events_named("ListingCreated")[0]
    assert (ev.listing, ev.price, ev.model_id) == (listing, 250, 1)
    x = env.prog.decode_account_as("Listing", env.h.account_data(listing))
    assert (x.price, type(x.unit).__name__, x.active) == (250, "PerThousandTokens", True)
    other = env.h.funded_keypair()
    upd = env.pay.update_listing(provider=other.pubkey(), listing=listing, price=1, unit="PerInference", active=False)
    env.fails(upd, other, name="WrongListing")
    env.ok(env.pay.update_listing(provider=p.pubkey(), listing=listing, price=7, unit="PerInference", active=False), p)
    x = env.prog.decode_account_as("Listing", env.h.account_data(listing))
    assert (x.price, type(x.unit).__name__, x.active) == (7, "PerInference", False)
    env.fails(env.pay.close_listing(provider=other.pubkey(), listing=listing), other, name="WrongListing")
    env.ok(env.pay.close_listing(provider=p.pubkey(), listing=listing), p)
    assert env.h.account_data(listing) is None
