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
