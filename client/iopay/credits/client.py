"""Async SDK of the IOSD credits, next to :class:`iopay.escrow.client.EscrowClient`.

``CreditsClient.connect(url, payer)`` over JSON-RPC, ``CreditsClient.for_harness(h)``
over the embedded LiteSVM. Amounts are micro-USD base units (ints;
:func:`iopay.credits.program.parse_usd` turns ``"12.50"`` into 12_500_000).
Reads return the views of :mod:`iopay.credits.state`; writes return a
:class:`Sent` with the decoded events of both programs; program failures
raise the named errors of :mod:`iopay.core.errors`. Bad arguments raise
``ValueError``/``TypeError`` before anything is encoded.

A job paid with credits is an ordinary job_escrow job whose customer is the
user's customer PDA (:meth:`IosdCredits.user_addresses`): workers accept and
the keeper settles it like any other job (``EscrowClient.accept/settle``);
ending, cancelling and closing go through this client so refunds come back
as credits.

An inference channel paid with credits is an ordinary inference_pay channel
whose payer is the user's customer PDA and whose ``refund_to`` is the user's
refund account: vouchers are signed by the ``voucher_signer`` key given at
open (the user's or its delegate's wallet) with the usual
:class:`iopay.inference.vouchers.VoucherSigner`, and the provider's
:class:`iopay.inference.settler.Settler` settles them unchanged; top-ups and
closes go through this client, so every refund comes back as credits.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence, Tuple, Union

from solders.instruction import Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core import spl
from iopay.core.chain import CLOCK_SYSVAR, CLOCK_UNIX_TS_OFFSET, Chain, LiteSvmChain, Sent, rpc_chain
from iopay.core.events import DecodedEvent
from iopay.core.idl import ProgramIdl
from iopay.credits.program import (DAY, IDL_NAME, MAX_PERIOD_SECS, MIN_PERIOD_SECS, IosdCredits, UserAddresses,
                                   _check_key, check_amount)
from iopay.credits.state import ConfigView, CreditAccountView, DelegationView
from iopay.escrow.program import DEFAULT_ACCEPT_WINDOW, IDL_NAME as ESCROW_IDL, JobEscrow, WorkerTerms, booking_cost
from iopay.escrow.state import DEFAULT_MAX_PAYEES, JobView, MarketView, is_closable
from iopay.inference.program import (IDL_NAME as INFERENCE_IDL, MAX_CHANNEL_LIFE, MAX_DISPUTE_WINDOW,
                                     MIN_DISPUTE_WINDOW, InferencePay)
from iopay.inference.state import ChannelView
from iopay.inference.vouchers import VoucherSigner

Worker = Union[WorkerTerms, Tuple[Pubkey, int]]


@dataclass
class CreditJob:
    job: Pubkey
    vault: Pubkey
    job_id: int
    #: credits taken (workers' pay + fee)
    amount: int
    sent: Sent


@dataclass
class CreditChannel:
    """An inference channel opened with credits (:meth:`CreditsClient.open_channel_with_credits`)."""
    channel: Pubkey
    channel_id: int
    view: ChannelView
    #: signs the vouchers when the client was given the voucher signer's keypair
    signer: Optional[VoucherSigner]
    sent: Sent


class CreditsClient:
    """Async client of the IOSD credits for one fee payer: amounts in micro-USD base units, reads return
    :mod:`iopay.credits.state` views, writes a :class:`Sent`, program failures named errors."""

    def __init__(self, chain: Chain, payer: Keypair, program: Optional[ProgramIdl] = None,
                 escrow_program: Optional[ProgramIdl] = None, inference_program: Optional[ProgramIdl] = None) -> None:
        self.chain = chain
        self.payer = payer
        self.program = program or ProgramIdl.load(IDL_NAME)
        self.escrow_program = escrow_program or ProgramIdl.load(ESCROW_IDL)
        self.inference_program = inference_program or ProgramIdl.load(INFERENCE_IDL)
        self.esc = JobEscrow(self.escrow_program)
        self.pay = InferencePay(self.inference_program)
        self.cr = IosdCredits(self.program, self.esc, inference=self.pay)

    @classmethod
    def for_harness(cls, harness: Any, payer: Optional[Keypair] = None, **kw: Any) -> "CreditsClient":
        """A client over an in-process LiteSVM :class:`~iopay.core.harness.Harness` (tests, benches); ``payer``
        defaults to the harness's payer."""
        return cls(LiteSvmChain(harness), payer or harness.payer, **kw)

    @classmethod
    def connect(cls, url: str, payer: Keypair, *, send_config: Optional[Any] = None,
                commitment: str = "confirmed") -> "CreditsClient":
        """A client over JSON-RPC at ``url``, ``payer`` paying fees and rent. Raises ``TypeError`` if ``payer``
        is not a solders ``Keypair``. Close it with :meth:`close` or ``async with``."""
        if not isinstance(payer, Keypair):
            raise TypeError(f"payer must be a solders Keypair, got {type(payer).__name__}")
        prog, esc, pay = ProgramIdl.load(IDL_NAME), ProgramIdl.load(ESCROW_IDL), ProgramIdl.load(INFERENCE_IDL)
        return cls(rpc_chain(url, [prog, esc, pay], send_config=send_config, commitment=commitment), payer, prog, esc,
                   pay)

    async def close(self) -> None:
        """Close the RPC connection (nothing to do in process)."""
        closer = getattr(self.chain, "close", None)
        if closer is not None:
            await closer()

    async def __aenter__(self) -> "CreditsClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # -- reads ------------------------------------------------------------------

    async def _data(self, address: Pubkey, what: str, owner: Optional[Pubkey] = None) -> Optional[bytes]:
        acc = await self.chain.get_account(address)
        if acc is None:
            return None
        if acc[0] != (owner or self.program.program_id):
            raise ValueError(f"{what} {address} is owned by {acc[0]}, not {owner or self.program.program_id}")
        return acc[1]

    async def config(self, mint: Pubkey) -> ConfigView:
        """The reserve's :class:`ConfigView` for ``mint``; ``LookupError`` if no reserve was initialized for it,
        ``ValueError`` if the address is owned by another program."""
        addr = self.cr.config_address(_check_key(mint, "mint"))
        data = await self._data(addr, "config")
        if data is None:
            raise LookupError(f"no credits reserve for mint {mint} (config {addr})")
        return ConfigView.decode(self.program, addr, data)

    async def account(self, mint: Pubkey, user: Pubkey) -> Optional[CreditAccountView]:
        """``user``'s :class:`CreditAccountView` (balances in micro-USD), or None without an account."""
        addr = self.cr.credit_address(mint, _check_key(user, "user"))
        data = await self._data(addr, "credit account")
        return None if data is None else CreditAccountView.decode(self.program, addr, data)

    async def balance(self, mint: Pubkey, user: Pubkey) -> int:
        """Spendable credits of ``user`` (0 without an account)."""
        acc = await self.account(mint, user)
        return 0 if acc is None else acc.balance

    async def delegation(self, mint: Pubkey, user: Pubkey, delegate: Pubkey) -> Optional[DelegationView]:
        """The :class:`DelegationView` ``user`` granted ``delegate``, or None."""
        addr = self.cr.delegation_address(self.cr.credit_address(mint, user), _check_key(delegate, "delegate"))
        data = await self._data(addr, "delegation")
        return None if data is None else DelegationView.decode(self.program, addr, data)

    async def channel(self, channel: Pubkey) -> ChannelView:
        """The inference_pay channel at ``channel`` (LookupError when closed or absent)."""
        data = await self._data(_check_key(channel, "channel"), "channel", self.pay.program_id)
        if data is None:
            raise LookupError(f"channel {channel} does not exist (closed?)")
        return ChannelView.decode(self.inference_program, channel, data)

    async def _credit_channel(self, mint: Pubkey, user: Pubkey, channel: Pubkey) -> ChannelView:
        """The channel, checked to be one of ``user``'s credits-paid channels
        (what the program would refuse, refused before sending)."""
        view = await self.channel(channel)
        u = self.cr.user_addresses(mint, user)
        if view.payer != u.customer or view.mint != mint:
            raise ValueError(f"channel {channel} was not opened with {user}'s credits of mint {mint}")
        return view

    async def reserve_balance(self, mint: Pubkey) -> int:
        """The reserve vault's token balance (base units; equals the config's ``outstanding``), 0 if absent."""
        acc = await self.chain.get_account(self.cr.reserve_address(mint))
        return 0 if acc is None else spl.TokenAccount.decode(acc[1]).amount

    async def now(self) -> int:
        """The cluster's unix time (Clock sysvar), the clock delegate periods run on. ``LookupError`` if
        unreadable."""
        acc = await self.chain.get_account(CLOCK_SYSVAR)
        if acc is None:
            raise LookupError("Clock sysvar not readable")
        return struct.unpack_from("<q", acc[1], CLOCK_UNIX_TS_OFFSET)[0]

    async def market(self, mint: Pubkey) -> MarketView:
        """job_escrow's :class:`MarketView` for ``mint``; ``LookupError`` if there is none."""
        addr = self.esc.market_address(mint)
        data = await self._data(addr, "market", self.esc.program_id)
        if data is None:
            raise LookupError(f"no job_escrow market for mint {mint}")
        return MarketView.decode(self.escrow_program, addr, data)

    async def job(self, job: Pubkey) -> JobView:
        """The job_escrow :class:`JobView` at ``job``; ``LookupError`` if it does not exist."""
        data = await self._data(job, "job", self.esc.program_id)
        if data is None:
            raise LookupError(f"job {job} does not exist")
        return JobView.decode(self.escrow_program, job, data)

    async def quote_job(self, mint: Pubkey, rates: Sequence[int], hours: int) -> int:
        """Credits a job costs (workers' pay + fee), as the program computes it."""
        market = await self.market(mint)
        principal, fee = booking_cost(list(rates), hours, market.fee_bps)
        return principal + fee

    def user_addresses(self, mint: Pubkey, user: Pubkey) -> UserAddresses:
        """``user``'s credit account, customer PDA and refund account for ``mint`` (pure, no RPC)."""
        return self.cr.user_addresses(mint, user)

    # -- writes -----------------------------------------------------------------

    async def _send(self, ixs: Sequence[Instruction], signers: Sequence[Keypair] = ()) -> Sent:
        return await self.chain.send(list(ixs), list(signers), self.payer)

    async def init_config(self, upgrade_authority: Keypair, mint: Pubkey, *, authority: Pubkey, cap: int) -> Sent:
        """Create the reserve for ``mint`` (a 6-decimal SPL stablecoin) with ``authority`` and a ``cap`` on
        outstanding credits (micro-USD). Signed by the credits program's upgrade authority."""
        return await self._send([self.cr.init_config(payer=self.payer.pubkey(),
                                                     upgrade_authority=upgrade_authority.pubkey(),
                                                     authority=authority, mint=mint, cap=cap)], [upgrade_authority])

    async def set_paused(self, authority: Keypair, mint: Pubkey, paused: bool) -> Sent:
        """Pause or resume buying and spending (refunds and redemption still work). Config authority only."""
        return await self._send([self.cr.set_paused(authority=authority.pubkey(), mint=mint, paused=paused)],
                                [authority])

    async def set_cap(self, authority: Keypair, mint: Pubkey, cap: int) -> Sent:
        """Set the cap on outstanding credits (micro-USD). Config authority only."""
        return await self._send([self.cr.set_cap(authority=authority.pubkey(), mint=mint, cap=cap)], [authority])

    async def propose_authority(self, authority: Keypair, mint: Pubkey, new_authority: Pubkey) -> Sent:
        """First step of handing the reserve over: ``new_authority`` becomes pending until it accepts."""
        return await self._send([self.cr.propose_authority(authority=authority.pubkey(), mint=mint,
                                                           new_authority=new_authority)], [authority])

    async def accept_authority(self, new_authority: Keypair, mint: Pubkey) -> Sent:
        """Second step: the pending authority signs to take the reserve over (``NotPendingAuthority``
        otherwise)."""
        return await self._send([self.cr.accept_authority(new_authority=new_authority.pubkey(), mint=mint)],
                                [new_authority])

    async def open_account(self, user: Keypair, mint: Pubkey) -> Sent:
        """Open ``user``'s credit account (and its customer PDA and refund account); ``user`` pays the rent."""
        return await self._send([self.cr.open_account(user=user.pubkey(), mint=mint)], [user])

    async def buy(self, user: Keypair, mint: Pubkey, amount: int, *, user_token: Optional[Pubkey] = None) -> Sent:
        """Deposit ``amount`` of the stablecoin from the user's token account
        (default: its associated account) for as many credits; opens the
        credit account in the same transaction when it does not exist yet."""
        check_amount(amount)
        tok = user_token or spl.associated_token_address(user.pubkey(), mint)
        ixs = []
        if await self.account(mint, user.pubkey()) is None:
            ixs.append(self.cr.open_account(user=user.pubkey(), mint=mint))
        ixs.append(self.cr.buy(user=user.pubkey(), mint=mint, user_token=tok, amount=amount))
        return await self._send(ixs, [user])

    async def redeem(self, user: Keypair, mint: Pubkey, amount: int, *, user_token: Optional[Pubkey] = None) -> Sent:
        """Burn ``amount`` credits (micro-USD) for as many stablecoin base units, paid to the user's token
        account (default: its associated account). ``InsufficientCredits`` if the balance is short."""
        check_amount(amount)
        tok = user_token or spl.associated_token_address(user.pubkey(), mint)
        return await self._send([self.cr.redeem(user=user.pubkey(), mint=mint, user_token=tok, amount=amount)],
                                [user])

    async def set_delegate(self, user: Keypair, mint: Pubkey, delegate: Pubkey, allowance: int,
                           period_secs: int = DAY) -> Sent:
        """Let ``delegate`` spend up to ``allowance`` micro-USD of ``user``'s credits per ``period_secs`` (60 s
        .. 366 days; default a day); replaces an earlier grant. Bad arguments raise ``ValueError`` before
        sending."""
        _check_key(delegate, "delegate")
        if isinstance(allowance, bool) or not isinstance(allowance, int) or allowance < 0:
            raise ValueError("allowance must be a non-negative int (micro-USD per period)")
        if not MIN_PERIOD_SECS <= period_secs <= MAX_PERIOD_SECS:
            raise ValueError(f"period_secs must be between {MIN_PERIOD_SECS} and {MAX_PERIOD_SECS}")
        return await self._send([self.cr.set_delegate(user=user.pubkey(), mint=mint, delegate=delegate,
                                                      allowance=allowance, period_secs=period_secs)], [user])

    async def revoke_delegate(self, user: Keypair, mint: Pubkey, delegate: Pubkey) -> Sent:
        """Withdraw ``delegate``'s grant; the delegation's rent goes back to ``user``."""
        return await self._send([self.cr.revoke_delegate(user=user.pubkey(), mint=mint,
                                                         delegate=_check_key(delegate, "delegate"))], [user])

    async def withdraw_rent(self, user: Keypair, mint: Pubkey) -> Sent:
        """Take back the lamports the user's customer PDA holds above rent exemption (job rent returned by
        cancel/close). User only; ``ZeroAmount`` when there is none."""
        return await self._send([self.cr.withdraw_rent(user=user.pubkey(), mint=mint)], [user])

    async def open_job_with_credits(self, authority: Keypair, mint: Pubkey, workers: Sequence[Worker], hours: int, *,
                                    user: Optional[Pubkey] = None, job_id: Optional[int] = None,
                                    accept_window: int = DEFAULT_ACCEPT_WINDOW) -> CreditJob:
        """Open a job_escrow job paid with ``user``'s credits (default: the
        signer's own). A signer other than ``user`` spends as its delegate.
        Rates are base units of the stablecoin (= micro-USD) per hour; the
        workers have ``accept_window`` seconds to accept."""
        if not workers:
            raise ValueError("a job needs at least one worker")
        if isinstance(hours, bool) or not isinstance(hours, int) or hours <= 0:
            raise ValueError("hours must be a positive int")
        owner = user or authority.pubkey()
        jid = secrets.randbits(63) if job_id is None else job_id
        rates = [w.rate_per_hour if isinstance(w, WorkerTerms) else w[1] for w in workers]
        amount = await self.quote_job(mint, rates, hours)
        ix = self.cr.open_job_with_credits(authority=authority.pubkey(), user=owner, mint=mint, job_id=jid,
                                           hours=hours, workers=workers, accept_window=accept_window,
                                           delegate=owner != authority.pubkey())
        sent = await self._send([ix], [authority])
        a = self.esc.job_addresses(mint, self.cr.user_addresses(mint, owner).customer, jid)
        return CreditJob(a.job, a.vault, jid, amount, sent)

    async def delegate_spend(self, delegate: Keypair, user: Pubkey, mint: Pubkey, workers: Sequence[Worker],
                             hours: int, *, job_id: Optional[int] = None) -> CreditJob:
        """A delegate opens a job paid with ``user``'s credits (within its allowance)."""
        return await self.open_job_with_credits(delegate, mint, workers, hours, user=_check_key(user, "user"),
                                                job_id=job_id)

    async def end_job(self, authority: Keypair, job: Pubkey, *, user: Optional[Pubkey] = None,
                      close: bool = True, max_payees: int = DEFAULT_MAX_PAYEES) -> Sent:
        """End a credits-paid job early: the due hours are paid to the
        workers, the unearned rest comes back as credits; with ``close`` the
        job is closed in the same transaction when nothing is left owed."""
        view = await self.job(job)
        market = await self.market_at(view.market)
        owner = user or authority.pubkey()
        # Every started slot not fully paid is owed something once the job is
        # cut (its due hours and the started hour pro rata): paying them all
        # here lets the close in the same transaction go through.
        dues = [s for s in view.workers if s.started and not s.fully_paid]
        payees = [(s.index, spl.associated_token_address(s.worker, market.mint)) for s in dues[:max_payees]]
        delegate = owner != authority.pubkey()
        ixs = [self.cr.end_job_with_credits(authority=authority.pubkey(), user=owner, mint=market.mint, job=job,
                                            payees=payees, delegate=delegate)]
        if close and len(dues) <= max_payees:
            ixs.append(self.cr.close_job_with_credits(authority=authority.pubkey(), user=owner, mint=market.mint,
                                                      job=job, delegate=delegate))
        return await self._send(ixs, [authority])

    async def market_at(self, address: Pubkey) -> MarketView:
        """The job_escrow :class:`MarketView` at ``address``; ``LookupError`` if it does not exist."""
        data = await self._data(address, "market", self.esc.program_id)
        if data is None:
            raise LookupError(f"market {address} does not exist")
        return MarketView.decode(self.escrow_program, address, data)

    async def cancel_job(self, authority: Keypair, job: Pubkey, *, user: Optional[Pubkey] = None) -> Sent:
        """Cancel a credits-paid job no worker accepted yet: the whole amount comes back as credits. Signed by
        the user or (with ``user``) a delegate."""
        view = await self.job(job)
        market = await self.market_at(view.market)
        owner = user or authority.pubkey()
        return await self._send([self.cr.cancel_job_with_credits(authority=authority.pubkey(), user=owner,
                                                                 mint=market.mint, job=job,
                                                                 delegate=owner != authority.pubkey())], [authority])

    async def close_job(self, authority: Keypair, job: Pubkey, *, user: Optional[Pubkey] = None) -> Sent:
        """Close a credits-paid job that owes nothing: the remainder comes back as credits, the fee to the
        market. ``ValueError`` if the job still owes workers."""
        view = await self.job(job)
        if not is_closable(view):
            raise ValueError("the job still owes workers: settle or end it first")
        market = await self.market_at(view.market)
        owner = user or authority.pubkey()
        return await self._send([self.cr.close_job_with_credits(authority=authority.pubkey(), user=owner,
                                                                mint=market.mint, job=job,
                                                                delegate=owner != authority.pubkey())], [authority])

    async def reclaim(self, mint: Pubkey, user: Pubkey, source: Optional[Pubkey] = None) -> Sent:
        """Credit refunds waiting in the user's refund account (e.g. after a
        worker quit). Anyone may send it; the client's payer signs."""
        return await self._send([self.cr.reclaim(user=user, mint=mint, source=source)])

    # -- inference channels ---------------------------------------------------------

    async def open_channel_with_credits(
        self, authority: Keypair, mint: Pubkey, provider: Pubkey, deposit: int, *, life: int,
        dispute_window: int = 3_600, user: Optional[Pubkey] = None, channel_id: Optional[int] = None,
        voucher_signer: Optional[Union[Keypair, Pubkey]] = None,
    ) -> CreditChannel:
        """Open an inference_pay channel to ``provider`` with ``deposit``
        micro-USD of ``user``'s credits (default: the signer's own; a signer
        other than ``user`` spends as its delegate, within its allowance).
        The channel expires ``life`` seconds from now; after that the
        unilateral close has a ``dispute_window``. Vouchers are signed by
        ``voucher_signer`` (default: ``authority``; a Keypair gives the
        returned ``signer``). The client's payer pays the channel's rent and
        gets it back at close. ``channel_id`` defaults to a random 63-bit id."""
        if not isinstance(authority, Keypair):
            raise TypeError(f"authority must be a Keypair, got {type(authority).__name__}")
        _check_key(provider, "provider")
        check_amount(deposit, "deposit")
        if isinstance(life, bool) or not isinstance(life, int) or not 0 < life <= MAX_CHANNEL_LIFE:
            raise ValueError(f"life must be 1..{MAX_CHANNEL_LIFE} seconds (366 days), got {life!r}")
        if isinstance(dispute_window, bool) or not isinstance(dispute_window, int) \
                or not MIN_DISPUTE_WINDOW <= dispute_window <= MAX_DISPUTE_WINDOW:
            raise ValueError(f"dispute_window must be {MIN_DISPUTE_WINDOW}..{MAX_DISPUTE_WINDOW} seconds, "
                             f"got {dispute_window!r}")
        if channel_id is not None and (isinstance(channel_id, bool) or not isinstance(channel_id, int)
                                       or not 0 <= channel_id < 2**64):
            raise ValueError(f"channel_id must be a u64, got {channel_id!r}")
        signer_kp = voucher_signer if isinstance(voucher_signer, Keypair) else None
        if voucher_signer is None:
            signer_kp = authority
        signer_key = signer_kp.pubkey() if signer_kp is not None else _check_key(voucher_signer, "voucher_signer")
        owner = _check_key(user, "user") if user is not None else authority.pubkey()
        if provider == self.cr.user_addresses(mint, owner).customer:
            raise ValueError("provider must not be the user's customer PDA")
        cid = secrets.randbits(63) if channel_id is None else channel_id
        ix = self.cr.open_channel_with_credits(
            authority=authority.pubkey(), user=owner, mint=mint, provider=provider, channel_id=cid, deposit=deposit,
            expires_at=await self.now() + life, dispute_window=dispute_window, voucher_signer=signer_key,
            payer=self.payer.pubkey(), delegate=owner != authority.pubkey())
        sent = await self._send([ix], [authority])
        ch = self.cr.channel_address(mint, owner, provider, cid)
        view = await self.channel(ch)
        signer = None if signer_kp is None else VoucherSigner(signer_kp, self.pay.program_id, ch, view.open_slot,
                                                              view.deposit)
        return CreditChannel(ch, cid, view, signer, sent)

    async def top_up_channel(self, authority: Keypair, mint: Pubkey, channel: Pubkey, amount: int = 0, *,
                             extend: int = 0, user: Optional[Pubkey] = None) -> Sent:
        """Add ``amount`` micro-USD of credits to a credits-paid channel and/or
        move its expiry ``extend`` seconds later (user or delegate; at least
        one of the two must be non-zero)."""
        for name, v, hi in (("amount", amount, 2**64 - 1), ("extend", extend, MAX_CHANNEL_LIFE)):
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"{name} must be an int, got {type(v).__name__}")
            if not 0 <= v <= hi:
                raise ValueError(f"{name} must be 0..{hi}, got {v}")
        if amount == 0 and extend == 0:
            raise ValueError("nothing to do: give an amount and/or extend")
        owner = user or authority.pubkey()
        view = await self._credit_channel(mint, owner, channel)
        return await self._send([self.cr.top_up_channel_with_credits(
            authority=authority.pubkey(), user=owner, mint=mint, channel=channel, amount=amount,
            expires_at=view.expires_at + extend, delegate=owner != authority.pubkey())], [authority])

    async def start_close_channel(self, authority: Keypair, mint: Pubkey, channel: Pubkey, *,
                                  user: Optional[Pubkey] = None) -> Sent:
        """Start the unilateral close of an expired credits-paid channel (user
        or delegate); :meth:`finish_close_channel` after the dispute window."""
        owner = user or authority.pubkey()
        view = await self._credit_channel(mint, owner, channel)
        if view.state != "Open":
            raise ValueError(f"channel {channel} is already closing")
        if await self.now() < view.expires_at:
            raise ValueError(f"channel {channel} expires at {view.expires_at}: close it cooperatively before that")
        return await self._send([self.cr.start_close_channel_with_credits(
            authority=authority.pubkey(), user=owner, mint=mint, channel=channel,
            delegate=owner != authority.pubkey())], [authority])

    async def coop_close_channel(self, authority: Keypair, provider: Keypair, mint: Pubkey, channel: Pubkey, *,
                                 user: Optional[Pubkey] = None) -> Sent:
        """Close a credits-paid channel now, co-signed by its provider: the
        unsettled rest comes back as credits in the same instruction."""
        owner = user or authority.pubkey()
        view = await self._credit_channel(mint, owner, channel)
        if view.provider != provider.pubkey():
            raise ValueError(f"{provider.pubkey()} is not the provider of channel {channel}")
        return await self._send([self.cr.coop_close_channel_with_credits(
            authority=authority.pubkey(), user=owner, mint=mint, provider=provider.pubkey(), channel=channel,
            rent_payer=view.rent_payer, delegate=owner != authority.pubkey())], [authority, provider])

    async def finish_close_channel(self, mint: Pubkey, user: Pubkey, channel: Pubkey) -> Sent:
        """After the dispute window: close the channel and credit its rest to
        ``user``. Anyone may send it (the client's payer pays the fee)."""
        view = await self._credit_channel(mint, _check_key(user, "user"), channel)
        if view.state != "Closing":
            raise ValueError(f"channel {channel} is not closing: start the close first")
        if await self.now() < view.close_at:
            raise ValueError(f"the dispute window of channel {channel} is open until {view.close_at}")
        return await self._send([self.cr.finish_close_channel_with_credits(
            user=user, mint=mint, channel=channel, rent_payer=view.rent_payer)])

    async def history(self, mint: Pubkey, user: Pubkey, limit: int = 50) -> List[DecodedEvent]:
        """Credits events of ``user``'s account, newest first (JSON-RPC only:
        ``getSignaturesForAddress`` on the credit account)."""
        client = getattr(self.chain, "client", None)
        fetch = getattr(self.chain, "fetch_events", None)
        if client is None or fetch is None:
            raise NotImplementedError("history needs a JSON-RPC chain")
        credit = self.cr.credit_address(mint, user)
        from solana.rpc.commitment import Commitment

        commitment = Commitment(getattr(self.chain, "commitment", "confirmed"))
        resp = await client.get_signatures_for_address(credit, limit=limit, commitment=commitment)
        out: List[DecodedEvent] = []
        for s in resp.value:
            if s.err is None:
                names = set(self.program.event_names)
                out.extend(e for e in await fetch(s.signature) if e.name in names)
        return out
