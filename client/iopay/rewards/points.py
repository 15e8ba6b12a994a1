"""Reward points and the split of a pool: pure, integer-only, deterministic.

Formula (config ``version`` 1, every weight an integer in the config)::

    uptime_term = uptime_weight * uptime_bps        if uptime_bps >= min_uptime_bps else 0
    hours_term  = job_hour_weight * job_hours
    points      = (hours_term + uptime_term) * gpu_pct(gpu_model) * band_pct(bandwidth)

* ``job_hours``: whole hours the worker was paid for by job_escrow in the
  epoch (its settlement events, :mod:`iopay.rewards.hours`);
* ``uptime_bps``: measured uptime in basis points (0..10000);
* ``gpu_pct``: the GPU model's tier multiplier in percent (``gpu_tiers``;
  an unknown model refuses the epoch rather than guessing);
* ``band_pct``: the multiplier in percent of the highest bandwidth band whose
  ``min_download_mbps`` and ``min_upload_mbps`` the worker meets (``bandwidth_bands``,
  the first band must have both minimums at 0).

Split (:func:`allocate`): worker ``i`` gets ``floor(pool * p_i / P)``; the
remainder ``pool - sum`` (< number of workers) goes one unit each to the
workers with the largest fractional parts ``pool * p_i mod P``, ties broken
by wallet bytes ascending. The amounts are exact integers summing to the pool.
No floats anywhere, so the same inputs give the same amounts on every machine.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from solders.pubkey import Pubkey

BPS = 10_000

DEFAULT_CONFIG: Dict[str, Any] = {
    "version": 1,
    "name": "launch-v1",
    "job_hour_weight": 100,
    "uptime_weight": 1,
    "min_uptime_bps": 5_000,
    "gpu_tiers": {
        "H100": 300, "A100": 220, "L40S": 180, "RTX 4090": 150, "A6000": 130,
        "RTX 3090": 110, "RTX 4080": 110, "RTX 3080": 100, "T4": 80, "other": 60,
    },
    "bandwidth_bands": [
        {"name": "basic", "min_download_mbps": 0, "min_upload_mbps": 0, "pct": 90},
        {"name": "standard", "min_download_mbps": 100, "min_upload_mbps": 50, "pct": 100},
        {"name": "fast", "min_download_mbps": 500, "min_upload_mbps": 250, "pct": 110},
        {"name": "datacenter", "min_download_mbps": 1_000, "min_upload_mbps": 1_000, "pct": 125},
    ],
    # Epoch N covers [epoch_start_ts + N * epoch_seconds, ... + epoch_seconds).
    "epoch_start_ts": 1_700_000_000,
    "epoch_seconds": 604_800,
}


class EpochRefused(ValueError):
    """The epoch cannot be computed; nothing is written."""


@dataclass(frozen=True)
class Band:
    name: str
    min_download_mbps: int
    min_upload_mbps: int
    pct: int


@dataclass(frozen=True)
class RewardsConfig:
    version: int
    name: str
    job_hour_weight: int
    uptime_weight: int
    min_uptime_bps: int
    gpu_tiers: Dict[str, int]
    bandwidth_bands: Tuple[Band, ...]
    epoch_start_ts: int
    epoch_seconds: int

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RewardsConfig":
        if d.get("version") != 1:
            raise ValueError(f"unsupported rewards config version {d.get('version')!r} (this SDK reads 1)")
        ints = ["job_hour_weight", "uptime_weight", "min_uptime_bps", "epoch_start_ts", "epoch_seconds"]
        for k in ints:
            if not isinstance(d.get(k), int) or isinstance(d.get(k), bool) or d[k] < 0:
                raise ValueError(f"config: {k} must be a non-negative integer")
        if d["epoch_seconds"] == 0:
            raise ValueError("config: epoch_seconds must be positive")
        tiers = d.get("gpu_tiers")
        if not isinstance(tiers, dict) or not tiers or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in tiers.values()):
            raise ValueError("config: gpu_tiers must map GPU models to non-negative integer percents")
        bands = tuple(Band(**b) for b in d.get("bandwidth_bands", []))
        if not bands or bands[0].min_download_mbps != 0 or bands[0].min_upload_mbps != 0:
            raise ValueError("config: the first bandwidth band must start at 0/0 Mbps")
        for a, b in zip(bands, bands[1:]):
            if b.min_download_mbps < a.min_download_mbps or b.min_upload_mbps < a.min_upload_mbps:
                raise ValueError("config: bandwidth bands must be in increasing order")
        return cls(1, str(d.get("name", "")), d["job_hour_weight"], d["uptime_weight"], d["min_uptime_bps"],
                   dict(tiers), bands, d["epoch_start_ts"], d["epoch_seconds"])

    @classmethod
    def load(cls, path: Optional[str | Path] = None) -> "RewardsConfig":
        return cls.from_dict(DEFAULT_CONFIG if path is None else json.loads(Path(path).read_text()))

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["bandwidth_bands"] = [asdict(b) for b in self.bandwidth_bands]
        return d

    @property
    def digest(self) -> str:
        """sha256 of the canonical JSON: identifies the exact formula used."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    def epoch_range(self, epoch: int) -> Tuple[int, int]:
        start = self.epoch_start_ts + epoch * self.epoch_seconds
        return start, start + self.epoch_seconds

    def band_of(self, download_mbps: int, upload_mbps: int) -> Band:
        out = self.bandwidth_bands[0]
        for b in self.bandwidth_bands:
            if download_mbps >= b.min_download_mbps and upload_mbps >= b.min_upload_mbps:
                out = b
        return out


