"""inference_pay's home: per-inference payments over payment channels.

| module | what |
|---|---|
| :mod:`iopay.inference.program` | instruction builders, PDAs, voucher bytes, the Ed25519 precompile instruction, money math |
| :mod:`iopay.inference.state` | decoded channel / listing / pool views |
| :mod:`iopay.inference.vouchers` | :class:`VoucherSigner` (payer), :class:`VoucherVerifier` + :class:`VoucherStore` (provider) |
| :mod:`iopay.inference.settler` | the settler service (batches of channels per transaction) |
| :mod:`iopay.inference.http` | the HTTP 402 endpoint and the paying client |
| :mod:`iopay.inference.client` | :class:`InferenceClient`, the async high-level client |

Its CLI commands live in :mod:`iopay.cli.inference`.
"""

from iopay.inference.program import IDL_NAME, InferencePay, Voucher, voucher_message  # noqa: F401
from iopay.inference.state import ChannelView, ListingView, PoolView  # noqa: F401
from iopay.inference.vouchers import (ChannelInfo, DepositExhausted, VoucherRejected, VoucherSigner,  # noqa: F401
                                      VoucherStore, VoucherVerifier)
