"""The compiled rewards program in LiteSVM (real SPL Token): publish, claim,
clawback, admin handover, and every rejection by its error code."""

from __future__ import annotations

import pytest
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.rewards import merkle
from tests.rewards.env import DAY, Env

AMOUNTS = [1_000_000, 2_500_000, 333_333, 7, 4_000_000, 123_456_789]


@pytest.fixture
def env() -> Env:
    return Env.make()


def unsigned(ix: Instruction, key: Pubkey) -> Instruction:
    return Instruction(ix.program_id, ix.data, [
        AccountMeta(m.pubkey, False if m.pubkey == key else m.is_signer, m.is_writable) for m in ix.accounts])


def test_publish_claim_all_clawback_conserves_the_pool(env: Env):
    creator_before = env.h.token_balance(env.creator_token)
    d = env.publish(1, env.leaves(AMOUNTS))
    [ev] = d.created.events_named("DistributorCreated")
    assert (ev.epoch, ev.num_leaves, ev.total, bytes(ev.root)) == (1, 6, sum(AMOUNTS), d.tree.root)
    assert env.h.token_balance(d.vault) == sum(AMOUNTS)
    assert env.h.token_balance(env.creator_token) == creator_before - sum(AMOUNTS)
    v = env.view(d)
    assert (v.depth, v.num_leaves, v.total, v.claimed, v.admin) == (3, 6, sum(AMOUNTS), 0, env.creator.pubkey())

    claimed = 0
    for i, w in enumerate(env.workers[:4]):
        res = env.claim(d, w, i)
        claimed += AMOUNTS[i]
        [c] = res.events_named("Claimed")
        assert (c.index, c.claimant, c.amount, c.claimed, c.num_claimed) == (i, w.pubkey(), AMOUNTS[i], claimed, i + 1)
        assert env.h.token_balance(env.tokens[w.pubkey()]) == AMOUNTS[i]
        assert env.h.token_balance(d.vault) == sum(AMOUNTS) - claimed
    env.h.warp_seconds(30 * DAY + 1)
    res = env.ok([env.rw.clawback(distributor=d.address, treasury=env.treasury)])
    [cb] = res.events_named("ClawedBack")
    assert cb.amount == sum(AMOUNTS[4:]) and cb.claimed == claimed
    v = env.view(d)
    assert v.clawed_back and v.claimed + v.clawback_amount == sum(AMOUNTS)
    assert env.h.token_balance(env.treasury) == sum(AMOUNTS[4:])
    assert env.h.token_balance(d.vault) == 0
    # Nothing claimable after; no second clawback.
    env.fails([env.claim_ix(d, env.workers[4], 4)], env.workers[4], name="ClaimDeadlinePassed")
    env.fails([env.rw.clawback(distributor=d.address, treasury=env.treasury)], name="AlreadyClawedBack")


def test_claim_costs_no_rent(env: Env):
    d = env.publish(1, env.leaves(AMOUNTS))
    w = env.workers[2]
    payer_before = env.h.lamports(env.h.payer.pubkey())
    worker_before = env.h.lamports(w.pubkey())
    accounts_before = {k: env.h.lamports(k) for k in (d.address, d.claims, d.vault)}
    env.claim(d, w, 2)
    # Only the signature fees: 5,000 lamports per signature (payer + claimant), no account created.
    assert payer_before - env.h.lamports(env.h.payer.pubkey()) == 10_000
    assert env.h.lamports(w.pubkey()) == worker_before
    assert {k: env.h.lamports(k) for k in accounts_before} == accounts_before
    bitmap = env.h.account_data(d.claims)
    assert bitmap[:32] == bytes(d.address) and bitmap[32] == 0b100


def test_second_claim_is_rejected(env: Env):
    d = env.publish(1, env.leaves(AMOUNTS))
    env.claim(d, env.workers[0], 0)
    env.fails([env.claim_ix(d, env.workers[0], 0)], env.workers[0], name="AlreadyClaimed")


