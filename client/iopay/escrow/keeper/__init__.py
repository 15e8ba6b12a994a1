"""The keeper service: streams the hourly payouts of every running job.

* :mod:`iopay.escrow.keeper.service` - :class:`Keeper` (the loop: discover jobs,
  compute what is due from chain state and the cluster clock, sleep until
  the next hour boundary, settle, retry, stop gracefully);
* :mod:`iopay.escrow.keeper.planner` - packing payouts of many jobs into as few
  transactions as size, account locks and compute allow;
* :mod:`iopay.escrow.keeper.lookup` - the keeper's address lookup tables;
* :mod:`iopay.escrow.keeper.discovery` - :class:`JobWatch`: the jobs from one
  ``getProgramAccounts`` then ``programSubscribe``, resubscribing after drops;
* :mod:`iopay.escrow.keeper.shard` - ``--shard I/N``: several keepers split
  the jobs, and take over a silent one's overdue payouts after a grace period;
* :mod:`iopay.escrow.keeper.metrics` - counters, a readable summary, Prometheus text
  and a 127.0.0.1 HTTP endpoint;
* :mod:`iopay.escrow.keeper.logs` - JSON-lines structured logs.

Embedding it in a service::

    keeper = Keeper(EscrowClient(RpcChain(...), payer), [mint], KeeperConfig(concurrency=8))
    keeper.install_signal_handlers()
    await keeper.run()          # until SIGINT/SIGTERM or keeper.request_stop()

``iopay keeper run`` is the same from the command line.
"""

from iopay.escrow.keeper.discovery import JobWatch, ws_url_for
from iopay.escrow.keeper.logs import JsonLog, NullLog
from iopay.escrow.keeper.lookup import LookupTables
from iopay.escrow.keeper.metrics import Metrics, MetricsServer
from iopay.escrow.keeper.planner import Batch, BatchPlanner, CuModel, Limits, Payout, payouts_of
from iopay.escrow.keeper.service import Keeper, KeeperConfig, RoundReport
from iopay.escrow.keeper.shard import Shard, Takeover, shard_of

__all__ = ["Batch", "BatchPlanner", "CuModel", "JobWatch", "JsonLog", "Keeper", "KeeperConfig", "Limits", "LookupTables",
           "Metrics", "MetricsServer", "NullLog", "Payout", "RoundReport", "Shard", "Takeover", "payouts_of",
           "shard_of", "ws_url_for"]
