"""Wire encodings of the Solana JSON-RPC API, as Agave writes them.

* account data: ``binary`` (legacy bare base58), ``base58``, ``base64``,
  ``base64+zstd`` (a raw-block zstd frame: valid zstd that any decoder reads,
  written without a compressor dependency), ``jsonParsed`` (SPL Token accounts
  and mints; anything else falls back to base64 as Agave does), ``dataSlice``;
* ``UiAccount`` objects, SPL token amounts (``uiAmountString`` trimming);
* transaction errors as JSON (via solders' serde, so the shapes are Agave's)
  and as the human text Agave puts in ``-32002`` messages;
* ``getProgramAccounts`` filters (``memcmp`` base58/base64, ``dataSize``,
  ``tokenAccountState``) with Agave's limits.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from decimal import Decimal
from typing import Any, Callable, Dict, List, Optional, Tuple

import base58
from solders.account import Account
from solders.pubkey import Pubkey
from solders.rpc.responses import RpcSimulateTransactionResult

from iopay.localnet.jsonrpc import RpcError

TOKEN_PROGRAM_ID = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
TOKEN_2022_PROGRAM_ID = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
TOKEN_PROGRAMS = (TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID)
NATIVE_MINT = Pubkey.from_string("So11111111111111111111111111111111111111112")
TOKEN_ACCOUNT_LEN = 165
MINT_LEN = 82

ENCODINGS = ("binary", "base58", "base64", "base64+zstd", "jsonParsed")
MAX_BASE58_BYTES = 128  # Agave refuses base58 account data above this
MAX_FILTERS = 4
MAX_MEMCMP_BYTES = 128


# -- zstd ----------------------------------------------------------------------

_ZSTD_MAGIC = 0xFD2FB528
_ZSTD_BLOCK_MAX = 128 * 1024


def zstd_frame(data: bytes) -> bytes:
    """A zstd frame of raw (stored) blocks: single segment, 8-byte content size."""
    out = bytearray(struct.pack("<IB", _ZSTD_MAGIC, 0xE0) + struct.pack("<Q", len(data)))
    chunks = [data[i:i + _ZSTD_BLOCK_MAX] for i in range(0, len(data), _ZSTD_BLOCK_MAX)] or [b""]
    for n, chunk in enumerate(chunks):
        last = 1 if n == len(chunks) - 1 else 0
        header = last | (0 << 1) | (len(chunk) << 3)  # block type 0 = raw
        out += header.to_bytes(3, "little") + chunk
    return bytes(out)


def maybe_gunzip(body: bytes, limit: int) -> bytes:
    """anchorpy labels plain JSON ``content-encoding: gzip``: inflate only
    real gzip (magic 1f 8b), bounded by ``limit``."""
    if body[:2] != b"\x1f\x8b":
        return body
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as e:
        raise ValueError(f"invalid gzip body: {e}") from None
    if len(out) > limit:
        raise OverflowError("decompressed body too large")
    return out



# -- SPL token -----------------------------------------------------------------

def ui_amount(amount: int, decimals: int) -> Dict[str, Any]:
    if decimals == 0:
        s = str(amount)
    else:
        q = Decimal(amount) / (Decimal(10) ** decimals)
        s = format(q, "f")
        if "." in s:
            s = s.rstrip("0").rstrip(".")
    return {"amount": str(amount), "decimals": decimals, "uiAmount": float(s), "uiAmountString": s}


def _opt_pubkey(data: bytes, off: int) -> Optional[str]:
    tag = struct.unpack_from("<I", data, off)[0]
    return str(Pubkey.from_bytes(data[off + 4:off + 36])) if tag == 1 else None


def is_token_account(acc: Optional[Account]) -> bool:
    return (acc is not None and acc.owner in TOKEN_PROGRAMS and len(acc.data) >= TOKEN_ACCOUNT_LEN
            and (len(acc.data) == TOKEN_ACCOUNT_LEN or (len(acc.data) > TOKEN_ACCOUNT_LEN and acc.data[TOKEN_ACCOUNT_LEN] == 2))
            and acc.data[108] != 0)


def is_mint(acc: Optional[Account]) -> bool:
    return (acc is not None and acc.owner in TOKEN_PROGRAMS and len(acc.data) >= MINT_LEN
            and (len(acc.data) == MINT_LEN or (len(acc.data) > TOKEN_ACCOUNT_LEN and acc.data[TOKEN_ACCOUNT_LEN] == 1))
            and acc.data[45] == 1)


def token_account_fields(data: bytes) -> Dict[str, Any]:
    mint = Pubkey.from_bytes(data[0:32])
    owner = Pubkey.from_bytes(data[32:64])
    amount = struct.unpack_from("<Q", data, 64)[0]
    state = data[108]
    native = struct.unpack_from("<I", data, 109)[0] == 1
    return {
        "mint": mint, "owner": owner, "amount": amount,
        "delegate": _opt_pubkey(data, 72),
        "state": {0: "uninitialized", 1: "initialized", 2: "frozen"}.get(state, "uninitialized"),
        "is_native": native,
        "rent_exempt_reserve": struct.unpack_from("<Q", data, 113)[0] if native else None,
        "delegated_amount": struct.unpack_from("<Q", data, 121)[0],
        "close_authority": _opt_pubkey(data, 129),
    }


def mint_fields(data: bytes) -> Dict[str, Any]:
    return {
        "mintAuthority": _opt_pubkey(data, 0),
        "supply": struct.unpack_from("<Q", data, 36)[0],
        "decimals": data[44],
        "isInitialized": data[45] == 1,
        "freezeAuthority": _opt_pubkey(data, 46),
    }


MintLookup = Callable[[Pubkey], Optional[Account]]


def mint_decimals(mint: Pubkey, lookup: MintLookup) -> Optional[int]:
    if mint == NATIVE_MINT:
        return 9
    acc = lookup(mint)
    return acc.data[44] if is_mint(acc) else None


def parse_token(acc: Account, lookup: MintLookup) -> Optional[Dict[str, Any]]:
    """Agave's ``jsonParsed`` for SPL Token accounts and mints (base fields)."""
    program = "spl-token" if acc.owner == TOKEN_PROGRAM_ID else "spl-token-2022"
    data = bytes(acc.data)
    if is_token_account(acc):
        f = token_account_fields(data)
        dec = mint_decimals(f["mint"], lookup)
        if dec is None:
            return None
        info: Dict[str, Any] = {
            "isNative": f["is_native"], "mint": str(f["mint"]), "owner": str(f["owner"]),
            "state": f["state"], "tokenAmount": ui_amount(f["amount"], dec),
        }
        if f["delegate"]:
            info["delegate"] = f["delegate"]
            info["delegatedAmount"] = ui_amount(f["delegated_amount"], dec)
        if f["close_authority"]:
            info["closeAuthority"] = f["close_authority"]
        if f["is_native"]:
            info["rentExemptReserve"] = ui_amount(f["rent_exempt_reserve"], dec)
        parsed = {"info": info, "type": "account"}
    elif is_mint(acc):
        m = mint_fields(data)
        m["supply"] = str(m["supply"])
        parsed = {"info": m, "type": "mint"}
    else:
        return None
    return {"program": program, "parsed": parsed, "space": len(data)}