def test_wrong_proof_is_rejected(env: Env):
    d = env.publish(1, env.leaves(AMOUNTS))
    proof = d.proof(1)
    proof[0] = bytes([proof[0][0] ^ 1]) + proof[0][1:]
    env.fails([env.claim_ix(d, env.workers[1], 1, proof=proof)], env.workers[1], name="InvalidProof")
    # More than its amount with a valid proof of the real amount.
    env.fails([env.claim_ix(d, env.workers[1], 1, amount=AMOUNTS[1] + 1)], env.workers[1], name="InvalidProof")
    # Its own leaf at another index.
    env.fails([env.claim_ix(d, env.workers[1], 2, amount=AMOUNTS[1], proof=d.proof(1))], env.workers[1],
              name="InvalidProof")
    env.fails([env.claim_ix(d, env.workers[1], 1, proof=d.proof(1)[:-1])], env.workers[1], name="WrongProofLength")
    env.fails([env.claim_ix(d, env.workers[1], 6, amount=1, proof=d.proof(1))], env.workers[1],
              name="IndexOutOfRange")


def test_another_wallets_leaf_is_rejected(env: Env):
    d = env.publish(1, env.leaves(AMOUNTS))
    thief = env.workers[0]
    # The thief submits worker 5's index, amount and proof, signing itself.
    env.fails([env.claim_ix(d, thief, 5)], thief, name="InvalidProof")
    # ...and into worker 5's own token account: still its own signature.
    env.fails([env.claim_ix(d, thief, 5, token=env.tokens[env.workers[5].pubkey()])], thief, name="WrongOwner")
    # Claiming for worker 5 without its signature.
    ix = unsigned(env.claim_ix(d, env.workers[5], 5), env.workers[5].pubkey())
    env.fails([ix], name="AccountNotSigner")


def test_leaf_from_another_epoch_is_rejected(env: Env):
    leaves = env.leaves(AMOUNTS)
    d1 = env.publish(1, leaves)
    d2 = env.publish(2, leaves)  # same wallets and amounts, another epoch
    w = env.workers[3]
    env.fails([env.claim_ix(d2, w, 3, proof=d1.proof(3))], w, name="InvalidProof")
    env.claim(d2, w, 3)
    env.claim(d1, w, 3)  # each epoch once
    assert env.h.token_balance(env.tokens[w.pubkey()]) == 2 * AMOUNTS[3]


def test_claim_after_deadline_and_clawback_before_it(env: Env):
    d = env.publish(1, env.leaves(AMOUNTS), deadline=env.h.now() + DAY)
    env.fails([env.rw.clawback(distributor=d.address, treasury=env.treasury)], name="ClawbackTooEarly")
    env.h.warp_seconds(DAY)  # the deadline second itself still claims
    env.claim(d, env.workers[0], 0)
    env.fails([env.rw.clawback(distributor=d.address, treasury=env.treasury)], name="ClawbackTooEarly")
    env.h.warp_seconds(1)
    env.fails([env.claim_ix(d, env.workers[1], 1)], env.workers[1], name="ClaimDeadlinePassed")
    env.ok([env.rw.clawback(distributor=d.address, treasury=env.treasury)])
    assert env.h.token_balance(env.treasury) == sum(AMOUNTS) - AMOUNTS[0]


def test_substituted_accounts_in_claim_and_clawback(env: Env):
    leaves = env.leaves(AMOUNTS)
    d1 = env.publish(1, leaves)
    d2 = env.publish(2, leaves)
    w = env.workers[0]
    env.fails([env.claim_ix(d1, w, 0, claims=d2.claims)], w, name="WrongClaimBitmap")
    env.fails([env.claim_ix(d1, w, 0, vault=d2.vault)], w, name="WrongVault")
    other_mint = env.h.create_mint(Keypair(), 6)
    wrong = env.h.create_token_account(other_mint, w.pubkey())
    env.fails([env.claim_ix(d1, w, 0, token=wrong)], w, name="WrongMint")
    env.h.warp_seconds(31 * DAY)
    other_treasury = env.h.create_token_account(env.mint, Keypair().pubkey())
    env.fails([env.rw.clawback(distributor=d1.address, treasury=other_treasury)], name="WrongTreasury")
    env.fails([env.rw.clawback(distributor=d1.address, treasury=env.treasury, overrides={"vault": d2.vault})], name="WrongVault")


