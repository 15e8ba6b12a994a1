"""Shared plumbing of the RPC-backed commands (``iopay market|job|keeper``).

* :class:`Ctx` opens the JSON-RPC connection (``AsyncClient`` +
  :class:`iopay.core.tx.TransactionSender`) and builds the
  :class:`iopay.escrow.client.EscrowClient` with the signer of ``--keypair``
  as fee payer (loaded first, so a bad keypair file fails before any RPC);
* :func:`run` runs a command's coroutine and turns every expected failure
  into a one-line :class:`iopay.cli.CliError` (exit status 1): unknown
  accounts, program errors by name, unreachable RPC, timeouts;
* checks that run *before* anything is sent (:func:`require_sol`,
  :func:`require_tokens`, ...), so a command that would fail sends nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional

from solders.keypair import Keypair
from solders.pubkey import Pubkey

MONIKERS: Dict[str, str] = {
    "localhost": "http://localhost:8899",
    "l": "http://localhost:8899",
    "devnet": "https://api.devnet.solana.com",
    "d": "https://api.devnet.solana.com",
    "testnet": "https://api.testnet.solana.com",
    "t": "https://api.testnet.solana.com",
    "mainnet-beta": "https://api.mainnet-beta.solana.com",
    "m": "https://api.mainnet-beta.solana.com",
}
DEFAULT_KEYPAIR = "~/.config/solana/id.json"
SOLANA_CLI_CONFIG = "~/.config/solana/cli/config.yml"


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 1."""


def resolve_url(value: Optional[str]) -> str:
    """Moniker or URL -> URL. ``None`` -> Solana CLI config, else localhost."""
    if value is None:
        return default_url()
    v = value.strip()
    if v in MONIKERS:
        return MONIKERS[v]
    if v.startswith(("http://", "https://")):
        return v
    raise CliError(
        f"invalid --url {value!r}: use a URL or one of {', '.join(k for k in MONIKERS if len(k) > 1)}"
    )


def websocket_url(http_url: str) -> str:
    """The websocket URL the Solana CLI would use (port + 1 for explicit ports)."""
    from urllib.parse import urlsplit, urlunsplit

    u = urlsplit(http_url)
    scheme = "wss" if u.scheme == "https" else "ws"
    netloc = u.netloc
    if u.port:
        netloc = f"{u.hostname}:{u.port + 1}"
    return urlunsplit((scheme, netloc, u.path, u.query, u.fragment))


def default_url(config_path: str = SOLANA_CLI_CONFIG) -> str:
    p = Path(os.path.expanduser(config_path))
    try:
        for line in p.read_text().splitlines():
            if line.startswith("json_rpc_url:"):
                url = line.split(":", 1)[1].strip().strip("'\"")
                if url:
                    return url
    except OSError:
        pass
    return MONIKERS["localhost"]


def load_keypair(path: str) -> Keypair:
    p = Path(os.path.expanduser(path))
    try:
        raw = json.loads(p.read_text())
    except FileNotFoundError:
        raise CliError(f"keypair file not found: {p} (create one with `solana-keygen new` or pass --keypair)")
    except (OSError, ValueError) as e:
        raise CliError(f"cannot read keypair {p}: {e}")
    if not (isinstance(raw, list) and len(raw) == 64 and all(isinstance(b, int) and 0 <= b < 256 for b in raw)):
        raise CliError(f"invalid keypair file {p}: expected a JSON array of 64 bytes")
    return Keypair.from_bytes(bytes(raw))


def emit_output(args: argparse.Namespace, data: Dict[str, Any], display: Callable[[], str]) -> None:
    """``--output json`` prints ``data``; display output prints ``display()``."""
    if args.output == "json":
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(display())


def program_of(args: argparse.Namespace) -> Any:
    """The IDL named by ``--idl`` (default job_escrow)."""
    from iopay.core.idl import ProgramIdl

    try:
        return ProgramIdl.load(args.idl or "job_escrow")
    except FileNotFoundError as e:
        raise CliError(str(e))


