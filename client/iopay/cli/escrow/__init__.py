"""job_escrow's subcommands of the ``iopay`` CLI: ``pda`` (offline), and over
JSON-RPC ``market``, ``job``, ``keeper`` (registered by
:func:`iopay.cli.main.build_parser`)."""

from __future__ import annotations

import argparse
from typing import Any, Dict

from iopay.cli.common import emit_output, parse_pubkey, program_of, u64_int


def cmd_pda(args: argparse.Namespace) -> int:
    from iopay.core import pda

    prog = program_of(args)
    pid = prog.program_id
    market, mbump = pda.market_pda(pid, args.mint)
    data: Dict[str, Any] = {"program_id": str(pid), "market": str(market), "market_bump": mbump}
    if args.customer is not None and args.job_id is not None:
        job, jbump = pda.job_pda(pid, market, args.customer, args.job_id)
        vault, vbump = pda.vault_pda(pid, job)
        data.update(job=str(job), job_bump=jbump, vault=str(vault), vault_bump=vbump)
    data["event_authority"] = str(pda.event_authority_pda(pid))
    emit_output(args, data, lambda: "\n".join(f"{k:<16} {v}" for k, v in data.items()))
    return 0


def add_parsers(sub: Any) -> None:
    from iopay.cli.escrow import job, keeper, market

    s = sub.add_parser("pda", help="derive job-escrow addresses (offline)")
    s.add_argument("--mint", type=parse_pubkey, required=True, help="the market's mint")
    s.add_argument("--customer", type=parse_pubkey, help="customer wallet (with --job-id: the job and its vault)")
    s.add_argument("--job-id", type=u64_int, help="job id, 0..2^64-1 (with --customer)")
    s.set_defaults(func=cmd_pda)
    market.add_parser(sub)
    job.add_parser(sub)
    keeper.add_parser(sub)
