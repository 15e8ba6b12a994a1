"""The provider's channels kept current without polling: an
:class:`iopay.core.watch.AccountWatch` over the Channel accounts paying one
provider (one ``getProgramAccounts``, then ``programSubscribe``; a dropped
websocket is resubscribed and resnapshotted, see that module).

The settler reads a channel's settled total, nonce and closing state from
here instead of one ``getAccountInfo`` per channel per round; the HTTP
server's verifier can be fed from it too."""

from __future__ import annotations

from typing import Any, List, Optional

from solders.pubkey import Pubkey

from iopay.core.idl import ProgramIdl
from iopay.core.watch import AccountWatch
from iopay.inference.state import ChannelView, channel_filters


class ChannelWatch(AccountWatch[Pubkey, ChannelView]):
    """Every channel paying ``provider``, kept current over websockets."""

    def __init__(self, program: ProgramIdl, provider: Pubkey, http_url: str, ws_url: Optional[str] = None,
                 **kw: Any) -> None:
        self.program = program
        self.provider = provider
        super().__init__(program.program_id, {provider: channel_filters(program, provider)},
                         lambda a, d: ChannelView.decode(program, a, d),
                         lambda view: view.provider if view.provider == provider else None,
                         http_url, ws_url, name="channel_watch", **kw)

    def channels(self) -> List[ChannelView]:
        return self.views(self.provider)
