"""``iopay gov``: the vote helper over SPL Governance (Realms).

``realm create|show``, ``hand-over`` (a market to the DAO), ``deposit``,
``withdraw``, ``propose set-fee|pause|unpause|update-limits|set-oracle-limits|
set-authority|accept-authority``, ``list`` (open proposals: live tallies, quorum progress,
time left), ``show`` (a proposal with its instructions decoded), ``vote
yes|no``, ``relinquish``, ``finalize``, ``execute``.

Every command checks what the program would refuse before sending (state,
timing, deposits, double votes, holds) and sends nothing when a check fails;
amounts are in UI units of the realm's mint.
"""

from __future__ import annotations

import argparse
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, List, Optional

from solders.pubkey import Pubkey

from iopay.cli.common import (FEE_HEADROOM, Ctx, cli_error, common_options, emit, int_in, nonneg_int, parse_pubkey,
                              positive_int, run, ui_amount)
from iopay.escrow.program import MAX_WORKERS_CAP


class GovCtx(Ctx):
    """:class:`Ctx` plus a :class:`iopay.governance.client.GovernanceClient`
    over the same connection (governance errors named)."""

    async def __aenter__(self) -> "GovCtx":
        await super().__aenter__()
        from solders.keypair import Keypair

        from iopay.governance import program as gp
        from iopay.governance.client import GovernanceClient

        self.sender.errors.add(gp.error_table())
        self.gov = GovernanceClient(self.client.chain, self.signer or Keypair(), escrow=self.client.esc)
        if await self.client.chain.get_account(self.gov.program_id) is None:
            raise cli_error(f"SPL Governance is not deployed at {self.gov.program_id} on {self.url}")
        return self

    async def realm(self, value: str) -> Any:
        addr = _realm_address(value)
        try:
            return await self.gov.realm(addr)
        except LookupError:
            raise cli_error(f"realm {value!r} not found ({addr}); create it with `iopay gov realm create`")
        except ValueError as e:
            raise cli_error(f"{value} is not a realm: {e}")

    async def proposal(self, address: Pubkey) -> Any:
        try:
            return await self.gov.proposal(address)
        except LookupError:
            raise cli_error(f"proposal {address} not found")
        except ValueError as e:
            raise cli_error(f"{address} is not a proposal: {e}")

    async def governance_of_market(self, realm: Any, mint: Pubkey) -> Any:
        market = await self.market(mint)
        addr = self.gov.gov.governance(realm.address, market.address)
        try:
            g = await self.gov.governance(addr)
        except LookupError:
            raise cli_error(f"market {market.address} has no governance in realm {realm.realm.name!r}; "
                            "hand it to the DAO first (`iopay gov hand-over`)")
        return market, g


def _realm_address(value: str) -> Pubkey:
    from iopay.governance.program import realm_address

    v = value.strip()
    try:
        return Pubkey.from_string(v)
    except ValueError:
        pass
    try:
        return realm_address(v)
    except (ValueError, TypeError) as e:
        raise cli_error(f"invalid realm {value!r}: {e}")


def parse_ui_amount(s: str, decimals: int) -> int:
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise cli_error(f"invalid amount {s!r}")
    if not d.is_finite():  # NaN and Infinity parse as Decimals
        raise cli_error(f"invalid amount {s!r}: expected a finite number")
    base = d * (Decimal(10) ** decimals)
    if base != base.to_integral_value() or base <= 0:
        raise cli_error(f"amount {s} must be positive with at most {decimals} decimals")
    return int(base)


def _sigs(sent: Any) -> Any:
    if isinstance(sent, list):
        return [str(s.signature) for s in sent]
    return str(sent.signature)


def _duration(s: Optional[int]) -> str:
    if s is None:
        return "-"
    d, r = divmod(int(s), 86400)
    h, r = divmod(r, 3600)
    m, sec = divmod(r, 60)
    return (f"{d}d " if d else "") + f"{h:02d}:{m:02d}:{sec:02d}"