def test_new_distributor_rejections(env: Env):
    leaves = env.leaves(AMOUNTS)
    c = env.creator

    def fails(name: str, **kw) -> None:
        ixs, claims, *_ = env.publish_ixs(9, leaves, **kw)
        env.fails(ixs, c, claims, name=name)

    fails("ZeroLeaves", num_leaves=0, claims_len=32)
    fails("ZeroTotal", total=0)
    fails("DeadlineInPast", deadline=env.h.now())
    fails("ClaimBitmapSize", claims_len=32)
    fails("ClaimBitmapOwner", claims_owner=Pubkey.from_string("11111111111111111111111111111111"))
    fails("InvalidAdmin", admin=Pubkey.default())
    other_mint = env.h.create_mint(Keypair(), 6)
    fails("WrongMint", treasury=env.h.create_token_account(other_mint, c.pubkey()))
    fails("WrongOwner", creator_token=env.h.create_token_account(env.mint, Keypair().pubkey()))
    fails("InvalidMint", mint=env.treasury)  # a token account, not a mint
    # Another distributor's bitmap cannot be handed in without its keypair's signature.
    d = env.publish(1, leaves)
    ix = env.rw.new_distributor(creator=c.pubkey(), admin=c.pubkey(), mint=env.mint, treasury=env.treasury,
                                claims=d.claims, creator_token=env.creator_token, epoch=9, root=bytes(32),
                                num_leaves=6, total=10, claim_deadline=env.h.now() + DAY)
    env.fails([unsigned(ix, d.claims)], c, name="AccountNotSigner")
    # The same epoch twice: the distributor address is taken (the System
    # program refuses to allocate it again) and the first one is untouched.
    before = env.h.account_data(d.address)
    ixs, claims, *_ = env.publish_ixs(1, leaves)
    res = env.h.send(ixs, [c, claims])
    assert res.error is not None and "Program 11111111111111111111111111111111 failed" in "\n".join(res.logs)
    assert env.h.account_data(d.address) == before


def test_bitmap_in_use_is_rejected(env: Env):
    # A program-owned bitmap account with a header is not fresh: simulate a
    # replayed account by publishing twice with the same claims keypair.
    leaves = env.leaves(AMOUNTS)
    claims = Keypair()
    env.publish(1, leaves, claims=claims)
    ixs, _, *_ = env.publish_ixs(2, leaves, claims=claims)
    env.fails([ixs[1]], env.creator, claims, name="ClaimBitmapInUse")


