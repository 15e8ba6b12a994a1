"""The JSON-RPC methods (HTTP), with Agave's parameters, shapes and errors.

Reads answer from the bank of the requested commitment (default
``finalized``, as Agave): accounts, balances, program and token accounts,
blockhashes (getLatestBlockhash, isBlockhashValid, getFeeForMessage), and
simulations (simulateTransaction at ``commitment``, sendTransaction's
preflight at ``preflightCommitment``) see that slot's state, so a blockhash
or an account written at ``processed`` is unknown at ``confirmed`` until the
next slot and at ``finalized`` for ``finality_depth`` slots. Methods that
Agave refuses below ``confirmed`` (getTransaction, getSignaturesForAddress)
refuse it here too, and they only see transactions that reached the
commitment. getSignatureStatuses takes no commitment (Agave reads the
processed bank) and reports each one's ``confirmationStatus``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import base58
from solders.keypair import Keypair
from solders.message import MessageV0, from_bytes_versioned
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from iopay.localnet import codec
from iopay.localnet.chain import (
    LAMPORTS_PER_SIGNATURE, STATUS_CACHE_SLOTS, Chain, TxRecord, TxRejected, message_fee,
    normalize_commitment, replace_blockhash, static_writable_keys,
)
from iopay.localnet.jsonrpc import (
    INTERNAL_ERROR, MIN_CONTEXT_SLOT_NOT_REACHED, NO_SNAPSHOT, SEND_TRANSACTION_PREFLIGHT_FAILURE,
    TRANSACTION_SIGNATURE_VERIFICATION_FAILURE, UNSUPPORTED_TRANSACTION_VERSION, RpcError,
)

SOLANA_CORE_VERSION = "2.2.0"
FEATURE_SET = 3_294_202_862
PACKET_DATA_SIZE = 1232
MAX_BASE58_TX = 1683
MAX_BASE64_TX = 1644
MAX_MULTIPLE_ACCOUNTS = 100
MAX_SIGNATURE_STATUSES = 256
MAX_SIGNATURES_FOR_ADDRESS = 1000
MAX_PRIO_FEE_ACCOUNTS = 128


@dataclass
class NodeInfo:
    identity: Keypair
    faucet: Keypair
    rpc_addr: str = "127.0.0.1:8899"


# -- param helpers -------------------------------------------------------------

def arg(params: List[Any], i: int, name: str, required: bool = True) -> Any:
    if i < len(params):
        return params[i]
    if required:
        raise RpcError.invalid_params(f"Invalid params: missing required parameter `{name}` (position {i})")
    return None


def cfg_of(params: List[Any], i: int) -> Dict[str, Any]:
    c = params[i] if i < len(params) else None
    if c is None:
        return {}
    if not isinstance(c, dict):
        raise RpcError.invalid_params(f"Invalid params: expected a config object at position {i}")
    return c


def pubkey(v: Any) -> Pubkey:
    if not isinstance(v, str):
        raise RpcError.invalid_params("Invalid params: expected a base-58 public key string")
    try:
        return Pubkey.from_string(v)
    except ValueError:
        raise RpcError.invalid_params("Invalid param: Invalid") from None


def uint(v: Any, name: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v >= 2**64:
        raise RpcError.invalid_params(f"Invalid params: `{name}` must be a u64")
    return v


def decode_tx(data: Any, encoding: str) -> VersionedTransaction:
    if not isinstance(data, str):
        raise RpcError.invalid_params("Invalid params: transaction must be an encoded string")
    tname = "solana_transaction::versioned::VersionedTransaction"
    if encoding == "base58":
        if len(data) > MAX_BASE58_TX:
            raise RpcError.invalid_params(f"base58 encoded {tname} too large: {len(data)} bytes "
                                          f"(max: encoded/raw {MAX_BASE58_TX}/{PACKET_DATA_SIZE})")
        try:
            raw = base58.b58decode(data)
        except ValueError as e:
            raise RpcError.invalid_params(f"invalid base58 encoding: {e}") from None
    elif encoding == "base64":
        if len(data) > MAX_BASE64_TX:
            raise RpcError.invalid_params(f"base64 encoded {tname} too large: {len(data)} bytes "
                                          f"(max: encoded/raw {MAX_BASE64_TX}/{PACKET_DATA_SIZE})")
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as e:
            raise RpcError.invalid_params(f"invalid base64 encoding: {e}") from None
    else:
        raise RpcError.invalid_params(f"unsupported encoding: {encoding}. Supported encodings: base58, base64")
    if len(raw) > PACKET_DATA_SIZE:
        raise RpcError.invalid_params(f"decoded {tname} too large: {len(raw)} bytes (max: {PACKET_DATA_SIZE} bytes)")
    try:
        tx = VersionedTransaction.from_bytes(raw)
    except Exception as e:  # noqa: BLE001 - solders raises several types
        raise RpcError.invalid_params(f"failed to deserialize {tname}: {e}") from None
    try:
        tx.sanitize()
    except Exception as e:  # noqa: BLE001
        raise RpcError.invalid_params(f"invalid transaction: {e}") from None
    if bytes(tx) != raw:
        raise RpcError.invalid_params(f"failed to deserialize {tname}: trailing bytes")
    return tx


def _ix_json(ci: Any) -> Dict[str, Any]:
    return {"programIdIndex": ci.program_id_index, "accounts": list(ci.accounts),
            "data": codec.b58(bytes(ci.data)), "stackHeight": None}


class RpcMethods:
    def __init__(self, chain: Chain, node: NodeInfo) -> None:
        self.chain = chain
        self.node = node
        self.airdrop_hook: Optional[Callable[[TxRecord], None]] = None

    # -- helpers ------------------------------------------------------------------

    def ctx(self, slot: int) -> Dict[str, Any]:
        return {"slot": slot, "apiVersion": SOLANA_CORE_VERSION}

    def _slot(self, cfg: Dict[str, Any]) -> int:
        slot = self.chain.commitment_slot(cfg.get("commitment"))
        mcs = cfg.get("minContextSlot")
        if mcs is not None and uint(mcs, "minContextSlot") > slot:
            raise RpcError(MIN_CONTEXT_SLOT_NOT_REACHED, "Minimum context slot has not been reached",
                           {"contextSlot": slot})
        return slot

    def _with_ctx(self, slot: int, value: Any) -> Dict[str, Any]:
        return {"context": self.ctx(slot), "value": value}

    def _account(self, pk: Pubkey, cfg: Dict[str, Any], at: int,
                 default_enc: str = "binary") -> Optional[Dict[str, Any]]:
        enc = codec.check_encoding(cfg.get("encoding"), default_enc)
        acc = self.chain.get_account(pk, at)
        if acc is None:
            return None
        return codec.ui_account(acc, enc, codec.parse_data_slice(cfg), self.chain.mint_lookup)

    def table(self) -> Dict[str, Callable[[List[Any]], Any]]:
        return {name[4:]: getattr(self, name) for name in dir(self) if name.startswith("rpc_")}

    # -- cluster / node ---------------------------------------------------------

    def rpc_getHealth(self, p: List[Any]) -> str:
        return "ok"

    def rpc_getVersion(self, p: List[Any]) -> Dict[str, Any]:
        return {"solana-core": SOLANA_CORE_VERSION, "feature-set": FEATURE_SET}

    def rpc_getGenesisHash(self, p: List[Any]) -> str:
        return str(self.chain.genesis_hash)

    def rpc_getIdentity(self, p: List[Any]) -> Dict[str, str]:
        return {"identity": str(self.node.identity.pubkey())}

    def rpc_getClusterNodes(self, p: List[Any]) -> List[Dict[str, Any]]:
        return [{"pubkey": str(self.node.identity.pubkey()), "gossip": None, "tpu": None, "tpuQuic": None,
                 "rpc": self.node.rpc_addr, "pubsub": None, "version": SOLANA_CORE_VERSION,
                 "featureSet": FEATURE_SET, "shredVersion": 0}]

    def rpc_getSlotLeader(self, p: List[Any]) -> str:
        self._slot(cfg_of(p, 0))
        return str(self.node.identity.pubkey())

    def rpc_getVoteAccounts(self, p: List[Any]) -> Dict[str, Any]:
        return {"current": [], "delinquent": []}

    def rpc_getHighestSnapshotSlot(self, p: List[Any]) -> Any:
        raise RpcError(NO_SNAPSHOT, "No snapshot")

    # -- slots, blocks, epochs --------------------------------------------------

    def rpc_getSlot(self, p: List[Any]) -> int:
        return self._slot(cfg_of(p, 0))

    def rpc_getBlockHeight(self, p: List[Any]) -> int:
        return self._slot(cfg_of(p, 0))

    def rpc_getMaxRetransmitSlot(self, p: List[Any]) -> int:
        return self.chain.slot

    def rpc_getMaxShredInsertSlot(self, p: List[Any]) -> int:
        return self.chain.slot

    def rpc_getFirstAvailableBlock(self, p: List[Any]) -> int:
        return 0

    def rpc_minimumLedgerSlot(self, p: List[Any]) -> int:
        return 0

    def rpc_getTransactionCount(self, p: List[Any]) -> int:
        self._slot(cfg_of(p, 0))
        return self.chain.tx_count

    def rpc_getBlockTime(self, p: List[Any]) -> Optional[int]:
        slot = uint(arg(p, 0, "slot"), "slot")
        t = self.chain.block_time(slot)
        if t is None:
            raise RpcError(-32004, f"Block not available for slot {slot}")
        return t

    def rpc_getEpochSchedule(self, p: List[Any]) -> Dict[str, Any]:
        e = self.chain.epoch_schedule
        return {"slotsPerEpoch": e.slots_per_epoch, "leaderScheduleSlotOffset": e.leader_schedule_slot_offset,
                "warmup": e.warmup, "firstNormalEpoch": e.first_normal_epoch, "firstNormalSlot": e.first_normal_slot}

    def rpc_getEpochInfo(self, p: List[Any]) -> Dict[str, Any]:
        slot = self._slot(cfg_of(p, 0))
        epoch, index = self.chain.epoch_schedule.get_epoch_and_slot_index(slot)
        return {"absoluteSlot": slot, "blockHeight": slot, "epoch": epoch, "slotIndex": index,
                "slotsInEpoch": self.chain.epoch_schedule.get_slots_in_epoch(epoch),
                "transactionCount": self.chain.tx_count}

    # -- blockhashes and fees --------------------------------------------------

    def rpc_getLatestBlockhash(self, p: List[Any]) -> Dict[str, Any]:
        cfg = cfg_of(p, 0)
        slot = self._slot(cfg)
        bh, last_valid = self.chain.latest_blockhash(cfg.get("commitment"))
        return self._with_ctx(slot, {"blockhash": str(bh), "lastValidBlockHeight": last_valid})

    def rpc_isBlockhashValid(self, p: List[Any]) -> Dict[str, Any]:
        from solders.hash import Hash

        h = arg(p, 0, "blockhash")
        slot = self._slot(cfg_of(p, 1))
        try:
            bh = Hash.from_string(h) if isinstance(h, str) else None
        except ValueError:
            bh = None
        if bh is None:
            raise RpcError.invalid_params("Invalid param: Invalid")
        return self._with_ctx(slot, self.chain.blockhash_valid(bh, slot))

    def rpc_getFeeForMessage(self, p: List[Any]) -> Dict[str, Any]:
        data = arg(p, 0, "message")
        slot = self._slot(cfg_of(p, 1))
        try:
            raw = base64.b64decode(data, validate=True)
            msg = from_bytes_versioned(raw)
        except Exception as e:  # noqa: BLE001
            raise RpcError.invalid_params(f"invalid message: {e}") from None
        if not self.chain.blockhash_valid(msg.recent_blockhash, slot):
            return self._with_ctx(slot, None)
        base, prio = message_fee(msg)
        return self._with_ctx(slot, base + prio)

    def rpc_getRecentPrioritizationFees(self, p: List[Any]) -> List[Dict[str, int]]:
        keys = arg(p, 0, "addresses", required=False) or []
        if not isinstance(keys, list):
            raise RpcError.invalid_params("Invalid params: expected an array of addresses")
        if len(keys) > MAX_PRIO_FEE_ACCOUNTS:
            raise RpcError.invalid_params(f"Too many inputs provided; max {MAX_PRIO_FEE_ACCOUNTS}")
        return self.chain.recent_prioritization_fees([pubkey(k) for k in keys])

    def rpc_getMinimumBalanceForRentExemption(self, p: List[Any]) -> int:
        n = uint(arg(p, 0, "usize"), "usize")
        self._slot(cfg_of(p, 1))
        if n > 10 * 1024 * 1024:
            raise RpcError.invalid_params("Invalid params: data length exceeds the maximum account size")
        return self.chain.svm.minimum_balance_for_rent_exemption(n)

    # -- accounts ---------------------------------------------------------------

    def rpc_getAccountInfo(self, p: List[Any]) -> Dict[str, Any]:
        pk = pubkey(arg(p, 0, "pubkey"))
        cfg = cfg_of(p, 1)
        slot = self._slot(cfg)
        return self._with_ctx(slot, self._account(pk, cfg, slot))

    def rpc_getMultipleAccounts(self, p: List[Any]) -> Dict[str, Any]:
        keys = arg(p, 0, "pubkeys")
        if not isinstance(keys, list):
            raise RpcError.invalid_params("Invalid params: expected an array of pubkeys")
        if len(keys) > MAX_MULTIPLE_ACCOUNTS:
            raise RpcError.invalid_params(f"Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}")
        pks = [pubkey(k) for k in keys]
        cfg = cfg_of(p, 1)
        slot = self._slot(cfg)
        return self._with_ctx(slot, [self._account(k, cfg, slot, "base64") for k in pks])

    def rpc_getBalance(self, p: List[Any]) -> Dict[str, Any]:
        pk = pubkey(arg(p, 0, "pubkey"))
        slot = self._slot(cfg_of(p, 1))
        acc = self.chain.get_account(pk, slot)
        return self._with_ctx(slot, acc.lamports if acc else 0)

    def rpc_getProgramAccounts(self, p: List[Any]) -> Any:
        program = pubkey(arg(p, 0, "program_id"))
        cfg = cfg_of(p, 1)
        slot = self._slot(cfg)
        enc = codec.check_encoding(cfg.get("encoding"), "binary")
        ds = codec.parse_data_slice(cfg)
        filters = codec.parse_filters(cfg.get("filters"))
        out = []
        for pk, acc in self.chain.program_accounts(program, slot):
            if all(f(acc) for f in filters):
                out.append({"pubkey": str(pk), "account": codec.ui_account(acc, enc, ds, self.chain.mint_lookup)})
        return self._with_ctx(slot, out) if cfg.get("withContext") else out

    # -- SPL token ----------------------------------------------------------------

    def _token_account(self, pk: Pubkey, at: int) -> Tuple[Any, Dict[str, Any]]:
        acc = self.chain.get_account(pk, at)
        if acc is None:
            raise RpcError.invalid_params("Invalid param: could not find account")
        if not codec.is_token_account(acc):
            raise RpcError.invalid_params("Invalid param: not a Token account")
        return acc, codec.token_account_fields(bytes(acc.data))

    def rpc_getTokenAccountBalance(self, p: List[Any]) -> Dict[str, Any]:
        pk = pubkey(arg(p, 0, "pubkey"))
        slot = self._slot(cfg_of(p, 1))
        _, f = self._token_account(pk, slot)
        dec = codec.mint_decimals(f["mint"], self.chain.mint_lookup)
        if dec is None:
            raise RpcError.invalid_params("Invalid param: could not find mint")
        return self._with_ctx(slot, codec.ui_amount(f["amount"], dec))

    def rpc_getTokenSupply(self, p: List[Any]) -> Dict[str, Any]:
        pk = pubkey(arg(p, 0, "pubkey"))
        slot = self._slot(cfg_of(p, 1))
        acc = self.chain.get_account(pk, slot)
        if acc is None:
            raise RpcError.invalid_params("Invalid param: could not find account")
        if not codec.is_mint(acc):
            raise RpcError.invalid_params("Invalid param: not a Token mint")
        m = codec.mint_fields(bytes(acc.data))
        return self._with_ctx(slot, codec.ui_amount(m["supply"], m["decimals"]))

    def _token_accounts_by(self, p: List[Any], field_off: int, delegate: bool) -> Dict[str, Any]:
        who = pubkey(arg(p, 0, "pubkey"))
        flt = arg(p, 1, "filter")
        cfg = cfg_of(p, 2)
        slot = self._slot(cfg)
        enc = codec.check_encoding(cfg.get("encoding"), "binary")
        ds = codec.parse_data_slice(cfg)
        if not isinstance(flt, dict) or len(flt) != 1 or not ({"mint", "programId"} & set(flt)):
            raise RpcError.invalid_params("Invalid params: filter must be {\"mint\": ...} or {\"programId\": ...}")
        mint: Optional[Pubkey] = None
        if "mint" in flt:
            mint = pubkey(flt["mint"])
            macc = self.chain.get_account(mint, slot)
            if macc is None or not codec.is_mint(macc):
                raise RpcError.invalid_params("Invalid param: could not find mint")
            programs = [macc.owner]
        else:
            prog = pubkey(flt["programId"])
            if prog not in codec.TOKEN_PROGRAMS:
                raise RpcError.invalid_params("Invalid param: unrecognized Token program id")
            programs = [prog]
        out = []
        for prog in programs:
            for pk, acc in self.chain.program_accounts(prog, slot):
                if not codec.is_token_account(acc):
                    continue
                data = bytes(acc.data)
                if delegate:
                    if data[72:76] != b"\x01\x00\x00\x00" or data[76:108] != bytes(who):
                        continue
                elif data[field_off:field_off + 32] != bytes(who):
                    continue
                if mint is not None and data[0:32] != bytes(mint):
                    continue
                out.append({"pubkey": str(pk), "account": codec.ui_account(acc, enc, ds, self.chain.mint_lookup)})
        return self._with_ctx(slot, out)

    def rpc_getTokenAccountsByOwner(self, p: List[Any]) -> Dict[str, Any]:
        return self._token_accounts_by(p, 32, delegate=False)

    def rpc_getTokenAccountsByDelegate(self, p: List[Any]) -> Dict[str, Any]:
        return self._token_accounts_by(p, 76, delegate=True)

    # -- transactions -------------------------------------------------------------

    def rpc_sendTransaction(self, p: List[Any]) -> str:
        cfg = cfg_of(p, 1)
        tx = decode_tx(arg(p, 0, "transaction"), cfg.get("encoding") or "base58")
        # The preflight runs in the bank of preflightCommitment (default finalized, as Agave).
        at = self._slot({"commitment": cfg.get("preflightCommitment"), "minContextSlot": cfg.get("minContextSlot")})
        if not cfg.get("skipPreflight"):
            if not all(tx.verify_with_results()):
                raise RpcError(TRANSACTION_SIGNATURE_VERIFICATION_FAILURE, "Transaction signature verification failure")
            sim = self.chain.simulate(tx, sig_verify=True, at=at)
            if sim.err is not None:
                raise RpcError(
                    SEND_TRANSACTION_PREFLIGHT_FAILURE,
                    f"Transaction simulation failed: {codec.tx_err_text(sim.err)}",
                    {"err": sim.err, "logs": sim.logs, "accounts": None, "unitsConsumed": sim.cu,
                     "returnData": sim.return_data, "innerInstructions": None, "replacementBlockhash": None},
                )
        try:
            self.chain.process(tx)
        except TxRejected:
            pass  # dropped, as a validator drops it: the signature never lands
        return str(tx.signatures[0])

    def rpc_simulateTransaction(self, p: List[Any]) -> Dict[str, Any]:
        cfg = cfg_of(p, 1)
        tx = decode_tx(arg(p, 0, "transaction"), cfg.get("encoding") or "base58")
        slot = self._slot(cfg)
        sig_verify = bool(cfg.get("sigVerify"))
        replace = bool(cfg.get("replaceRecentBlockhash"))
        if sig_verify and replace:
            raise RpcError.invalid_params("sigVerify may not be used with replaceRecentBlockhash")
        if sig_verify and not all(tx.verify_with_results()):
            raise RpcError(TRANSACTION_SIGNATURE_VERIFICATION_FAILURE, "Transaction signature verification failure")
        replacement = None
        if replace:
            bh, last_valid = self.chain.latest_blockhash(cfg.get("commitment"))
            tx = VersionedTransaction.from_bytes(replace_blockhash(bytes(tx), bh))
            replacement = {"blockhash": str(bh), "lastValidBlockHeight": last_valid}
        accounts_cfg = cfg.get("accounts")
        if accounts_cfg is not None:
            if not isinstance(accounts_cfg, dict) or not isinstance(accounts_cfg.get("addresses"), list):
                raise RpcError.invalid_params("Invalid params: accounts.addresses must be an array")
            acc_enc = codec.check_encoding(accounts_cfg.get("encoding"), "base64",
                                           ("base64", "base64+zstd", "jsonParsed"))
            addrs = [pubkey(a) for a in accounts_cfg["addresses"]]
            if len(addrs) > len(tx.message.account_keys) + 256:
                raise RpcError.invalid_params("Too many accounts provided")
        sim = self.chain.simulate(tx, sig_verify=sig_verify, at=slot)
        accounts = None
        if accounts_cfg is not None:
            accounts = []
            for a in addrs:
                acc = sim.post.get(a) if sim.err is None else None
                if acc is None and sim.err is None:
                    acc = self.chain.get_account(a, slot)
                accounts.append(None if acc is None or acc.lamports == 0
                                else codec.ui_account(acc, acc_enc, None, self.chain.mint_lookup))
        return self._with_ctx(slot, {
            "err": sim.err, "logs": sim.logs, "accounts": accounts, "unitsConsumed": sim.cu,
            "returnData": sim.return_data,
            "innerInstructions": sim.inner if cfg.get("innerInstructions") else None,
            "replacementBlockhash": replacement,
        })

    def rpc_requestAirdrop(self, p: List[Any]) -> str:
        to = pubkey(arg(p, 0, "pubkey"))
        lamports = uint(arg(p, 1, "lamports"), "lamports")
        self._slot(cfg_of(p, 2))
        if lamports == 0:
            raise RpcError.invalid_params("Invalid params: lamports must be > 0")
        faucet = self.chain.get_account(self.node.faucet.pubkey())
        if faucet is None or faucet.lamports < lamports + LAMPORTS_PER_SIGNATURE:
            raise RpcError(INTERNAL_ERROR, "airdrop request failed: the faucet has insufficient funds")
        tx = self.chain.airdrop_tx(self.node.faucet, to, lamports)
        vtx = VersionedTransaction.from_legacy(tx)
        try:
            self.chain.process(vtx)
        except TxRejected as e:
            raise RpcError(INTERNAL_ERROR, f"airdrop request failed: {e}") from None
        return str(tx.signatures[0])

    # -- statuses and history -----------------------------------------------------

    def rpc_getSignatureStatuses(self, p: List[Any]) -> Dict[str, Any]:
        sigs = arg(p, 0, "signatures")
        if not isinstance(sigs, list) or not all(isinstance(s, str) for s in sigs):
            raise RpcError.invalid_params("Invalid params: expected an array of signature strings")
        if len(sigs) > MAX_SIGNATURE_STATUSES:
            raise RpcError.invalid_params(f"Too many inputs provided; max {MAX_SIGNATURE_STATUSES}")
        cfg = cfg_of(p, 1)
        history = bool(cfg.get("searchTransactionHistory"))
        ch = self.chain
        out: List[Optional[Dict[str, Any]]] = []
        for s in sigs:
            _check_signature(s)
            rec = ch.txs.get(s)
            if rec is None or (not history and rec.slot < ch.slot - STATUS_CACHE_SLOTS):
                out.append(None)
                continue
            level = ch.confirmation_status(rec.slot)
            out.append({
                "slot": rec.slot,
                "confirmations": None if level == "finalized" else ch.slot - rec.slot,
                "err": rec.err, "status": rec.status_json(), "confirmationStatus": level,
            })
        return self._with_ctx(ch.slot, out)

    def _confirmed_commitment(self, cfg: Dict[str, Any]) -> int:
        c = normalize_commitment(cfg.get("commitment"))
        if c == "processed":
            raise RpcError.invalid_params("Method does not support commitment below `confirmed`")
        return self._slot(cfg)

    def rpc_getSignaturesForAddress(self, p: List[Any]) -> List[Dict[str, Any]]:
        addr = pubkey(arg(p, 0, "address"))
        cfg = cfg_of(p, 1)
        upto = self._confirmed_commitment(cfg)
        limit = cfg.get("limit") or MAX_SIGNATURES_FOR_ADDRESS
        if not isinstance(limit, int) or not 1 <= limit <= MAX_SIGNATURES_FOR_ADDRESS:
            raise RpcError.invalid_params(f"Invalid limit; max {MAX_SIGNATURES_FOR_ADDRESS}")
        before, until = cfg.get("before"), cfg.get("until")
        for s in (before, until):
            if s is not None:
                _check_signature(s)
        ch = self.chain
        out = []
        started = before is None
        for s in reversed(ch.addr_sigs.get(str(addr), [])):
            if not started:
                started = s == before
                continue
            if s == until:
                break
            rec = ch.txs[s]
            if rec.slot > upto:
                continue
            out.append({"signature": s, "slot": rec.slot, "err": rec.err, "memo": None,
                        "blockTime": rec.block_time, "confirmationStatus": ch.confirmation_status(rec.slot)})
            if len(out) >= limit:
                break
        return out

    def rpc_getTransaction(self, p: List[Any]) -> Optional[Dict[str, Any]]:
        sig = arg(p, 0, "signature")
        _check_signature(sig)
        raw_cfg = p[1] if len(p) > 1 else None
        cfg = {"encoding": raw_cfg} if isinstance(raw_cfg, str) else cfg_of(p, 1)
        upto = self._confirmed_commitment(cfg)
        enc = cfg.get("encoding") or "json"
        if enc not in ("json", "jsonParsed", "base64", "base58"):
            raise RpcError.invalid_params(f"Invalid params: unknown variant `{enc}`")
        max_ver = cfg.get("maxSupportedTransactionVersion")
        if max_ver is not None and max_ver != 0:
            raise RpcError.invalid_params("Invalid params: maxSupportedTransactionVersion must be 0")
        rec = self.chain.txs.get(sig)
        if rec is None or rec.slot > upto:
            return None
        if rec.version == 0 and max_ver is None:
            raise RpcError(UNSUPPORTED_TRANSACTION_VERSION,
                           "Transaction version (0) is not supported by the requesting client. Please try the "
                           "request again with the following configuration parameter: "
                           "\"maxSupportedTransactionVersion\": 0")
        out = {"slot": rec.slot, "transaction": self._encode_tx(rec, enc), "meta": self._meta(rec, enc),
               "blockTime": rec.block_time}
        if max_ver is not None:
            out["version"] = rec.version
        return out

    def _encode_tx(self, rec: TxRecord, enc: str) -> Any:
        if enc == "base64":
            return [base64.b64encode(rec.raw).decode(), "base64"]
        if enc == "base58":
            return [codec.b58(rec.raw), "base58"]
        tx = VersionedTransaction.from_bytes(rec.raw)
        msg = tx.message
        h = msg.header
        m: Dict[str, Any] = {
            "header": {"numRequiredSignatures": h.num_required_signatures,
                       "numReadonlySignedAccounts": h.num_readonly_signed_accounts,
                       "numReadonlyUnsignedAccounts": h.num_readonly_unsigned_accounts},
            "accountKeys": [str(k) for k in msg.account_keys],
            "recentBlockhash": str(msg.recent_blockhash),
            "instructions": [_ix_json(ci) for ci in msg.instructions],
        }
        if isinstance(msg, MessageV0):
            m["addressTableLookups"] = [{"accountKey": str(l.account_key), "writableIndexes": list(l.writable_indexes),
                                         "readonlyIndexes": list(l.readonly_indexes)} for l in msg.address_table_lookups]
        if enc == "jsonParsed":
            n_static = len(msg.account_keys)
            writable = set(static_writable_keys(msg)) | {Pubkey.from_string(k) for k in rec.loaded["writable"]}
            keys = [Pubkey.from_string(k) for k in rec.keys]
            m["accountKeys"] = [{"pubkey": str(k), "writable": k in writable,
                                 "signer": i < h.num_required_signatures,
                                 "source": "transaction" if i < n_static else "lookupTable"}
                                for i, k in enumerate(keys)]
            m["instructions"] = [self._parsed_ix(keys, ci.program_id_index, list(ci.accounts),
                                                 codec.b58(bytes(ci.data)), None) for ci in msg.instructions]
        return {"signatures": [str(s) for s in tx.signatures], "message": m}

    @staticmethod
    def _parsed_ix(keys: List[Pubkey], prog: int, accounts: List[int], data: str, stack: Any) -> Dict[str, Any]:
        return {"programId": str(keys[prog]), "accounts": [str(keys[a]) for a in accounts], "data": data,
                "stackHeight": stack}

    def _meta(self, rec: TxRecord, enc: str) -> Dict[str, Any]:
        inner = rec.inner
        if enc == "jsonParsed":
            keys = [Pubkey.from_string(k) for k in rec.keys]
            inner = [{"index": g["index"], "instructions": [
                self._parsed_ix(keys, i["programIdIndex"], i["accounts"], i["data"], i["stackHeight"])
                for i in g["instructions"]]} for g in rec.inner]
        meta: Dict[str, Any] = {
            "err": rec.err, "status": rec.status_json(), "fee": rec.fee,
            "preBalances": rec.pre_balances, "postBalances": rec.post_balances,
            "innerInstructions": inner, "logMessages": rec.logs,
            "preTokenBalances": rec.pre_token_balances, "postTokenBalances": rec.post_token_balances,
            "rewards": [], "loadedAddresses": rec.loaded, "computeUnitsConsumed": rec.cu,
        }
        if rec.return_data is not None:
            meta["returnData"] = rec.return_data
        return meta

    # -- iopay extras -------------------------------------------------------------

    def rpc_iopay_warpTime(self, p: List[Any]) -> Dict[str, Any]:
        """Move the Clock's ``unix_timestamp`` forward by ``seconds``:
        ``[seconds]`` or ``[{"seconds": N}]``. Slots keep real time."""
        a = arg(p, 0, "seconds")
        secs = a.get("seconds") if isinstance(a, dict) else a
        if not isinstance(secs, (int, float)) or isinstance(secs, bool) or not 0 <= secs <= 10 * 365 * 86400:
            raise RpcError.invalid_params("Invalid params: seconds must be a number in [0, 10 years]")
        ts = self.chain.warp_time(secs)
        return {"unixTimestamp": ts, "slot": self.chain.slot, "timeOffset": self.chain.time_offset}


def _check_signature(s: Any) -> None:
    from solders.signature import Signature

    if not isinstance(s, str):
        raise RpcError.invalid_params("Invalid params: expected a signature string")
    try:
        Signature.from_string(s)
    except ValueError:
        raise RpcError.invalid_params("Invalid param: Invalid") from None
