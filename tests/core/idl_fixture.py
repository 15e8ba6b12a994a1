"""A small IDL in the exact Anchor 0.30+/1.x format (spec 0.1.0: ``address``,
``metadata.spec``, ``discriminator`` arrays, types referenced as
``{"defined": {"name": ...}}``, events/accounts whose fields live in
``types``), modelled on job_escrow. Used to test the coders without the real
program's IDL. Discriminators are computed the way Anchor does."""

from __future__ import annotations

import hashlib
from typing import Any, Dict, List

ADDRESS = "B5T8K3qFKCuKxUXnxs6QY24Legzn6KoQXr5hr1E2oksG"
TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
SYSTEM = "11111111111111111111111111111111"


def disc(prefix: str, name: str) -> List[int]:
    return list(hashlib.sha256(f"{prefix}:{name}".encode()).digest()[:8])


def _f(name: str, ty: Any) -> Dict[str, Any]:
    return {"name": name, "type": ty}


def _defined(name: str) -> Dict[str, Any]:
    return {"defined": {"name": name}}


def _const(b: bytes) -> Dict[str, Any]:
    return {"kind": "const", "value": list(b)}


EVENT_AUTHORITY = {"name": "event_authority", "pda": {"seeds": [_const(b"__event_authority")]}}
PROGRAM = {"name": "program"}


