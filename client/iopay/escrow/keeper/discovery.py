"""Job discovery without polling every job every round: the keeper's
:class:`JobWatch` is an :class:`iopay.core.watch.AccountWatch` over the Job
accounts of its markets (one ``getProgramAccounts`` snapshot, then
``programSubscribe`` per market; see that module for the no-gap,
newest-wins and reconnect rules).

Closed jobs produce no program notification; a job is closed only once
nothing is owed on it, its last notification already said so, and the
periodic resnapshot drops it. The keeper calls :meth:`JobWatch.refresh` on
the jobs it just paid, so its next round never sees the state from before
its own transactions while their notification is on the way (which would
resend and waste a ``NothingToSettle`` transaction).
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

from solders.pubkey import Pubkey

from iopay.core.watch import MAX_MESSAGE, AccountWatch, ws_url_for
from iopay.escrow.state import JobView, job_filters

__all__ = ["JobWatch", "MAX_MESSAGE", "ws_url_for"]


class JobWatch(AccountWatch[Pubkey, JobView]):
    """The Job accounts of ``mints``' markets, kept current over websockets."""

    def __init__(self, client: Any, mints: Sequence[Pubkey], http_url: str, ws_url: Optional[str] = None,
                 **kw: Any) -> None:
        self.client = client
        self.program = client.program
        self.mints = list(mints)
        self.markets = {m: client.esc.market_address(m) for m in self.mints}
        mint_of_market = {v: k for k, v in self.markets.items()}
        groups = {m: job_filters(self.program, self.markets[m], None, None) for m in self.mints}
        super().__init__(self.program.program_id, groups, lambda a, d: JobView.decode(self.program, a, d),
                         lambda view: mint_of_market.get(view.market), http_url, ws_url, name="discovery", **kw)

    def jobs(self, mint: Pubkey) -> List[JobView]:
        return self.views(mint)
