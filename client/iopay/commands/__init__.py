"""RPC-backed subcommands of the ``iopay`` CLI: ``market``, ``job``, ``keeper``
(registered by :func:`iopay.cli.build_parser`)."""

from typing import Any


def add_parsers(sub: Any) -> None:
    from iopay.commands import job, keeper, market

    market.add_parser(sub)
    job.add_parser(sub)
    keeper.add_parser(sub)
