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
from typing import Any, Awaitable, Callable, Dict, List, NoReturn, Optional

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


class Parser(argparse.ArgumentParser):
    """argparse with the CLI's error habit: one line on stderr, exit status 1."""

    def error(self, message: str) -> "NoReturn":  # type: ignore[override]
        self.exit(1, f"error: {message} (see `{self.prog} --help`)\n")


def resolve_url(value: Optional[str]) -> str:
    """Moniker or URL -> URL. ``None`` -> Solana CLI config, else localhost."""
    if value is None:
        return default_url()
    v = value.strip()
    if v in MONIKERS:
        return MONIKERS[v]
    if v.startswith(("http://", "https://")):
        return v
    host, sep, port = v.rpartition(":")
    if sep and host and "/" not in host and port.isdigit() and 0 < int(port) < 65536:
        return f"http://{v}"  # 127.0.0.1:8899, as the Solana CLI accepts
    raise CliError(
        f"invalid --url {value!r}: use a URL, HOST:PORT or one of {', '.join(k for k in MONIKERS if len(k) > 1)}"
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
    from iopay.core.wallet import read_keypair

    try:
        return read_keypair(path)
    except FileNotFoundError as e:
        raise CliError(f"{e} or pass --keypair")
    except ValueError as e:
        raise CliError(str(e))


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
WORKER_SLOT_SPACE = 76  # WorkerSlot::INIT_SPACE (iosd_credits' escrow.rs checks it against job_escrow's)


def cli_error(msg: str) -> Exception:
    return CliError(msg)


COMMITMENTS = ("processed", "confirmed", "finalized")


def add_global_options(p: argparse.ArgumentParser, *, top: bool) -> None:
    """The Solana CLI's global options. On the top-level parser with their
    defaults; on subcommands (``top=False``) with SUPPRESS, so they may come
    after the subcommand too and keep the top-level values when absent."""
    d = (lambda v: v) if top else (lambda v: argparse.SUPPRESS)
    p.add_argument("-u", "--url", default=d(None),
                   help="RPC URL, HOST:PORT or moniker: localhost|l, devnet|d, testnet|t, mainnet-beta|m "
                        "(default: the Solana CLI config's json_rpc_url, else localhost)")
    p.add_argument("-k", "--keypair", default=d(DEFAULT_KEYPAIR),
                   help=f"signer keypair file (default: {DEFAULT_KEYPAIR})")
    p.add_argument("--output", choices=["json", "display"], default=d("display"),
                   help="output format (default: display)")
    g = p.add_argument_group("sending", "options of commands that send transactions")
    g.add_argument("--fee-payer", metavar="KEYPAIR", default=d(None),
                   help="keypair file paying the transaction fees (default: the --keypair signer)")
    g.add_argument("--with-compute-unit-price", metavar="MICROLAMPORTS", type=u64_int, default=d(None),
                   help="priority fee in micro-lamports per compute unit (default: from recent fees)")
    g.add_argument("--commitment", choices=COMMITMENTS, default=d("confirmed"),
                   help="commitment to read at and wait for (default: confirmed)")
    g.add_argument("--dry-run", action="store_true", default=d(False),
                   help="simulate the transaction and print the result; send nothing")


def common_options() -> argparse.ArgumentParser:
    """``-u``, ``-k``, ``--output`` and the sending options accepted after
    the subcommand too (as the Solana CLI does)."""
    p = argparse.ArgumentParser(add_help=False)
    add_global_options(p, top=False)
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


def int_in(lo: int, hi: int, unit: str = "") -> Callable[[str], int]:
    """An argparse type: an integer in lo..hi (the program's own limit, so a
    wrong value is refused here in words, not by the encoder or the chain)."""
    def parse(s: str) -> int:
        try:
            v = int(s, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {s!r}")
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{s} is out of range: {lo:,}..{hi:,}{' ' + unit if unit else ''}")
        return v
    parse.__name__ = "int_in"
    return parse


def seconds_in(lo: float, hi: float) -> Callable[[str], float]:
    """An argparse type: a number of seconds in lo..hi (a period of zero or
    less would spin, one beyond a day is almost surely a unit mix-up)."""
    def parse(s: str) -> float:
        try:
            v = float(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {s!r}")
        if not lo <= v <= hi:  # also refuses nan
            raise argparse.ArgumentTypeError(f"{s} is out of range: {lo:g}..{hi:g} seconds")
        return v
    parse.__name__ = "seconds_in"
    return parse


def hours_int(s: str) -> int:
    """Hours of a booking: 1..2^32-1 (the program's u32)."""
    v = positive_int(s)
    if v > 2**32 - 1:
        raise argparse.ArgumentTypeError(f"too many hours: {s} (at most {2**32 - 1})")
    return v


def u64_int(s: str) -> int:
    """An integer in 0..2^64-1 (job ids, raw amounts)."""
    v = nonneg_int(s)
    if v > 2**64 - 1:
        raise argparse.ArgumentTypeError(f"too large: {s!r} (at most {2**64 - 1})")
    return v


def existing_file(s: str) -> str:
    p = Path(os.path.expanduser(s))
    if not p.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {s}")
    return s


def sol(lamports: int) -> str:
    return f"{lamports / LAMPORTS_PER_SOL:.9f}".rstrip("0").rstrip(".") + " SOL"


def ui_amount(amount: int, decimals: int) -> str:
    if decimals == 0:
        return str(amount)
    s = str(amount).rjust(decimals + 1, "0")
    return f"{s[:-decimals]}.{s[-decimals:]}".rstrip("0").rstrip(".")


def commitment_of(args: argparse.Namespace) -> str:
    # Reads at confirmed by default, as the Solana CLI (solana-py's default would be finalized).
    return getattr(args, "commitment", None) or "confirmed"


def send_config(args: argparse.Namespace) -> Any:
    """How every command sends, whichever program's client it uses: the global
    options (--with-compute-unit-price, --commitment, --dry-run), so that no
    command sends when --dry-run was given."""
    from iopay.core.tx import SendConfig

    fee: Any = getattr(args, "with_compute_unit_price", None)
    if fee is None:
        fee = getattr(args, "priority_fee", None) or "auto"
    return SendConfig(priority_fee=fee if fee == "auto" else int(fee), confirm_timeout=90.0, poll_interval=0.25,
                      rpc_retries=2, commitment=commitment_of(args), dry_run=bool(getattr(args, "dry_run", False)))


class Ctx:
    """What a command needs: args, the signer, the RPC client and the SDK."""

    def __init__(self, args: argparse.Namespace, *, signer: bool = True) -> None:
        self.args = args
        self.url: str = args.url
        # Keypair first: a bad file is an error before any network traffic.
        self.signer: Optional[Keypair] = load_keypair(args.keypair) if signer else None
        fee_payer = getattr(args, "fee_payer", None)
        self.fee_payer: Optional[Keypair] = load_keypair(fee_payer) if fee_payer else self.signer
        self.rpc: Any = None
        self.client: Any = None

    @property
    def chain(self) -> Any:
        return self.client.chain

    @property
    def commitment(self) -> str:
        return commitment_of(self.args)

    def send_config(self) -> Any:
        return send_config(self.args)

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
        from iopay.core.tx import TransactionSender

        prog = ProgramIdl.load(getattr(self.args, "idl", None) or "job_escrow")
        commitment = getattr(self.args, "commitment", None) or "confirmed"
        # Reads at confirmed by default, as the Solana CLI (solana-py's default would be finalized).
        self.rpc = AsyncClient(self.url, timeout=30, commitment=commitment)  # type: ignore[arg-type]
        errors = ErrorRegistry()
        errors.add(prog.errors)
        self.sender = TransactionSender(self.rpc, self.send_config(), errors=errors)
        chain = RpcChain(self.rpc, self.sender, [EventDecoder(prog)], commitment=commitment)
        self.client = EscrowClient(chain, self.fee_payer or Keypair(), prog)
        await self._ping()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self.rpc is not None:
            await self.rpc.close()

    async def _ping(self) -> None:
        try:
            try:
                await self.rpc.get_slot()  # once: a refused connection fails at once
            except Exception as e:  # noqa: BLE001 - refused: no retrying; anything else: retried with backoff
                if "refused" in unreachable(self.url, e):
                    raise
                await self.sender.call("get_slot")
        except Exception as e:  # noqa: BLE001 - reported in one line
            raise cli_error(unreachable(self.url, e))

    # -- reads ---------------------------------------------------------------

    async def lamports(self, who: Pubkey) -> int:
        return (await self.sender.call("get_balance", who)).value

    async def rent(self, size: int) -> int:
        return (await self.sender.call("get_minimum_balance_for_rent_exemption", size)).value

    async def token_account(self, address: Pubkey) -> Any:
        """The token account at ``address`` (None when missing); anything
        else (a mint, a wallet, a program's account) is a one-line error
        saying what it is."""
        from iopay.core.wallet import WrongAccount, get_token_account

        try:
            return await get_token_account(self.client.chain, address, missing_ok=True)
        except WrongAccount as e:
            raise cli_error(str(e))

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


def _root_cause(e: BaseException) -> BaseException:
    seen = set()
    while id(e) not in seen:
        seen.add(id(e))
        nxt = e.__cause__ or e.__context__
        if nxt is None:
            break
        e = nxt
    return e


def unreachable(url: str, e: BaseException) -> str:
    """"connection refused at URL" and the like, never a bare exception repr."""
    root = _root_cause(e)
    text = f"{_short(root)} {_short(e)}".lower()
    if isinstance(root, ConnectionRefusedError) or "connection refused" in text or "connect call failed" in text \
            or "all connection attempts failed" in text:
        return f"connection refused at {url}: is the RPC node running? (start one with `iopay localnet`)"
    if "name or service not known" in text or "nodename nor servname" in text or "temporary failure in name" in text:
        return f"cannot resolve the host of {url}"
    if isinstance(root, (TimeoutError, asyncio.TimeoutError)) or "timed out" in text or "timeout" in text:
        return f"the RPC node at {url} did not answer in time"
    return f"cannot reach the RPC node at {url}: {_short(root) if str(root) else type(root).__name__}"


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
    from iopay.core.chain import WarpUnsupported
    from iopay.core.wallet import WalletError

    from iopay.escrow.keeper.metrics import MetricsPortInUse

    if isinstance(e, (WalletError, WarpUnsupported)):
        return str(e)
    if isinstance(e, OSError) and e.strerror and (isinstance(e, MetricsPortInUse) or "metrics" in e.strerror):
        return e.strerror
    if isinstance(e, (LookupError, ValueError)) and str(e):
        # The SDK's contract: a missing account is a LookupError and a bad argument a ValueError
        # with a plain message, both raised before anything is encoded or sent.
        return str(e).splitlines()[0]
    if isinstance(e, RpcRetriesExhausted):
        url = getattr(e, "url", None)
        return unreachable(url, e) if url else f"RPC node unavailable: {_short(_root_cause(e))}"
    try:
        import httpx

        if isinstance(e, httpx.HTTPError):
            return f"RPC request failed: {_short(e) if str(e) else type(e).__name__}"
    except ImportError:  # pragma: no cover
        pass
    if isinstance(e, (ConnectionError, OSError, asyncio.TimeoutError)):
        return f"network error: {_short(e)}"
    if type(e).__name__ == "SolanaRpcException":
        return f"RPC request failed: {_short(_root_cause(e))}"
    return None


def dry_run_report(args: argparse.Namespace, d: Any) -> None:
    data = {"dry_run": True, "sent": False, "units_consumed": d.units, "compute_unit_limit": d.cu_limit,
            "compute_unit_price": d.priority_fee, "fee_payer": str(d.fee_payer), "size": d.size, "logs": d.logs}
    lines = [f"dry run: the simulation succeeded; nothing sent",
             f"  fee payer          {d.fee_payer}",
             f"  compute units      {d.units} (limit {d.cu_limit}, price {d.priority_fee} micro-lamports/CU)",
             f"  transaction size   {d.size} bytes"] + [f"  log: {line}" for line in d.logs]
    emit_output(args, data, lambda: "\n".join(lines))


def run(coro_fn: Callable[[], Awaitable[int]]) -> int:
    """Run a command coroutine; expected failures -> CliError (one line)."""
    from iopay.core.tx import DryRun

    async def main() -> int:
        return await coro_fn()

    try:
        return asyncio.run(main())
    except CliError:
        raise
    except DryRun as d:
        dry_run_report(_current_args[0], d) if _current_args else print(str(d))
        return 0
    except Exception as e:  # noqa: BLE001 - mapped or re-raised
        msg = describe_error(e)
        if msg is None:
            raise
        raise cli_error(msg)


#: the arguments of the command being run (set by :func:`iopay.cli.main.main`), for :func:`run`'s reports
_current_args: List[argparse.Namespace] = []


def progress(msg: str) -> None:
    """Progress of long work, on stderr (stdout stays machine-readable)."""
    print(msg, file=sys.stderr, flush=True)


def emit(args: argparse.Namespace, data: Dict[str, Any], lines: Optional[List[str]] = None) -> None:

    def show() -> str:
        if lines is not None:
            return "\n".join(lines)
        w = max((len(k) for k in data), default=0)
        return "\n".join(f"{k:<{w}}  {display_value(v)}" for k, v in data.items())

    emit_output(args, data, show)


def display_value(v: Any) -> str:
    """A value for display output: never a Python repr (no True/None/[{...}])."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, dict):
        return ", ".join(f"{k} {display_value(x)}" for k, x in v.items()) or "-"
    if isinstance(v, (list, tuple)):
        if not v:
            return "none"
        if any(isinstance(x, dict) for x in v):
            return "\n" + "\n".join(f"    {display_value(x)}" for x in v)
        return ", ".join(display_value(x) for x in v)
    return str(v)
