"""An inference channel paid with IOSD credits, driven through the CLI
against the local validator process: the user buys credits and opens a
channel with them (``channel open --pay-with credits``), signs vouchers with
its own key, the provider's settler (``provider settle --once``) redeems
them unchanged, a top-up, a cooperative close co-signed by the provider;
a delegate opens a second channel for the user (``--for``), is refused
beyond its allowance with nothing sent, closes it after expiry, and anyone
finishes it. Every refund comes back as the user's credits, exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from solders.pubkey import Pubkey

from iopay.credits.client import CreditsClient
from iopay.inference.program import InferencePay, settlement
from iopay.inference.vouchers import VoucherSigner, VoucherStore
from tests.integration.cli_env import UNIT, make_world, run_async, run_cli, token_balance
from tests.integration.conftest import Validator
from tests.integration.rpc_env import fast_send_config

FEE_BPS = 250


def test_channel_paid_with_credits_through_the_cli(localnet: Validator, tmp_path: Path, capsys: Any) -> None:
    v = localnet
    w = run_async(make_world(v, tmp_path, ["admin", "user", "backend", "provider"], {"user": 1_000 * UNIT}))
    u = ["-u", v.url, "--output", "json"]
    mint = str(w.mint)
    rc, _, err = run_cli(capsys, *u, "-k", w.key("admin"), "market", "init", "--mint", mint, "--treasury",
                         str(w.treasury), "--upgrade-authority", str(tmp_path / "upgrade-authority.json"),
                         "--fee-bps", str(FEE_BPS))
    assert rc == 0, err

    async def init_config() -> None:  # no CLI for the reserve's setup: the SDK, signed by the upgrade authority
        async with CreditsClient.connect(v.url, w.payer, send_config=fast_send_config()) as cr:
            await cr.init_config(v.upgrade_authority, w.mint, authority=w.pk("admin"), cap=10**12)

    run_async(init_config())
    rc, _, err = run_cli(capsys, *u, "-k", w.key("provider"), "provider", "init-pool", "--mint", mint)
    assert rc == 0, err
    rc, bought, err = run_cli(capsys, *u, "-k", w.key("user"), "credits", "buy", "--mint", mint, "--usd", "100")
    assert rc == 0 and bought["balance"] == 100 * UNIT, err

    provider = str(w.pk("provider"))
    rc, ch, err = run_cli(capsys, *u, "-k", w.key("user"), "channel", "open", "--pay-with", "credits", "--provider",
                          provider, "--mint", mint, "--deposit", "10", "--life", "3600", "--dispute-window", "60")
    assert rc == 0, err
    assert (ch["deposit"], ch["balance"], ch["voucher_signer"], ch["paid_with"]) == (10 * UNIT, 90 * UNIT,
                                                                                     str(w.pk("user")), "credits")

    # The user signs vouchers with its own key; the provider's settler redeems them as any others.
    channel = Pubkey.from_string(ch["channel"])
    signer = VoucherSigner(w.keys["user"], InferencePay().program_id, channel, ch["open_slot"], ch["deposit"])
    store = VoucherStore(tmp_path / "vouchers.db")
    for _ in range(3):
        store.save(signer.pay(1_234_567))
    store.close()
    rc, report, err = run_cli(capsys, *u, "-k", w.key("provider"), "provider", "settle", "--mint", mint, "--store",
                              str(tmp_path / "vouchers.db"), "--once", "--discovery", "poll")
    assert rc == 0, err
    paid, fee = settlement(0, 3 * 1_234_567, FEE_BPS)
    assert token_balance(v, w.ata("provider")) == paid

    rc, topped, err = run_cli(capsys, *u, "-k", w.key("user"), "channel", "top-up", ch["channel"], "--amount",
                              "2.5", "--pay-with", "credits")
    assert rc == 0 and topped["deposit"] == 12_500_000, err
    rc, closed, err = run_cli(capsys, *u, "-k", w.key("user"), "channel", "coop-close", ch["channel"],
                              "--provider-keypair", w.key("provider"), "--pay-with", "credits")
    assert rc == 0, err
    assert (closed["settled"], closed["refunded"]) == (3 * 1_234_567, 12_500_000 - 3 * 1_234_567)
    assert closed["balance"] == 100 * UNIT - 3 * 1_234_567

    # A delegate spends for the user within its allowance, never beyond it.
    user = str(w.pk("user"))
    rc, _, err = run_cli(capsys, *u, "-k", w.key("user"), "credits", "delegate", "--mint", mint,
                         str(w.pk("backend")), "--allowance-usd", "5")
    assert rc == 0, err
    rc, _, err = run_cli(capsys, *u, "-k", w.key("backend"), "channel", "open", "--pay-with", "credits", "--for",
                         user, "--provider", provider, "--mint", mint, "--deposit", "5.000001")
    assert rc == 1 and "allowance" in err and len(err.strip().splitlines()) == 1, err
    rc, ch2, err = run_cli(capsys, *u, "-k", w.key("backend"), "channel", "open", "--pay-with", "credits", "--for",
                           user, "--provider", provider, "--mint", mint, "--deposit", "5", "--life", "5",
                           "--dispute-window", "60")
    assert rc == 0 and ch2["voucher_signer"] == str(w.pk("backend")) and ch2["user"] == user, err
    rc, _, err = run_cli(capsys, *u, "-k", w.key("backend"), "channel", "close", ch2["channel"], "--pay-with",
                         "credits", "--for", user)
    assert rc == 1 and "expires at" in err, err  # not expired yet: nothing sent
    v.warp(5)
    rc, _, err = run_cli(capsys, *u, "-k", w.key("backend"), "channel", "close", ch2["channel"], "--pay-with",
                         "credits", "--for", user)
    assert rc == 0, err
    rc, _, err = run_cli(capsys, *u, "-k", w.key("provider"), "channel", "finish", ch2["channel"], "--pay-with",
                         "credits", "--for", user)
    assert rc == 1 and "dispute window" in err, err
    v.warp(60)
    rc, fin, err = run_cli(capsys, *u, "-k", w.key("provider"), "channel", "finish", ch2["channel"], "--pay-with",
                           "credits", "--for", user)
    assert rc == 0 and fin["refunded"] == 5 * UNIT, err
    rc, bal, err = run_cli(capsys, *u, "credits", "balance", "--mint", mint, "--user", user)
    assert rc == 0 and bal["balance"] == 100 * UNIT - 3 * 1_234_567 and bal["in_flight"] == 0, err

