"""iopay: Python SDK for the iopay settlement programs.

Layers (imports only go down; ``tests/test_layout.py`` enforces it):

| layer | package | what |
|---|---|---|
| command line | :mod:`iopay.cli` | the ``iopay`` CLI; nothing imports it |
| applications | :mod:`iopay.demo` | the end-to-end demo |
| program homes | :mod:`iopay.escrow`, :mod:`iopay.credits` | one package per program: builders, views, planning math, async client, services |
| local validator | :mod:`iopay.localnet` | Solana JSON-RPC + websockets over LiteSVM |
| shared machinery | :mod:`iopay.core` | IDL, transactions, errors, events, PDAs, SPL, chain backends, LiteSVM harness |

A backend connects with::

    import iopay
    client = iopay.connect("http://127.0.0.1:8899", payer)   # an EscrowClient
    job = await client.job(job_address)

The names below are imported lazily, so ``import iopay`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "EscrowClient": "iopay.escrow.client",
    "CreditsClient": "iopay.credits.client",
    "Sent": "iopay.core.chain",
    "LiteSvmChain": "iopay.core.chain",
    "RpcChain": "iopay.core.chain",
    "Harness": "iopay.core.harness",
    "ProgramIdl": "iopay.core.idl",
}

__all__ = ["connect", "__version__", *_EXPORTS]


def connect(url: str, payer: Any, **kwargs: Any) -> Any:
    """The job-escrow client over JSON-RPC at ``url``, ``payer`` (a solders
    ``Keypair``) paying fees; see :meth:`iopay.escrow.client.EscrowClient.connect`."""
    from iopay.escrow.client import EscrowClient

    return EscrowClient.connect(url, payer, **kwargs)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'iopay' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