# -- accounts ------------------------------------------------------------------

def check_encoding(enc: Optional[str], default: str = "binary", allowed: Tuple[str, ...] = ENCODINGS) -> str:
    enc = enc or default
    if enc not in allowed:
        raise RpcError.invalid_params(f"Invalid params: unknown variant `{enc}`, expected one of "
                                      + ", ".join(f"`{e}`" for e in allowed))
    return enc


def parse_data_slice(cfg: Optional[Dict[str, Any]]) -> Optional[Tuple[int, int]]:
    ds = (cfg or {}).get("dataSlice")
    if ds is None:
        return None
    try:
        off, ln = int(ds["offset"]), int(ds["length"])
    except (KeyError, TypeError, ValueError):
        raise RpcError.invalid_params("Invalid params: dataSlice needs offset and length") from None
    if off < 0 or ln < 0:
        raise RpcError.invalid_params("Invalid params: dataSlice offset/length must be >= 0")
    return off, ln


def encode_data(data: bytes, enc: str) -> Any:
    if enc == "binary":
        return base58.b58encode(data).decode()
    if enc == "base58":
        return [base58.b58encode(data).decode(), "base58"]
    if enc == "base64":
        return [base64.b64encode(data).decode(), "base64"]
    if enc == "base64+zstd":
        return [base64.b64encode(zstd_frame(data)).decode(), "base64+zstd"]
    raise ValueError(enc)


