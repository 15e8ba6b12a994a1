"""Governance on SPL Governance (Realms): IO holders change the network's
parameters by token-weighted vote.

We do not write a governance program: ``programs/spl_governance`` builds the
crates.io ``spl-governance`` 4.0.0 with our SBPF toolchain, loaded at its
mainnet address. This home is the vote helper around it:

* :mod:`iopay.governance.program` - addresses, instruction builders, error codes;
* :mod:`iopay.governance.state` - decoded accounts and the vote math;
* :mod:`iopay.governance.actions` - job_escrow admin instructions for a market
  governed by the DAO, and proposal instructions decoded into text;
* :mod:`iopay.governance.client` - :class:`GovernanceClient` (async).
"""
