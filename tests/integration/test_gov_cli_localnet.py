"""``iopay gov`` against the local validator process (compiled SPL Governance
4.0.0 at its mainnet address + job_escrow): a market handed to the DAO (its
authority proposes the governance, the DAO accepts by a proposal), a fee
proposal that passes, waits out its hold-up, executes, and the next
settlement pays the new fee; a defeated proposal changes nothing; the
helper's checks refuse (nothing sent) what the program would reject; the
tallies shown equal the vote records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.cli_env import UNIT, make_world, run_async, run_cli, token_balance
from tests.integration.conftest import Validator
from iopay.escrow.program import span_cost

VOTING = 3 * 86_400
HOLD_UP = 86_400


def signatures_of(v: Validator, address: Any) -> int:
    return len(v.rpc("getSignaturesForAddress", str(address), {"commitment": "confirmed"}))


def test_fee_change_by_vote_through_the_cli(localnet: Validator, tmp_path: Path, capsys: Any) -> None:
    v = localnet
    w = run_async(make_world(v, tmp_path, ["admin", "big", "mid", "customer", "worker"],
                             {"big": 600 * UNIT, "mid": 300 * UNIT, "customer": 1_100 * UNIT}))
    u = ["-u", v.url, "--output", "json"]

    def cli(who: str, *argv: str) -> Any:
        rc, data, err = run_cli(capsys, *u, "-k", w.key(who), *argv)
        assert rc == 0, err
        return data

    def refused(who: str, *argv: str) -> str:
        rc, _, err = run_cli(capsys, *u, "-k", w.key(who), *argv)
        assert rc == 1 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
        return err

    cli("admin", "market", "init", "--mint", str(w.mint), "--treasury", str(w.treasury), "--upgrade-authority",
        str(tmp_path / "upgrade-authority.json"), "--fee-bps", "250")
    realm = cli("admin", "gov", "realm", "create", "--name", "IO DAO", "--mint", str(w.mint))
    assert realm["name"] == "IO DAO" and realm["authority"] == str(w.pk("admin"))
    assert "already exists" in refused("admin", "gov", "realm", "create", "--name", "IO DAO", "--mint", str(w.mint))
    for who, amount in (("big", "600"), ("mid", "300")):
        dep = cli(who, "gov", "deposit", "--realm", "IO DAO", amount)
        assert dep["deposited_base_units"] == int(amount) * UNIT
    assert "insufficient funds" in refused("mid", "gov", "deposit", "--realm", "IO DAO", "1")
    # propose before the hand-over: refused, the market is not the DAO's
    assert "hand it to the DAO first" in refused("big", "gov", "propose", "--realm", "IO DAO", "--mint", str(w.mint),
                                                 "--name", "x", "set-fee", "500")
    over = cli("admin", "gov", "hand-over", "--realm", "IO DAO", "--mint", str(w.mint), "--yes-percent", "25",
               "--voting-time", str(VOTING), "--hold-up-time", str(HOLD_UP))
    gov = over["governance"]
    # two steps: the market's authority has proposed the governance; the DAO accepts by an executed proposal
    assert (over["authority"], over["pending_authority"]) == (str(w.pk("admin")), gov)
    shown = cli("admin", "gov", "realm", "show", "IO DAO")
    assert [g["governance"] for g in shown["governances"]] == [gov]
    assert "not the DAO's governance" in refused("big", "gov", "propose", "--realm", "IO DAO", "--mint",
                                                 str(w.mint), "--name", "x", "set-fee", "500")
    acc = cli("big", "gov", "propose", "--realm", "IO DAO", "--mint", str(w.mint), "--name", "Accept the market",
              "accept-authority")
    pa = acc["proposal"]
    assert acc["transactions"][0]["instructions"][0].startswith("job_escrow.accept_market_authority()")
    cli("big", "gov", "vote", "yes", pa)
    v.warp(VOTING + 5)
    assert cli("admin", "gov", "finalize", pa)["state"] == "Succeeded"
    v.warp(HOLD_UP + 5)
    assert cli("admin", "gov", "execute", pa)["state"] == "Completed"
    m = cli("admin", "market", "show", "--mint", str(w.mint))
    assert (m["authority"], m["pending_authority"]) == (gov, None)
    assert "already the authority" in refused("big", "gov", "propose", "--realm", "IO DAO", "--mint", str(w.mint),
                                              "--name", "x", "accept-authority")
    # the old authority can no longer change the market (the escrow program refuses; the CLI checks first)
    assert "is not the authority" in refused("admin", "market", "update", "--mint", str(w.mint), "--fee-bps", "0")

    prop = cli("mid", "gov", "propose", "--realm", "IO DAO", "--mint", str(w.mint), "--name", "Fee to 5%",
               "set-fee", "500")
    p = prop["proposal"]
    assert prop["state"] == "Voting" and prop["time_left"] == VOTING
    assert prop["transactions"][0]["instructions"][0].startswith("job_escrow.update_market(fee_bps=500")
    listed = cli("admin", "gov", "list", "--realm", "IO DAO")
    assert [x["proposal"] for x in listed["proposals"]] == [p]

    cli("big", "gov", "vote", "yes", p)
    st = cli("mid", "gov", "vote", "no", p)
    assert (st["yes"], st["no"]) == (600 * UNIT, 300 * UNIT)
    assert sum(x["weight"] for x in st["votes"] if x["vote"] == "Approve") == st["yes"]
    assert sum(x["weight"] for x in st["votes"] if x["vote"] == "Deny") == st["no"]
    assert st["yes_needed"] == 500 * UNIT and st["outcome_if_closed"] == "Succeeded"
    assert "already voted" in refused("big", "gov", "vote", "yes", p)
    assert "relinquish them first" in refused("big", "gov", "withdraw", "--realm", "IO DAO")
    assert "open for" in refused("admin", "gov", "finalize", p)

    v.warp(VOTING + 5)
    fin = cli("admin", "gov", "finalize", p)
    assert fin["state"] == "Succeeded" and (fin["yes"], fin["no"]) == (600 * UNIT, 300 * UNIT)
    before = signatures_of(v, p)
    assert "held up" in refused("admin", "gov", "execute", p)
    assert signatures_of(v, p) == before  # nothing sent
    v.warp(HOLD_UP + 5)
    ex = cli("admin", "gov", "execute", p)
    assert ex["state"] == "Completed"
    assert cli("admin", "market", "show", "--mint", str(w.mint))["fee_bps"] == 500
    assert "Completed" in refused("admin", "gov", "execute", p)

    # the next settlement pays the new fee
    worker_ata = w.ata("worker")
    opened = cli("customer", "job", "open", "--mint", str(w.mint), "--hours", "2", "--worker",
                 f"{w.pk('worker')}:{3 * UNIT}base")
    cli("worker", "job", "accept", opened["job"])
    v.warp(3_600 + 5)
    t0 = token_balance(v, w.treasury)
    cli("admin", "job", "settle", opened["job"])
    pay, fee = span_cost(3 * UNIT, 500, 0, 1)
    # the fee accrues in the job; a sweep moves it to the treasury
    assert token_balance(v, worker_ata) == pay and token_balance(v, w.treasury) == t0
    swept = cli("worker", "market", "sweep-fees", "--mint", str(w.mint), "--job", opened["job"])
    assert swept["from_job"] == fee and token_balance(v, w.treasury) - t0 == fee

    # a defeated proposal changes nothing
    prop2 = cli("mid", "gov", "propose", "--realm", "IO DAO", "--mint", str(w.mint), "--name", "Pause", "pause")
    p2 = prop2["proposal"]
    cli("mid", "gov", "vote", "yes", p2)
    cli("big", "gov", "vote", "no", p2)
    v.warp(VOTING + 5)
    assert cli("admin", "gov", "finalize", p2)["state"] == "Defeated"
    v.warp(HOLD_UP + 5)
    assert "Defeated" in refused("admin", "gov", "execute", p2)
    assert cli("admin", "market", "show", "--mint", str(w.mint))["paused"] is False

    # votes on decided proposals are relinquished, then deposits leave
    for prop_ in (pa, p, p2):
        cli("big", "gov", "relinquish", prop_)
    out = cli("big", "gov", "withdraw", "--realm", "IO DAO")
    assert out["withdrawn_base_units"] == 600 * UNIT and token_balance(v, w.ata("big")) == 600 * UNIT
