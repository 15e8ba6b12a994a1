"""High-level async SDK for inference payments over any
:class:`iopay.core.chain.Chain` (JSON-RPC or the embedded LiteSVM).

Payer side: :meth:`InferenceClient.open_channel` (returns a ready
:class:`VoucherSigner`), :meth:`top_up`, :meth:`start_close`,
:meth:`finish_close`, :meth:`coop_close`. Provider side: listings,
:meth:`channels_of` (one getProgramAccounts, memcmp on the provider) to fill
a :class:`VoucherVerifier`, :meth:`sweep_fees`.
"""

from __future__ import annotations

import secrets
import struct
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence

from solders.keypair import Keypair
from solders.pubkey import Pubkey

from iopay.core import spl
from iopay.core.chain import CLOCK_SYSVAR, CLOCK_UNIX_TS_OFFSET, Chain, LiteSvmChain, Sent, rpc_chain
from iopay.core.idl import ProgramIdl
from iopay.escrow.program import IDL_NAME as ESCROW_IDL, JobEscrow
from iopay.inference.program import IDL_NAME, MAX_CHANNEL_LIFE, MAX_DISPUTE_WINDOW, MIN_DISPUTE_WINDOW, InferencePay
from iopay.inference.state import ChannelView, ListingView, PoolView, channel_filters
from iopay.inference.vouchers import VoucherSigner, VoucherVerifier, info_from_view


@dataclass
class OpenedChannel:
    channel: Pubkey
    channel_id: int
    view: ChannelView
    signer: VoucherSigner
    sent: Sent