def mini_idl() -> Dict[str, Any]:
    market_pda = {"seeds": [_const(b"market"), {"kind": "account", "path": "market.mint", "account": "Market"}]}
    job_pda_by_arg = {
        "seeds": [
            _const(b"job"),
            {"kind": "account", "path": "market"},
            {"kind": "account", "path": "customer"},
            {"kind": "arg", "path": "job_id"},
        ]
    }
    vault_pda = {"seeds": [_const(b"vault"), {"kind": "account", "path": "job"}]}
    return {
        "address": ADDRESS,
        "metadata": {"name": "job_escrow", "version": "0.1.0", "spec": "0.1.0", "description": "mini"},
        "instructions": [
            {
                "name": "open_job",
                "discriminator": disc("global", "open_job"),
                "accounts": [
                    {"name": "customer", "writable": True, "signer": True},
                    {"name": "market", "writable": True, "pda": market_pda},
                    {"name": "mint", "relations": ["market"]},
                    {"name": "job", "writable": True, "pda": job_pda_by_arg},
                    {"name": "vault", "writable": True, "pda": vault_pda},
                    {"name": "customer_token", "writable": True},
                    {"name": "price_feed", "optional": True},
                    {"name": "token_program", "address": TOKEN},
                    {"name": "system_program", "address": SYSTEM},
                    EVENT_AUTHORITY,
                    PROGRAM,
                ],
                "args": [_f("job_id", "u64"), _f("hours", "u32"), _f("usd", "bool"), _f("accept_window", "u32"),
                         _f("max_total", "u64"), _f("workers", {"vec": _defined("WorkerTerms")})],
            },
            {
                "name": "settle",
                "discriminator": disc("global", "settle"),
                "accounts": [
                    {"name": "job", "writable": True},
                    {"name": "vault", "writable": True, "pda": vault_pda},
                    {"name": "token_program", "address": TOKEN},
                    EVENT_AUTHORITY,
                    PROGRAM,
                ],
                "args": [_f("slots", "bytes")],
            },
        ],
        "accounts": [
            {"name": "Job", "discriminator": disc("account", "Job")},
            {"name": "Market", "discriminator": disc("account", "Market")},
        ],
        "events": [
            {"name": "HoursSettled", "discriminator": disc("event", "HoursSettled")},
            {"name": "JobOpened", "discriminator": disc("event", "JobOpened")},
        ],
        "errors": [
            {"code": 6000, "name": "Paused", "msg": "Market is paused: no new jobs can be opened"},
            {"code": 6001, "name": "InvalidFee", "msg": "Fee must be at most 10000 basis points"},
            {"code": 6008, "name": "NothingToSettle", "msg": "No completed hour is due for settlement"},
        ],
        "types": [
            {
                "name": "HoursSettled",
                "type": {
                    "kind": "struct",
                    "fields": [
                        _f("job", "pubkey"), _f("settled_ts", "i64"), _f("paid", {"vec": _defined("SlotPaid")}),
                        _f("skipped", "bytes"),
                    ],
                },
            },
            {
                "name": "SlotPaid",
                "type": {
                    "kind": "struct",
                    "fields": [
                        _f("slot", "u8"), _f("worker", "pubkey"), _f("hours", "u32"), _f("secs", "u16"),
                        _f("hours_paid", "u32"), _f("amount", "u64"), _f("fee", "u64"),
                    ],
                },
            },
            {
                "name": "Job",
                "type": {
                    "kind": "struct",
                    "fields": [
                        _f("market", "pubkey"), _f("customer", "pubkey"), _f("job_id", "u64"),
                        _f("state", _defined("JobState")), _f("fee_bps", "u16"), _f("hours", "u32"),
                        _f("created_ts", "i64"), _f("ended_ts", "i64"), _f("usd_price", "i64"),
                        _f("usd_expo", "i32"), _f("bump", "u8"),
                        _f("vault_bump", "u8"), _f("accept_deadline", "i64"), _f("fees_accrued", "u64"),
                        _f("reserved", {"array": ["u8", 16]}),
                        _f("workers", {"vec": _defined("WorkerSlot")}),
                    ],
                },
            },
            {
                "name": "JobOpened",
                "type": {
                    "kind": "struct",
                    "fields": [
                        _f("market", "pubkey"), _f("job", "pubkey"), _f("customer", "pubkey"),
                        _f("job_id", "u64"), _f("hours", "u32"), _f("fee_bps", "u16"),
                        _f("workers", {"vec": _defined("WorkerTerms")}), _f("principal", "u64"),
                        _f("fee", "u64"), _f("usd_price", "i64"), _f("usd_expo", "i32"),
                        _f("created_ts", "i64"),
                    ],
                },
            },
            {"name": "JobState", "type": {"kind": "enum", "variants": [{"name": "Open"}, {"name": "Ended"}]}},
            {
                "name": "Market",
                "type": {
                    "kind": "struct",
                    "fields": [
                        _f("authority", "pubkey"), _f("mint", "pubkey"), _f("treasury", "pubkey"),
                        _f("fee_bps", "u16"), _f("max_workers", "u16"), _f("max_hours", "u32"),
                        _f("paused", "bool"), _f("bump", "u8"), _f("job_count", "u64"),
                        _f("oracle", "pubkey"), _f("max_staleness", "u32"), _f("max_conf_bps", "u16"),
                        _f("pending_authority", "pubkey"), _f("fee_vault_bump", "u8"),
                        _f("reserved", {"array": ["u8", 31]}),
                    ],
                },
            },
            {
                "name": "WorkerSlot",
                "type": {
                    "kind": "struct",
                    "fields": [
                        _f("worker", "pubkey"), _f("rate_per_hour", "u64"), _f("usd_rate_per_hour", "u64"),
                        _f("hours", "u32"), _f("hours_paid", "u32"), _f("start_ts", "i64"),
                        _f("status", _defined("WorkerStatus")), _f("tail_secs", "u16"), _f("tail_pay", "u64"),
                        _f("tail_paid", "bool"),
                    ],
                },
            },
            {
                "name": "WorkerStatus",
                "type": {"kind": "enum", "variants": [{"name": "Pending"}, {"name": "Active"}, {"name": "Quit"},
                                                      {"name": "Declined"}]},
            },
            {
                "name": "WorkerTerms",
                "type": {"kind": "struct", "fields": [_f("worker", "pubkey"), _f("rate_per_hour", "u64")]},
            },
        ],
    }