LAMPORTS_PER_SOL = 1_000_000_000
#: a transaction's fee headroom: base fee + a priority fee of a few hundred thousand CU at ~1k micro-lamports
FEE_HEADROOM = 100_000
JOB_BASE_SPACE = 153  # Job::space(0), programs/job_escrow/src/state.rs
WORKER_SLOT_SPACE = 65


def cli_error(msg: str) -> Exception:
    return CliError(msg)


def common_options() -> argparse.ArgumentParser:
    """``-u``, ``-k``, ``--output`` accepted after the subcommand too (as the
    Solana CLI does); SUPPRESS keeps the top-level values when absent."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("-u", "--url", default=argparse.SUPPRESS, help="RPC URL or moniker")
    p.add_argument("-k", "--keypair", default=argparse.SUPPRESS, help="signer keypair file")
    p.add_argument("--output", choices=["json", "display"], default=argparse.SUPPRESS, help="output format")
    return p


def parse_pubkey(s: str) -> Pubkey:
    try:
        return Pubkey.from_string(s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid public key: {s!r}")


def positive_int(s: str) -> int:
    try:
        v = int(s, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {s!r}")
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {s!r}")
    return v


def nonneg_int(s: str) -> int:
    try:
        v = int(s, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {s!r}")
    if v < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {s!r}")
    return v


def sol(lamports: int) -> str:
    return f"{lamports / LAMPORTS_PER_SOL:.9f}".rstrip("0").rstrip(".") + " SOL"


def ui_amount(amount: int, decimals: int) -> str:
    if decimals == 0:
        return str(amount)
    s = str(amount).rjust(decimals + 1, "0")
    return f"{s[:-decimals]}.{s[-decimals:]}".rstrip("0").rstrip(".")


class Ctx:
    """What a command needs: args, the signer, the RPC client and the SDK."""

    def __init__(self, args: argparse.Namespace, *, signer: bool = True) -> None:
        self.args = args
        self.url: str = args.url
        # Keypair first: a bad file is an error before any network traffic.
        self.signer: Optional[Keypair] = load_keypair(args.keypair) if signer else None
        self.rpc: Any = None
        self.client: Any = None

    @property
    def payer(self) -> Keypair:
        assert self.signer is not None
        return self.signer

    async def __aenter__(self) -> "Ctx":
        from solana.rpc.async_api import AsyncClient

        from iopay.core.errors import ErrorRegistry
        from iopay.escrow.client import EscrowClient, RpcChain
        from iopay.core.events import EventDecoder
        from iopay.core.idl import ProgramIdl
        from iopay.core.tx import SendConfig, TransactionSender

        prog = ProgramIdl.load(getattr(self.args, "idl", None) or "job_escrow")
        self.rpc = AsyncClient(self.url, timeout=30)
        errors = ErrorRegistry()
        errors.add(prog.errors)
        fee = getattr(self.args, "priority_fee", None) or "auto"
        cfg = SendConfig(priority_fee=fee if fee == "auto" else int(fee), confirm_timeout=90.0, poll_interval=0.25,
                         rpc_retries=4)
        self.sender = TransactionSender(self.rpc, cfg, errors=errors)
        chain = RpcChain(self.rpc, self.sender, [EventDecoder(prog)])
        self.client = EscrowClient(chain, self.signer or Keypair(), prog)
        await self._ping()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self.rpc is not None:
            await self.rpc.close()

    async def _ping(self) -> None:
        try:
            await self.sender.call("get_slot")
        except Exception as e:  # noqa: BLE001 - reported in one line
            raise cli_error(f"cannot reach the RPC node at {self.url}: {_short(e)}")

    # -- reads ---------------------------------------------------------------

    async def lamports(self, who: Pubkey) -> int:
        return (await self.sender.call("get_balance", who)).value

    async def rent(self, size: int) -> int:
        return (await self.sender.call("get_minimum_balance_for_rent_exemption", size)).value

    async def token_account(self, address: Pubkey) -> Any:
        from iopay.core import spl

        acc = await self.client.chain.get_account(address)
        if acc is None:
            return None
        owner, data = acc
        if owner != spl.TOKEN_PROGRAM_ID:
            raise cli_error(f"{address} is not a token account")
        return spl.TokenAccount.decode(data)

    async def market(self, mint: Pubkey) -> Any:
        try:
            return await self.client.market(mint)
        except LookupError:
            raise cli_error(f"no market for mint {mint} (create it with `iopay market init`)")

    async def job(self, job: Pubkey) -> Any:
        try:
            return await self.client.job(job)
        except LookupError:
            raise cli_error(f"job {job} not found")
        except ValueError as e:
            raise cli_error(f"{job} is not a job: {e}")

    # -- checks before sending -------------------------------------------------

    async def require_sol(self, need: int, what: str) -> None:
        have = await self.lamports(self.payer.pubkey())
        if have < need:
            raise cli_error(f"insufficient funds: {what} needs about {sol(need)} in {self.payer.pubkey()}, "
                            f"which has {sol(have)}; nothing sent")

    async def require_tokens(self, account: Pubkey, owner: Pubkey, mint: Pubkey, need: int, decimals: int,
                             what: str) -> None:
        acc = await self.token_account(account)
        if acc is None:
            raise cli_error(f"insufficient funds: {what} needs {ui_amount(need, decimals)} tokens but the token "
                            f"account {account} does not exist; nothing sent")
        if acc.mint != mint or acc.owner != owner:
            raise cli_error(f"token account {account} is not {owner}'s account of mint {mint}")
        if acc.amount < need:
            raise cli_error(f"insufficient funds: {what} needs {ui_amount(need, decimals)} tokens, {account} has "
                            f"{ui_amount(acc.amount, decimals)}; nothing sent")

    def require_authority(self, market: Any) -> None:
        if market.authority != self.payer.pubkey():
            raise cli_error(f"{self.payer.pubkey()} is not the authority of market {market.address} "
                            f"(authority: {market.authority}); nothing sent")

    @staticmethod
    def job_rent_space(n_workers: int) -> int:
        return JOB_BASE_SPACE + WORKER_SLOT_SPACE * n_workers


def _short(e: BaseException) -> str:
    s = str(e) or type(e).__name__
    return s.splitlines()[0][:300]


def describe_error(e: BaseException) -> Optional[str]:
    """One line for an expected failure, None for a bug."""
    from iopay.core.errors import ProgramError, TransactionError
    from iopay.core.tx import BlockhashRenewalsExhausted, ConfirmationTimeout, RpcRetriesExhausted

    if isinstance(e, ProgramError):
        return f"transaction rejected: {e.name or 'error ' + str(e.code)}" + (f": {e.msg}" if e.msg else "") + \
            " (simulation failed; nothing sent)"
    if isinstance(e, TransactionError):
        return f"transaction rejected: {_short(e)}"
    if isinstance(e, (ConfirmationTimeout, BlockhashRenewalsExhausted)):
        sigs = ", ".join(str(s) for s in e.signatures)
        return f"not confirmed in time; check the signatures before retrying: {sigs}"
    if isinstance(e, RpcRetriesExhausted):
        return f"RPC node unavailable: {_short(e)}"
    try:
        import httpx

        if isinstance(e, httpx.HTTPError):
            return f"RPC request failed: {_short(e)}"
    except ImportError:  # pragma: no cover
        pass
    if isinstance(e, (ConnectionError, OSError, asyncio.TimeoutError)):
        return f"network error: {_short(e)}"
    return None


def run(coro_fn: Callable[[], Awaitable[int]]) -> int:
    """Run a command coroutine; expected failures -> CliError (one line)."""
    async def main() -> int:
        return await coro_fn()

    try:
        return asyncio.run(main())
    except CliError:
        raise
    except Exception as e:  # noqa: BLE001 - mapped or re-raised
        msg = describe_error(e)
        if msg is None:
            raise
        raise cli_error(msg)


def progress(msg: str) -> None:
    """Progress of long work, on stderr (stdout stays machine-readable)."""
    print(msg, file=sys.stderr, flush=True)


def emit(args: argparse.Namespace, data: Dict[str, Any], lines: Optional[List[str]] = None) -> None:

    def show() -> str:
        if lines is not None:
            return "\n".join(lines)
        w = max((len(k) for k in data), default=0)
        return "\n".join(f"{k:<{w}}  {v}" for k, v in data.items())

    emit_output(args, data, show)
