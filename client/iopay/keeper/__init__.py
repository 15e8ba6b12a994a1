"""The keeper service: streams the hourly payouts of every running job.

* :mod:`iopay.keeper.service` - :class:`Keeper` (the loop: discover jobs,
  compute what is due from chain state and the cluster clock, sleep until
  the next hour boundary, settle, retry, stop gracefully);
* :mod:`iopay.keeper.planner` - packing payouts of many jobs into as few
  transactions as size, account locks and compute allow;
* :mod:`iopay.keeper.lookup` - the keeper's address lookup tables;
* :mod:`iopay.keeper.metrics` - counters, a readable summary, Prometheus text
  and a 127.0.0.1 HTTP endpoint;
* :mod:`iopay.keeper.logs` - JSON-lines structured logs.

Embedding it in a service::

    keeper = Keeper(EscrowClient(RpcChain(...), payer), [mint], KeeperConfig(concurrency=8))
    keeper.install_signal_handlers()
    await keeper.run()          # until SIGINT/SIGTERM or keeper.request_stop()

``iopay keeper run`` is the same from the command line.
"""

from iopay.keeper.logs import JsonLog, NullLog
from iopay.keeper.lookup import LookupTables
from iopay.keeper.metrics import Metrics, MetricsServer
from iopay.keeper.planner import Batch, BatchPlanner, CuModel, Limits, Payout, payouts_of
from iopay.keeper.service import Keeper, KeeperConfig, RoundReport

__all__ = ["Batch", "BatchPlanner", "CuModel", "JsonLog", "Keeper", "KeeperConfig", "Limits", "LookupTables",
           "Metrics", "MetricsServer", "NullLog", "Payout", "RoundReport", "payouts_of"]