def test_admin_two_step_handover_and_deadline_extension(env: Env):
    d = env.publish(1, env.leaves(AMOUNTS), deadline=env.h.now() + DAY)
    old, new, stranger = env.creator, env.h.funded_keypair(), env.h.funded_keypair()
    env.fails([env.rw.propose_admin(admin=stranger.pubkey(), distributor=d.address, new_admin=stranger.pubkey())],
              stranger, name="Unauthorized")
    env.fails([env.rw.accept_admin(new_admin=new.pubkey(), distributor=d.address)], new, name="NotPendingAdmin")
    res = env.ok([env.rw.propose_admin(admin=old.pubkey(), distributor=d.address, new_admin=new.pubkey())], old)
    assert res.events_named("AdminProposed")[0].pending_admin == new.pubkey()
    env.fails([env.rw.accept_admin(new_admin=stranger.pubkey(), distributor=d.address)], stranger,
              name="NotPendingAdmin")
    res = env.ok([env.rw.accept_admin(new_admin=new.pubkey(), distributor=d.address)], new)
    [ev] = res.events_named("AdminAccepted")
    assert (ev.old_admin, ev.new_admin) == (old.pubkey(), new.pubkey())
    assert env.view(d).admin == new.pubkey() and env.view(d).pending_admin is None
    dl = env.view(d).claim_deadline
    env.fails([env.rw.extend_deadline(admin=old.pubkey(), distributor=d.address, new_deadline=dl + 1)], old,
              name="Unauthorized")
    env.fails([env.rw.extend_deadline(admin=new.pubkey(), distributor=d.address, new_deadline=dl)], new,
              name="DeadlineNotLater")
    res = env.ok([env.rw.extend_deadline(admin=new.pubkey(), distributor=d.address, new_deadline=dl + DAY)], new)
    assert res.events_named("DeadlineExtended")[0].new_deadline == dl + DAY
    env.h.warp_seconds(DAY + 10)
    env.claim(d, env.workers[0], 0)  # still open thanks to the extension
    env.h.warp_seconds(DAY)
    env.fails([env.rw.extend_deadline(admin=new.pubkey(), distributor=d.address, new_deadline=dl + 5 * DAY)], new,
              name="ClaimDeadlinePassed")


def test_single_leaf_tree_has_an_empty_proof(env: Env):
    d = env.publish(3, env.leaves([42], [env.workers[0].pubkey()]))
    assert env.view(d).depth == 0 and d.proof(0) == []
    env.claim(d, env.workers[0], 0)
    assert merkle.depth(1) == 0


# -- the claim's two entries (programs/rewards/src/fast.rs) ------------------------

def with_trailing_byte(ix: Instruction) -> Instruction:
    """The same claim with one byte after its arguments: Anchor's Borsh decoding
    ignores it, the fast entry accepts only the exact arguments, so this claim
    goes through Anchor's entry."""
    return Instruction(ix.program_id, bytes(ix.data) + b"\x00", ix.accounts)


def test_fast_and_anchor_entries_claim_alike(env: Env):
    leaves = env.leaves(AMOUNTS)
    d1, d2 = env.publish(1, leaves), env.publish(2, leaves)
    w = env.workers[4]
    fast = env.claim(d1, w, 4)
    slow = env.ok([with_trailing_byte(env.claim_ix(d2, w, 4))], w)
    # The fast entry skips Anchor's (no "Instruction: Claim" log line) and costs much less.
    assert not any("Instruction: Claim" in line for line in fast.logs)
    assert any("Instruction: Claim" in line for line in slow.logs)
    assert fast.compute_units + 1_500 < slow.compute_units, (fast.compute_units, slow.compute_units)
    # Same effects: tokens, bitmap bit, totals, and the same self-CPI event.
    assert env.h.token_balance(env.tokens[w.pubkey()]) == 2 * AMOUNTS[4]
    for d in (d1, d2):
        v = env.view(d)
        assert (v.claimed, v.num_claimed) == (AMOUNTS[4], 1)
        assert env.h.account_data(d.claims) == bytes(d.address) + bytes([1 << 4])  # 6 leaves: one byte
    [a], [b] = fast.events_named("Claimed"), slow.events_named("Claimed")
    assert a.source == b.source == "cpi"
    assert (a.distributor, a.epoch) == (d1.address, 1) and (b.distributor, b.epoch) == (d2.address, 2)
    assert (a.index, a.claimant, a.amount, a.claimed, a.num_claimed) == \
        (b.index, b.claimant, b.amount, b.claimed, b.num_claimed) == (4, w.pubkey(), AMOUNTS[4], AMOUNTS[4], 1)
    # Either entry refuses the other's second claim.
    env.fails([env.claim_ix(d2, w, 4)], w, name="AlreadyClaimed")
    env.fails([with_trailing_byte(env.claim_ix(d1, w, 4))], w, name="AlreadyClaimed")


