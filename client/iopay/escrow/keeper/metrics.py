"""Keeper metrics a person can read: counters and gauges, a one-line summary
for the periodic ``metrics`` log line, Prometheus text, and a tiny HTTP
endpoint on 127.0.0.1 serving it (``GET /metrics``; ``GET /`` is JSON)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from typing import Any, Dict, Optional

from iopay.core.units import plural

#: ``# HELP`` text of every metric (Prometheus exposition format)
HELP: Dict[str, str] = {
    "rounds": "Keeper rounds run.",
    "jobs_watched": "Jobs with hours due now or later, in the last round.",
    "payouts_sent": "Worker slots paid (one slot settled in one transaction is one payout).",
    "worker_hours_paid": "Worker-hours paid.",
    "tokens_paid": "Tokens paid to workers, in base units of the mint.",
    "fees_paid": "Protocol fees paid to the treasury, in base units of the mint.",
    "transactions_sent": "Settlement transactions confirmed.",
    "transactions_failed": "Settlement transactions that failed.",
    "compute_units": "Compute units consumed by settlement transactions.",
    "already_settled": "Payouts found already settled on chain (replays, racing keepers).",
    "payout_failures": "Payouts given up on in a round (retried the next round).",
    "retries": "Transactions retried.",
    "splits": "Batches split because they did not fit a transaction.",
    "lookup_table_entries_added": "Addresses added to the keeper's lookup tables.",
    "tables_active": "Keeper lookup tables in use.",
    "tables_deactivating": "Keeper lookup tables deactivated and waiting to be closed.",
    "tables_closed": "Keeper lookup tables closed, rent returned to the payer.",
    "lamports_recovered": "Lamports of rent recovered by closing lookup tables.",
    "missing_token_accounts": "Payouts skipped because the worker's token account does not exist.",
    "due_last_round": "Payouts due at the start of the last round.",
    "backlog": "Payouts still due at the end of the last round.",
    "lag_seconds_last": "Seconds between an hour boundary and the transaction paying it, last payout.",
    "lag_seconds_max": "Largest payout lag in seconds.",
    "lag_seconds_sum": "Sum of payout lags in seconds.",
    "lag_samples": "Payout lags observed.",
    "last_round_ts": "Cluster unix time of the last round (0 before the first).",
    "next_due_ts": "Cluster unix time the next hour falls due (0 when nothing is pending).",
    "payouts_per_tx": "Payouts per settlement transaction (0 before the first).",
    "lag_seconds_avg": "Average payout lag in seconds (0 before the first payout).",
}


class MetricsPortInUse(OSError):
    """The metrics port is taken by another process."""


@dataclass
class Metrics:
    rounds: int = 0
    jobs_watched: int = 0
    #: worker slots paid (one slot settled in one transaction = one payout)
    payouts_sent: int = 0
    worker_hours_paid: int = 0
    tokens_paid: int = 0
    fees_paid: int = 0
    transactions_sent: int = 0
    transactions_failed: int = 0
    compute_units: int = 0
    #: payouts found already settled on chain (replays, racing keepers): success, nothing paid twice
    already_settled: int = 0
    #: payouts given up on in a round (retried next round)
    payout_failures: int = 0
    retries: int = 0
    splits: int = 0
    lookup_table_entries_added: int = 0
    #: keeper lookup tables in use / deactivated and waiting to be closed (gauges)
    tables_active: int = 0
    tables_deactivating: int = 0
    #: tables closed and their rent returned to the payer (lamports)
    tables_closed: int = 0
    lamports_recovered: int = 0
    missing_token_accounts: int = 0
    #: payouts due at the start of the last round / still due at its end
    due_last_round: int = 0
    backlog: int = 0
    #: seconds between an hour boundary and the transaction paying it (cluster clock)
    lag_seconds_last: float = 0.0
    lag_seconds_max: float = 0.0
    lag_seconds_sum: float = 0.0
    lag_samples: int = 0
    last_round_ts: int = 0
    next_due_ts: int = 0
    #: transactions (or their preflight) refused with NothingToSettle: wasted, the hours were paid already
    nothing_to_settle_transactions: int = 0
    #: sharded keepers: payouts of another shard paid after its takeover grace
    takeover_payouts: int = 0
    #: websocket job discovery: reconnections (each one resubscribes and resnapshots), notifications received
    discovery_reconnects: int = 0
    discovery_notifications: int = 0

    @property
    def payouts_per_tx(self) -> float:
        return self.payouts_sent / self.transactions_sent if self.transactions_sent else 0.0

    @property
    def lag_seconds_avg(self) -> float:
        return self.lag_seconds_sum / self.lag_samples if self.lag_samples else 0.0

    def observe_lag(self, seconds: float) -> None:
        self.lag_seconds_last = seconds
        self.lag_seconds_max = max(self.lag_seconds_max, seconds)
        self.lag_seconds_sum += seconds
        self.lag_samples += 1

    #: times that do not exist yet (no round, nothing pending): null in JSON, 0 in Prometheus text
    OPTIONAL_TIMES = ("last_round_ts", "next_due_ts")

    def snapshot(self) -> Dict[str, Any]:
        """JSON view: counters and gauges, absent times as null."""
        d = asdict(self)
        d["payouts_per_tx"] = round(self.payouts_per_tx, 3)
        d["lag_seconds_avg"] = round(self.lag_seconds_avg, 3)
        for k in self.OPTIONAL_TIMES:
            d[k] = d[k] or None
        return d

    def summary(self) -> str:
        return (f"{plural(self.payouts_sent, 'payout')} ({plural(self.worker_hours_paid, 'worker-hour')}, "
                f"{self.tokens_paid} base units) in {plural(self.transactions_sent, 'transaction')} "
                f"({self.payouts_per_tx:.1f} per transaction); lag last {self.lag_seconds_last:.0f} s, "
                f"max {self.lag_seconds_max:.0f} s; failed: {plural(self.payout_failures, 'payout')}, "
                f"{plural(self.transactions_failed, 'transaction')}; backlog {plural(self.backlog, 'payout')}; "
                f"watching {plural(self.jobs_watched, 'job')}")

    def prometheus(self, prefix: str = "iopay_keeper") -> str:
        counters = {"rounds", "payouts_sent", "worker_hours_paid", "tokens_paid", "fees_paid", "transactions_sent",
                    "transactions_failed", "compute_units", "already_settled", "payout_failures", "retries",
                    "splits", "lookup_table_entries_added", "missing_token_accounts", "tables_closed",
                    "lamports_recovered", "nothing_to_settle_transactions", "takeover_payouts",
                    "discovery_reconnects", "discovery_notifications"}
        lines = []
        for k, v in self.snapshot().items():
            kind = "counter" if k in counters else "gauge"
            name = f"{prefix}_{k}" + ("_total" if kind == "counter" else "")
            lines.append(f"# HELP {name} {HELP.get(k, k.replace('_', ' ') + '.')}")
            lines.append(f"# TYPE {name} {kind}")
            lines.append(f"{name} {0 if v is None else v}")
        return "\n".join(lines) + "\n"


class MetricsServer:
    """``GET /metrics`` (Prometheus text) and ``GET /`` (JSON) on ``host`` (default 127.0.0.1)."""

    def __init__(self, metrics: Metrics, port: int = 0, host: str = "127.0.0.1") -> None:
        self.metrics = metrics
        self.host = host
        self.port = port
        self._server: Optional[asyncio.AbstractServer] = None

    async def start(self) -> int:
        import errno

        try:
            self._server = await asyncio.start_server(self._handle, self.host, self.port)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise MetricsPortInUse(e.errno, f"metrics port {self.port} on {self.host} is already in use "
                                                f"(pick another --metrics-port, or 0 for any free port)") from None
            raise OSError(e.errno, f"cannot serve metrics on {self.host}:{self.port}: {e.strerror}") from None
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 5)
            parts = line.decode("latin-1").split()
            path = parts[1] if len(parts) > 1 else "/"
            for _ in range(100):  # drain headers, bounded
                h = await asyncio.wait_for(reader.readline(), 5)
                if h in (b"\r\n", b"\n", b""):
                    break
            if path.startswith("/metrics"):
                body, ctype = self.metrics.prometheus().encode(), "text/plain; version=0.0.4"
            else:
                body, ctype = json.dumps(self.metrics.snapshot()).encode(), "application/json"
            writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                         f"Connection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (asyncio.TimeoutError, ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
