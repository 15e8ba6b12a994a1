"""Map failed transactions to typed exceptions.

A transaction fails with ``InstructionError(index, Custom(code))``. A custom
code alone is ambiguous: it propagates unchanged through CPI, so code ``1``
can be the SPL Token program's ``InsufficientFunds`` raised inside our
instruction. The innermost failing program is read from the logs (the first
``Program <id> failed: ...`` line) and the code is named with *that*
program's table: the IDL's ``errors`` for Anchor programs (plus Anchor's
framework codes), ``TOKEN_ERRORS`` for the Token program.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Mapping, Optional, Sequence, Type

from solders.pubkey import Pubkey

from iopay.core.spl import TOKEN_ERRORS, TOKEN_PROGRAM_ID

# Anchor framework error codes (anchor-lang `error.rs`, stable across 0.29-1.x).
ANCHOR_ERRORS: Dict[int, str] = {
    100: "InstructionMissing",
    101: "InstructionFallbackNotFound",
    102: "InstructionDidNotDeserialize",
    103: "InstructionDidNotSerialize",
    1000: "IdlInstructionStub",
    1001: "IdlInstructionInvalidProgram",
    1002: "IdlAccountNotEmpty",
    1500: "EventInstructionStub",
    2000: "ConstraintMut",
    2001: "ConstraintHasOne",
    2002: "ConstraintSigner",
    2003: "ConstraintRaw",
    2004: "ConstraintOwner",
    2005: "ConstraintRentExempt",
    2006: "ConstraintSeeds",
    2007: "ConstraintExecutable",
    2008: "ConstraintState",
    2009: "ConstraintAssociated",
    2010: "ConstraintAssociatedInit",
    2011: "ConstraintClose",
    2012: "ConstraintAddress",
    2013: "ConstraintZero",
    2014: "ConstraintTokenMint",
    2015: "ConstraintTokenOwner",
    2016: "ConstraintMintMintAuthority",
    2017: "ConstraintMintFreezeAuthority",
    2018: "ConstraintMintDecimals",
    2019: "ConstraintSpace",
    2020: "ConstraintAccountIsNone",
    2021: "ConstraintTokenTokenProgram",
    2022: "ConstraintMintTokenProgram",
    2023: "ConstraintAssociatedTokenTokenProgram",
    2500: "RequireViolated",
    2501: "RequireEqViolated",
    2502: "RequireKeysEqViolated",
    2503: "RequireNeqViolated",
    2504: "RequireKeysNeqViolated",
    2505: "RequireGtViolated",
    2506: "RequireGteViolated",
    3000: "AccountDiscriminatorAlreadySet",
    3001: "AccountDiscriminatorNotFound",
    3002: "AccountDiscriminatorMismatch",
    3003: "AccountDidNotDeserialize",
    3004: "AccountDidNotSerialize",
    3005: "AccountNotEnoughKeys",
    3006: "AccountNotMutable",
    3007: "AccountOwnedByWrongProgram",
    3008: "InvalidProgramId",
    3009: "InvalidProgramExecutable",
    3010: "AccountNotSigner",
    3011: "AccountNotSystemOwned",
    3012: "AccountNotInitialized",
    3013: "AccountNotProgramData",
    3014: "AccountNotAssociatedTokenAccount",
    3015: "AccountSysvarMismatch",
    3016: "AccountReallocExceedsLimit",
    3017: "AccountDuplicateReallocs",
    4100: "DeclaredProgramIdMismatch",
    4101: "TryingToInitPayerAsProgramAccount",
    4102: "InvalidNumericConversion",
    5000: "Deprecated",
}

_FAILED_RE = re.compile(r"^Program (\w+) failed: (.*)$")
_ANCHOR_ERR_RE = re.compile(
    r"AnchorError (?:caused by account: (?P<account>\w+)|thrown in [^.]+?:\d+|occurred)\. "
    r"Error Code: (?P<name>\w+)\. Error Number: (?P<num>\d+)\. Error Message: (?P<msg>.*)$"
)


class TransactionError(Exception):
    """A transaction was rejected. ``err`` is the solders error object."""

    def __init__(self, message: str, err: Any = None, logs: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.err = err
        self.logs = list(logs)


class ProgramError(TransactionError):
    """An instruction failed with ``Custom(code)``; ``name`` is the error's name
    in the table of the program that raised it (``None`` if unknown)."""

    def __init__(
        self,
        *,
        code: int,
        name: Optional[str],
        msg: Optional[str],
        program_id: Optional[Pubkey],
        instruction_index: int,
        account: Optional[str] = None,
        err: Any = None,
        logs: Sequence[str] = (),
    ) -> None:
        where = f" (account: {account})" if account else ""
        super().__init__(
            f"instruction {instruction_index} failed in {program_id}: "
            f"{name or 'Unknown'} ({code}){where}{': ' + msg if msg else ''}",
            err,
            logs,
        )
        self.code = code
        self.name = name
        self.msg = msg
        self.program_id = program_id
        self.instruction_index = instruction_index
        self.account = account


_typed: Dict[str, Type[ProgramError]] = {}


def error_class(name: str) -> Type[ProgramError]:
    """The ProgramError subclass for error ``name`` (created once, cached), so
    callers can ``except error_class("Paused")`` or check ``isinstance``."""
    cls = _typed.get(name)
    if cls is None:
        cls = type(name, (ProgramError,), {"__module__": __name__})
        _typed[name] = cls
    return cls


@dataclass(frozen=True)
class ErrorTable:
    """Error names/messages of one program, keyed by custom code."""

    program_id: Pubkey
    codes: Mapping[int, tuple[str, Optional[str]]]

    @classmethod
    def from_idl(cls, idl: Mapping[str, Any], program_id: Optional[Pubkey] = None) -> "ErrorTable":
        """From raw IDL JSON (Anchor 0.30+: ``errors: [{code, name, msg}]``),
        merged over Anchor's framework codes."""
        pid = program_id or Pubkey.from_string(idl["address"])
        codes: Dict[int, tuple[str, Optional[str]]] = {c: (n, None) for c, n in ANCHOR_ERRORS.items()}
        for e in idl.get("errors", []) or []:
            codes[int(e["code"])] = (e["name"], e.get("msg"))
        return cls(pid, codes)

    @classmethod
    def token(cls) -> "ErrorTable":
        return cls(TOKEN_PROGRAM_ID, {c: (n, None) for c, n in TOKEN_ERRORS.items()})

    def name_of(self, code: int) -> Optional[str]:
        hit = self.codes.get(code)
        return hit[0] if hit else None

    def code_of(self, name: str) -> int:
        for c, (n, _) in self.codes.items():
            if n == name:
                return c
        raise KeyError(name)


