"""anchorpy3's coders on Anchor 1.x IDLs (spec 0.1.0), our account resolver,
PDA helpers, event decoding and error mapping. No chain needed."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from solders.instruction import AccountMeta, CompiledInstruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.transaction_status import InstructionErrorCustom, TransactionErrorInstructionError

from tests.core.idl_fixture import mini_idl
from iopay.core import pda
from iopay.core.errors import ErrorRegistry, ProgramError, error_class, parse_anchor_error
from iopay.core.events import EVENT_IX_TAG, EventDecoder, encode_cpi_event_data, encode_log_event
from iopay.core.idl import IdlVersionError, ProgramIdl
from iopay.core.spl import TOKEN_PROGRAM_ID


@pytest.fixture(params=["mini", "committed"])
def prog(request, escrow_idl) -> ProgramIdl:  # type: ignore[no-untyped-def]
    return ProgramIdl(mini_idl()) if request.param == "mini" else escrow_idl


def _pk(i: int) -> Pubkey:
    return Pubkey.from_bytes(bytes([i]) * 32)


def _job_bytes(prog: ProgramIdl, n_workers: int = 1, state: int = 1) -> bytes:
    body = bytes(_pk(1)) + bytes(_pk(2)) + struct.pack("<QBHI", 9, state, 250, 10)
    body += struct.pack("<qqqiBBqQ", 1_700_000_000, 1_700_003_600, 25_000_000, -8, 254, 253, 1_700_086_400, 0)
    body += bytes(16) + struct.pack("<I", n_workers)
    for i in range(n_workers):
        body += bytes(_pk(10 + i)) + struct.pack("<QQIIqBHQ?", 1_500_000 + i, 0, 10, i + 3, 1_700_000_100 + i, 1,
                                                  0, 0, False)
    return prog.account_discriminator("Job") + body


def test_event_ix_tag_is_anchors() -> None:
    assert EVENT_IX_TAG == bytes([0xE4, 0x45, 0xA5, 0x2E, 0x51, 0xCB, 0x9A, 0x1D])
    assert int.from_bytes(EVENT_IX_TAG, "little") == 0x1D9ACB512EA545E4


def test_discriminators_come_from_the_idl(prog: ProgramIdl) -> None:
    for a in prog.raw["accounts"]:
        assert prog.account_discriminator(a["name"]) == bytes(a["discriminator"])
        assert bytes(a["discriminator"]) == hashlib.sha256(f"account:{a['name']}".encode()).digest()[:8]
    for ix in prog.raw["instructions"]:
        assert prog.coder.instruction.sighashes[ix["name"]] == bytes(ix["discriminator"])
    for e in prog.raw["events"]:
        assert prog.coder.events.discriminators[bytes(e["discriminator"])] == e["name"]


def test_custom_account_discriminator_is_honoured() -> None:
    raw = mini_idl()
    raw["accounts"][0]["discriminator"] = [1]  # Job with a 1-byte custom discriminator
    raw["accounts"][1]["discriminator"] = [2]
    p = ProgramIdl(raw)
    name, job = p.decode_account(b"\x01" + _job_bytes(p)[1:])  # same body
    assert name == "Job"


def test_legacy_idl_is_refused() -> None:
    raw = mini_idl()
    del raw["address"]
    with pytest.raises(IdlVersionError):
        ProgramIdl(raw)


def test_decode_job_account_with_enum_and_vec(prog: ProgramIdl) -> None:
    name, job = prog.decode_account(_job_bytes(prog, n_workers=2))
    assert name == "Job"
    assert (job.market, job.customer, job.job_id) == (_pk(1), _pk(2), 9)
    assert (job.hours, job.fee_bps, job.created_ts, job.ended_ts) == (10, 250, 1_700_000_000, 1_700_003_600)
    assert (job.usd_price, job.usd_expo, job.bump, job.vault_bump) == (25_000_000, -8, 254, 253)
    assert type(job.state).__name__ == "Ended"
    assert [(w.worker, w.rate_per_hour, w.hours, w.hours_paid, w.start_ts, type(w.status).__name__)
            for w in job.workers] == [(_pk(10), 1_500_000, 10, 3, 1_700_000_100, "Active"),
                                      (_pk(11), 1_500_001, 10, 4, 1_700_000_101, "Active")]
    with pytest.raises(ValueError, match="is a Job"):
        prog.decode_account_as("Market", _job_bytes(prog))


def test_instruction_roundtrip(prog: ProgramIdl) -> None:
    workers = [{"worker": _pk(7), "rate_per_hour": 5}, {"worker": _pk(8), "rate_per_hour": 6}]
    data = prog.encode_args("open_job", {"job_id": 2**64 - 1, "hours": 7, "usd": True, "accept_window": 600,
                                         "max_total": 99, "workers": workers})
    assert data[:8] == prog.instruction_discriminator("open_job")
    assert data[8:] == (struct.pack("<QIBIQI", 2**64 - 1, 7, 1, 600, 99, 2) + bytes(_pk(7)) + struct.pack("<Q", 5)
                        + bytes(_pk(8)) + struct.pack("<Q", 6))
    name, args = prog.decode_instruction(data)
    assert name == "open_job" and (args.job_id, args.hours, args.usd) == (2**64 - 1, 7, True)
    assert [(w.worker, w.rate_per_hour) for w in args.workers] == [(_pk(7), 5), (_pk(8), 6)]
    settle = prog.encode_args("settle", {"slots": bytes([0, 3])})
    assert settle[8:] == struct.pack("<I", 2) + bytes([0, 3])
    with pytest.raises(ValueError, match="missing args"):
        prog.encode_args("open_job", {"job_id": 1})


def test_open_job_accounts_resolve_from_the_idl(prog: ProgramIdl) -> None:
    """Market PDA from the market's stored mint, job PDA from an arg, vault
    from the job, mint via `relations`, event authority, fixed programs."""
    mint, customer, worker, ctok, treasury = (Keypair().pubkey() for _ in range(5))
    market, _ = pda.market_pda(prog.program_id, mint)
    market_data = (prog.account_discriminator("Market") + bytes(Keypair().pubkey()) + bytes(mint) + bytes(treasury)
                   + struct.pack("<HHIBBQ", 250, 1, 100, 0, 255, 0) + bytes(32) + struct.pack("<IH", 60, 100)
                   + bytes(32) + bytes([254]) + bytes(31))
    store = {market: market_data}
    args = {"job_id": 42, "hours": 1, "usd": False, "accept_window": 60, "max_total": 2,
            "workers": [{"worker": worker, "rate_per_hour": 1}]}
    ix = prog.build_instruction(
        "open_job", args, {"customer": customer, "market": market, "customer_token": ctok},
        fetch=store.get,
    )
    keys = {m["name"]: meta for m, meta in zip(prog.instruction_accounts("open_job"), ix.accounts)}
    job, _ = pda.job_pda(prog.program_id, market, customer, 42)
    assert keys["job"].pubkey == job and keys["job"].is_writable and not keys["job"].is_signer
    assert keys["vault"].pubkey == pda.vault_pda(prog.program_id, job)[0]
    assert keys["mint"].pubkey == mint
    assert keys["customer"].is_signer and keys["customer"].is_writable
    assert keys["token_program"].pubkey == TOKEN_PROGRAM_ID
    assert keys["event_authority"].pubkey == pda.event_authority_pda(prog.program_id)
    assert keys["program"].pubkey == prog.program_id
    # An optional account left out is passed as the program id (Anchor's None).
    assert keys["price_feed"].pubkey == prog.program_id and not keys["price_feed"].is_writable
    # The market PDA itself can be derived from its own stored mint.
    resolved = prog.resolve_accounts("open_job", {"customer": customer}, {"job_id": 42}, fetch=store.get)
    assert "market" not in resolved  # needs the market address to read market.mint
    with pytest.raises(ValueError, match="cannot resolve"):
        prog.build_instruction("open_job", {**args, "job_id": 1}, {"customer": customer})


def test_overrides_replace_derived_accounts(prog: ProgramIdl) -> None:
    job, fake_vault, wt, tr = (Keypair().pubkey() for _ in range(4))
    mint = Keypair().pubkey()
    ix = prog.build_instruction(
        "settle", {"slots": b"\x00"}, {"job": job},
        overrides={"vault": fake_vault}, remaining=[AccountMeta(wt, False, True)],
    )
    names = [m["name"] for m in prog.instruction_accounts("settle")]
    assert ix.accounts[names.index("vault")].pubkey == fake_vault
    assert ix.accounts[len(names)] == AccountMeta(wt, False, True)  # remaining accounts last


def _hours_settled_body(prog: ProgramIdl) -> bytes:
    """HoursSettled { job, settled_ts, paid: [SlotPaid { slot 1, worker, hours 2, secs 0, hours_paid 5,
    amount, fee }], skipped: [] }"""
    return (bytes(_pk(3)) + struct.pack("<qI", 1_700_007_200, 1) + bytes([1]) + bytes(_pk(4))
            + struct.pack("<IHIQQI", 2, 0, 5, 3_000_000, 75_000, 0))


def test_emit_cpi_event_from_inner_instruction(prog: ProgramIdl) -> None:
    dec = EventDecoder(prog)
    data = encode_cpi_event_data(prog.event_discriminator("HoursSettled"), _hours_settled_body(prog))
    keys = [Keypair().pubkey(), prog.program_id, TOKEN_PROGRAM_ID]
    inner = [[
        CompiledInstruction(2, bytes([3]) + bytes(8), bytes([0])),  # a token transfer
        CompiledInstruction(1, data, bytes([0])),  # the self-CPI event
        CompiledInstruction(1, b"\x00" * 8 + data[8:], bytes([0])),  # not tagged: ignored
    ]]
    (ev,) = dec.from_inner_instructions(inner, keys)
    assert ev.name == "HoursSettled" and ev.source == "cpi"
    (p,) = ev.paid
    assert (ev.job, p.worker, p.hours, p.hours_paid, p.amount, p.fee, ev.settled_ts) == (
        _pk(3), _pk(4), 2, 5, 3_000_000, 75_000, 1_700_007_200)
    # Same bytes but emitted by another program: not ours.
    assert dec.from_inner_instructions([[CompiledInstruction(2, data, b"")]], keys) == []


def test_emit_log_event_only_from_our_program(prog: ProgramIdl) -> None:
    dec = EventDecoder(prog)
    line = encode_log_event(prog.event_discriminator("HoursSettled"), _hours_settled_body(prog))
    pid = str(prog.program_id)
    logs = [
        f"Program {pid} invoke [1]",
        "Program log: Instruction: Settle",
        f"Program {TOKEN_PROGRAM_ID} invoke [2]",
        line,  # logged by the token program's frame: ignored
        f"Program {TOKEN_PROGRAM_ID} success",
        line,
        "Program data: !!!notbase64",
        f"Program {pid} consumed 1000 of 200000 compute units",
        f"Program {pid} success",
    ]
    evs = dec.from_logs(logs)
    assert [e.name for e in evs] == ["HoursSettled"] and evs[0].source == "log"
    assert evs[0].paid[0].amount == 3_000_000


def test_error_mapping_names_idl_and_anchor_codes(prog: ProgramIdl) -> None:
    reg = ErrorRegistry()
    reg.add(prog.errors)
    pid = str(prog.program_id)
    logs = [
        f"Program {pid} invoke [1]",
        "Program log: AnchorError thrown in programs/job_escrow/src/instructions/open_job.rs:70. "
        "Error Code: Paused. Error Number: 6000. Error Message: Market is paused: no new jobs can be opened.",
        f"Program {pid} consumed 5000 of 200000 compute units",
        f"Program {pid} failed: custom program error: 0x1770",
    ]
    err = reg.decode(TransactionErrorInstructionError(1, InstructionErrorCustom(6000)), logs)
    assert isinstance(err, error_class("Paused")) and isinstance(err, ProgramError)
    assert (err.code, err.name, err.program_id, err.instruction_index) == (6000, "Paused", prog.program_id, 1)
    assert err.msg.startswith("Market is paused")
    # Anchor framework error with the account named.
    logs2 = [
        f"Program {pid} invoke [1]",
        "Program log: AnchorError caused by account: market. Error Code: ConstraintSeeds. "
        "Error Number: 2006. Error Message: A seeds constraint was violated.",
        f"Program {pid} failed: custom program error: 0x7d6",
    ]
    err2 = reg.decode(TransactionErrorInstructionError(0, InstructionErrorCustom(2006)), logs2)
    assert (err2.name, err2.account) == ("ConstraintSeeds", "market")
    # Code 1 raised by the token program inside our instruction.
    logs3 = [f"Program {pid} invoke [1]", f"Program {TOKEN_PROGRAM_ID} invoke [2]",
             f"Program {TOKEN_PROGRAM_ID} failed: custom program error: 0x1",
             f"Program {pid} failed: custom program error: 0x1"]
    err3 = reg.decode(TransactionErrorInstructionError(0, InstructionErrorCustom(1)), logs3)
    assert (err3.name, err3.program_id) == ("InsufficientFunds", TOKEN_PROGRAM_ID)
    # No logs: fall back to the top-level program of the failing instruction.
    err4 = reg.decode(TransactionErrorInstructionError(0, InstructionErrorCustom(6001)), [], [prog.program_id])
    assert err4.name == "InvalidFee"
    assert parse_anchor_error(["nothing"]) is None


def test_committed_idl_matches_program_source(escrow_idl: ProgramIdl) -> None:
    """Seeds in the IDL agree with the hand-written helpers in iopay.core.pda."""
    seeds = {s["value"] and bytes(s["value"]) for ix in escrow_idl.raw["instructions"]
             for a in ix["accounts"] if "pda" in a for s in a["pda"]["seeds"] if s["kind"] == "const"}
    assert {pda.MARKET_SEED, pda.JOB_SEED, pda.VAULT_SEED, pda.PRICE_FEED_SEED} <= seeds
    init = {a["name"]: a for a in escrow_idl.instruction_accounts("init_market")}
    resolved = escrow_idl.resolve_accounts("init_market", {"mint": _pk(5)})
    assert resolved["program_data"] == pda.program_data_address(escrow_idl.program_id)
    assert resolved["market"] == pda.market_pda(escrow_idl.program_id, _pk(5))[0]
    assert "program_data" in init


async def test_anchorpy_program_builds_from_the_idl(escrow_idl: ProgramIdl) -> None:
    """anchorpy's Program (RPC namespaces) accepts the Anchor 1.x IDL; no
    request is made."""
    from anchorpy import Provider, Wallet
    from solana.rpc.async_api import AsyncClient

    client = AsyncClient("http://127.0.0.1:8899")
    prog = escrow_idl.anchorpy_program(Provider(client, Wallet(Keypair())))
    assert prog.program_id == escrow_idl.program_id
    assert {"Market", "Job"} <= set(prog.account.keys())
    assert "settle" in prog.rpc and "open_job" in prog.instruction
    await client.close()


def test_transaction_level_errors_read_as_words() -> None:
    from solders.transaction_status import TransactionErrorFieldless, TransactionErrorInsufficientFundsForRent

    from iopay.core.errors import ErrorRegistry

    reg = ErrorRegistry()
    e = reg.decode(TransactionErrorInsufficientFundsForRent(1))
    assert str(e).startswith("transaction failed: insufficient funds for rent: account 1 of the transaction")
    assert str(reg.decode(TransactionErrorFieldless.AlreadyProcessed)) == "transaction failed: AlreadyProcessed"