def _status_lines(st: Any, decimals: int) -> List[str]:
    d = st.to_dict()
    ua = lambda x: ui_amount(x, decimals)  # noqa: E731
    lines = [
        f"proposal     {d['proposal']}  ({d['state']})",
        f"name         {d['name']}" + (f"  <{d['description_link']}>" if d["description_link"] else ""),
        f"tally        yes {ua(d['yes'])}  no {ua(d['no'])}  of max {ua(d['max_voter_weight'])}",
        f"threshold    {d['threshold']}: yes needed {ua(d['yes_needed'])} "
        f"({d['quorum_progress'] * 100:.1f}% reached)",
        f"if closed    {d['outcome_if_closed']}",
        f"time left    {_duration(d['time_left'])}",
    ]
    for t in d["transactions"]:
        state = f"executed at {t['executed_at']}" if t["executed_at"] else f"executable after {t['ready_at']}" \
            if t["ready_at"] else f"hold-up {t['hold_up_time']}s after the vote"
        lines.append(f"transaction  #{t['index']} ({state})")
        lines += [f"  - {text}" for text in t["instructions"]]
    for v in d["votes"]:
        lines.append(f"vote         {v['voter']} {v['vote']} {ua(v['weight'])}"
                     + (" (relinquished)" if v["relinquished"] else ""))
    return lines


def _status_dict(st: Any, decimals: int) -> Dict[str, Any]:
    d = st.to_dict()
    d["decimals"] = decimals
    for k in ("yes", "no", "abstain", "max_voter_weight", "yes_needed"):
        d[f"{k}_ui"] = ui_amount(d[k], decimals)
    return d


# -- commands ---------------------------------------------------------------------------