@dataclass
class ErrorRegistry:
    """All known programs' tables; decodes solders transaction errors."""

    tables: Dict[Pubkey, ErrorTable] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.tables.setdefault(TOKEN_PROGRAM_ID, ErrorTable.token())

    def add(self, table: ErrorTable) -> None:
        self.tables[table.program_id] = table

    def decode(
        self,
        err: Any,
        logs: Sequence[str] = (),
        instruction_programs: Sequence[Pubkey] = (),
    ) -> TransactionError:
        """Turn a solders ``TransactionErrorType`` into an exception object.

        ``instruction_programs`` are the top-level program ids in instruction
        order, used when the logs do not name the failing program."""
        index = getattr(err, "index", None)
        inner = getattr(err, "err", None)
        code = getattr(inner, "code", None)
        if index is None or code is None:
            return TransactionError(f"transaction failed: {transaction_error_text(err)}", err, logs)
        program_id = _innermost_failed_program(logs)
        if program_id is None and 0 <= index < len(instruction_programs):
            program_id = instruction_programs[index]
        table = self.tables.get(program_id) if program_id else None
        name = msg = account = None
        if table and code in table.codes:
            name, msg = table.codes[code]
        anchor = parse_anchor_error(logs)
        if anchor and anchor["code"] == code:
            name = name or anchor["name"]
            msg = msg or anchor["msg"]
            account = anchor["account"]
        cls = error_class(name) if name else ProgramError
        return cls(
            code=code,
            name=name,
            msg=msg,
            program_id=program_id,
            instruction_index=index,
            account=account,
            err=err,
            logs=logs,
        )


def transaction_error_text(err: Any) -> str:
    """Words for a transaction-level error (not raised by an instruction):
    solders prints ``TransactionErrorInsufficientFundsForRent { account_index: 0 }``."""
    if type(err).__name__ == "TransactionErrorInsufficientFundsForRent":
        return (f"insufficient funds for rent: account {err.account_index} of the transaction would be left "
                f"with less than its rent-exempt minimum (and more than nothing)")
    text = str(err)
    for prefix in ("TransactionErrorFieldless.", "TransactionError"):
        if text.startswith(prefix):
            return text[len(prefix):]
    return text


def _innermost_failed_program(logs: Iterable[str]) -> Optional[Pubkey]:
    for line in logs:
        m = _FAILED_RE.match(line)
        if m:
            try:
                return Pubkey.from_string(m.group(1))
            except ValueError:
                return None
    return None


def parse_anchor_error(logs: Iterable[str]) -> Optional[Dict[str, Any]]:
    """The first ``AnchorError ...`` log line, parsed (name, code, msg, account)."""
    for line in logs:
        idx = line.find("AnchorError ")
        if idx < 0:
            continue
        m = _ANCHOR_ERR_RE.search(line[idx:])
        if m:
            return {
                "name": m.group("name"),
                "code": int(m.group("num")),
                "msg": m.group("msg"),
                "account": m.group("account"),
            }
    return None
