"""iopay.core.wallet over the embedded LiteSVM (the real SPL Token and
Associated Token Account programs): keypair files, SOL, mints, associated
accounts, minting, balances and transfers; wrong account kinds and bad
arguments are plain errors before anything is sent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core import spl, wallet
from iopay.core.chain import LiteSvmChain
from iopay.core.harness import Harness

SOL = 1_000_000_000


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture
def chain() -> LiteSvmChain:
    return LiteSvmChain(Harness())


def test_keypair_files(tmp_path: Path) -> None:
    f = tmp_path / "k.json"
    kp = wallet.write_keypair(f)
    assert wallet.read_keypair(f).pubkey() == kp.pubkey()
    assert len(json.loads(f.read_text())) == 64 and f.stat().st_mode & 0o777 == 0o600
    with pytest.raises(FileExistsError, match="--force"):
        wallet.write_keypair(f)
    assert wallet.write_keypair(f, force=True).pubkey() != kp.pubkey()
    with pytest.raises(FileNotFoundError, match="iopay keygen new"):
        wallet.read_keypair(tmp_path / "missing.json")
    f.write_text(json.dumps([0] * 63))
    with pytest.raises(ValueError, match="64 bytes"):
        wallet.read_keypair(f)
    with pytest.raises(ValueError, match="directory"):
        wallet.read_keypair(tmp_path)


def test_sol_and_tokens_end_to_end(chain: LiteSvmChain) -> None:
    async def go() -> None:
        h = chain.h
        admin, alice, bob = h.payer, Keypair(), Keypair()
        await wallet.airdrop(chain, alice.pubkey(), 2 * SOL)
        assert await wallet.sol_balance(chain, alice.pubkey()) == 2 * SOL
        await wallet.transfer_sol(chain, alice, alice, bob.pubkey(), SOL // 2)
        assert await wallet.sol_balance(chain, bob.pubkey()) == SOL // 2

        mint, _ = await wallet.create_mint(chain, admin, admin.pubkey(), 6)
        assert (await wallet.get_mint(chain, mint)).decimals == 6
        ata, sent = await wallet.create_associated_account(chain, admin, alice.pubkey(), mint)
        assert ata == spl.associated_token_address(alice.pubkey(), mint) and sent is not None
        assert (await wallet.create_associated_account(chain, admin, alice.pubkey(), mint))[1] is None  # exists
        await wallet.mint_tokens(chain, admin, admin, mint, 100_000_000, alice.pubkey())
        # A wallet without an account gets its associated one.
        dest, _ = await wallet.mint_tokens(chain, admin, admin, mint, 1, bob.pubkey())
        assert dest == spl.associated_token_address(bob.pubkey(), mint)
        await wallet.transfer_tokens(chain, admin, alice, mint, 2_500_000, bob.pubkey())
        assert (await wallet.token_balance(chain, mint, alice.pubkey()))[1:] == (97_500_000, 6)
        assert (await wallet.token_balance(chain, mint, bob.pubkey()))[1] == 2_500_001
        holdings = await wallet.token_accounts(chain, bob.pubkey())
        assert [(h.mint, h.amount, h.associated) for h in holdings] == [(mint, 2_500_001, True)]

        # Wrong kinds of account say what they are; nothing is sent.
        with pytest.raises(wallet.WrongAccount, match=r"is not a token account: it is a mint \(6 decimals\)"):
            await wallet.get_token_account(chain, mint)
        with pytest.raises(wallet.WrongAccount, match="is not a mint: it is a token account of mint"):
            await wallet.get_mint(chain, ata)
        with pytest.raises(wallet.WrongAccount, match="is not a mint: it is a wallet"):
            await wallet.get_mint(chain, alice.pubkey())
        with pytest.raises(wallet.WrongAccount, match="recipient .* is a mint"):
            await wallet.transfer_tokens(chain, admin, alice, mint, 1, mint)
        with pytest.raises(wallet.InsufficientFunds, match="insufficient funds: transferring 1000 needs 1000 tokens"):
            await wallet.transfer_tokens(chain, admin, alice, mint, 1_000_000_000, bob.pubkey())
        with pytest.raises(ValueError, match="is not the mint authority"):
            await wallet.mint_tokens(chain, admin, alice, mint, 1, alice.pubkey())
        broke = Keypair()
        with pytest.raises(wallet.InsufficientFunds, match=r"insufficient funds: creating a mint needs about .* SOL"):
            await wallet.create_mint(chain, broke, broke.pubkey(), 6)

    run(go())


def test_bad_arguments_are_plain_errors(chain: LiteSvmChain) -> None:
    async def go() -> None:
        admin = chain.h.payer
        with pytest.raises(TypeError, match="address must be a solders Pubkey"):
            await wallet.sol_balance(chain, "abc")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="lamports must be in 1.."):
            await wallet.airdrop(chain, admin.pubkey(), 0)
        with pytest.raises(ValueError, match="decimals must be an integer in 0..255"):
            await wallet.create_mint(chain, admin, admin.pubkey(), 300)
        with pytest.raises(TypeError, match="amount must be an int"):
            await wallet.transfer_tokens(chain, admin, admin, Pubkey.default(), 2.5, admin.pubkey())  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="amount must be in 1.."):
            await wallet.mint_tokens(chain, admin, admin, Pubkey.default(), 2**64, admin.pubkey())

    run(go())