def ui_account(acc: Account, enc: str, data_slice: Optional[Tuple[int, int]] = None,
               lookup: Optional[MintLookup] = None) -> Dict[str, Any]:
    raw = bytes(acc.data)
    data: Any = None
    if enc == "jsonParsed" and data_slice is None and lookup is not None:
        data = parse_token(acc, lookup) if acc.owner in TOKEN_PROGRAMS else None
        if data is None:
            data = encode_data(raw, "base64")
    else:
        if enc == "jsonParsed":
            enc = "base64"
        sliced = raw[data_slice[0]:data_slice[0] + data_slice[1]] if data_slice else raw
        if enc in ("binary", "base58") and len(sliced) > MAX_BASE58_BYTES:
            raise RpcError(-32600, "Encoded binary (base 58) data should be less than 128 bytes, "
                                   "please use Base64 encoding.")
        data = encode_data(sliced, enc)
    return {
        "data": data,
        "executable": acc.executable,
        "lamports": acc.lamports,
        "owner": str(acc.owner),
        "rentEpoch": acc.rent_epoch,
        "space": len(raw),
    }


# -- filters -------------------------------------------------------------------

Filter = Callable[[Account], bool]


def parse_filters(filters: Any) -> List[Filter]:
    if filters is None:
        return []
    if not isinstance(filters, list):
        raise RpcError.invalid_params("Invalid params: filters must be an array")
    if len(filters) > MAX_FILTERS:
        raise RpcError.invalid_params(f"Too many filters provided; max {MAX_FILTERS}")
    out: List[Filter] = []
    for f in filters:
        if not isinstance(f, dict) or len(f) != 1:
            raise RpcError.invalid_params("Invalid params: unknown filter")
        if "dataSize" in f:
            size = f["dataSize"]
            if not isinstance(size, int) or size < 0:
                raise RpcError.invalid_params("Invalid params: dataSize must be a u64")
            out.append(lambda a, n=size: len(a.data) == n)
        elif "memcmp" in f:
            m = f["memcmp"]
            if not isinstance(m, dict) or not isinstance(m.get("offset"), int) or m["offset"] < 0 \
                    or not isinstance(m.get("bytes"), str):
                raise RpcError.invalid_params("Invalid params: memcmp needs offset (u64) and bytes (string)")
            enc = m.get("encoding") or "base58"
            try:
                if enc == "base58":
                    if len(m["bytes"]) > 175:
                        raise RpcError.invalid_params("Invalid param: encoded binary data should be less than 129 bytes")
                    needle = base58.b58decode(m["bytes"])
                elif enc == "base64":
                    if len(m["bytes"]) > 172:
                        raise RpcError.invalid_params("Invalid param: encoded binary data should be less than 129 bytes")
                    needle = base64.b64decode(m["bytes"], validate=True)
                else:
                    raise RpcError.invalid_params(f"Invalid params: unknown memcmp encoding `{enc}`")
            except RpcError:
                raise
            except ValueError:
                raise RpcError.invalid_params("Invalid param: invalid memcmp bytes") from None
            if len(needle) > MAX_MEMCMP_BYTES:
                raise RpcError.invalid_params("Invalid param: encoded binary data should be less than 129 bytes")
            off = m["offset"]
            out.append(lambda a, o=off, b=needle: bytes(a.data[o:o + len(b)]) == b)
        elif "tokenAccountState" in f:
            out.append(is_token_account)
        else:
            raise RpcError.invalid_params("Invalid params: unknown filter")
    return out


# -- transaction errors --------------------------------------------------------

def tx_err_json(err: Any) -> Any:
    """A solders ``TransactionError`` as Agave's JSON (``None`` -> ``None``)."""
    if err is None:
        return None
    res = RpcSimulateTransactionResult(err=err, logs=None, accounts=None, units_consumed=None, return_data=None)
    return json.loads(res.to_json())["err"]


