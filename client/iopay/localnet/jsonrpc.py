"""JSON-RPC 2.0 framing shared by the HTTP and websocket servers.

Single requests and batches; notifications (no ``id``) get no response;
every failure becomes a JSON-RPC error object, never an exception that
escapes: parse error -32700, invalid request -32600, unknown method -32601,
invalid params -32602, internal error -32603, plus Agave's server codes
(-32002 preflight failure, -32003 signature verification, -32015 unsupported
transaction version, -32016 min context slot, ...).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Dict, List, Optional, Union

log = logging.getLogger("iopay.localnet")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# Agave's custom server errors (rpc-client-api/src/custom_error.rs).
BLOCK_CLEANED_UP = -32001
SEND_TRANSACTION_PREFLIGHT_FAILURE = -32002
TRANSACTION_SIGNATURE_VERIFICATION_FAILURE = -32003
BLOCK_NOT_AVAILABLE = -32004
NO_SNAPSHOT = -32008
TRANSACTION_HISTORY_NOT_AVAILABLE = -32011
UNSUPPORTED_TRANSACTION_VERSION = -32015
MIN_CONTEXT_SLOT_NOT_REACHED = -32016


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> Dict[str, Any]:
        e: Dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            e["data"] = self.data
        return e

    @classmethod
    def invalid_params(cls, message: str = "Invalid params") -> "RpcError":
        return cls(INVALID_PARAMS, message)

    @classmethod
    def invalid_request(cls, message: str = "Invalid request") -> "RpcError":
        return cls(INVALID_REQUEST, message)


Method = Callable[[List[Any]], Any]


def error_response(err: RpcError, id_: Any = None) -> Dict[str, Any]:
    return {"jsonrpc": "2.0", "error": err.to_json(), "id": id_}


def _valid_id(id_: Any) -> bool:
    return id_ is None or isinstance(id_, (str, int)) and not isinstance(id_, bool) or isinstance(id_, float)


class Dispatcher:
    """Maps method names to callables ``f(params: list) -> result``."""

    def __init__(self, methods: Optional[Dict[str, Method]] = None, max_batch: int = 1000) -> None:
        self.methods: Dict[str, Method] = dict(methods or {})
        self.max_batch = max_batch
        #: calls per method name (``iopay_rpcStats``)
        self.calls: Dict[str, int] = {}

    def call_one(self, req: Any) -> Optional[Dict[str, Any]]:
        if not isinstance(req, dict):
            return error_response(RpcError.invalid_request())
        id_ = req.get("id")
        is_notification = "id" not in req
        if not _valid_id(id_):
            return error_response(RpcError.invalid_request(), None)
        if req.get("jsonrpc") != "2.0" or not isinstance(req.get("method"), str):
            return error_response(RpcError.invalid_request(), id_)
        params = req.get("params", [])
        if params is None:
            params = []
        if not isinstance(params, list):
            # Agave's methods take positional params only.
            resp = error_response(RpcError.invalid_params("Invalid params: expected an array"), id_)
            return None if is_notification else resp
        fn = self.methods.get(req["method"])
        if fn is not None:
            self.calls[req["method"]] = self.calls.get(req["method"], 0) + 1
        try:
            if fn is None:
                raise RpcError(METHOD_NOT_FOUND, "Method not found")
            result = fn(params)
            resp = {"jsonrpc": "2.0", "result": result, "id": id_}
        except RpcError as e:
            resp = error_response(e, id_)
        except (TypeError, ValueError, KeyError, IndexError, OverflowError) as e:
            resp = error_response(RpcError.invalid_params(f"Invalid params: {e}"), id_)
        except Exception as e:  # noqa: BLE001 - a bad request must never kill the server
            log.exception("internal error in %s", req.get("method"))
            resp = error_response(RpcError(INTERNAL_ERROR, f"Internal error: {type(e).__name__}: {e}"), id_)
        return None if is_notification else resp

    def handle_payload(self, payload: Union[bytes, str]) -> Optional[bytes]:
        """Raw request bytes -> raw response bytes (``None``: nothing to send)."""
        try:
            req = json.loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError):
            req = None
        if not isinstance(req, (dict, list)):  # as Agave: a bare number or string is not a request
            return _dump(error_response(RpcError(PARSE_ERROR, "Parse error")))
        out = self.handle_obj(req)
        return None if out is None else _dump(out)

    def handle_obj(self, req: Any) -> Any:
        if isinstance(req, list):
            if not req:
                return None  # as Agave: an empty batch gets an empty 200
            if len(req) > self.max_batch:
                return error_response(RpcError.invalid_request(f"Batch too large; max {self.max_batch}"))
            out = [r for r in (self.call_one(x) for x in req) if r is not None]
            return out or None
        return self.call_one(req)


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()
