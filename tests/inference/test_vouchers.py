"""Off-chain vouchers: the signer's bytes, the verifier's rules, the durable
store (no chain needed)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.inference.program import Voucher, ed25519_instruction, price_of, settlement, voucher_message
from iopay.inference.vouchers import (ChannelInfo, DepositExhausted, GroupCommitter, VoucherRejected, VoucherSigner,
                                      VoucherStore, VoucherVerifier)

PROGRAM = Pubkey.from_string("9rUK5Wp7mPrD8AqASRarNbQB2LC65TZJ2YFZggw5wrKw")


def setup(tmp_path: Path, deposit: int = 1_000):
    payer, provider = Keypair(), Keypair()
    ch = Pubkey.new_unique()
    info = ChannelInfo(ch, provider.pubkey(), Pubkey.new_unique(), payer.pubkey(), 42, deposit, 0, 0, 250, 2**40)
    store = VoucherStore(tmp_path / "v.db")
    ver = VoucherVerifier(PROGRAM, provider.pubkey(), store)
    ver.update(info)
    return payer, provider, info, store, ver, VoucherSigner(payer, PROGRAM, ch, 42, deposit)


def test_message_layout_matches_the_program() -> None:
    ch = Pubkey.new_unique()
    m = voucher_message(PROGRAM, ch, 7, 1_000, 3)
    assert len(m) == 104 and m[:16] == b"iopay-voucher-v1" and m[16:48] == bytes(PROGRAM) and m[48:80] == bytes(ch)
    assert m[80:] == (7).to_bytes(8, "little") + (1_000).to_bytes(8, "little") + (3).to_bytes(8, "little")
    with pytest.raises(ValueError):
        voucher_message(PROGRAM, ch, 0, -1, 0)
    with pytest.raises(TypeError):
        voucher_message(PROGRAM, ch, 0, 1.5, 0)  # type: ignore[arg-type]


def test_precompile_data_layout() -> None:
    k = Keypair()
    msg = voucher_message(PROGRAM, Pubkey.new_unique(), 1, 2, 3)
    ix = ed25519_instruction([(bytes(k.pubkey()), bytes(k.sign_message(msg)), msg)] * 2)
    d = bytes(ix.data)
    assert d[0] == 2 and d[1] == 0
    for i in range(2):
        sig_off, sig_ix, pk_off, pk_ix, msg_off, msg_len, msg_ix = [int.from_bytes(d[2 + 14 * i + 2 * j:4 + 14 * i + 2 * j], "little") for j in range(7)]
        assert (sig_ix, pk_ix, msg_ix) == (0xFFFF,) * 3
        assert d[pk_off:pk_off + 32] == bytes(k.pubkey()) and d[msg_off:msg_off + msg_len] == msg
        assert d[sig_off:sig_off + 64] == bytes(k.sign_message(msg))


def test_money_math() -> None:
    assert settlement(0, 10_001, 1) == (9_999, 2)
    assert price_of(5, "PerInference") == 5
    assert price_of(250, "PerThousandTokens", 1) == 1 and price_of(250, "PerThousandTokens", 4_000) == 1_000
    with pytest.raises(ValueError):
        price_of(1, "PerToken")


def test_signer_is_cumulative_and_refuses_past_the_deposit(tmp_path: Path) -> None:
    payer, _, info, _, _, s = setup(tmp_path, deposit=25)
    a, b = s.pay(10), s.pay(10)
    assert (a.cumulative, a.nonce, b.cumulative, b.nonce) == (10, 1, 20, 2)
    with pytest.raises(DepositExhausted):
        s.pay(10)
    assert (s.cumulative, s.nonce) == (20, 2)  # a refusal signs and counts nothing
    s.topped_up(40)
    assert s.pay(10).cumulative == 30
    with pytest.raises(ValueError):
        s.pay(-1)


def test_verifier_rules(tmp_path: Path) -> None:
    payer, provider, info, store, ver, s = setup(tmp_path)
    v1 = s.pay(10)
    ver.accept(v1, 10)
    assert store.best(info.address) == v1

    def rejected(v: Voucher, reason: str, price: int = 10) -> None:
        with pytest.raises(VoucherRejected) as e:
            ver.check(v, price)
        assert e.value.reason == reason

    rejected(v1, "stale_nonce")
    rejected(s.pay(5), "underpaid")
    s2 = VoucherSigner(Keypair(), PROGRAM, info.address, 42, 1_000, s.cumulative, s.nonce)
    rejected(s2.pay(10), "wrong_signer")
    good = s.pay(10)
    rejected(Voucher(good.channel, good.open_slot, good.cumulative + 1, good.nonce, good.signer, good.signature),
             "bad_signature")
    rejected(Voucher(Pubkey.new_unique(), 42, 1, 1, payer.pubkey(), b"\0" * 64), "unknown_channel")
    rejected(VoucherSigner(payer, PROGRAM, info.address, 43, 1_000, 100, 100).pay(10), "wrong_channel")
    rejected(VoucherSigner(payer, PROGRAM, info.address, 42, 2_000, 995, 100).pay(10), "exceeds_deposit")
    other = VoucherVerifier(PROGRAM, Keypair().pubkey(), store)
    other.update(info)
    with pytest.raises(VoucherRejected) as e:
        other.check(good, 10)
    assert e.value.reason == "wrong_provider"
    ver.accept(good, 10)
    # a restarted verifier remembers the best voucher from the store
    again = VoucherVerifier(PROGRAM, provider.pubkey(), VoucherStore(tmp_path / "v.db"))
    again.update(info)
    with pytest.raises(VoucherRejected):
        again.check(good, 10)


def test_store_only_moves_forward(tmp_path: Path) -> None:
    payer, _, info, store, _, s = setup(tmp_path)
    a, b = s.pay(1), s.pay(1)
    store.save(b)
    store.save(a)
    assert store.best(info.address) == b
    assert [v for v, _ in store.unsettled()] == [b]
    store.mark_settled(info.address, b.cumulative, b.nonce)
    assert store.unsettled() == []


async def test_group_commit_concurrent_requests(tmp_path: Path) -> None:
    payer, _, info, store, ver, s = setup(tmp_path, deposit=10_000)
    committer = GroupCommitter(store)
    vouchers = [s.pay(1) for _ in range(200)]
    await asyncio.gather(*(ver.accept_async(v, 0, committer) for v in vouchers))
    assert store.best(info.address) == vouchers[-1]
    await committer.aclose()


def test_store_survives_sigkill_after_save(tmp_path: Path) -> None:
    """A process saves a voucher and is SIGKILLed at once: the voucher is there."""
    db = tmp_path / "kill.db"
    k = Keypair()
    code = textwrap.dedent(f"""
        import os, signal, sys
        from solders.keypair import Keypair
        from solders.pubkey import Pubkey
        from iopay.inference.vouchers import VoucherSigner, VoucherStore
        k = Keypair.from_bytes(bytes({list(bytes(k))}))
        s = VoucherSigner(k, Pubkey.from_string("{PROGRAM}"), Pubkey.from_string("{PROGRAM}"), 1, 10**9)
        st = VoucherStore({str(db)!r})
        for _ in range(500):
            st.save(s.pay(3))
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert p.returncode == -signal.SIGKILL, p.stderr.decode()
    best = VoucherStore(db).best(PROGRAM)
    assert best is not None and (best.cumulative, best.nonce) == (1_500, 500)
