"""A test/demo harness over ``solders.litesvm.LiteSVM``.

Real programs only: SPL Token is the one LiteSVM ships (loader v2 ELF), and
our programs are loaded from ``target/deploy/*.so`` at their IDL address,
deployed through the *upgradeable* loader layout (program + program-data
accounts) so instructions that check the upgrade authority (``init_market``)
work as on a validator.

Every ``send`` returns a :class:`TxResult` with logs, compute units, inner
instructions, return data and decoded events, and a typed exception (see
``iopay.core.errors``) when it failed. The blockhash is rotated after each send so
identical transactions (e.g. a repeated crank) are not rejected as already
processed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from solders.account import Account
from solders.clock import Clock
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import CreateAccountParams, create_account
from solders.transaction import Transaction, VersionedTransaction
from solders.litesvm import LiteSVM
from solders.transaction_metadata import FailedTransactionMetadata

from iopay.core import spl
from iopay.core.errors import ErrorRegistry, ErrorTable, TransactionError
from iopay.core.events import DecodedEvent, EventDecoder
from iopay.core.idl import ProgramIdl
from iopay.core.pda import BPF_LOADER_UPGRADEABLE_ID, program_data_address

LAMPORTS_PER_SOL = 1_000_000_000
DEFAULT_START_TS = 1_700_000_000  # a realistic wall clock instead of 0
SLOTS_PER_SECOND = 2.5  # ~400 ms slots


class ProgramNotBuilt(FileNotFoundError):
    """The program's .so is missing: build it (``make programs``)."""


def loaded_addresses(msg: Any, lookup_tables: Sequence[AddressLookupTableAccount]) -> List[Pubkey]:
    """The accounts a v0 message loads from its lookup tables, in the order
    the runtime appends them to the static keys: every table's writable
    entries, then every table's read-only ones."""
    by_key = {t.key: list(t.addresses) for t in lookup_tables}
    lookups = list(msg.address_table_lookups)
    writable = [by_key[l.account_key][i] for l in lookups for i in l.writable_indexes]
    readonly = [by_key[l.account_key][i] for l in lookups for i in l.readonly_indexes]
    return writable + readonly


def repo_root() -> Path:
    for parent in Path(__file__).resolve().parents:
        if (parent / "pyproject.toml").is_file() and (parent / "idl").is_dir():
            return parent
    return Path.cwd()


def deploy_dir() -> Path:
    return repo_root() / "target" / "deploy"


@dataclass
class TxResult:
    signature: Signature
    ok: bool
    logs: List[str]
    compute_units: int
    inner_instructions: List[List[Any]]
    account_keys: List[Pubkey]
    return_data: Optional[bytes]
    error: Optional[TransactionError]
    events: List[DecodedEvent] = field(default_factory=list)

    def raise_for_error(self) -> "TxResult":
        if self.error is not None:
            raise self.error
        return self

    def events_named(self, name: str) -> List[DecodedEvent]:
        return [e for e in self.events if e.name == name]