class InferenceClient:
    """Async client of inference_pay for one fee payer: pools, listings, channels (amounts in base units of
    the mint); vouchers themselves are off chain (:mod:`iopay.inference.vouchers`)."""

    def __init__(self, chain: Chain, payer: Keypair, program: Optional[ProgramIdl] = None,
                 escrow_program: Optional[ProgramIdl] = None) -> None:
        if not isinstance(payer, Keypair):
            raise TypeError(f"payer must be a solders Keypair, got {type(payer).__name__}")
        self.chain = chain
        self.payer = payer
        self.program = program or ProgramIdl.load(IDL_NAME)
        self.escrow_program = escrow_program or ProgramIdl.load(ESCROW_IDL)
        self.pay = InferencePay(self.program)
        self.esc = JobEscrow(self.escrow_program)

    @classmethod
    def connect(cls, url: str, payer: Keypair, **kw: Any) -> "InferenceClient":
        """A client over JSON-RPC at ``url``, ``payer`` paying fees; ``kw`` goes to
        :func:`iopay.core.chain.rpc_chain` (``send_config``, ``commitment``). ``TypeError`` if ``payer`` is
        not a solders ``Keypair``. Close it with :meth:`close` or ``async with``."""
        if not isinstance(payer, Keypair):
            raise TypeError(f"payer must be a solders Keypair, got {type(payer).__name__}")
        prog = ProgramIdl.load(IDL_NAME)
        esc = ProgramIdl.load(ESCROW_IDL)
        return cls(rpc_chain(url, [prog, esc], **kw), payer, prog, esc)

    @classmethod
    def for_harness(cls, harness: Any, payer: Optional[Keypair] = None) -> "InferenceClient":
        """A client over an in-process LiteSVM :class:`~iopay.core.harness.Harness`; ``payer`` defaults to the
        harness's payer."""
        return cls(LiteSvmChain(harness), payer or harness.payer, harness.programs.get(IDL_NAME),
                   harness.programs.get(ESCROW_IDL))

    async def close(self) -> None:
        """Close the RPC connection (nothing to do in process)."""
        close = getattr(self.chain, "close", None)
        if close is not None:
            await close()

    async def __aenter__(self) -> "InferenceClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # -- reads --

    async def now(self) -> int:
        """The cluster's unix time (Clock sysvar): channel expiry and dispute windows run on it. ``LookupError``
        if unreadable."""
        acc = await self.chain.get_account(CLOCK_SYSVAR)
        if acc is None:
            raise LookupError("Clock sysvar not readable")
        return struct.unpack_from("<q", acc[1], CLOCK_UNIX_TS_OFFSET)[0]

    async def _data(self, address: Pubkey, what: str) -> bytes:
        acc = await self.chain.get_account(address)
        if acc is None:
            raise LookupError(f"{what} {address} does not exist")
        if acc[0] != self.pay.program_id:
            raise ValueError(f"{what} {address} is not owned by inference_pay")
        return acc[1]

    async def channel(self, address: Pubkey) -> ChannelView:
        """The :class:`ChannelView` at ``address`` (amounts in base units of its mint); ``LookupError`` if it
        does not exist, ``ValueError`` if inference_pay does not own it."""
        return ChannelView.decode(self.program, address, await self._data(address, "channel"))

    async def listing(self, address: Pubkey) -> ListingView:
        """The :class:`ListingView` at ``address``; ``LookupError``/``ValueError`` as :meth:`channel`."""
        return ListingView.decode(self.program, address, await self._data(address, "listing"))

    async def pool(self, mint: Pubkey) -> PoolView:
        """The :class:`PoolView` of ``mint`` (vault, fees accrued and swept); ``LookupError`` if no pool was
        created for it."""
        a = self.pay.pool_address(mint)
        return PoolView.decode(self.program, a, await self._data(a, "pool"))

    async def channels_of(self, provider: Pubkey) -> List[ChannelView]:
        """Every channel paying ``provider``, any state, in one getProgramAccounts (memcmp on the provider)."""
        rows = await self.chain.get_program_accounts(self.pay.program_id, channel_filters(self.program, provider))
        return [ChannelView.decode(self.program, a, d) for a, d in rows]

    async def refresh_verifier(self, verifier: VoucherVerifier) -> int:
        """Loads every channel of the verifier's provider (one RPC call);
        forgets closed ones. Returns the number of channels known."""
        views = await self.channels_of(verifier.provider)
        live = {v.address for v in views}
        for gone in [c for c in verifier.channels if c not in live]:
            verifier.remove(gone)
        for v in views:
            verifier.update(info_from_view(v))
        return len(views)

    # -- writes --

    async def _send(self, ixs, signers: Sequence[Keypair] = ()) -> Sent:
        return await self.chain.send(ixs if isinstance(ixs, list) else [ixs], list(signers), self.payer)

    async def init_pool(self, mint: Pubkey) -> Sent:
        """Create the pool and vault of ``mint`` (permissionless; the client's payer pays rent). Needed once per
        mint before any channel."""
        return await self._send(self.pay.init_pool(payer=self.payer.pubkey(), mint=mint))

    async def create_listing(self, provider: Keypair, mint: Pubkey, model_id: int, price: int,
                             unit: str = "PerInference") -> Sent:
        """List model ``model_id`` of ``provider`` at ``price`` base units per inference
        (``unit="PerInference"``) or per 1,000 tokens (``"PerThousandTokens"``); active at once."""
        return await self._send(self.pay.create_listing(provider=provider.pubkey(), mint=mint, model_id=model_id,
                                                        price=price, unit=unit), [provider])

    async def update_listing(self, provider: Keypair, listing: Pubkey, price: int, unit: str, active: bool) -> Sent:
        """Reprice the listing (``price``, ``unit``) and set its ``active`` flag; signed by its provider."""
        return await self._send(self.pay.update_listing(provider=provider.pubkey(), listing=listing, price=price,
                                                        unit=unit, active=active), [provider])

    async def open_channel(self, payer: Keypair, provider: Pubkey, mint: Pubkey, deposit: int, *, life: int,
                           dispute_window: int = 3_600, channel_id: Optional[int] = None,
                           payer_token: Optional[Pubkey] = None) -> OpenedChannel:
        """A channel funded with ``deposit`` from ``payer``'s associated token
        account; ``channel_id`` defaults to a random 63-bit id (never reuse one)."""
        if not 0 < deposit < 2**64:
            raise ValueError(f"deposit must be 1..{2**64 - 1} base units, got {deposit}")
        if not 0 < life <= MAX_CHANNEL_LIFE:
            raise ValueError(f"life must be 1..{MAX_CHANNEL_LIFE} seconds (366 days), got {life}")
        if not MIN_DISPUTE_WINDOW <= dispute_window <= MAX_DISPUTE_WINDOW:
            raise ValueError(f"dispute_window must be {MIN_DISPUTE_WINDOW}..{MAX_DISPUTE_WINDOW} seconds, "
                             f"got {dispute_window}")
        cid = secrets.randbits(63) if channel_id is None else channel_id
        ptok = payer_token or spl.associated_token_address(payer.pubkey(), mint)
        ix = self.pay.open_channel(payer=payer.pubkey(), provider=provider, mint=mint,
                                   market=self.esc.market_address(mint), payer_token=ptok, channel_id=cid,
                                   deposit=deposit, expires_at=await self.now() + life,
                                   dispute_window=dispute_window)
        sent = await self._send(ix, [payer])
        ch = self.pay.channel_address(payer.pubkey(), provider, mint, cid)
        view = await self.channel(ch)
        signer = VoucherSigner(payer, self.pay.program_id, ch, view.open_slot, view.deposit)
        return OpenedChannel(ch, cid, view, signer, sent)

    async def top_up(self, payer: Keypair, channel: Pubkey, amount: int, extend: int = 0,
                     payer_token: Optional[Pubkey] = None) -> Sent:
        """Add ``amount`` base units to an open channel from ``payer``'s token account (default: associated)
        and/or push its expiry ``extend`` seconds later. ``ValueError`` on out-of-range arguments; a live
        :class:`VoucherSigner` needs :meth:`VoucherSigner.topped_up` afterwards."""
        if not 0 <= amount < 2**64 or not 0 <= extend <= MAX_CHANNEL_LIFE:
            raise ValueError(f"amount must be 0..{2**64 - 1} base units and extend 0..{MAX_CHANNEL_LIFE} seconds")
        view = await self.channel(channel)
        ptok = payer_token or spl.associated_token_address(payer.pubkey(), view.mint)
        return await self._send(self.pay.top_up(payer=payer.pubkey(), mint=view.mint,
                                                market=self.esc.market_address(view.mint), payer_token=ptok,
                                                channel=channel, amount=amount,
                                                expires_at=view.expires_at + extend), [payer])

    async def start_close(self, payer: Keypair, channel: Pubkey) -> Sent:
        """The payer's unilateral close, after expiry: opens the dispute window in which the provider can still
        settle (``NotExpired`` before expiry)."""
        return await self._send(self.pay.start_close(payer=payer.pubkey(), channel=channel), [payer])

    async def finish_close(self, channel: Pubkey) -> Sent:
        """After the dispute window (anyone may send it): refund ``deposit - settled`` to the channel's
        ``refund_to`` and close it, rent to its ``rent_payer``."""
        v = await self.channel(channel)
        return await self._send(self.pay.finish_close(channel=channel, mint=v.mint, rent_payer=v.rent_payer,
                                                      refund_to=v.refund_to))

    async def coop_close(self, payer: Keypair, provider: Keypair, channel: Pubkey) -> Sent:
        """Cooperative close at any time, signed by payer and provider: the unsettled rest goes back to
        ``refund_to`` at once (settle the last voucher first, or it is refunded)."""
        v = await self.channel(channel)
        return await self._send(self.pay.coop_close(payer=payer.pubkey(), provider=provider.pubkey(), channel=channel,
                                                    mint=v.mint, rent_payer=v.rent_payer, refund_to=v.refund_to),
                                [payer, provider])

    async def sweep_fees(self, mint: Pubkey) -> Sent:
        """Move the pool's accrued protocol fees to the treasury of job_escrow's market for ``mint``
        (permissionless). ``LookupError`` if there is no market."""
        market = self.esc.market_address(mint)
        acc = await self.chain.get_account(market)
        if acc is None:
            raise LookupError(f"no job_escrow market for mint {mint}")
        treasury = self.escrow_program.decode_account_as("Market", acc[1]).treasury
        return await self._send(self.pay.sweep_fees(mint=mint, market=market, treasury=treasury))
