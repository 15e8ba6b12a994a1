"""Shared machinery below every program's home; it imports no program module
and not the CLI (``tests/test_layout.py`` checks this).

| module | what |
|---|---|
| :mod:`iopay.core.idl` | Anchor IDL loading, account/instruction/event codecs, PDA resolution |
| :mod:`iopay.core.tx` | transaction sending: CU limit from simulation, priority fee, blockhash renewal, 429 backoff |
| :mod:`iopay.core.errors` | program and SPL Token error tables; typed, named errors |
| :mod:`iopay.core.events` | ``emit_cpi!``/``emit!`` event decoding (inner instructions survive log truncation) |
| :mod:`iopay.core.pda` | program-derived addresses |
| :mod:`iopay.core.spl` | SPL Token / Associated Token account layouts and instruction builders |
| :mod:`iopay.core.chain` | the ``Chain`` protocol and its backends (LiteSVM, JSON-RPC), ``rpc_chain(url, programs)`` |
| :mod:`iopay.core.harness` | the embedded LiteSVM test chain with the real SPL programs |
"""
