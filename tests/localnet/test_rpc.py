"""The local validator's JSON-RPC layer in process (no sockets): framing and
errors, commitment and blockhash ageing, preflight, fees, token and program
account queries, the journal. The HTTP server and the real-process tier are
in test_localnet_http.py and tests/integration/."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any, List, Optional

import base58
import pytest
from solders.account import Account
from solders.compute_budget import set_compute_unit_limit, set_compute_unit_price
from solders.hash import Hash
from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.message import Message, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.rpc.responses import GetMultipleAccountsResp
from solders.signature import Signature
from solders.system_program import CreateAccountParams, TransferParams, create_account, transfer
from solders.transaction import Transaction

from iopay.core import spl
from iopay.localnet import codec
from iopay.localnet.chain import MAX_PROCESSING_AGE, SYSTEM_PROGRAM_ID, Chain
from iopay.localnet.jsonrpc import Dispatcher
from iopay.localnet.ledger import Ledger
from iopay.localnet.methods import NodeInfo, RpcMethods

SOL = 1_000_000_000
#: enough to make a new system account rent-exempt (a smaller transfer to one fails: InsufficientFundsForRent)
FUND = 1_000_000


class Node:
    def __init__(self, journal: Optional[Ledger] = None, finality_depth: int = 4) -> None:
        self.t = 1_750_000_000.0
        self.chain = Chain(Hash.new_unique(), finality_depth=finality_depth, now=lambda: self.t)
        self.faucet = Keypair()
        self.chain.journal = journal
        self.chain.set_account(self.faucet.pubkey(), Account(10**9 * SOL, b"", SYSTEM_PROGRAM_ID))
        self.methods = RpcMethods(self.chain, NodeInfo(Keypair(), self.faucet))
        self.rpc = Dispatcher(self.methods.table())
        self.ids = 0
        self.tick()  # slot 0 is genesis

    def raw(self, payload: Any) -> Any:
        out = self.rpc.handle_payload(payload if isinstance(payload, (bytes, str)) else json.dumps(payload))
        return None if out is None else json.loads(out)

    def call(self, method: str, *params: Any) -> Any:
        self.ids += 1
        return self.raw({"jsonrpc": "2.0", "id": self.ids, "method": method, "params": list(params)})

    def ok(self, method: str, *params: Any) -> Any:
        r = self.call(method, *params)
        assert "error" not in r, r
        return r["result"]

    def err(self, method: str, *params: Any) -> dict:
        r = self.call(method, *params)
        assert "error" in r, r
        return r["error"]

    def tick(self, n: int = 1) -> None:
        self.t += 0.4 * n
        self.chain.advance_to(self.chain.slot + n)

    def funded(self, sol: int = 10) -> Keypair:
        kp = Keypair()
        self.ok("requestAirdrop", str(kp.pubkey()), sol * SOL)
        return kp

    def tx(self, ixs: List[Instruction], payer: Keypair, *signers: Keypair, blockhash: Optional[Hash] = None) -> Transaction:
        bh = blockhash or Hash.from_string(self.ok("getLatestBlockhash", {"commitment": "processed"})["value"]["blockhash"])
        return Transaction([payer, *signers], Message.new_with_blockhash(ixs, payer.pubkey(), bh), bh)

    def send(self, tx: Transaction, **cfg: Any) -> Any:
        # Blockhashes and fee payers come from `processed`: the preflight must run there
        # too (its default, finalized, does not know them yet, as on Agave).
        return self.call("sendTransaction", base64.b64encode(bytes(tx)).decode(),
                         {"encoding": "base64", "preflightCommitment": "processed", **cfg})


@pytest.fixture
def node() -> Node:
    return Node()


def _xfer(a: Keypair, b: Pubkey, lamports: int) -> Instruction:
    return transfer(TransferParams(from_pubkey=a.pubkey(), to_pubkey=b, lamports=lamports))


# -- framing --------------------------------------------------------------------

def test_parse_error_invalid_request_and_unknown_method(node: Node) -> None:
    assert node.raw(b"{not json") == {"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": None}
    assert node.raw(b"\xff\xfe") ["error"]["code"] == -32700
    assert node.raw(b"42")["error"]["code"] == -32700  # as Agave: not a request object nor a batch
    assert node.raw(b'"getSlot"')["error"]["code"] == -32700
    assert node.raw({"jsonrpc": "1.0", "id": 1, "method": "getSlot"})["error"]["code"] == -32600
    assert node.raw({"jsonrpc": "2.0", "id": 1})["error"]["code"] == -32600
    assert node.raw({"jsonrpc": "2.0", "id": [1], "method": "getSlot"})["error"]["code"] == -32600
    r = node.call("getSlotz")
    assert r["error"] == {"code": -32601, "message": "Method not found"} and r["id"] == node.ids
    assert node.raw({"jsonrpc": "2.0", "id": 1, "method": "getBalance", "params": {"a": 1}})["error"]["code"] == -32602
    assert node.raw(b"[" * 100_000)["error"]["code"] == -32700  # deep nesting


def test_invalid_params(node: Node) -> None:
    assert node.err("getBalance")["code"] == -32602
    assert node.err("getBalance", "not-a-key")["code"] == -32602
    assert node.err("getBalance", 5)["code"] == -32602
    assert node.err("getAccountInfo", str(Pubkey.default()), "nope")["code"] == -32602
    assert node.err("getAccountInfo", str(Pubkey.default()), {"encoding": "hex"})["code"] == -32602
    assert node.err("getMultipleAccounts", [str(Pubkey.default())] * 101)["message"].startswith("Too many inputs")
    assert node.err("getSignatureStatuses", ["x"])["code"] == -32602
    assert node.err("sendTransaction", "!!!", {"encoding": "base64"})["code"] == -32602
    assert node.err("sendTransaction", base58.b58encode(b"\x01garbage").decode())["code"] == -32602
    assert node.err("sendTransaction", "A" * 2000, {"encoding": "base64"})["message"].startswith("base64 encoded")
    assert node.err("getTransaction", str(Signature.default()), {"commitment": "processed"})["message"] == \
        "Method does not support commitment below `confirmed`"
    assert node.err("getSlot", {"commitment": "sideways"})["code"] == -32602
    assert node.err("iopay_warpTime", -5)["code"] == -32602
    e = node.err("getSlot", {"minContextSlot": 10**6, "commitment": "processed"})
    assert e["code"] == -32016 and e["data"] == {"contextSlot": node.chain.slot}


def test_batches_and_notifications(node: Node) -> None:
    out = node.raw([
        {"jsonrpc": "2.0", "id": 1, "method": "getHealth"},
        {"jsonrpc": "2.0", "id": 2, "method": "nope"},
        {"jsonrpc": "2.0", "method": "getSlot"},  # notification: no response
        7,
        {"jsonrpc": "2.0", "id": "x", "method": "getBalance", "params": [str(node.faucet.pubkey())]},
    ])
    assert [r.get("id") for r in out] == [1, 2, None, "x"]
    assert out[0]["result"] == "ok" and out[1]["error"]["code"] == -32601 and out[2]["error"]["code"] == -32600
    assert out[3]["result"]["value"] == 10**9 * SOL and out[3]["result"]["context"]["apiVersion"]
    assert node.raw([]) is None  # as Agave 4.2: an empty batch gets an empty answer
    assert node.raw([{"jsonrpc": "2.0", "method": "getSlot"}]) is None
    assert node.raw({"jsonrpc": "2.0", "method": "getSlot"}) is None


# -- slots, commitment, blockhashes ---------------------------------------------------

def test_commitment_progression_and_statuses(node: Node) -> None:
    a = node.funded()
    sig = node.ok("sendTransaction", base58.b58encode(bytes(node.tx([_xfer(a, Keypair().pubkey(), FUND)], a))).decode(),
                  {"preflightCommitment": "processed"})
    slot = node.chain.slot

    def status() -> dict:
        return node.ok("getSignatureStatuses", [sig])["value"][0]

    assert status() == {"slot": slot, "confirmations": 0, "err": None, "status": {"Ok": None},
                        "confirmationStatus": "processed"}
    assert node.ok("getTransaction", sig, {"commitment": "confirmed"}) is None  # not confirmed yet
    node.tick()
    assert status()["confirmationStatus"] == "confirmed" and status()["confirmations"] == 1
    assert node.ok("getTransaction", sig, {"commitment": "confirmed"})["slot"] == slot
    assert node.ok("getTransaction", sig) is None  # default commitment is finalized
    node.tick(4)
    assert status()["confirmationStatus"] == "finalized" and status()["confirmations"] is None
    assert node.ok("getSlot") == node.chain.slot - 4
    assert node.ok("getSlot", {"commitment": "confirmed"}) == node.chain.slot - 1
    assert node.ok("getBlockHeight", {"commitment": "processed"}) == node.chain.slot
    info = node.ok("getEpochInfo", {"commitment": "processed"})
    assert info["absoluteSlot"] == node.chain.slot and info["transactionCount"] == 2
    assert node.ok("getSignatureStatuses", [str(Signature.default())])["value"] == [None]


def test_blockhashes_age_like_a_real_chain(node: Node) -> None:
    a = node.funded()
    lb = node.ok("getLatestBlockhash", {"commitment": "processed"})["value"]
    assert lb["lastValidBlockHeight"] == node.chain.slot + MAX_PROCESSING_AGE
    old = node.tx([_xfer(a, Keypair().pubkey(), FUND)], a)
    node.tick()
    fresh = node.ok("getLatestBlockhash", {"commitment": "processed"})["value"]["blockhash"]
    assert fresh != lb["blockhash"]
    assert node.ok("isBlockhashValid", lb["blockhash"], {"commitment": "processed"})["value"] is True
    msg = base64.b64encode(to_bytes_versioned(old.message)).decode()
    assert node.ok("getFeeForMessage", msg, {"commitment": "processed"})["value"] == 5000
    node.tick(MAX_PROCESSING_AGE - 1)
    assert node.chain.block_height == lb["lastValidBlockHeight"]
    processed = {"commitment": "processed"}  # the default, finalized, is finality_depth blocks lower
    assert node.ok("isBlockhashValid", lb["blockhash"], processed)["value"] is True  # valid at lastValidBlockHeight
    node.tick()
    assert node.ok("isBlockhashValid", lb["blockhash"], processed)["value"] is False
    assert node.ok("getFeeForMessage", msg, processed)["value"] is None
    e = node.send(old)["error"]
    assert e["code"] == -32002 and e["data"]["err"] == "BlockhashNotFound"
    assert e["message"] == "Transaction simulation failed: Blockhash not found"
    # skipPreflight: the signature comes back but never lands.
    sig = node.send(old, skipPreflight=True)["result"]
    assert node.ok("getSignatureStatuses", [sig])["value"] == [None]
    assert node.ok("isBlockhashValid", str(Hash.default()))["value"] is False


def test_preflight_failure_and_skip_preflight_commit(node: Node) -> None:
    a = node.funded(1)
    tx = node.tx([_xfer(a, Keypair().pubkey(), 5 * SOL)], a)
    e = node.send(tx)["error"]
    assert e["code"] == -32002
    assert e["message"] == "Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1"
    assert e["data"]["err"] == {"InstructionError": [0, {"Custom": 1}]}
    assert any("insufficient lamports" in line for line in e["data"]["logs"])
    assert e["data"]["accounts"] is None and e["data"]["unitsConsumed"] > 0
    before = node.ok("getBalance", str(a.pubkey()), {"commitment": "processed"})["value"]
    sig = node.send(tx, skipPreflight=True)["result"]
    st = node.ok("getSignatureStatuses", [sig])["value"][0]
    assert st["err"] == {"InstructionError": [0, {"Custom": 1}]} and st["status"] == {"Err": st["err"]}
    assert node.ok("getBalance", str(a.pubkey()), {"commitment": "processed"})["value"] == before - 5000
    # Re-sending the landed transaction: preflight says AlreadyProcessed, skip returns the signature.
    assert node.send(tx)["error"]["data"]["err"] == "AlreadyProcessed"
    assert node.send(tx, skipPreflight=True)["result"] == sig
    assert node.ok("getTransactionCount", {"commitment": "processed"}) == 2
    # Unfunded fee payer: dropped, no status.
    ghost = Keypair()
    tx2 = node.tx([_xfer(ghost, a.pubkey(), 1)], ghost)
    assert node.send(tx2)["error"]["data"]["err"] == "AccountNotFound"
    assert node.ok("getSignatureStatuses", [node.send(tx2, skipPreflight=True)["result"]])["value"] == [None]


def test_signature_verification_and_simulation_options(node: Node) -> None:
    a = node.funded()
    tx = node.tx([_xfer(a, Keypair().pubkey(), FUND)], a)
    forged = Transaction.populate(tx.message, [Signature.new_unique()])
    enc = base64.b64encode(bytes(forged)).decode()
    assert node.err("sendTransaction", enc, {"encoding": "base64"})["code"] == -32003
    sim = node.ok("simulateTransaction", enc, {"encoding": "base64", "commitment": "processed"})["value"]
    assert sim["err"] is None and sim["unitsConsumed"] == 150 and sim["replacementBlockhash"] is None
    assert node.err("simulateTransaction", enc, {"encoding": "base64", "sigVerify": True})["code"] == -32003
    e = node.err("simulateTransaction", enc, {"encoding": "base64", "sigVerify": True, "replaceRecentBlockhash": True})
    assert e["message"] == "sigVerify may not be used with replaceRecentBlockhash"
    node.tick(MAX_PROCESSING_AGE + 2)
    assert node.ok("simulateTransaction", enc, {"encoding": "base64", "commitment": "processed"})["value"]["err"] == \
        "BlockhashNotFound"
    sim = node.ok("simulateTransaction", enc, {"encoding": "base64", "replaceRecentBlockhash": True,
                                               "commitment": "processed",
                                               "accounts": {"addresses": [str(a.pubkey())], "encoding": "base64"},
                                               "innerInstructions": True})["value"]
    assert sim["err"] is None and sim["replacementBlockhash"]["blockhash"] == str(node.chain.latest_blockhash()[0]) \
        or sim["replacementBlockhash"]["lastValidBlockHeight"] == node.chain.slot + MAX_PROCESSING_AGE
    assert sim["accounts"][0]["lamports"] == 10 * SOL - FUND - 5000 and sim["innerInstructions"] == []
    # Simulation changes nothing.
    assert node.ok("getBalance", str(a.pubkey()), {"commitment": "processed"})["value"] == 10 * SOL


def test_priority_fee_is_charged_and_reported(node: Node) -> None:
    a = node.funded()
    node.tick()
    dest = Keypair().pubkey()
    tx = node.tx([set_compute_unit_limit(10_000), set_compute_unit_price(250_000), _xfer(a, dest, SOL)], a)
    sig = node.send(tx)["result"]
    node.tick()
    meta = node.ok("getTransaction", sig, {"commitment": "confirmed"})["meta"]
    assert meta["fee"] == 5000 + 2500
    assert meta["preBalances"][0] - meta["postBalances"][0] == SOL + 7500
    assert node.ok("getBalance", str(a.pubkey()), {"commitment": "confirmed"})["value"] == 10 * SOL - SOL - 7500
    fees = node.ok("getRecentPrioritizationFees", [str(a.pubkey())])
    assert fees[-1] == {"slot": node.chain.slot - 1, "prioritizationFee": 250_000}


def test_prioritization_fee_reported_is_the_price_actually_paid(node: Node) -> None:
    """As Agave 4.2's cache: the fee rounds up to whole lamports (77,000 micro-lamports x 1,300 CU
    = 100.1 -> 101 lamports) and the price reported is that fee over the limit (77,692), not the
    ``SetComputeUnitPrice`` asked; the charge is the rounded-up fee."""
    a = node.funded()
    node.tick()
    tx = node.tx([set_compute_unit_limit(1_300), set_compute_unit_price(77_000), _xfer(a, Keypair().pubkey(), SOL)], a)
    sig = node.send(tx)["result"]
    node.tick()
    assert node.ok("getTransaction", sig, {"commitment": "confirmed"})["meta"]["fee"] == 5000 + 101
    fees = node.ok("getRecentPrioritizationFees", [str(a.pubkey())])
    assert fees[-1] == {"slot": node.chain.slot - 1, "prioritizationFee": 77_692}


def test_airdrops_are_distinct_transactions(node: Node) -> None:
    kp = Keypair()
    s1 = node.ok("requestAirdrop", str(kp.pubkey()), SOL)
    s2 = node.ok("requestAirdrop", str(kp.pubkey()), SOL)
    assert s1 != s2
    assert node.ok("getBalance", str(kp.pubkey()), {"commitment": "processed"})["value"] == 2 * SOL
    assert node.ok("getBalance", str(kp.pubkey()))["value"] == 0  # not finalized yet
    assert node.err("requestAirdrop", str(kp.pubkey()), 0)["code"] == -32602
    assert node.err("requestAirdrop", str(kp.pubkey()), 2**64)["code"] == -32602
    assert node.err("requestAirdrop", str(kp.pubkey()), 2 * 10**18)["code"] == -32603  # faucet too small


def test_warp_time_moves_the_clock_only(node: Node) -> None:
    slot = node.chain.slot
    before = node.chain.svm.get_clock().unix_timestamp
    r = node.ok("iopay_warpTime", 3600)
    assert r["unixTimestamp"] == before + 3600 == node.chain.svm.get_clock().unix_timestamp
    assert node.ok("iopay_warpTime", {"seconds": 60})["timeOffset"] == 3660 and node.chain.slot == slot
    node.tick()
    assert node.chain.svm.get_clock().unix_timestamp == int(node.t + 3660)
    assert node.ok("getBlockTime", node.chain.slot) == int(node.t + 3660)


# -- tokens and program accounts ----------------------------------------------------

def _token_setup(node: Node):  # type: ignore[no-untyped-def]
    payer = node.funded(100)
    mint = Keypair()
    rent = node.chain.svm.minimum_balance_for_rent_exemption
    owners = [Keypair().pubkey(), Keypair().pubkey()]
    accts = [Keypair(), Keypair(), Keypair()]
    ixs = [create_account(CreateAccountParams(from_pubkey=payer.pubkey(), to_pubkey=mint.pubkey(),
                                              lamports=rent(spl.MINT_LEN), space=spl.MINT_LEN, owner=spl.TOKEN_PROGRAM_ID)),
           spl.initialize_mint2(mint.pubkey(), 6, payer.pubkey())]
    assert "result" in node.send(node.tx(ixs, payer, mint))
    for acct, owner in zip(accts, owners + [owners[0]]):
        ixs = [create_account(CreateAccountParams(from_pubkey=payer.pubkey(), to_pubkey=acct.pubkey(),
                                                  lamports=rent(spl.ACCOUNT_LEN), space=spl.ACCOUNT_LEN,
                                                  owner=spl.TOKEN_PROGRAM_ID)),
               spl.initialize_account3(acct.pubkey(), mint.pubkey(), owner)]
        assert "result" in node.send(node.tx(ixs, payer, acct))
    r = node.send(node.tx([spl.mint_to(mint.pubkey(), accts[0].pubkey(), payer.pubkey(), 1_500_000),
                           spl.mint_to(mint.pubkey(), accts[1].pubkey(), payer.pubkey(), 20)], payer))
    assert "result" in r, r
    node.tick(node.chain.finality_depth)  # finalized: the reads below use the default commitment
    return payer, mint.pubkey(), owners, [a.pubkey() for a in accts], r["result"]


def test_token_queries_and_token_balances_in_meta(node: Node) -> None:
    _, mint, owners, accts, sig = _token_setup(node)
    bal = node.ok("getTokenAccountBalance", str(accts[0]))["value"]
    assert bal == {"amount": "1500000", "decimals": 6, "uiAmount": 1.5, "uiAmountString": "1.5"}
    assert node.ok("getTokenAccountBalance", str(accts[1]))["value"]["uiAmountString"] == "0.00002"
    assert node.ok("getTokenAccountBalance", str(accts[2]))["value"]["uiAmountString"] == "0"
    assert node.err("getTokenAccountBalance", str(mint))["message"] == "Invalid param: not a Token account"
    assert node.ok("getTokenSupply", str(mint))["value"]["amount"] == "1500020"
    mine = node.ok("getTokenAccountsByOwner", str(owners[0]), {"mint": str(mint)}, {"encoding": "base64"})["value"]
    assert sorted(x["pubkey"] for x in mine) == sorted([str(accts[0]), str(accts[2])])
    parsed = node.ok("getTokenAccountsByOwner", str(owners[1]), {"programId": str(spl.TOKEN_PROGRAM_ID)},
                     {"encoding": "jsonParsed"})["value"]
    (only,) = parsed
    info = only["account"]["data"]["parsed"]["info"]
    assert only["account"]["data"]["program"] == "spl-token" and info["owner"] == str(owners[1])
    assert info["tokenAmount"]["amount"] == "20" and info["state"] == "initialized"
    assert node.err("getTokenAccountsByOwner", str(owners[0]), {"programId": str(SYSTEM_PROGRAM_ID)})["code"] == -32602
    assert node.err("getTokenAccountsByOwner", str(owners[0]), {"mint": str(owners[1])})["message"] == \
        "Invalid param: could not find mint"
    mint_parsed = node.ok("getAccountInfo", str(mint), {"encoding": "jsonParsed"})["value"]["data"]["parsed"]
    assert mint_parsed == {"info": {"mintAuthority": mint_parsed["info"]["mintAuthority"], "supply": "1500020",
                                    "decimals": 6, "isInitialized": True, "freezeAuthority": None}, "type": "mint"}
    node.tick()
    meta = node.ok("getTransaction", sig, {"commitment": "confirmed"})["meta"]
    post = {b["accountIndex"]: b for b in meta["postTokenBalances"]}
    pre = {b["accountIndex"]: b for b in meta["preTokenBalances"]}
    assert sorted(b["uiTokenAmount"]["amount"] for b in post.values()) == ["1500000", "20"]
    assert sorted(b["uiTokenAmount"]["amount"] for b in pre.values()) == ["0", "0"]
    assert all(b["mint"] == str(mint) and b["programId"] == str(spl.TOKEN_PROGRAM_ID) for b in post.values())


def test_program_accounts_filters(node: Node) -> None:
    _, mint, owners, accts, _ = _token_setup(node)
    tp = str(spl.TOKEN_PROGRAM_ID)

    def keys(*filters: Any, **cfg: Any) -> List[str]:
        res = node.ok("getProgramAccounts", tp, {"encoding": "base64", "filters": list(filters), **cfg})
        return sorted(x["pubkey"] for x in res)

    assert keys({"dataSize": 165}) == sorted(map(str, accts))
    assert keys({"dataSize": 82}) == [str(mint)]
    b58owner = base58.b58encode(bytes(owners[0])).decode()
    assert keys({"dataSize": 165}, {"memcmp": {"offset": 32, "bytes": b58owner}}) == sorted([str(accts[0]), str(accts[2])])
    b64owner = base64.b64encode(bytes(owners[1])).decode()
    assert keys({"memcmp": {"offset": 32, "bytes": b64owner, "encoding": "base64"}}) == [str(accts[1])]
    assert keys({"memcmp": {"offset": 64, "bytes": base58.b58encode(struct.pack("<Q", 20)).decode()}}) == [str(accts[1])]
    assert keys({"memcmp": {"offset": 10_000, "bytes": "1"}}) == []
    assert keys({"tokenAccountState": None}) == sorted(map(str, accts))
    ctx = node.ok("getProgramAccounts", tp, {"withContext": True, "encoding": "base64",
                                              "dataSlice": {"offset": 0, "length": 8}, "filters": [{"dataSize": 82}]})
    assert ctx["context"]["slot"] >= 0 and ctx["value"][0]["account"]["data"][0] == \
        base64.b64encode(bytes(node.chain.get_account(mint).data)[:8]).decode()
    assert ctx["value"][0]["account"]["space"] == 82
    for bad in ({"memcmp": {"offset": -1, "bytes": "1"}}, {"memcmp": {"offset": 0, "bytes": "0OIl"}},
                {"memcmp": {"offset": 0, "bytes": "1", "encoding": "hex"}}, {"nope": 1}, {"dataSize": "x"}):
        assert node.err("getProgramAccounts", tp, {"filters": [bad]})["code"] == -32602
    assert node.err("getProgramAccounts", tp, {"filters": [{"dataSize": 1}] * 5})["code"] == -32602
    # base58 (the default encoding) is refused for data over 128 bytes, as Agave does.
    assert node.err("getProgramAccounts", tp, {"filters": [{"dataSize": 165}]})["code"] == -32600
    # Closed accounts leave the index.
    assert node.ok("getBalance", str(accts[0]))["value"] > 0


def test_zstd_frames_decode_with_solders(node: Node) -> None:
    a = node.funded()
    node.tick(node.chain.finality_depth)
    for size in (0, 1, 200, 300_000):
        frame = codec.zstd_frame(bytes(range(256)) * (size // 256) + bytes(size % 256))
        resp = {"jsonrpc": "2.0", "id": 1, "result": {"context": {"slot": 1}, "value": [{
            "data": [base64.b64encode(frame).decode(), "base64+zstd"], "executable": False, "lamports": 1,
            "owner": str(SYSTEM_PROGRAM_ID), "rentEpoch": 0, "space": size}]}}
        acc = GetMultipleAccountsResp.from_json(json.dumps(resp)).value[0]
        assert len(acc.data) == size
    got = node.ok("getMultipleAccounts", [str(a.pubkey())], {"encoding": "base64+zstd"})["value"][0]
    assert got["data"][1] == "base64+zstd" and got["lamports"] == 10 * SOL


def test_signatures_for_address_paging(node: Node) -> None:
    a = node.funded()
    sigs = []
    for i in range(5):
        sigs.append(node.send(node.tx([_xfer(a, Keypair().pubkey(), FUND + i)], a))["result"])
        node.tick()
    node.tick()
    listed = [x["signature"] for x in node.ok("getSignaturesForAddress", str(a.pubkey()), {"commitment": "confirmed"})]
    assert listed[:5] == sigs[::-1] and len(listed) == 6  # + the airdrop
    page = node.ok("getSignaturesForAddress", str(a.pubkey()), {"commitment": "confirmed", "limit": 2, "before": sigs[3]})
    assert [x["signature"] for x in page] == [sigs[2], sigs[1]]
    page = node.ok("getSignaturesForAddress", str(a.pubkey()), {"commitment": "confirmed", "until": sigs[2]})
    assert [x["signature"] for x in page] == [sigs[4], sigs[3]]
    assert node.err("getSignaturesForAddress", str(a.pubkey()), {"limit": 1001})["code"] == -32602


# -- the journal ----------------------------------------------------------------------

def test_journal_replay_restores_accounts_and_history(tmp_path) -> None:  # type: ignore[no-untyped-def]
    led = Ledger(tmp_path / "ledger")
    n1 = Node(journal=led)
    _, mint, owners, accts, sig = _token_setup(n1)
    warp_slot = n1.chain.slot
    n1.ok("iopay_warpTime", 7200)
    n1.tick(3)
    led.close()
    # A torn write at the end (killed mid-append) is cut off.
    with open(tmp_path / "ledger" / "journal.jsonl", "ab") as f:
        f.write(b'{"t":"tx","rec":{"signa')
    n2 = Node()
    n2.chain = Chain(n1.chain.genesis_hash, finality_depth=4, now=lambda: n1.t)
    for entry in Ledger(tmp_path / "ledger").entries():
        n2.chain.replay(entry)
    assert (tmp_path / "ledger" / "journal.jsonl").read_bytes().endswith(b"}\n")
    for k in [mint, *accts]:
        assert n2.chain.get_account(k) == n1.chain.get_account(k)
    assert n2.chain.txs[sig] == n1.chain.txs[sig]
    assert n2.chain.time_offset == 7200 and n2.chain.slot == warp_slot  # the last journaled slot
    assert n2.chain.by_owner[spl.TOKEN_PROGRAM_ID] == n1.chain.by_owner[spl.TOKEN_PROGRAM_ID]
    assert n2.chain.addr_sigs == n1.chain.addr_sigs and n2.chain.tx_count == n1.chain.tx_count


# -- commitment levels answer from their own bank -------------------------------------

def test_reads_at_each_commitment_see_that_slots_state(node: Node) -> None:
    a = node.funded()
    node.tick(5)  # the airdrop is finalized (depth 4)
    b = Keypair().pubkey()
    assert node.send(node.tx([_xfer(a, b, 7 * SOL // 10)], a))["result"]

    def bal(k: Pubkey, c: str) -> int:
        return node.ok("getBalance", str(k), {"commitment": c})["value"]

    def info(k: Pubkey, c: str) -> Any:
        return node.ok("getAccountInfo", str(k), {"commitment": c, "encoding": "base64"})["value"]

    def system_accounts(c: str) -> set:
        got = node.ok("getProgramAccounts", str(SYSTEM_PROGRAM_ID), {"commitment": c, "encoding": "base64"})
        return {x["pubkey"] for x in got}

    assert bal(b, "processed") == 7 * SOL // 10 and info(b, "processed") is not None
    assert bal(b, "confirmed") == 0 and info(b, "confirmed") is None and bal(b, "finalized") == 0
    assert str(b) in system_accounts("processed") and str(b) not in system_accounts("confirmed")
    multi = node.ok("getMultipleAccounts", [str(b), str(a.pubkey())], {"commitment": "confirmed"})["value"]
    assert multi[0] is None and multi[1]["lamports"] == 10 * SOL
    node.tick()
    assert bal(b, "confirmed") == 7 * SOL // 10 and str(b) in system_accounts("confirmed")
    assert bal(b, "finalized") == 0 and bal(a.pubkey(), "finalized") == 10 * SOL
    node.tick(3)
    assert bal(b, "finalized") == 7 * SOL // 10
    assert bal(a.pubkey(), "finalized") == 10 * SOL - 7 * SOL // 10 - 5000


def test_a_processed_blockhash_is_unknown_at_confirmed_until_the_next_slot(node: Node) -> None:
    a = node.funded()
    node.tick(5)
    processed = node.ok("getLatestBlockhash", {"commitment": "processed"})["value"]["blockhash"]
    confirmed = node.ok("getLatestBlockhash", {"commitment": "confirmed"})["value"]["blockhash"]
    assert processed != confirmed
    assert node.ok("isBlockhashValid", processed, {"commitment": "processed"})["value"] is True
    assert node.ok("isBlockhashValid", processed, {"commitment": "confirmed"})["value"] is False
    tx = node.tx([_xfer(a, Keypair().pubkey(), FUND)], a, blockhash=Hash.from_string(processed))
    msg = base64.b64encode(to_bytes_versioned(tx.message)).decode()
    assert node.ok("getFeeForMessage", msg, {"commitment": "confirmed"})["value"] is None
    # What the real validator answers: preflight at confirmed does not know the blockhash.
    e = node.send(tx, preflightCommitment="confirmed")["error"]
    assert e["code"] == -32002 and e["data"]["err"] == "BlockhashNotFound"
    e = node.send(tx, preflightCommitment=None)["error"]  # default: finalized
    assert e["data"]["err"] == "BlockhashNotFound"
    sim = node.ok("simulateTransaction", base64.b64encode(bytes(tx)).decode(),
                  {"encoding": "base64", "commitment": "confirmed"})["value"]
    assert sim["err"] == "BlockhashNotFound"
    node.tick()
    assert node.ok("isBlockhashValid", processed, {"commitment": "confirmed"})["value"] is True
    assert node.send(tx, preflightCommitment="confirmed")["result"] == str(tx.signatures[0])


def test_preflight_runs_against_the_state_of_its_commitment(node: Node) -> None:
    a = node.funded()
    node.tick(5)
    b = Keypair()
    node.ok("requestAirdrop", str(b.pubkey()), SOL)  # processed only
    bh = Hash.from_string(node.ok("getLatestBlockhash", {"commitment": "confirmed"})["value"]["blockhash"])
    tx = node.tx([_xfer(b, a.pubkey(), 1000)], b, blockhash=bh)
    # At confirmed, b does not exist yet: its fee cannot be paid.
    assert node.send(tx, preflightCommitment="confirmed")["error"]["data"]["err"] == "AccountNotFound"
    sim = node.ok("simulateTransaction", base64.b64encode(bytes(tx)).decode(),
                  {"encoding": "base64", "commitment": "processed"})["value"]
    assert sim["err"] is None
    # A simulation in the older bank leaves the latest state as it was.
    assert node.ok("getBalance", str(b.pubkey()), {"commitment": "processed"})["value"] == SOL
    node.tick()
    assert node.send(tx, preflightCommitment="confirmed")["result"]


def test_clock_and_sysvars_at_confirmed_lag_one_slot(node: Node) -> None:
    clock = "SysvarC1ock11111111111111111111111111111111"

    def clock_slot(c: str) -> int:
        data = node.ok("getAccountInfo", clock, {"commitment": c, "encoding": "base64"})["value"]["data"][0]
        return struct.unpack_from("<Q", base64.b64decode(data), 0)[0]

    node.tick(6)
    assert clock_slot("processed") == node.chain.slot
    assert clock_slot("confirmed") == node.chain.slot - 1
    assert clock_slot("finalized") == node.chain.slot - 4


def test_rent_paying_results_fail_like_agave(node: Node) -> None:
    """A transfer that would leave a new account below the rent-exempt minimum
    fails with InsufficientFundsForRent (the real solana-test-validator's answer,
    which LiteSVM alone does not give): in preflight, and committed with its fee
    and nothing else moved when preflight is skipped. Emptying an account, or
    funding it to the minimum, is fine; so is a sender left rent-exempt."""
    a = node.funded(1)
    dest = Keypair().pubkey()
    minimum = node.ok("getMinimumBalanceForRentExemption", 0)
    tx = node.tx([_xfer(a, dest, 1_000)], a)
    e = node.send(tx)["error"]
    assert e["message"] == "Transaction simulation failed: Transaction results in an account (1) with insufficient funds for rent"
    assert e["data"]["err"] == {"InsufficientFundsForRent": {"account_index": 1}}
    sim = node.ok("simulateTransaction", base64.b64encode(bytes(tx)).decode(),
                  {"encoding": "base64", "commitment": "processed"})["value"]
    assert sim["err"] == {"InsufficientFundsForRent": {"account_index": 1}}
    before = node.ok("getBalance", str(a.pubkey()), {"commitment": "processed"})["value"]
    sig = node.send(tx, skipPreflight=True)["result"]
    assert node.ok("getSignatureStatuses", [sig])["value"][0]["err"] == {"InsufficientFundsForRent": {"account_index": 1}}
    assert node.ok("getBalance", str(a.pubkey()), {"commitment": "processed"})["value"] == before - 5000
    assert node.ok("getAccountInfo", str(dest), {"commitment": "processed"})["value"] is None
    # the sender left rent-paying (not emptied) is refused too, at its own index
    left = before - 5000 - 5000 - (minimum - 1)
    e = node.send(node.tx([_xfer(a, dest, left)], a))["error"]
    assert e["data"]["err"] == {"InsufficientFundsForRent": {"account_index": 0}}
    # exactly the minimum is fine
    assert "result" in node.send(node.tx([_xfer(a, dest, minimum)], a))
    assert node.ok("getBalance", str(dest), {"commitment": "processed"})["value"] == minimum


def test_transactions_reach_the_journal_at_once_and_the_disk_once_per_sync(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Every processed transaction is in the journal file (the kernel's:
    what survives SIGKILL) before its status is visible, without an fsync
    each; Ledger.sync (the slot ticker's, once per slot) fsyncs them all."""
    import os

    from iopay.localnet import ledger as ledger_mod
    led = Ledger(tmp_path / "ledger")
    node = Node(journal=led)
    a = node.funded(1)
    fsyncs = []
    monkeypatch.setattr(ledger_mod.os, "fsync", lambda fd: fsyncs.append(fd))
    sigs = [node.send(node.tx([_xfer(a, Keypair().pubkey(), FUND + i)], a))["result"] for i in range(5)]
    assert fsyncs == []
    # a second reader of the file (as a restarted validator would be) sees all five
    written = [json.loads(line) for line in (tmp_path / "ledger" / "journal.jsonl").read_bytes().splitlines()]
    assert [e["rec"]["signature"] for e in written if e.get("t") == "tx"][-5:] == sigs
    assert led.sync() is True and len(fsyncs) == 1
    assert led.sync() is False and len(fsyncs) == 1  # nothing new
    monkeypatch.setattr(ledger_mod.os, "fsync", os.fsync)
    led.close()
