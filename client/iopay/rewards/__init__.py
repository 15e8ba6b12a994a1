"""Worker rewards' home: points per epoch and the Merkle distributor.

| module | what |
|---|---|
| :mod:`iopay.rewards.points` | versioned config, epoch inputs file, points formula, exact split of the pool |
| :mod:`iopay.rewards.hours` | job hours per wallet from job_escrow's settlement events (decoded or over RPC) |
| :mod:`iopay.rewards.merkle` | the tree and proofs, byte for byte as the program hashes them |
| :mod:`iopay.rewards.epoch` | :func:`compute_epoch` and the epoch file (amounts, terms, leaves, root) |
| :mod:`iopay.rewards.program` | instruction builders and addresses |
| :mod:`iopay.rewards.state` | decoded distributor view |
| :mod:`iopay.rewards.client` | :class:`RewardsClient`, the async client (publish, claim, clawback, status) |

Its CLI commands live in :mod:`iopay.cli.rewards`.
"""