# -- inputs ------------------------------------------------------------------------------

INPUT_FIELDS = ("wallet", "gpu_model", "download_mbps", "upload_mbps", "uptime_bps")


@dataclass(frozen=True)
class WorkerInput:
    wallet: Pubkey
    gpu_model: str
    download_mbps: int
    upload_mbps: int
    uptime_bps: int
    line: int


def _row_error(line: int, msg: str) -> EpochRefused:
    return EpochRefused(f"line {line}: {msg}; epoch refused")


def _int_field(row: Mapping[str, Any], key: str, line: int, hi: Optional[int] = None) -> int:
    v = row.get(key)
    if isinstance(v, str) and v.strip().isdigit():
        v = int(v.strip())
    if not isinstance(v, int) or isinstance(v, bool) or v < 0 or (hi is not None and v > hi):
        rng = f"0..{hi}" if hi is not None else ">= 0"
        raise _row_error(line, f"{key} must be an integer {rng}, got {row.get(key)!r}")
    return v


def parse_row(row: Mapping[str, Any], line: int, config: RewardsConfig) -> WorkerInput:
    extra = set(row) - set(INPUT_FIELDS)
    missing = [k for k in INPUT_FIELDS if row.get(k) in (None, "")]
    if missing:
        raise _row_error(line, f"missing {', '.join(missing)}")
    if extra:
        raise _row_error(line, f"unknown column(s) {', '.join(sorted(map(str, extra)))}")
    try:
        wallet = Pubkey.from_string(str(row["wallet"]).strip())
    except ValueError:
        raise _row_error(line, f"wallet {row['wallet']!r} is not a base58 public key") from None
    gpu = str(row["gpu_model"]).strip()
    if gpu not in config.gpu_tiers:
        raise _row_error(line, f"unknown gpu_model {gpu!r} (config {config.name} knows: "
                               f"{', '.join(sorted(config.gpu_tiers))})")
    return WorkerInput(wallet, gpu, _int_field(row, "download_mbps", line), _int_field(row, "upload_mbps", line),
                       _int_field(row, "uptime_bps", line, BPS), line)


def _json_items(text: str) -> List[Tuple[int, Any]]:
    """(line, item) of every element of a top-level JSON array."""
    dec = json.JSONDecoder()
    i = 0
    ws = " \t\r\n"

    def skip(i: int) -> int:
        while i < len(text) and text[i] in ws:
            i += 1
        return i

    def line_at(i: int) -> int:
        return text.count("\n", 0, i) + 1

    i = skip(i)
    if i >= len(text) or text[i] != "[":
        raise EpochRefused("line 1: a JSON inputs file is an array of worker objects; epoch refused")
    i = skip(i + 1)
    out: List[Tuple[int, Any]] = []
    if i < len(text) and text[i] == "]":
        return out
    while True:
        try:
            item, end = dec.raw_decode(text, i)
        except json.JSONDecodeError as e:
            raise _row_error(e.lineno, f"invalid JSON ({e.msg})") from None
        out.append((line_at(i), item))
        i = skip(end)
        if i < len(text) and text[i] == ",":
            i = skip(i + 1)
            continue
        if i < len(text) and text[i] == "]":
            if skip(i + 1) != len(text):
                raise _row_error(line_at(i + 1), "unexpected data after the array")
            return out
        raise _row_error(line_at(i), "expected ',' or ']'")