def cmd_realm_create(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.governance.client import GovernanceCheckFailed
        from iopay.governance.program import realm_address

        try:
            addr = realm_address(args.name)
        except ValueError as e:
            raise cli_error(str(e))
        async with GovCtx(args) as c:
            if await c.client.chain.get_account(addr) is not None:
                raise cli_error(f"realm {args.name!r} already exists at {addr}; nothing sent")
            mint = await c.client.chain.get_account(args.mint)
            if mint is None:
                raise cli_error(f"mint {args.mint} not found")
            dec = (await c.gov.mint(args.mint)).decimals
            min_w = parse_ui_amount(args.min_weight_to_create_governance, dec)
            await c.require_sol(await c.rent(400) + await c.rent(165) + await c.rent(300) + FEE_HEADROOM,
                                "creating a realm")
            try:
                realm, sent = await c.gov.create_realm(args.authority or c.payer.pubkey(), args.name, args.mint,
                                                       min_weight_to_create_governance=min_w)
            except GovernanceCheckFailed as e:
                raise cli_error(f"{e}; nothing sent")
            emit(args, {**_realm_dict(await c.gov.realm(realm), dec), "signature": _sigs(sent)})
        return 0

    return run(go)


def _realm_dict(rv: Any, decimals: int) -> Dict[str, Any]:
    r = rv.realm
    return {"realm": str(rv.address), "name": r.name, "community_mint": str(r.community_mint),
            "authority": str(r.authority) if r.authority else None,
            "min_weight_to_create_governance": ui_amount(r.min_community_weight_to_create_governance, decimals)}


def _gov_dict(gv: Any, decimals: int) -> Dict[str, Any]:
    c = gv.governance.config
    return {"governance": str(gv.address), "governed_account": str(gv.governance.governed_account),
            "yes_threshold": c.community_vote_threshold.describe(),
            "voting_time": c.voting_base_time, "cool_off_time": c.voting_cool_off_time,
            "min_hold_up_time": c.min_transaction_hold_up_time,
            "min_weight_to_propose": ui_amount(c.min_community_weight_to_create_proposal, decimals),
            "tipping": c.community_vote_tipping.name, "active_proposals": gv.governance.active_proposal_count}


def cmd_realm_show(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with GovCtx(args, signer=False) as c:
            rv = await c.realm(args.realm)
            dec = (await c.gov.mint(rv.realm.community_mint)).decimals
            data = _realm_dict(rv, dec)
            data["governances"] = [_gov_dict(g, dec) for g in await c.gov.governances(rv.address)]
            lines = [f"{k:<32} {v}" for k, v in data.items() if k != "governances"]
            for g in data["governances"]:
                lines.append(f"governance {g['governance']} over {g['governed_account']}: {g['yes_threshold']}, "
                             f"voting {g['voting_time']}s, hold-up >= {g['min_hold_up_time']}s")
            emit(args, data, lines)
        return 0

    return run(go)


def cmd_hand_over(args: argparse.Namespace) -> int:
    """Create the market's governance (if needed) and propose its PDA as the
    market authority; the DAO takes over when it executes an
    ``accept-authority`` proposal (job_escrow's two-step hand-over)."""
    async def go() -> int:
        from iopay.governance.program import governance_config

        async with GovCtx(args) as c:
            rv = await c.realm(args.realm)
            if rv.realm.community_mint != args.mint:
                raise cli_error(f"realm {rv.realm.name!r} votes with mint {rv.realm.community_mint}, "
                                f"not the market's {args.mint}")
            market = await c.market(args.mint)
            c.require_authority(market)
            dec = (await c.gov.mint(rv.realm.community_mint)).decimals
            gaddr = c.gov.gov.governance(rv.address, market.address)
            sigs: Dict[str, Any] = {}
            if await c.client.chain.get_account(gaddr) is None:
                if rv.realm.authority != c.payer.pubkey():
                    raise cli_error(f"{c.payer.pubkey()} is not the authority of realm {rv.realm.name!r}; "
                                    "nothing sent")
                try:
                    cfg = governance_config(
                        yes_vote_percent=args.yes_percent, voting_time=args.voting_time,
                        hold_up_time=args.hold_up_time,
                        min_weight_to_propose=parse_ui_amount(args.min_weight_to_propose, dec))
                except (ValueError, TypeError) as e:
                    raise cli_error(str(e))
                await c.require_sol(await c.rent(236) + FEE_HEADROOM * 2, "creating the governance")
                _, sent = await c.gov.create_governance(c.payer, rv.address, market.address, cfg)
                sigs["create_governance"] = _sigs(sent)
            await c.require_sol(FEE_HEADROOM, "set_market_authority")
            sent = await c.client.set_market_authority(c.payer, args.mint, gaddr)
            sigs["set_market_authority"] = _sigs(sent)
            after = await c.market(args.mint)
            emit(args, {"market": str(after.address), "authority": str(after.authority),
                        "pending_authority": str(after.pending_authority) if after.pending_authority else None,
                        "next": f"the DAO takes over when a proposal `iopay gov propose accept-authority --realm "
                                f"{args.realm} --mint {args.mint}` is voted and executed",
                        **_gov_dict(await c.gov.governance(gaddr), dec), "signatures": sigs})
        return 0

    return run(go)


def cmd_deposit(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.core import spl

        async with GovCtx(args) as c:
            rv = await c.realm(args.realm)
            mint = rv.realm.community_mint
            dec = (await c.gov.mint(mint)).decimals
            amount = parse_ui_amount(args.amount, dec)
            src = args.source or spl.associated_token_address(c.payer.pubkey(), mint)
            await c.require_tokens(src, c.payer.pubkey(), mint, amount, dec, "deposit")
            await c.require_sol(await c.rent(300) + FEE_HEADROOM, "deposit")
            sent = await c.gov.deposit(c.payer, rv.address, amount, source=src)
            rec = await c.gov.token_owner_record(rv.address, mint, c.payer.pubkey())
            emit(args, {"realm": str(rv.address), "owner": str(c.payer.pubkey()),
                        "token_owner_record": str(rec.address),
                        "deposited": ui_amount(rec.record.governing_token_deposit_amount, dec),
                        "deposited_base_units": rec.record.governing_token_deposit_amount,
                        "signature": _sigs(sent)})
        return 0

    return run(go)


def cmd_withdraw(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.core import spl
        from iopay.governance.client import GovernanceCheckFailed

        async with GovCtx(args) as c:
            rv = await c.realm(args.realm)
            mint = rv.realm.community_mint
            dec = (await c.gov.mint(mint)).decimals
            dest = args.destination or spl.associated_token_address(c.payer.pubkey(), mint)
            rec = await c.gov.token_owner_record(rv.address, mint, c.payer.pubkey())
            amount = rec.record.governing_token_deposit_amount if rec else 0
            await c.require_sol(FEE_HEADROOM, "withdraw")
            try:
                sent = await c.gov.withdraw(c.payer, rv.address, destination=dest)
            except GovernanceCheckFailed as e:
                raise cli_error(f"{e}; nothing sent")
            emit(args, {"realm": str(rv.address), "owner": str(c.payer.pubkey()), "withdrawn": ui_amount(amount, dec),
                        "withdrawn_base_units": amount, "destination": str(dest), "signature": _sigs(sent)})
        return 0

    return run(go)


def _action_instruction(args: argparse.Namespace, c: GovCtx, gaddr: Pubkey, market: Any) -> Any:
    from iopay.governance import actions

    esc = c.client.esc
    try:
        if args.action == "set-fee":
            if args.fee_bps == market.fee_bps:
                raise cli_error(f"the market's fee is already {market.fee_bps} bps; nothing sent")
            return actions.set_fee(esc, gaddr, market, args.fee_bps)
        if args.action in ("pause", "unpause"):
            paused = args.action == "pause"
            if market.paused == paused:
                raise cli_error(f"the market is already {'paused' if paused else 'unpaused'}; nothing sent")
            return actions.set_paused(esc, gaddr, market.mint, paused)
        if args.action == "update-limits":
            return actions.update_limits(esc, gaddr, market, max_workers=args.max_workers, max_hours=args.max_hours,
                                         treasury=args.treasury)
        if args.action == "set-oracle-limits":
            if market.oracle is None:
                raise cli_error("the market has no price feed; nothing sent")
            return actions.set_oracle_limits(esc, gaddr, market.mint, args.max_staleness, args.max_conf_bps)
        if args.action == "set-authority":
            return actions.set_authority(esc, gaddr, market.mint, args.new_authority)
        if args.action == "accept-authority":
            return actions.accept_authority(esc, gaddr, market.mint)
    except (ValueError, TypeError) as e:
        raise cli_error(str(e))
    raise cli_error(f"unknown action {args.action}")


def cmd_propose(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.governance.client import GovernanceCheckFailed

        async with GovCtx(args) as c:
            rv = await c.realm(args.realm)
            market, gv = await c.governance_of_market(rv, args.mint)
            if args.action == "accept-authority":
                # The second step of a hand-over: the market's authority has
                # proposed this governance; the executed proposal signs as it.
                if market.authority == gv.address:
                    raise cli_error(f"the DAO's governance {gv.address} is already the authority of market "
                                    f"{market.address}; nothing sent")
                if market.pending_authority != gv.address:
                    raise cli_error(f"market {market.address} has not proposed the DAO's governance {gv.address} "
                                    f"as its authority (pending: {market.pending_authority or 'none'}); run "
                                    f"`iopay gov hand-over` first; nothing sent")
            elif market.authority != gv.address:
                raise cli_error(f"market {market.address} is governed by {market.authority}, not the DAO's "
                                f"governance {gv.address}; a proposal could not change it; nothing sent")
            ix = _action_instruction(args, c, gv.address, market)
            await c.require_sol(await c.rent(800) + await c.rent(600) + FEE_HEADROOM * 3, "proposing")
            try:
                proposal, sent = await c.gov.propose(c.payer, gv.address, args.name, [ix],
                                                     description_link=args.link or "",
                                                     hold_up_time=args.hold_up_time)
            except GovernanceCheckFailed as e:
                raise cli_error(f"{e}; nothing sent")
            st = await c.gov.proposal_status(proposal)
            dec = (await c.gov.mint(rv.realm.community_mint)).decimals
            emit(args, {**_status_dict(st, dec), "signatures": _sigs(sent)}, _status_lines(st, dec))
        return 0

    return run(go)


def cmd_list(args: argparse.Namespace) -> int:
    async def go() -> int:
        from iopay.governance.state import ProposalState

        async with GovCtx(args, signer=False) as c:
            rv = await c.realm(args.realm)
            dec = (await c.gov.mint(rv.realm.community_mint)).decimals
            rows = []
            for _, pv in await c.gov.realm_proposals(rv.address):
                if not args.all and pv.proposal.state != ProposalState.Voting:
                    continue
                rows.append(await c.gov.proposal_status(pv.address))
            rows.sort(key=lambda s: (s.voting_ends_at or 0, str(s.address)))
            data = {"realm": str(rv.address), "proposals": [_status_dict(s, dec) for s in rows]}
            lines = [f"{'PROPOSAL':<44} {'STATE':<10} {'YES':>14} {'NO':>14} {'QUORUM':>7} {'LEFT':>12}  NAME"]
            for s in rows:
                t = s.tally
                lines.append(f"{str(s.address):<44} {s.proposal.state.name:<10} {ui_amount(t.yes, dec):>14} "
                             f"{ui_amount(t.no, dec):>14} {t.quorum_progress * 100:>6.1f}% "
                             f"{_duration(s.time_left):>12}  {s.proposal.name}")
            if not rows:
                lines.append("(no open proposals)" if not args.all else "(no proposals)")
            emit(args, data, lines)
        return 0

    return run(go)


def cmd_show(args: argparse.Namespace) -> int:
    async def go() -> int:
        async with GovCtx(args, signer=False) as c:
            await c.proposal(args.proposal)
            st = await c.gov.proposal_status(args.proposal)
            g = await c.gov.governance(st.governance)
            rv = await c.gov.realm(g.governance.realm)
            dec = (await c.gov.mint(rv.realm.community_mint)).decimals
            emit(args, _status_dict(st, dec), _status_lines(st, dec))
        return 0

    return run(go)


def _simple(kind: str):  # noqa: ANN202
    def cmd(args: argparse.Namespace) -> int:
        async def go() -> int:
            from iopay.governance.client import GovernanceCheckFailed

            async with GovCtx(args) as c:
                await c.proposal(args.proposal)
                need = FEE_HEADROOM + (await c.rent(100) if kind == "vote" else 0)
                await c.require_sol(need, kind)
                try:
                    if kind == "vote":
                        sent = await c.gov.vote(c.payer, args.proposal, args.choice == "yes")
                    elif kind == "relinquish":
                        sent = await c.gov.relinquish(c.payer, args.proposal)
                    elif kind == "finalize":
                        sent = await c.gov.finalize(args.proposal)
                    else:
                        sent = await c.gov.execute(args.proposal, index=args.index)
                except GovernanceCheckFailed as e:
                    raise cli_error(f"{e}; nothing sent")
                st = await c.gov.proposal_status(args.proposal)
                g = await c.gov.governance(st.governance)
                rv = await c.gov.realm(g.governance.realm)
                dec = (await c.gov.mint(rv.realm.community_mint)).decimals
                emit(args, {**_status_dict(st, dec), "signature": _sigs(sent)}, _status_lines(st, dec))
            return 0

        return run(go)

    return cmd


def add_parser(sub: Any) -> None:
    common = common_options()
    p = sub.add_parser("gov", help="governance over SPL Governance (Realms): realms, deposits, proposals, votes")
    gs = p.add_subparsers(dest="gov_command", metavar="SUBCOMMAND", required=True)

    r = gs.add_parser("realm", help="create or show a realm")
    rs = r.add_subparsers(dest="realm_command", metavar="SUBCOMMAND", required=True)
    s = rs.add_parser("create", parents=[common], help="create a realm voting with a token (community mint)")
    s.add_argument("--name", required=True, help="realm name (1..32 bytes; its address derives from it)")
    s.add_argument("--mint", type=parse_pubkey, required=True, help="governing (community) token mint")
    s.add_argument("--authority", type=parse_pubkey, help="realm authority (default: the --keypair signer)")
    s.add_argument("--min-weight-to-create-governance", default="1", metavar="AMOUNT")
    s.set_defaults(func=cmd_realm_create)
    s = rs.add_parser("show", parents=[common], help="show a realm and its governances")
    s.add_argument("realm", help="realm name or address")
    s.set_defaults(func=cmd_realm_show)

    s = gs.add_parser("hand-over", parents=[common],
                      help="hand a market to the DAO: create its governance and propose it as the market authority "
                           "(the DAO accepts by an `accept-authority` proposal)")
    s.add_argument("--realm", required=True, help="realm name or address")
    s.add_argument("--mint", type=parse_pubkey, required=True, help="the market's mint")
    s.add_argument("--yes-percent", type=positive_int, default=60, help="yes weight needed, %% of supply")
    s.add_argument("--voting-time", type=positive_int, default=3 * 86400, help="seconds (default 3 days)")
    s.add_argument("--hold-up-time", type=nonneg_int, default=86400, help="min seconds before execution")
    s.add_argument("--min-weight-to-propose", default="1", metavar="AMOUNT")
    s.set_defaults(func=cmd_hand_over)

    s = gs.add_parser("deposit", parents=[common], help="deposit governing tokens (voting weight)")
    s.add_argument("--realm", required=True)
    s.add_argument("amount", help="UI amount (mint decimals)")
    s.add_argument("--source", type=parse_pubkey, help="token account (default: the signer's ATA)")
    s.set_defaults(func=cmd_deposit)
    s = gs.add_parser("withdraw", parents=[common], help="withdraw every deposited token (no active votes)")
    s.add_argument("--realm", required=True)
    s.add_argument("--destination", type=parse_pubkey, help="token account (default: the signer's ATA)")
    s.set_defaults(func=cmd_withdraw)

    s = gs.add_parser("propose", parents=[common], help="propose a change to a DAO-governed market")
    s.add_argument("--realm", required=True)
    s.add_argument("--mint", type=parse_pubkey, required=True, help="the market's mint")
    s.add_argument("--name", required=True, help="proposal title")
    s.add_argument("--link", help="description link")
    s.add_argument("--hold-up-time", type=nonneg_int, help="seconds (default: the governance's minimum)")
    acts = s.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = acts.add_parser("set-fee", parents=[common], help="change the protocol fee")
    a.add_argument("fee_bps", type=nonneg_int)
    acts.add_parser("pause", parents=[common], help="pause the market")
    acts.add_parser("unpause", parents=[common], help="unpause the market")
    a = acts.add_parser("update-limits", parents=[common], help="change max workers/hours or the treasury")
    a.add_argument("--max-workers", type=int_in(1, MAX_WORKERS_CAP, "workers"))
    a.add_argument("--max-hours", type=positive_int)
    a.add_argument("--treasury", type=parse_pubkey)
    a = acts.add_parser("set-oracle-limits", parents=[common], help="change the price feed limits")
    a.add_argument("--max-staleness", type=positive_int, required=True)
    a.add_argument("--max-conf-bps", type=positive_int, required=True)
    a = acts.add_parser("set-authority", parents=[common],
                        help="propose another authority for the market (it takes over when it accepts)")
    a.add_argument("new_authority", type=parse_pubkey)
    acts.add_parser("accept-authority", parents=[common],
                    help="the DAO accepts a market whose authority proposed its governance (`gov hand-over`)")
    s.set_defaults(func=cmd_propose)

    s = gs.add_parser("list", parents=[common], help="open proposals: tallies, quorum progress, time left")
    s.add_argument("--realm", required=True)
    s.add_argument("--all", action="store_true", help="every proposal, not only those being voted on")
    s.set_defaults(func=cmd_list)
    s = gs.add_parser("show", parents=[common], help="a proposal with its instructions decoded")
    s.add_argument("proposal", type=parse_pubkey)
    s.set_defaults(func=cmd_show)

    s = gs.add_parser("vote", parents=[common], help="vote yes or no with your deposited weight")
    s.add_argument("choice", choices=["yes", "no"])
    s.add_argument("proposal", type=parse_pubkey)
    s.set_defaults(func=_simple("vote"))
    for name, helptext in (("relinquish", "take back your vote (or release it after the vote)"),
                           ("finalize", "close the vote once voting time is over")):
        s = gs.add_parser(name, parents=[common], help=helptext)
        s.add_argument("proposal", type=parse_pubkey)
        s.set_defaults(func=_simple(name))
    s = gs.add_parser("execute", parents=[common], help="execute a passed proposal after its hold-up")
    s.add_argument("proposal", type=parse_pubkey)
    s.add_argument("--index", type=nonneg_int, help="only this transaction (default: every pending one)")
    s.set_defaults(func=_simple("execute"))
