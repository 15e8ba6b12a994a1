"""iopay: Python SDK for the iopay settlement programs.

Layers (imports only go down; ``tests/test_layout.py`` enforces it):

| layer | package | what |
|---|---|---|
| command line | :mod:`iopay.cli` | the ``iopay`` CLI (``cli/escrow/``, ``credits``, ``inference``, ``governance``, ``rewards``, ``token``, ``wallet``); nothing imports it |
| applications | :mod:`iopay.demo` | the end-to-end demo |
| program home | :mod:`iopay.escrow` | job_escrow: builders, views + planning math, USD pricing, :class:`EscrowClient`, the keeper |
| program home | :mod:`iopay.credits` | iosd_credits: builders, views + delegate period math, :class:`CreditsClient` (jobs and inference channels paid with credits) |
| program home | :mod:`iopay.inference` | inference_pay: builders + voucher bytes, views, voucher signer/verifier/store, settler, HTTP 402 endpoint, :class:`InferenceClient` |
| program home | :mod:`iopay.governance` | SPL Governance (Realms): builders, Borsh views + vote math, market actions, :class:`GovernanceClient` |
| program home | :mod:`iopay.rewards` | rewards: points, job hours, Merkle tree, epoch file, builders, views, :class:`RewardsClient` |
| local validator | :mod:`iopay.localnet` | Solana JSON-RPC + websockets over LiteSVM |
| shared machinery | :mod:`iopay.core` | IDL, transactions, errors, events, PDAs, SPL, chain backends, LiteSVM harness, wallets, account watch |

Each program home holds ``program.py`` (instruction builders, addresses),
``state.py`` (decoded views, pure math) and ``client.py`` (the async client).

A backend connects with::

    import iopay
    client = iopay.connect("http://127.0.0.1:8899", payer)                     # an EscrowClient
    credits = iopay.connect("http://127.0.0.1:8899", payer, kind="credits")    # a CreditsClient
    job = await client.job(job_address)

or with the client class itself (``iopay.InferenceClient.connect(url, payer)``).
The names below are imported lazily, so ``import iopay`` stays cheap.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "EscrowClient": "iopay.escrow.client",
    "CreditsClient": "iopay.credits.client",
    "InferenceClient": "iopay.inference.client",
    "GovernanceClient": "iopay.governance.client",
    "RewardsClient": "iopay.rewards.client",
    "Sent": "iopay.core.chain",
    "LiteSvmChain": "iopay.core.chain",
    "RpcChain": "iopay.core.chain",
    "Harness": "iopay.core.harness",
    "ProgramIdl": "iopay.core.idl",
}

#: ``connect(kind=...)`` -> the client class it builds.
CLIENTS = {
    "escrow": "EscrowClient",
    "credits": "CreditsClient",
    "inference": "InferenceClient",
    "governance": "GovernanceClient",
    "rewards": "RewardsClient",
}

__all__ = ["connect", "__version__", *_EXPORTS]


def connect(url: str, payer: Any, kind: str = "escrow", **kwargs: Any) -> Any:
    """A program's async client over JSON-RPC at ``url`` (``http(s)://...`` or
    ``HOST:PORT``), ``payer`` (a solders ``Keypair``) paying fees, with the
    sender's defaults for a real cluster (see :func:`iopay.core.chain.rpc_chain`).

    ``kind`` picks the client: ``"escrow"`` (default, :class:`EscrowClient`),
    ``"credits"``, ``"inference"``, ``"governance"`` or ``"rewards"``; ``kwargs``
    go to that class's ``connect`` (e.g. ``commitment``, ``send_config``).
    Raises ``ValueError`` for an unknown ``kind`` or a bad URL, ``TypeError``
    if ``payer`` is not a ``Keypair``. Close it with ``await client.close()``
    or ``async with``."""
    name = CLIENTS.get(kind) if isinstance(kind, str) else None
    if name is None:
        raise ValueError(f"kind must be one of {', '.join(CLIENTS)}, got {kind!r}")
    return __getattr__(name).connect(url, payer, **kwargs)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'iopay' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
