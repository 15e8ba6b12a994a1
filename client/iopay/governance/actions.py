"""What IO holders vote on: job_escrow's admin instructions built for a
market whose authority is a governance PDA, and every proposal instruction
decoded back into readable text (``iopay gov show``) before anyone votes.

A market handed to the DAO has the governance PDA as its authority; only an
executed proposal (the governance program signing with that PDA) can then
change it.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from solders.instruction import Instruction
from solders.pubkey import Pubkey

from iopay.governance import program as gp


def _market_args(market: Any) -> None:
    for f in ("mint", "treasury", "fee_bps", "max_workers", "max_hours"):
        if not hasattr(market, f):
            raise TypeError("market must be a MarketView (iopay.escrow.state)")


def set_fee(escrow: Any, governance: Pubkey, market: Any, fee_bps: int) -> Instruction:
    """``update_market`` changing only the fee (limits and treasury kept)."""
    _market_args(market)
    if isinstance(fee_bps, bool) or not isinstance(fee_bps, int):
        raise TypeError("fee_bps must be an int")
    if not 0 <= fee_bps <= 10_000:
        raise ValueError("fee_bps must be 0..=10000")
    return escrow.update_market(authority=governance, mint=market.mint, treasury=market.treasury, fee_bps=fee_bps,
                                max_workers=market.max_workers, max_hours=market.max_hours)


def update_limits(escrow: Any, governance: Pubkey, market: Any, *, max_workers: Optional[int] = None,
                  max_hours: Optional[int] = None, treasury: Optional[Pubkey] = None) -> Instruction:
    """``update_market`` changing the limits (and/or treasury), fee kept."""
    _market_args(market)
    for n, v in (("max_workers", max_workers), ("max_hours", max_hours)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v <= 0):
            raise ValueError(f"{n} must be a positive int")
    if max_workers is None and max_hours is None and treasury is None:
        raise ValueError("nothing to update: give max_workers, max_hours or treasury")
    return escrow.update_market(authority=governance, mint=market.mint, treasury=treasury or market.treasury,
                                fee_bps=market.fee_bps, max_workers=max_workers or market.max_workers,
                                max_hours=max_hours or market.max_hours)


def set_paused(escrow: Any, governance: Pubkey, mint: Pubkey, paused: bool) -> Instruction:
    """job_escrow ``set_market_paused`` for ``mint``'s market, signed by the ``governance`` PDA (its authority)
    when the proposal executes. ``TypeError`` unless ``paused`` is a bool."""
    if not isinstance(paused, bool):
        raise TypeError("paused must be a bool")
    return escrow.set_market_paused(authority=governance, mint=mint, paused=paused)


def set_oracle_limits(escrow: Any, governance: Pubkey, mint: Pubkey, max_staleness: int,
                      max_conf_bps: int) -> Instruction:
    """job_escrow ``set_oracle_limits`` (staleness seconds, confidence bps) signed by the ``governance`` PDA;
    ``ValueError`` on negative or non-int limits."""
    for n, v in (("max_staleness", max_staleness), ("max_conf_bps", max_conf_bps)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{n} must be a non-negative int")
    return escrow.set_oracle_limits(authority=governance, mint=mint, max_staleness=max_staleness,
                                    max_conf_bps=max_conf_bps)


def set_authority(escrow: Any, governance: Pubkey, mint: Pubkey, new_authority: Pubkey) -> Instruction:
    """Propose handing the market on (to another governance or key) by vote;
    the new authority takes over when it signs ``accept_market_authority``
    (two-step hand-over, see :func:`accept_authority`)."""
    return escrow.set_market_authority(authority=governance, mint=mint, new_authority=new_authority)


def accept_authority(escrow: Any, governance: Pubkey, mint: Pubkey) -> Instruction:
    """``accept_market_authority`` for a proposal: the governance PDA takes
    over a market whose authority proposed it (the executed proposal signs)."""
    return escrow.accept_market_authority(new_authority=governance, mint=mint)


# -- readable text -------------------------------------------------------------------

def _fmt(v: Any) -> str:
    if isinstance(v, (bytes, bytearray)):
        return "0x" + bytes(v).hex()
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, Mapping) or (hasattr(v, "__dict__") and not isinstance(v, Pubkey)):
        return "{" + ", ".join(f"{k}={_fmt(x)}" for k, x in _items(v) if not str(k).startswith("_")) + "}"
    return str(v)


def _items(data: Any) -> list:
    if isinstance(data, Mapping):  # anchorpy's decoded args (construct Container)
        return list(data.items())
    return list(vars(data).items()) if hasattr(data, "__dict__") else []


def _args(data: Any) -> str:
    if data is None:
        return ""
    return ", ".join(f"{k}={_fmt(v)}" for k, v in _items(data) if not str(k).startswith("_"))


def describe_instruction(ix: Any, escrow: Any = None) -> str:
    """One line for an instruction a proposal carries (``InstructionData`` or
    a solders ``Instruction``): the program, the decoded call and the
    accounts that matter."""
    program_id, accounts, data = ix.program_id, list(ix.accounts), bytes(ix.data)
    signers = [str(m.pubkey) for m in accounts if m.is_signer]
    signed = f" signed by {', '.join(signers)}" if signers else ""
    if escrow is not None and program_id == escrow.program_id:
        try:
            name, args = escrow.program.decode_instruction(data)
        except Exception:  # noqa: BLE001 - shown as undecodable instead
            return f"job_escrow: undecodable data 0x{data.hex()}{signed}"
        names = [a["name"] for a in escrow.program.instruction_accounts(name)]
        by_name = {n: str(m.pubkey) for n, m in zip(names, accounts)}
        where = f" on market {by_name['market']}" if "market" in by_name else ""
        extra = f", treasury={by_name['treasury']}" if name == "update_market" and "treasury" in by_name else ""
        return f"job_escrow.{name}({_args(args)}{extra}){where}{signed}"
    if program_id == gp.GOVERNANCE_PROGRAM_ID and data:
        return f"spl_governance.{gp.INSTRUCTION_NAMES.get(data[0], f'instruction {data[0]}')}" \
               f" (data 0x{data[1:].hex()}){signed}"
    return f"program {program_id}: data 0x{data.hex()} with {len(accounts)} account(s){signed}"