class Harness:
    """An embedded chain with the real SPL Token program and our programs."""

    def __init__(self, *, start_ts: int = DEFAULT_START_TS) -> None:
        self.svm = LiteSVM()
        self.errors = ErrorRegistry()
        self.decoders: Dict[Pubkey, EventDecoder] = {}
        self.programs: Dict[str, ProgramIdl] = {}
        self.payer = Keypair()
        # Every address a transaction or set_account touched: LiteSVM has no
        # getProgramAccounts, so `program_accounts` scans these.
        self.known_addresses: Set[Pubkey] = set()
        self.airdrop(self.payer.pubkey(), 1_000 * LAMPORTS_PER_SOL)
        self.set_unix_timestamp(start_ts)

    # -- programs -----------------------------------------------------------

    def deploy_upgradeable(
        self, program_id: Pubkey, elf: bytes, upgrade_authority: Optional[Pubkey]
    ) -> Pubkey:
        """Install ``elf`` at ``program_id`` as the upgradeable loader would:
        a Program account pointing at a ProgramData account
        ``[3u32, slot u64, Option<authority>, elf...]``. Returns the
        program-data address."""
        pdata = program_data_address(program_id)
        header = struct.pack("<IQ", 3, 0) + (
            b"\x01" + bytes(upgrade_authority) if upgrade_authority else b"\x00" + bytes(32)
        )
        pdata_bytes = header + elf
        self.svm.set_account(
            pdata,
            Account(
                lamports=self.svm.minimum_balance_for_rent_exemption(len(pdata_bytes)),
                data=pdata_bytes,
                owner=BPF_LOADER_UPGRADEABLE_ID,
                executable=False,
            ),
        )
        prog_bytes = struct.pack("<I", 2) + bytes(pdata)
        self.svm.set_account(
            program_id,
            Account(
                lamports=self.svm.minimum_balance_for_rent_exemption(len(prog_bytes)),
                data=prog_bytes,
                owner=BPF_LOADER_UPGRADEABLE_ID,
                executable=True,
            ),
        )
        return pdata

    def load_program(
        self,
        program: ProgramIdl,
        so_path: Optional[Path] = None,
        upgrade_authority: Optional[Pubkey] = None,
    ) -> ProgramIdl:
        """Load ``target/deploy/<name>.so`` at the IDL's address (upgrade
        authority defaults to the harness payer)."""
        path = so_path or deploy_dir() / f"{program.name}.so"
        if not path.is_file():
            raise ProgramNotBuilt(
                f"{path} is missing: build the programs first (run `make programs`)"
            )
        self.deploy_upgradeable(
            program.program_id, path.read_bytes(), upgrade_authority or self.payer.pubkey()
        )
        self.register(program)
        return program

    def load_native_program(
        self,
        program_id: Pubkey,
        name: str,
        errors: Optional[ErrorTable] = None,
        upgrade_authority: Optional[Pubkey] = None,
    ) -> Pubkey:
        """Load ``target/deploy/<name>.so``, a program without an Anchor IDL
        (e.g. SPL Governance built from crates.io), at ``program_id``;
        ``errors`` names its custom error codes."""
        path = deploy_dir() / f"{name}.so"
        if not path.is_file():
            raise ProgramNotBuilt(f"{path} is missing: build the programs first (run `make programs`)")
        self.deploy_upgradeable(program_id, path.read_bytes(), upgrade_authority or self.payer.pubkey())
        if errors is not None:
            self.errors.add(errors)
        return program_id

    def register(self, program: ProgramIdl) -> None:
        """Know a program's errors and events (without loading code)."""
        self.programs[program.name] = program
        self.errors.add(program.errors)
        self.decoders[program.program_id] = EventDecoder(program)

    # -- accounts -----------------------------------------------------------

    def airdrop(self, to: Pubkey, lamports: int) -> None:
        res = self.svm.airdrop(to, lamports)
        if isinstance(res, FailedTransactionMetadata):
            raise TransactionError(f"airdrop failed: {res.err()}", res.err(), res.meta().logs())

    def funded_keypair(self, sol: int = 10) -> Keypair:
        kp = Keypair()
        self.airdrop(kp.pubkey(), sol * LAMPORTS_PER_SOL)
        return kp

    def set_account(self, address: Pubkey, account: Account) -> None:
        self.known_addresses.add(address)
        self.svm.set_account(address, account)

    def program_accounts(
        self, program_id: Pubkey, filters: Iterable[Any] = (), data_size: Optional[int] = None
    ) -> List[Tuple[Pubkey, bytes]]:
        """``getProgramAccounts`` over the accounts this harness has seen:
        live accounts owned by ``program_id`` whose data matches every memcmp
        filter (objects with ``offset`` and ``bytes``), sorted by address."""
        flist = list(filters)
        out: List[Tuple[Pubkey, bytes]] = []
        for addr in sorted(self.known_addresses, key=bytes):
            acc = self.svm.get_account(addr)
            if acc is None or acc.owner != program_id or not acc.data:
                continue
            data = bytes(acc.data)
            if data_size is not None and len(data) != data_size:
                continue
            if all(data[f.offset:f.offset + len(f.bytes)] == f.bytes for f in flist):
                out.append((addr, data))
        return out

    def account(self, address: Pubkey) -> Optional[Account]:
        return self.svm.get_account(address)

    def account_data(self, address: Pubkey) -> Optional[bytes]:
        acc = self.svm.get_account(address)
        # LiteSVM keeps closed accounts as empty system-owned accounts.
        if acc is None or (acc.lamports == 0 and not acc.data):
            return None
        return bytes(acc.data)

    def exists(self, address: Pubkey) -> bool:
        return self.account_data(address) is not None or (self.lamports(address) > 0)

    def lamports(self, address: Pubkey) -> int:
        return self.svm.get_balance(address) or 0

    def fetch(self, program: ProgramIdl, address: Pubkey, type_name: str) -> Any:
        """Decode an Anchor account of ``program`` (checks owner and type)."""
        acc = self.svm.get_account(address)
        if acc is None or not acc.data:
            raise LookupError(f"account {address} does not exist")
        if acc.owner != program.program_id:
            raise ValueError(f"account {address} is owned by {acc.owner}, not {program.program_id}")
        return program.decode_account_as(type_name, bytes(acc.data))

    # -- transactions -------------------------------------------------------

    def send(
        self,
        instructions: Sequence[Instruction],
        signers: Iterable[Keypair] = (),
        payer: Optional[Keypair] = None,
        lookup_tables: Sequence[AddressLookupTableAccount] = (),
    ) -> TxResult:
        """Send a legacy transaction, or a v0 one resolving accounts through
        ``lookup_tables`` (the Address Lookup Table program is a LiteSVM
        builtin)."""
        payer = payer or self.payer
        signer_list: List[Keypair] = [payer]
        for s in signers:
            if s.pubkey() not in {x.pubkey() for x in signer_list}:
                signer_list.append(s)
        blockhash: Hash = self.svm.latest_blockhash()
        tx: Any
        if lookup_tables:
            msg = MessageV0.try_compile(payer.pubkey(), list(instructions), list(lookup_tables), blockhash)
            tx = VersionedTransaction(msg, signer_list)
            keys = list(msg.account_keys) + loaded_addresses(msg, lookup_tables)
        else:
            msg = Message.new_with_blockhash(list(instructions), payer.pubkey(), blockhash)
            tx = Transaction(signer_list, msg, blockhash)
            keys = list(msg.account_keys)
        res = self.svm.send_transaction(tx)
        self.svm.expire_blockhash()
        self.known_addresses.update(keys)
        failed = isinstance(res, FailedTransactionMetadata)
        meta = res.meta() if failed else res
        err: Optional[TransactionError] = None
        logs = list(meta.logs())
        if failed:
            ix_programs = [keys[ci.program_id_index] for ci in msg.instructions]
            err = self.errors.decode(res.err(), logs, ix_programs)
        rd = meta.return_data()
        result = TxResult(
            signature=tx.signatures[0],
            ok=not failed,
            logs=logs,
            compute_units=meta.compute_units_consumed(),
            inner_instructions=list(meta.inner_instructions()),
            account_keys=keys,
            return_data=bytes(rd.data) if rd is not None and rd.data else None,
            error=err,
        )
        if not failed:
            for dec in self.decoders.values():
                result.events.extend(dec.from_meta(meta, keys))
        return result

    def send_ok(
        self,
        instructions: Sequence[Instruction],
        signers: Iterable[Keypair] = (),
        payer: Optional[Keypair] = None,
    ) -> TxResult:
        """``send`` and raise the typed error on failure."""
        return self.send(instructions, signers, payer).raise_for_error()

    # -- clock --------------------------------------------------------------

    def clock(self) -> Clock:
        return self.svm.get_clock()

    def now(self) -> int:
        return self.svm.get_clock().unix_timestamp

    def set_unix_timestamp(self, ts: int) -> None:
        c = self.svm.get_clock()
        c.unix_timestamp = ts
        self.svm.set_clock(c)

    def warp_seconds(self, seconds: int) -> int:
        """Advance wall clock by ``seconds`` and the slot proportionally.
        Returns the new unix timestamp."""
        c = self.svm.get_clock()
        c.unix_timestamp = c.unix_timestamp + seconds
        c.slot = c.slot + max(1, int(seconds * SLOTS_PER_SECOND))
        self.svm.set_clock(c)
        return c.unix_timestamp

    def warp_to_slot(self, slot: int) -> None:
        self.svm.warp_to_slot(slot)

    # -- SPL Token ----------------------------------------------------------

    def create_mint(
        self, authority: Optional[Keypair] = None, decimals: int = 6, freeze: Optional[Pubkey] = None
    ) -> Pubkey:
        authority = authority or self.payer
        mint = Keypair()
        self.send_ok(
            [
                create_account(
                    CreateAccountParams(
                        from_pubkey=self.payer.pubkey(),
                        to_pubkey=mint.pubkey(),
                        lamports=self.svm.minimum_balance_for_rent_exemption(spl.MINT_LEN),
                        space=spl.MINT_LEN,
                        owner=spl.TOKEN_PROGRAM_ID,
                    )
                ),
                spl.initialize_mint2(mint.pubkey(), decimals, authority.pubkey(), freeze),
            ],
            [mint],
        )
        return mint.pubkey()

    def create_token_account(
        self, mint: Pubkey, owner: Pubkey, account: Optional[Keypair] = None
    ) -> Pubkey:
        """A fresh (non-associated) token account of ``mint`` owned by ``owner``."""
        account = account or Keypair()
        self.send_ok(
            [
                create_account(
                    CreateAccountParams(
                        from_pubkey=self.payer.pubkey(),
                        to_pubkey=account.pubkey(),
                        lamports=self.svm.minimum_balance_for_rent_exemption(spl.ACCOUNT_LEN),
                        space=spl.ACCOUNT_LEN,
                        owner=spl.TOKEN_PROGRAM_ID,
                    )
                ),
                spl.initialize_account3(account.pubkey(), mint, owner),
            ],
            [account],
        )
        return account.pubkey()

    def create_ata(self, mint: Pubkey, owner: Pubkey) -> Pubkey:
        self.send_ok([spl.create_associated_token_account_idempotent(self.payer.pubkey(), owner, mint)])
        return spl.associated_token_address(owner, mint)

    def mint_to(self, mint: Pubkey, dest: Pubkey, amount: int, authority: Optional[Keypair] = None) -> TxResult:
        authority = authority or self.payer
        return self.send_ok([spl.mint_to(mint, dest, authority.pubkey(), amount)], [authority])

    def transfer(self, source: Pubkey, dest: Pubkey, owner: Keypair, amount: int) -> TxResult:
        return self.send_ok([spl.transfer(source, dest, owner.pubkey(), amount)], [owner])

    def token_account(self, address: Pubkey) -> spl.TokenAccount:
        data = self.account_data(address)
        if data is None:
            raise LookupError(f"token account {address} does not exist")
        acc = self.svm.get_account(address)
        assert acc is not None
        if acc.owner != spl.TOKEN_PROGRAM_ID:
            raise ValueError(f"{address} is not owned by the Token program")
        return spl.TokenAccount.decode(data)

    def token_balance(self, address: Pubkey) -> int:
        return self.token_account(address).amount

    def mint_info(self, mint: Pubkey) -> spl.Mint:
        data = self.account_data(mint)
        if data is None:
            raise LookupError(f"mint {mint} does not exist")
        return spl.Mint.decode(data)