def parse_inputs(text: str, fmt: str, config: RewardsConfig) -> List[WorkerInput]:
    """Rows of an inputs file (``fmt`` = ``csv`` or ``json``). Any bad row
    (or a wallet listed twice) refuses the whole epoch with its line number."""
    rows: List[Tuple[int, Any]]
    if fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        header = reader.fieldnames or []
        if sorted(header) != sorted(INPUT_FIELDS):
            raise EpochRefused(f"line 1: CSV header must be {','.join(INPUT_FIELDS)}, got {','.join(header)}; "
                               "epoch refused")
        rows = []
        for r in reader:
            if None in r:
                raise _row_error(reader.line_num, "too many fields")
            rows.append((reader.line_num, r))
    elif fmt == "json":
        rows = _json_items(text)
    else:
        raise ValueError(f"inputs format must be csv or json, got {fmt!r}")
    out: List[WorkerInput] = []
    seen: Dict[Pubkey, int] = {}
    for line, r in rows:
        if not isinstance(r, dict):
            raise _row_error(line, "a row must be an object with " + ", ".join(INPUT_FIELDS))
        w = parse_row(r, line, config)
        if w.wallet in seen:
            raise _row_error(line, f"wallet {w.wallet} already listed on line {seen[w.wallet]}")
        seen[w.wallet] = line
        out.append(w)
    if not out:
        raise EpochRefused("the inputs file lists no worker; epoch refused")
    return out


def read_inputs(path: str | Path, config: RewardsConfig) -> List[WorkerInput]:
    p = Path(path)
    fmt = "json" if p.suffix.lower() == ".json" else "csv" if p.suffix.lower() == ".csv" else None
    if fmt is None:
        raise ValueError(f"inputs file must end in .csv or .json: {p}")
    return parse_inputs(p.read_text(), fmt, config)


# -- points ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Points:
    """One worker's points with every term, for ``iopay rewards show``."""

    wallet: Pubkey
    job_hours: int
    hours_term: int
    uptime_bps: int
    uptime_term: int
    gpu_model: str
    gpu_pct: int
    download_mbps: int
    upload_mbps: int
    band: str
    band_pct: int
    points: int


def points_of(w: WorkerInput, job_hours: int, config: RewardsConfig) -> Points:
    hours_term = config.job_hour_weight * job_hours
    uptime_term = config.uptime_weight * w.uptime_bps if w.uptime_bps >= config.min_uptime_bps else 0
    gpu_pct = config.gpu_tiers[w.gpu_model]
    band = config.band_of(w.download_mbps, w.upload_mbps)
    pts = (hours_term + uptime_term) * gpu_pct * band.pct
    return Points(w.wallet, job_hours, hours_term, w.uptime_bps, uptime_term, w.gpu_model, gpu_pct,
                  w.download_mbps, w.upload_mbps, band.name, band.pct, pts)


def compute_points(inputs: Sequence[WorkerInput], hours: Mapping[Pubkey, int],
                   config: RewardsConfig) -> List[Points]:
    """Points of every input row. A wallet with job hours but no inputs row
    refuses the epoch (its measurements are missing, not zero)."""
    listed = {w.wallet for w in inputs}
    unmeasured = sorted((str(k) for k, h in hours.items() if h > 0 and k not in listed))
    if unmeasured:
        more = f" (and {len(unmeasured) - 3} more)" if len(unmeasured) > 3 else ""
        raise EpochRefused(f"worker(s) {', '.join(unmeasured[:3])}{more} did job hours this epoch but have no "
                           "row in the inputs file; epoch refused")
    return [points_of(w, hours.get(w.wallet, 0), config) for w in inputs]


def allocate(pool: int, weights: Sequence[Tuple[bytes, int]]) -> List[int]:
    """Split ``pool`` by ``weights`` ((tie-break key, points) pairs): exact
    integers summing to ``pool``; largest remainder, ties by key ascending."""
    if pool < 0:
        raise ValueError("pool must be >= 0")
    total = sum(p for _, p in weights)
    if total <= 0:
        raise EpochRefused("no worker earned any points; epoch refused")
    base = [pool * p // total for _, p in weights]
    left = pool - sum(base)
    order = sorted(range(len(weights)), key=lambda i: (-(pool * weights[i][1] % total), weights[i][0]))
    for i in order[:left]:
        base[i] += 1
    return base
