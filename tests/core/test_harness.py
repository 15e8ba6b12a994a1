"""The LiteSVM harness against the real SPL Token program LiteSVM ships."""

from __future__ import annotations

import pytest
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.system_program import CreateAccountParams, create_account

from iopay.core import spl
from iopay.core.errors import ProgramError, error_class
from iopay.core.harness import DEFAULT_START_TS, Harness, ProgramNotBuilt
from iopay.core.pda import program_data_address


def test_mint_accounts_mint_to_transfer_balances(harness: Harness) -> None:
    auth = Keypair()
    mint = harness.create_mint(auth, decimals=9)
    info = harness.mint_info(mint)
    assert (info.decimals, info.supply, info.mint_authority) == (9, 0, auth.pubkey())

    alice, bob = harness.funded_keypair(), harness.funded_keypair()
    a = harness.create_token_account(mint, alice.pubkey())
    b = harness.create_ata(mint, bob.pubkey())
    assert b == spl.associated_token_address(bob.pubkey(), mint)
    ta = harness.token_account(a)
    assert (ta.mint, ta.owner, ta.amount, ta.state) == (mint, alice.pubkey(), 0, 1)

    r = harness.mint_to(mint, a, 1_000_000, auth)
    assert r.ok and r.compute_units > 0
    r = harness.transfer(a, b, alice, 250_001)
    # The classic Token program's transfer is ~4,650 CU.
    assert 3_000 < r.compute_units < 7_000
    assert harness.token_balance(a) == 749_999
    assert harness.token_balance(b) == 250_001
    assert harness.mint_info(mint).supply == 1_000_000


def test_identical_transactions_both_land(harness: Harness) -> None:
    """The blockhash rotates per send, so a repeated instruction is not
    rejected as AlreadyProcessed."""
    mint = harness.create_mint()
    owner = harness.funded_keypair()
    a = harness.create_token_account(mint, owner.pubkey())
    harness.mint_to(mint, a, 5)
    harness.mint_to(mint, a, 5)
    assert harness.token_balance(a) == 10


def test_token_error_is_named_from_the_token_table(harness: Harness) -> None:
    mint = harness.create_mint()
    alice = harness.funded_keypair()
    a = harness.create_token_account(mint, alice.pubkey())
    b = harness.create_token_account(mint, harness.payer.pubkey())
    harness.mint_to(mint, a, 10)
    res = harness.send([spl.transfer(a, b, alice.pubkey(), 11)], [alice])
    assert not res.ok
    err = res.error
    assert isinstance(err, ProgramError) and isinstance(err, error_class("InsufficientFunds"))
    assert (err.code, err.name, err.program_id, err.instruction_index) == (1, "InsufficientFunds", spl.TOKEN_PROGRAM_ID, 0)
    with pytest.raises(error_class("InsufficientFunds")):
        res.raise_for_error()
    # Nothing moved.
    assert harness.token_balance(a) == 10 and harness.token_balance(b) == 0


def test_wrong_owner_signature_is_rejected(harness: Harness) -> None:
    mint = harness.create_mint()
    alice, mallory = harness.funded_keypair(), harness.funded_keypair()
    a = harness.create_token_account(mint, alice.pubkey())
    m = harness.create_token_account(mint, mallory.pubkey())
    harness.mint_to(mint, a, 10)
    res = harness.send([spl.transfer(a, m, mallory.pubkey(), 1)], [mallory])
    assert res.error is not None and res.error.name == "OwnerMismatch"


def test_clock_warp(harness: Harness) -> None:
    assert harness.now() == DEFAULT_START_TS
    slot0 = harness.clock().slot
    assert harness.warp_seconds(3_600) == DEFAULT_START_TS + 3_600
    assert harness.now() == DEFAULT_START_TS + 3_600
    assert harness.clock().slot > slot0
    harness.set_unix_timestamp(42)
    assert harness.now() == 42
    harness.warp_to_slot(1_000_000)
    assert harness.clock().slot == 1_000_000


def test_clock_is_what_programs_see(harness: Harness) -> None:
    """A program reading the Clock sysvar observes the warp: the Token program
    has no clock use, so check via the sysvar account LiteSVM exposes."""
    from solders.sysvar import CLOCK
    from solders.clock import Clock

    harness.warp_seconds(7_200)
    acc = harness.account(CLOCK)
    assert acc is not None
    # Clock sysvar layout: slot u64, epoch_start_timestamp i64, epoch u64,
    # leader_schedule_epoch u64, unix_timestamp i64.
    import struct

    assert struct.unpack_from("<q", bytes(acc.data), 32)[0] == DEFAULT_START_TS + 7_200
    assert isinstance(harness.clock(), Clock)


def test_upgradeable_deploy_runs_a_real_elf(harness: Harness) -> None:
    """Deploy the Token program's ELF at a new id through the upgradeable
    loader layout the harness uses for our programs, and run it."""
    from solders.pubkey import Pubkey

    elf = bytes(harness.account(spl.TOKEN_PROGRAM_ID).data)  # type: ignore[union-attr]
    pid = Keypair().pubkey()
    auth = Keypair().pubkey()
    pdata = harness.deploy_upgradeable(pid, elf, auth)
    assert pdata == program_data_address(pid)
    raw = bytes(harness.account(pdata).data)  # type: ignore[union-attr]
    assert raw[:4] == (3).to_bytes(4, "little") and raw[12] == 1
    assert Pubkey.from_bytes(raw[13:45]) == auth
    mint = Keypair()
    init = spl.initialize_mint2(mint.pubkey(), 6, harness.payer.pubkey())
    res = harness.send(
        [
            create_account(
                CreateAccountParams(
                    from_pubkey=harness.payer.pubkey(),
                    to_pubkey=mint.pubkey(),
                    lamports=harness.svm.minimum_balance_for_rent_exemption(spl.MINT_LEN),
                    space=spl.MINT_LEN,
                    owner=pid,
                )
            ),
            Instruction(pid, init.data, init.accounts),
        ],
        [mint],
    )
    assert res.ok, res.logs
    assert any(f"Program {pid} success" in line for line in res.logs)


def test_missing_program_says_make_programs(harness: Harness, tmp_path) -> None:
    from iopay.core.idl import ProgramIdl
    from tests.core.idl_fixture import mini_idl

    prog = ProgramIdl(mini_idl())
    with pytest.raises(ProgramNotBuilt, match="make programs"):
        harness.load_program(prog, tmp_path / "nope.so")
