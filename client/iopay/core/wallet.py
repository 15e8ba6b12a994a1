"""Wallet and token set-up without the Solana CLI: keypair files, SOL
balances, airdrops and transfers, classic SPL Token mints, associated token
accounts, minting and transfers. Async helpers over any
:class:`iopay.core.chain.Chain` (``RpcChain`` or ``LiteSvmChain``); the
``iopay`` commands (``keygen``, ``address``, ``balance``, ``airdrop``,
``transfer``, ``token ...``) are thin layers over these.

Amounts here are integers (lamports, token base units);
:mod:`iopay.core.units` converts what people type. Bad arguments raise
``ValueError``/``TypeError`` before anything is built or sent; an account of
the wrong kind raises :class:`WrongAccount` saying what the account is.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple, Union

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, TransferParams, create_account
from solders.system_program import transfer as system_transfer

from iopay.core import spl
from iopay.core.chain import Memcmp, Sent
from iopay.core.units import U64_MAX, format_amount, format_sol

SYSTEM_PROGRAM_ID = spl.SYSTEM_PROGRAM_ID
BPF_LOADERS = {
    Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111"),
    Pubkey.from_string("BPFLoader2111111111111111111111111111111111"),
    Pubkey.from_string("BPFLoader1111111111111111111111111111111111"),
}
NATIVE_LOADER = Pubkey.from_string("NativeLoader1111111111111111111111111111111")
#: rough fee headroom of a simple transaction (base fee + a modest priority fee)
FEE_HEADROOM = 100_000


class WalletError(ValueError):
    """What the chain says cannot be done (checked before sending); the message is for the user."""


class WrongAccount(WalletError):
    """An account of the wrong kind (a mint where a token account is expected, ...)."""


class InsufficientFunds(WalletError):
    """A payer lacks the SOL or tokens an operation needs (checked before sending)."""


class NotAuthorized(WalletError):
    """The signer lacks the authority (mint authority, account owner)."""


# -- keypair files ---------------------------------------------------------------------

def read_keypair(path: Union[str, os.PathLike]) -> Keypair:
    """A Solana CLI keypair file (JSON array of 64 bytes)."""
    p = Path(os.path.expanduser(str(path)))
    try:
        raw = json.loads(p.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"keypair file not found: {p} (create one with `iopay keygen new -o {p}`)") from None
    except IsADirectoryError:
        raise ValueError(f"keypair path {p} is a directory, not a keypair file") from None
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot read keypair {p}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    if not (isinstance(raw, list) and len(raw) == 64
            and all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b < 256 for b in raw)):
        raise ValueError(f"invalid keypair file {p}: expected a JSON array of 64 bytes")
    try:
        kp = Keypair.from_bytes(bytes(raw))
    except ValueError:
        raise ValueError(f"invalid keypair file {p}: the public half does not match the secret key") from None
    return kp


def write_keypair(path: Union[str, os.PathLike], keypair: Optional[Keypair] = None, *, force: bool = False) -> Keypair:
    """Write ``keypair`` (default: a new one) as a Solana CLI keypair file,
    mode 0600; refuses to overwrite unless ``force``. Missing parent
    directories are created, as ``solana-keygen new`` does (a fresh machine
    has no ``~/.config/solana``, where the default keypair lives)."""
    p = Path(os.path.expanduser(str(path)))
    if p.is_dir():
        raise IsADirectoryError(f"{p} is a directory")
    if p.exists() and not force:
        raise FileExistsError(f"{p} already exists (use --force to overwrite it)")
    kp = keypair or Keypair()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(list(bytes(kp))))
    os.replace(tmp, p)
    return kp


# -- what an account is -----------------------------------------------------------------

def describe_account(address: Pubkey, acc: Optional[Tuple[Pubkey, bytes]]) -> str:
    """``"a mint (6 decimals)"``, ``"a token account of mint X"``, ``"a wallet"``, ..."""
    if acc is None:
        return "an account that does not exist"
    owner, data = acc
    if owner == spl.TOKEN_PROGRAM_ID:
        if len(data) == spl.MINT_LEN:
            try:
                return f"a mint ({spl.Mint.decode(data).decimals} decimals)"
            except ValueError:
                return "a mint"
        if len(data) == spl.ACCOUNT_LEN:
            return f"a token account of mint {spl.TokenAccount.decode(data).mint}"
        return f"a Token-program account of {len(data)} bytes"
    if owner == SYSTEM_PROGRAM_ID:
        return "a wallet (system account)" if not data else f"a system account with {len(data)} bytes of data"
    if owner in BPF_LOADERS or owner == NATIVE_LOADER:
        return "a program"
    return f"an account of program {owner} ({len(data)} bytes)"


async def get_mint(chain: Any, mint: Pubkey) -> spl.Mint:
    acc = await chain.get_account(mint)
    if acc is None or acc[0] != spl.TOKEN_PROGRAM_ID or len(acc[1]) != spl.MINT_LEN:
        raise WrongAccount(f"{mint} is not a mint: it is {describe_account(mint, acc)}")
    return spl.Mint.decode(acc[1])


async def get_token_account(chain: Any, address: Pubkey, *, mint: Optional[Pubkey] = None,
                            missing_ok: bool = False) -> Optional[spl.TokenAccount]:
    """The SPL token account at ``address`` (size and owner checked); None
    when it does not exist and ``missing_ok``."""
    acc = await chain.get_account(address)
    if acc is None and missing_ok:
        return None
    if acc is None or acc[0] != spl.TOKEN_PROGRAM_ID or len(acc[1]) != spl.ACCOUNT_LEN:
        raise WrongAccount(f"{address} is not a token account: it is {describe_account(address, acc)}")
    tok = spl.TokenAccount.decode(acc[1])
    if mint is not None and tok.mint != mint:
        raise WrongAccount(f"token account {address} holds mint {tok.mint}, not {mint}")
    return tok


# -- SOL --------------------------------------------------------------------------------

def _check_lamports(lamports: int, what: str = "lamports") -> None:
    if not isinstance(lamports, int) or isinstance(lamports, bool):
        raise TypeError(f"{what} must be an int, got {type(lamports).__name__}")
    if not 0 < lamports <= U64_MAX:
        raise ValueError(f"{what} must be in 1..{U64_MAX}, got {lamports}")


def _check_pubkey(v: Any, what: str) -> None:
    if not isinstance(v, Pubkey):
        raise TypeError(f"{what} must be a solders Pubkey, got {type(v).__name__}")


def _check_keypair(v: Any, what: str) -> None:
    if not isinstance(v, Keypair):
        raise TypeError(f"{what} must be a solders Keypair, got {type(v).__name__}")


async def sol_balance(chain: Any, address: Pubkey) -> int:
    _check_pubkey(address, "address")
    return int(await chain.get_lamports(address))


async def require_sol(chain: Any, payer: Pubkey, need: int, what: str) -> None:
    """Raise :class:`InsufficientFunds` (the CLI's message) when ``payer``
    holds less than ``need`` lamports."""
    have = await chain.get_lamports(payer)
    if have < need:
        raise InsufficientFunds(f"insufficient funds: {what} needs about {format_sol(need)} in {payer}, which has "
                                f"{format_sol(have)}; nothing sent")


async def airdrop(chain: Any, address: Pubkey, lamports: int) -> None:
    _check_pubkey(address, "address")
    _check_lamports(lamports)
    await chain.request_airdrop(address, lamports)


def transfer_sol_instruction(source: Pubkey, to: Pubkey, lamports: int) -> Instruction:
    _check_lamports(lamports)
    return system_transfer(TransferParams(from_pubkey=source, to_pubkey=to, lamports=lamports))


async def transfer_sol(chain: Any, payer: Keypair, source: Keypair, to: Pubkey, lamports: int) -> Sent:
    _check_keypair(source, "source")
    _check_pubkey(to, "to")
    ix = transfer_sol_instruction(source.pubkey(), to, lamports)
    await require_sol(chain, source.pubkey(), lamports + (FEE_HEADROOM if payer.pubkey() == source.pubkey() else 0),
                      f"transferring {format_sol(lamports)}")
    return await chain.send([ix], [source], payer)


# -- SPL Token --------------------------------------------------------------------------

async def create_mint(chain: Any, payer: Keypair, authority: Pubkey, decimals: int = 9, *,
                      mint: Optional[Keypair] = None, freeze_authority: Optional[Pubkey] = None) -> Tuple[Pubkey, Sent]:
    """A classic SPL Token mint (``authority`` mints); rent paid by ``payer``."""
    _check_pubkey(authority, "authority")
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 255:
        raise ValueError(f"decimals must be an integer in 0..255, got {decimals!r}")
    mint_kp = mint or Keypair()
    if await chain.get_account(mint_kp.pubkey()) is not None:
        raise WalletError(f"account {mint_kp.pubkey()} already exists; nothing sent")
    rent = await chain.rent_exempt(spl.MINT_LEN)
    await require_sol(chain, payer.pubkey(), rent + FEE_HEADROOM, "creating a mint")
    ixs = [create_account(CreateAccountParams(from_pubkey=payer.pubkey(), to_pubkey=mint_kp.pubkey(), lamports=rent,
                                              space=spl.MINT_LEN, owner=spl.TOKEN_PROGRAM_ID)),
           spl.initialize_mint2(mint_kp.pubkey(), decimals, authority, freeze_authority)]
    return mint_kp.pubkey(), await chain.send(ixs, [mint_kp], payer)


async def create_associated_account(chain: Any, payer: Keypair, owner: Pubkey, mint: Pubkey) -> Tuple[Pubkey, Optional[Sent]]:
    """``owner``'s associated token account of ``mint`` (created when
    missing; ``None`` sent when it already existed)."""
    _check_pubkey(owner, "owner")
    await get_mint(chain, mint)
    ata = spl.associated_token_address(owner, mint)
    if await get_token_account(chain, ata, mint=mint, missing_ok=True) is not None:
        return ata, None
    await require_sol(chain, payer.pubkey(), await chain.rent_exempt(spl.ACCOUNT_LEN) + FEE_HEADROOM,
                      "creating a token account")
    ix = spl.create_associated_token_account_idempotent(payer.pubkey(), owner, mint)
    return ata, await chain.send([ix], [], payer)


async def resolve_recipient(chain: Any, mint: Pubkey, recipient: Pubkey) -> Tuple[Pubkey, Pubkey, bool]:
    """(token account, its owner, needs creating) for ``recipient``: a token
    account of ``mint`` as it is; a wallet (or any address that is not a
    token account) gets its associated token account."""
    acc = await chain.get_account(recipient)
    if acc is not None and acc[0] == spl.TOKEN_PROGRAM_ID:
        if len(acc[1]) == spl.MINT_LEN:
            raise WrongAccount(f"recipient {recipient} is a mint, not a wallet or token account")
        tok = await get_token_account(chain, recipient, mint=mint)
        assert tok is not None
        return recipient, tok.owner, False
    if acc is not None and acc[0] != SYSTEM_PROGRAM_ID:
        raise WrongAccount(f"recipient {recipient} is {describe_account(recipient, acc)}, "
                           f"not a wallet or token account")
    ata = spl.associated_token_address(recipient, mint)
    existing = await get_token_account(chain, ata, mint=mint, missing_ok=True)
    return ata, recipient, existing is None


async def mint_tokens(chain: Any, payer: Keypair, authority: Keypair, mint: Pubkey, amount: int,
                      recipient: Pubkey) -> Tuple[Pubkey, Sent]:
    """Mint ``amount`` base units to ``recipient`` (a wallet gets its
    associated token account, created if needed)."""
    _check_keypair(authority, "authority")
    _check_lamports(amount, "amount")
    m = await get_mint(chain, mint)
    if m.mint_authority != authority.pubkey():
        raise NotAuthorized(f"{authority.pubkey()} is not the mint authority of {mint} "
                         f"(authority: {m.mint_authority or 'none, the supply is fixed'})")
    if m.supply + amount > U64_MAX:
        raise WalletError(f"minting {format_amount(amount, m.decimals)} would take the supply of {mint} beyond u64; "
                          f"nothing sent")
    dest, owner, create = await resolve_recipient(chain, mint, recipient)
    ixs: List[Instruction] = []
    if create:
        ixs.append(spl.create_associated_token_account_idempotent(payer.pubkey(), owner, mint))
    ixs.append(spl.mint_to(mint, dest, authority.pubkey(), amount))
    return dest, await chain.send(ixs, [authority], payer)


async def token_balance(chain: Any, mint: Pubkey, owner: Pubkey) -> Tuple[Pubkey, int, int]:
    """(account, amount, decimals) of ``owner``'s associated account of
    ``mint``; amount 0 when the account does not exist."""
    m = await get_mint(chain, mint)
    ata = spl.associated_token_address(owner, mint)
    tok = await get_token_account(chain, ata, mint=mint, missing_ok=True)
    return ata, (tok.amount if tok else 0), m.decimals


@dataclass(frozen=True)
class TokenHolding:
    address: Pubkey
    mint: Pubkey
    amount: int
    decimals: int
    associated: bool


async def token_accounts(chain: Any, owner: Pubkey) -> List[TokenHolding]:
    """Every classic SPL token account owned by ``owner``, by mint."""
    _check_pubkey(owner, "owner")
    rows = await chain.get_program_accounts(spl.TOKEN_PROGRAM_ID, [Memcmp(32, bytes(owner))])
    out: List[TokenHolding] = []
    decimals: dict = {}
    for addr, data in rows:
        if len(data) != spl.ACCOUNT_LEN:
            continue
        tok = spl.TokenAccount.decode(data)
        if tok.mint not in decimals:
            try:
                decimals[tok.mint] = (await get_mint(chain, tok.mint)).decimals
            except WrongAccount:
                decimals[tok.mint] = 0
        out.append(TokenHolding(addr, tok.mint, tok.amount, decimals[tok.mint],
                                addr == spl.associated_token_address(owner, tok.mint)))
    return sorted(out, key=lambda h: (str(h.mint), str(h.address)))


async def transfer_tokens(chain: Any, payer: Keypair, owner: Keypair, mint: Pubkey, amount: int,
                          recipient: Pubkey, *, source: Optional[Pubkey] = None) -> Tuple[Pubkey, Sent]:
    """Move ``amount`` base units of ``mint`` from ``owner``'s associated
    account (or ``source``) to ``recipient`` (a wallet gets its associated
    account, created and paid by ``payer`` when missing)."""
    _check_keypair(owner, "owner")
    _check_lamports(amount, "amount")
    m = await get_mint(chain, mint)
    src = source or spl.associated_token_address(owner.pubkey(), mint)
    tok = await get_token_account(chain, src, mint=mint, missing_ok=True)
    if tok is None:
        raise InsufficientFunds(f"insufficient funds: {owner.pubkey()} has no token account of mint {mint}; "
                                f"nothing sent")
    if tok.owner != owner.pubkey():
        raise NotAuthorized(f"token account {src} belongs to {tok.owner}, not {owner.pubkey()}")
    if tok.amount < amount:
        raise InsufficientFunds(f"insufficient funds: transferring {format_amount(amount, m.decimals)} needs "
                                f"{format_amount(amount, m.decimals)} tokens, {src} has "
                                f"{format_amount(tok.amount, m.decimals)}; nothing sent")
    dest, dest_owner, create = await resolve_recipient(chain, mint, recipient)
    ixs: List[Instruction] = []
    if create:
        ixs.append(spl.create_associated_token_account_idempotent(payer.pubkey(), dest_owner, mint))
    ixs.append(spl.transfer(src, dest, owner.pubkey(), amount))
    return dest, await chain.send(ixs, [owner], payer)
