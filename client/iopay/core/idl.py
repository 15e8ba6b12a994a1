"""Load committed Anchor IDLs (spec 0.1.0, Anchor 0.30+/1.x) and code with them.

Borsh (de)serialisation uses anchorpy's coders (``anchorpy3`` reads the new
IDL format). What anchorpy does *not* cover is done here, from the raw JSON:

* instruction account metas: anchorpy's ``IdlAccount`` drops the ``address``
  field of fixed accounts, and its resolver is RPC-bound; we resolve fixed
  addresses, PDAs (``iopay.core.pda.resolve_pda``), ``relations`` (has_one) and the
  ``event_cpi`` ``program`` account from the IDL itself;
* account discriminators: anchorpy's ``AccountsCoder`` recomputes them from
  ``sha256("account:<Name>")`` instead of reading the IDL's ``discriminator``
  arrays (its lookup runs on the resolved type definition, which carries
  none); ``ProgramIdl`` checks the IDL's values against the coder's and
  re-keys the coder when they differ (custom discriminators).

IDL lookup order: ``$IOPAY_IDL_DIR``, the repository's ``idl/`` (found by
walking up from this file), then ``iopay/idl/`` inside the installed package
(a wheel build copies ``idl/*.json`` there).
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from anchorpy import Coder, Idl
from construct import Bytes, Sequence as CSequence, Switch
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from iopay.core.errors import ErrorTable
from iopay.core.pda import FieldReader, UnresolvedSeed, event_authority_pda, resolve_pda

AccountFetcher = Callable[[Pubkey], Optional[bytes]]


class IdlNotFound(FileNotFoundError):
    pass


def idl_search_path() -> List[Path]:
    dirs: List[Path] = []
    env = os.environ.get("IOPAY_IDL_DIR")
    if env:
        dirs.append(Path(env))
    for parent in Path(__file__).resolve().parents:
        if (parent / "idl").is_dir() and (parent / "pyproject.toml").is_file():
            dirs.append(parent / "idl")
            break
    dirs.append(Path(str(resources.files("iopay"))) / "idl")
    return dirs


def find_idl(name: str) -> Path:
    for d in idl_search_path():
        p = d / f"{name}.json"
        if p.is_file():
            return p
    raise IdlNotFound(
        f"IDL {name}.json not found in: " + ", ".join(str(d) for d in idl_search_path())
    )


def load_idl_json(name_or_path: str | Path) -> Dict[str, Any]:
    p = Path(name_or_path)
    if p.suffix != ".json":
        p = find_idl(str(name_or_path))
    return json.loads(p.read_text())


class IdlVersionError(ValueError):
    pass


def check_spec(raw: Mapping[str, Any]) -> None:
    """Refuse pre-0.30 IDLs loudly instead of mis-decoding them."""
    spec = (raw.get("metadata") or {}).get("spec")
    if not raw.get("address") or not spec:
        raise IdlVersionError(
            "IDL lacks 'address'/'metadata.spec': legacy (pre-0.30) IDLs are not supported; "
            "regenerate it with Anchor 0.30+"
        )
    if spec.split(".")[0] != "0" or spec.split(".")[1] != "1":
        raise IdlVersionError(f"unsupported IDL spec {spec!r} (this SDK reads 0.1.x)")


def _flatten_accounts(items: Sequence[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
    out: List[Mapping[str, Any]] = []
    for it in items:
        if "accounts" in it:  # composite `Accounts` struct
            out.extend(_flatten_accounts(it["accounts"]))
        else:
            out.append(it)
    return out


class ProgramIdl:
    """One program's IDL: coders, errors and instruction building."""

    def __init__(self, raw: Mapping[str, Any], program_id: Optional[Pubkey] = None) -> None:
        check_spec(raw)
        self.raw: Dict[str, Any] = dict(raw)
        self.name: str = raw["metadata"]["name"]
        self.program_id: Pubkey = program_id or Pubkey.from_string(raw["address"])
        self.idl: Idl = Idl.from_json(json.dumps(self.raw))
        self.coder: Coder = Coder(self.idl)
        self._fix_account_discriminators()
        self.errors = ErrorTable.from_idl(self.raw, self.program_id)
        self._types = {t["name"]: t for t in raw.get("types", [])}
        self._ixs = {ix["name"]: ix for ix in raw.get("instructions", [])}

    @classmethod
    def load(cls, name_or_path: str | Path, program_id: Optional[Pubkey] = None) -> "ProgramIdl":
        return cls(load_idl_json(name_or_path), program_id)

    # -- discriminators -----------------------------------------------------

    def _fix_account_discriminators(self) -> None:
        acc = self.coder.accounts
        idl_discs = {
            a["name"]: bytes(a["discriminator"])
            for a in self.raw.get("accounts", [])
            if a.get("discriminator")
        }
        if all(acc.acc_name_to_discriminator.get(n) == d for n, d in idl_discs.items()):
            return
        acc.acc_name_to_discriminator.update(idl_discs)
        acc.discriminator_to_acc_name = {d: n for n, d in acc.acc_name_to_discriminator.items()}
        layouts = {d: acc._accounts_layout[n] for n, d in acc.acc_name_to_discriminator.items()}
        acc.discriminator_size = max(len(d) for d in acc.acc_name_to_discriminator.values())
        acc.subcon = CSequence(
            "discriminator" / Bytes(acc.discriminator_size),
            Switch(lambda this: this.discriminator, layouts),
        )

    def account_discriminator(self, name: str) -> bytes:
        return self.coder.accounts.acc_name_to_discriminator[name]

    def instruction_discriminator(self, name: str) -> bytes:
        return bytes(self._ixs[name]["discriminator"])

    def event_discriminator(self, name: str) -> bytes:
        for e in self.raw.get("events", []):
            if e["name"] == name:
                return bytes(e["discriminator"])
        raise KeyError(name)

    # -- types --------------------------------------------------------------

    def type_def(self, name: str) -> Mapping[str, Any]:
        return self._types[name]

    def field_type(self, type_name: str, path: str) -> Any:
        ty: Any = {"defined": {"name": type_name}}
        for part in path.split("."):
            name = ty["defined"]["name"] if isinstance(ty["defined"], dict) else ty["defined"]
            fields = self._types[name]["type"]["fields"]
            ty = next(f["type"] for f in fields if f["name"] == part)
        return ty

    # -- accounts -----------------------------------------------------------

    def decode_account(self, data: bytes) -> Tuple[str, Any]:
        """(account type name, decoded Container) for raw account data."""
        named = self.coder.accounts.parse(data)
        return named.name, named.data

    def decode_account_as(self, name: str, data: bytes) -> Any:
        got, value = self.decode_account(data)
        if got != name:
            raise ValueError(f"account is a {got}, expected {name}")
        return value

    def field_reader(self, fetch: AccountFetcher) -> FieldReader:
        def read(address: Pubkey, path: str) -> Tuple[Any, Any]:
            data = fetch(address)
            if data is None:
                raise UnresolvedSeed(f"account {address} does not exist")
            type_name, value = self.decode_account(data)
            for part in path.split("."):
                value = getattr(value, part)
            return value, self.field_type(type_name, path)

        return read

    # -- instructions -------------------------------------------------------

    def instruction_names(self) -> List[str]:
        return list(self._ixs)

    def instruction_accounts(self, name: str) -> List[Mapping[str, Any]]:
        return _flatten_accounts(self._ixs[name]["accounts"])

    def encode_args(self, name: str, args: Mapping[str, Any]) -> bytes:
        ix = self._ixs[name]
        missing = [a["name"] for a in ix["args"] if a["name"] not in args]
        if missing:
            raise ValueError(f"{name}: missing args {missing}")
        return self.coder.instruction.encode(name, dict(args))

    def resolve_accounts(
        self,
        name: str,
        accounts: Mapping[str, Pubkey],
        args: Mapping[str, Any] = {},
        fetch: Optional[AccountFetcher] = None,
    ) -> Dict[str, Pubkey]:
        """Fill in every account the IDL can derive; explicit ones win.

        Resolution repeats until stable so PDAs can depend on PDAs
        (``vault`` from ``job``)."""
        ix = self._ixs[name]
        arg_types = {a["name"]: a["type"] for a in ix["args"]}
        metas = self.instruction_accounts(name)
        out: Dict[str, Pubkey] = dict(accounts)
        reader = self.field_reader(fetch) if fetch else None
        progress = True
        while progress:
            progress = False
            for m in metas:
                n = m["name"]
                if n in out:
                    continue
                val: Optional[Pubkey] = None
                if "address" in m:
                    val = Pubkey.from_string(m["address"])
                elif "pda" in m:
                    try:
                        val = resolve_pda(
                            m["pda"], self.program_id, args=args, arg_types=arg_types,
                            accounts=out, read_field=reader,
                        )[0]
                    except UnresolvedSeed:
                        val = None
                elif n == "program" and any(x["name"] == "event_authority" for x in metas):
                    val = self.program_id  # #[event_cpi]'s self-program account
                elif n == "event_authority":
                    # #[event_cpi]: PDA [b"__event_authority"] (some IDL
                    # generators omit its `pda` entry).
                    val = event_authority_pda(self.program_id)
                elif m.get("relations") and reader is not None:
                    for rel in m["relations"]:
                        if rel in out:
                            try:
                                v, _ = reader(out[rel], n)
                                val = v
                                break
                            except (UnresolvedSeed, AttributeError):
                                pass
                if val is not None:
                    out[n] = val
                    progress = True
        return out

    def build_instruction(
        self,
        name: str,
        args: Mapping[str, Any],
        accounts: Mapping[str, Pubkey],
        *,
        fetch: Optional[AccountFetcher] = None,
        remaining: Sequence[AccountMeta] = (),
        overrides: Optional[Mapping[str, Pubkey]] = None,
    ) -> Instruction:
        """Build ``name`` with borsh-encoded ``args``.

        ``accounts`` maps IDL account names to keys; anything derivable is
        derived. ``overrides`` replace accounts *after* derivation (for
        substitution-attack tests). Optional accounts left out are passed as
        the program id, as Anchor expects."""
        resolved = self.resolve_accounts(name, accounts, args, fetch)
        if overrides:
            resolved.update(overrides)
        metas: List[AccountMeta] = []
        missing: List[str] = []
        for m in self.instruction_accounts(name):
            key = resolved.get(m["name"])
            if key is None:
                if m.get("optional"):
                    metas.append(AccountMeta(self.program_id, False, False))
                    continue
                missing.append(m["name"])
                continue
            metas.append(AccountMeta(key, bool(m.get("signer")), bool(m.get("writable"))))
        if missing:
            raise ValueError(f"{name}: cannot resolve accounts {missing}; pass them explicitly")
        return Instruction(self.program_id, self.encode_args(name, args), metas + list(remaining))

    def decode_instruction(self, data: bytes) -> Tuple[str, Any]:
        named = self.coder.instruction.parse(data)
        return named.name, named.data

    def anchorpy_program(self, provider: Any) -> Any:
        """An ``anchorpy.Program`` over this IDL for RPC use (its ``.rpc`` /
        ``.account`` namespaces); our builders do not need it."""
        from anchorpy import Program

        return Program(self.idl, self.program_id, provider)

    @cached_property
    def event_names(self) -> List[str]:
        return [e["name"] for e in self.raw.get("events", [])]
