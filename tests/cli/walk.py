"""Walk every ``iopay`` subcommand with hostile values.

The subcommands are discovered from the argparse parser
(:func:`iopay.cli.build_parser`), so a new command is covered the day it is
added. For each leaf command and each argument taking a value, the other
required arguments get plausible values and the argument under test gets
each hostile value of its kind (negative, zero, huge, non-numeric, empty,
wrong account types, missing/garbage files). ``--dry-run`` is added so a
command that accepts everything still sends nothing.

A run passes when ``iopay`` exits 0, or exits 1 with exactly one line
``error: ...`` on stderr; a traceback (an exception escaping ``main``) or an
"internal error" fails it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple
from unittest.mock import patch

from iopay import cli
from iopay.cli import inference as cli_inference

U64_OVER = str(2**64)
HUGE = "9" * 40
#: commands not walked: ``localnet`` runs a server until stopped (its options are argparse-checked)
SKIP = {("localnet",)}


@dataclass
class Values:
    """Plausible and hostile values for one environment (offline or a localnet)."""

    wallet: str
    mint: str
    token_account: str
    job: str
    keypair_file: str
    missing_file: str
    directory: str
    garbage_file: str
    others: List[str] = field(default_factory=list)  # more wrong-type addresses (program, missing, ...)


def leaves(parser: argparse.ArgumentParser, path: Tuple[str, ...] = ()) -> Iterator[Tuple[Tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for a in subs:
        for name, p in a.choices.items():
            yield from leaves(p, path + (name,))


def value_actions(p: argparse.ArgumentParser) -> List[argparse.Action]:
    out = []
    for a in p._actions:
        if isinstance(a, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
            continue
        if a.nargs == 0:
            continue  # flags
        if a.dest in ("url", "output", "idl", "commitment"):
            continue  # global options: walked separately
        out.append(a)
    return out


def kind(a: argparse.Action) -> str:
    name = getattr(a.type, "__name__", "") if a.type else ""
    d = a.dest
    if d == "worker":
        return "worker"
    if name == "parse_pubkey":
        return "pubkey"
    if d in ("keypair", "fee_payer", "keypair_file", "upgrade_authority", "mint_keypair", "outfile"):
        return "file"
    if a.choices:
        return "choice"
    if d in ("bpf_program", "upgradeable_program"):
        return "skip"
    return "number"


def plausible(a: argparse.Action, v: Values) -> List[str]:
    k = kind(a)
    if k == "worker":
        return [f"{v.wallet}:1"]
    if k == "pubkey":
        if a.dest in ("mint",):
            return [v.mint]
        if a.dest in ("treasury", "from_account"):
            return [v.token_account]
        if a.dest == "job":
            return [v.job]
        return [v.wallet]
    if k == "file":
        return [v.keypair_file]
    if k == "choice":
        return [str(list(a.choices)[0])]
    if a.dest == "code":
        return ["6003"]
    return ["1"]


def hostile(a: argparse.Action, v: Values) -> List[str]:
    k = kind(a)
    if k == "worker":
        return [f"{v.wallet}:-1", f"{v.wallet}:abc", f"{v.wallet}:{2**64 - 1}base", f"{v.wallet}:{HUGE}",
                f"{v.wallet}:0.0000000001", f"{v.wallet}:1e999", f"{v.wallet}:nan", "nocolon", f"{v.mint}:1",
                "notakey:1", f"{v.wallet}:0"]
    if k == "pubkey":
        return ["notakey", "", "-1", v.mint, v.token_account, v.job, v.wallet, *v.others]
    if k == "file":
        return [v.missing_file, v.directory, v.garbage_file, ""]
    if k == "choice":
        return ["bogus"]
    if k == "skip":
        return []
    return ["-1", "0", U64_OVER, "abc", "", "-0.5", "1e999", "nan", "0.0000000001"]


def argv_for(path: Sequence[str], p: argparse.ArgumentParser, v: Values, under_test: Optional[argparse.Action],
             value: Optional[str]) -> List[str]:
    argv: List[str] = list(path)
    positional: List[str] = []
    for a in value_actions(p):
        if a is under_test:
            vals = [value] if value is not None else []
        elif a.required or not a.option_strings:
            if a.nargs == "?" or a.nargs == "*":
                continue
            vals = plausible(a, v)
        else:
            continue
        if not a.option_strings:
            positional += vals
        else:
            for x in vals:
                argv += [f"{a.option_strings[-1]}={x}"]
    if path[:2] == ("keeper", "run"):
        argv.append("--once")
    if any("--dry-run" in a.option_strings for a in p._actions):
        argv.append("--dry-run")
    # "--" keeps values like "-1" positional (as a shell user would have to)
    return argv + (["--", *positional] if positional else [])


@dataclass
class Outcome:
    argv: List[str]
    code: int
    out: str
    err: str


_PARSER: List[argparse.ArgumentParser] = []


def run_iopay(argv: Sequence[str]) -> Outcome:
    """``iopay ARGV`` in-process (one parser for every run: building it is the slow part)."""
    if not _PARSER:
        _PARSER.append(cli.build_parser())
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = cli.main(list(argv), parser=_PARSER[0])
        except SystemExit as e:  # argparse: Parser.error exits 1
            code = int(e.code or 0) if not isinstance(e.code, str) else 1
    return Outcome(list(argv), code, out.getvalue(), err.getvalue())


PY_REPR = re.compile(r"\bNone\b|\bTrue\b|\bFalse\b|\{'|\[\{|\{\"|SolanaRpcException")


def problem(o: Outcome) -> Optional[str]:
    """Why this outcome breaks the rules (None when fine)."""
    if "Traceback" in o.err or "internal error" in o.err:
        return f"traceback/internal error: {o.err.strip()[:500]}"
    if "json" not in o.argv and PY_REPR.search(o.out):
        return f"Python repr in display output: {o.out[:500]!r}"
    if o.code == 0:
        return None
    if o.code != 1:
        return f"exit status {o.code}"
    lines = o.err.strip("\n").split("\n")
    if len(lines) != 1 or not lines[0].startswith("error: "):
        return f"not one error line: {o.err[:500]!r}"
    for repr_ in ("SolanaRpcException()", "{'", "[{"):
        if repr_ in o.err:
            return f"Python repr in the message: {o.err.strip()}"
    return None


def _stop_soon(stop: asyncio.Event) -> None:
    """Stands in for the servers' Ctrl-C handler: a server the walk starts
    (``provider serve``, ``provider settle`` without ``--once``) stops after a
    moment, as if interrupted, instead of serving until the test times out."""
    asyncio.get_running_loop().call_later(SERVE_SECONDS, stop.set)


SERVE_SECONDS = 0.5


def walk(v: Values, globals_: Sequence[str], *, only: Optional[Callable[[Tuple[str, ...]], bool]] = None) -> Tuple[int, List[str]]:
    """(runs, failures) of every leaf command x argument x hostile value."""
    with patch.object(cli_inference, "_stop_on_signals", _stop_soon):
        return _walk(v, globals_, only)


def _walk(v: Values, globals_: Sequence[str], only: Optional[Callable[[Tuple[str, ...]], bool]]) -> Tuple[int, List[str]]:
    runs, failures = 0, []
    parser = cli.build_parser()
    for path, p in leaves(parser):
        if path in SKIP or (only and not only(path)):
            continue
        cases: List[Tuple[Optional[argparse.Action], Optional[str]]] = [(None, None)]
        for a in value_actions(p):
            cases += [(a, x) for x in hostile(a, v)]
        for a, x in cases:
            # a real signer (-k) unless -k itself is under test (the later -k wins)
            argv = [*globals_, "-k", v.keypair_file, *argv_for(path, p, v, a, x)]
            o = run_iopay(argv)
            runs += 1
            why = problem(o)
            if why:
                failures.append(f"iopay {' '.join(argv)}: {why}")
        # the global options, hostile, once per command
        for g in (["-k", v.missing_file], ["-k", v.garbage_file], ["--fee-payer", v.missing_file],
                  ["--with-compute-unit-price", "-1"], ["--commitment", "bogus"], ["-u", "ftp://x"],
                  ["-u", "127.0.0.1:notaport"]):
            argv = [*globals_, "-k", v.keypair_file, *g, *argv_for(path, p, v, None, None)]
            o = run_iopay(argv)
            runs += 1
            why = problem(o)
            if why:
                failures.append(f"iopay {' '.join(argv)}: {why}")
    return runs, failures