def test_rejections_through_the_anchor_entry_too(env: Env):
    # Every rejection the fast entry sees goes to Anchor's entry (the specific
    # codes are tested above); the same rejections also hold when the claim
    # is shaped for Anchor's entry from the start.
    leaves = env.leaves(AMOUNTS)
    d1, d2 = env.publish(1, leaves), env.publish(2, leaves)
    w, thief = env.workers[1], env.workers[0]
    bad = d1.proof(1)
    bad[0] = bytes([bad[0][0] ^ 1]) + bad[0][1:]
    cases = [
        (env.claim_ix(d1, w, 1, proof=bad), w, "InvalidProof"),
        (env.claim_ix(d1, thief, 1), thief, "InvalidProof"),
        (env.claim_ix(d1, w, 1, proof=d2.proof(1)[:-1]), w, "WrongProofLength"),
        (env.claim_ix(d1, w, 1, claims=d2.claims), w, "WrongClaimBitmap"),
        (env.claim_ix(d1, w, 1, vault=d2.vault), w, "WrongVault"),
        (env.claim_ix(d1, thief, 1, token=env.tokens[w.pubkey()]), thief, "WrongOwner"),
    ]
    for ix, signer, name in cases:
        env.fails([with_trailing_byte(ix)], signer, name=name)
    env.fails([with_trailing_byte(unsigned(env.claim_ix(d1, w, 1), w.pubkey()))], name="AccountNotSigner")
    env.claim(d1, w, 1)


def test_claim_at_depth_20_fits_12000_cu(env: Env):
    # A 2^20-leaf tree whose other leaves are all one hash L: every sibling of
    # leaf 0 is a full subtree of L's, so the proof costs 20 hashes to make.
    from solders.system_program import CreateAccountParams, create_account

    from iopay.rewards.client import rent_exempt
    from iopay.rewards.program import claims_space

    n, epoch, amount = 1 << 20, 7, 5_000_000
    w = env.workers[0]
    other = merkle.leaf_hash(epoch, 1, bytes(32), 1)
    proof, sub = [], other
    for _ in range(20):
        proof.append(sub)
        sub = merkle.node_hash(sub, sub)
    root = merkle.leaf_hash(epoch, 0, bytes(w.pubkey()), amount)
    for s in proof:
        root = merkle.node_hash(root, s)
    claims = Keypair()
    c = env.creator
    create = create_account(CreateAccountParams(from_pubkey=c.pubkey(), to_pubkey=claims.pubkey(),
                                                lamports=rent_exempt(claims_space(n)), space=claims_space(n),
                                                owner=env.prog.program_id))
    ix = env.rw.new_distributor(creator=c.pubkey(), admin=c.pubkey(), mint=env.mint, treasury=env.treasury,
                                claims=claims.pubkey(), creator_token=env.creator_token, epoch=epoch, root=root,
                                num_leaves=n, total=amount, claim_deadline=env.h.now() + DAY)
    env.ok([create, ix], c, claims)
    dist = env.rw.distributor_address(c.pubkey(), env.mint, epoch)
    res = env.ok([env.rw.claim(claimant=w.pubkey(), distributor=dist, claims=claims.pubkey(),
                               claimant_token=env.tokens[w.pubkey()], index=0, amount=amount, proof=proof)], w)
    assert res.compute_units <= 12_000, res.compute_units
    assert env.h.token_balance(env.tokens[w.pubkey()]) == amount


def test_nobody_else_can_emit_claimed(env: Env):
    # A forged Claimed event sent to the program as a top-level instruction:
    # the event authority cannot sign it (a PDA), so both entries refuse it.
    from iopay.core.events import EVENT_IX_TAG

    authority = Pubkey.find_program_address([b"__event_authority"], env.prog.program_id)[0]
    forged = Instruction(env.prog.program_id, EVENT_IX_TAG + bytes(104), [AccountMeta(authority, False, False)])
    res = env.h.send([forged], [])
    assert res.error is not None and res.error.name == "ConstraintSigner", res.logs