_TX_ERR_TEXT = {
    "AccountInUse": "Account in use",
    "AccountLoadedTwice": "Account loaded twice",
    "AccountNotFound": "Attempt to debit an account but found no record of a prior credit.",
    "ProgramAccountNotFound": "Attempt to load a program that does not exist",
    "InsufficientFundsForFee": "Insufficient funds for fee",
    "InvalidAccountForFee": "This account may not be used to pay transaction fees",
    "AlreadyProcessed": "This transaction has already been processed",
    "BlockhashNotFound": "Blockhash not found",
    "CallChainTooDeep": "Loader call chain is too deep",
    "MissingSignatureForFee": "Transaction requires a fee but has no signature present",
    "InvalidAccountIndex": "Transaction contains an invalid account reference",
    "SignatureFailure": "Transaction did not pass signature verification",
    "InvalidProgramForExecution": "This program may not be used for executing instructions",
    "SanitizeFailure": "Transaction failed to sanitize accounts offsets correctly",
    "TooManyAccountLocks": "Transaction locked too many accounts",
    "UnsupportedVersion": "Transaction version is unsupported",
    "InvalidWritableAccount": "Transaction loads a writable account that cannot be written",
}

_IX_ERR_TEXT = {
    "GenericError": "generic instruction error",
    "InvalidArgument": "invalid program argument",
    "InvalidInstructionData": "invalid instruction data",
    "InvalidAccountData": "invalid account data for instruction",
    "AccountDataTooSmall": "account data too small for instruction",
    "InsufficientFunds": "insufficient funds for instruction",
    "IncorrectProgramId": "incorrect program id for instruction",
    "MissingRequiredSignature": "missing required signature for instruction",
    "AccountAlreadyInitialized": "instruction requires an uninitialized account",
    "UninitializedAccount": "instruction requires an initialized account",
    "NotEnoughAccountKeys": "insufficient account keys for instruction",
    "AccountBorrowFailed": "instruction tries to borrow reference for an account which is already borrowed",
    "ComputationalBudgetExceeded": "Computational budget exceeded",
    "ProgramFailedToComplete": "Program failed to complete",
    "ProgramFailedToCompile": "Program failed to compile",
    "PrivilegeEscalation": "Cross-program invocation with unauthorized signer or writable account",
    "InvalidSeeds": "Provided seeds do not result in a valid address",
    "UnsupportedProgramId": "Unsupported program id",
    "ExecutableModified": "instruction changed executable bit of an account",
    "ReadonlyLamportChange": "instruction changed the balance of a read-only account",
    "ExternalAccountLamportSpend": "instruction spent from the balance of an account it does not own",
    "ExternalAccountDataModified": "instruction modified data of an account it does not own",
    "InvalidRealloc": "Failed to reallocate account data",
    "MaxSeedLengthExceeded": "Length of the seed is too long for address generation",
    "AccountNotRentExempt": "An account does not have enough lamports to be rent-exempt",
}


def tx_err_text(err_json: Any) -> str:
    """Agave's ``Display`` of a transaction error (from its JSON form)."""
    if isinstance(err_json, str):
        return _TX_ERR_TEXT.get(err_json, err_json)
    if isinstance(err_json, dict) and "InstructionError" in err_json:
        idx, ie = err_json["InstructionError"]
        if isinstance(ie, dict) and "Custom" in ie:
            text = f"custom program error: {ie['Custom']:#x}"
        elif isinstance(ie, dict) and "BorshIoError" in ie:
            text = f"An error occurred while serializing or deserializing data: {ie['BorshIoError']}"
        else:
            text = _IX_ERR_TEXT.get(str(ie), str(ie))
        return f"Error processing Instruction {idx}: {text}"
    if isinstance(err_json, dict) and "InsufficientFundsForRent" in err_json:
        i = err_json["InsufficientFundsForRent"].get("account_index")
        return f"Transaction results in an account ({i}) with insufficient funds for rent"
    return json.dumps(err_json)


def b58(data: bytes) -> str:
    return base58.b58encode(data).decode()
