"""Integration tier: validators as real processes, driven over HTTP and
websockets by the same client code users point at devnet.

Fixtures (the hook for tests of the keeper, the CLI job commands, ...):

``localnet`` (session)
    an ``iopay localnet`` process (``python -m iopay.localnet``) on free
    ports with a temporary ``--ledger``; a :class:`Validator`.
``validator`` (session, parametrized)
    ``localnet`` and a real ``solana-test-validator``; the latter is skipped,
    with that reason, when ``solana-test-validator`` is neither on PATH nor
    cached by ``make validator`` (``make test-parity`` makes that a failure).
``start_localnet`` (function)
    a factory ``start_localnet(ledger=None, reset=True, args=())`` for tests
    that need their own process (kill/restart); every process it starts is
    killed at teardown.

A :class:`Validator` has ``url``/``ws_url``, ``ledger``, the upgrade
authority keypair (``upgrade_authority_path`` / ``upgrade_authority``) of
the loaded programs (job_escrow at its IDL address), ``rpc()`` (sync JSON-RPC
call), ``airdrop(pubkey, sol)`` (confirmed), ``write_keypair(kp, path)``,
``warp(seconds)`` (localnet's ``iopay_warpTime``; ``supports_warp`` tells),
``clock()`` (the Clock sysvar at ``confirmed``), ``pass_time_until(ts)``
(warps on localnet, waits a few seconds of wall time on the real one),
``kill()``/``stop()`` and the process log at ``log_path``.

Every test that needs no ``iopay localnet``-only feature takes ``validator``
and runs against both (one session-scoped solana-test-validator, its
programs deployed at start). Left on ``iopay localnet`` only, and why:

* ``iopay_warpTime`` (job hours are 3,600 s, votes days, dispute windows at
  least 60 s: minutes to days of real waiting on Agave):
  test_cli_localnet::test_job_lifecycle_through_the_cli_with_the_keeper_as_a_process,
  test_escrow_client_rpc::test_escrow_client_over_rpc,
  test_credits_rpc::test_credits_job_over_rpc,
  test_credits_channel_cli::test_channel_paid_with_credits_through_the_cli,
  test_gov_cli_localnet::test_fee_change_by_vote_through_the_cli,
  test_rewards_cli_localnet::test_rewards_epoch_through_the_cli,
  test_readme_backend::test_readme_backend_example_pays_the_due_hour,
  test_localnet_process::test_job_lifecycle_over_rpc_with_warped_hours;
* ``iopay_warpTime`` and ``iopay_dropWebsockets`` (warped hours and a cut
  websocket), keepers killed and restarted:
  test_keeper_discovery::test_keeper_discovers_jobs_over_websockets_and_resubscribes_after_a_cut,
  test_keeper_kill_restart::test_keeper_killed_and_restarted_pays_every_hour_exactly_once,
  test_keeper_shards::test_three_sharded_keepers_one_killed_every_hour_paid_once;
* the ledger killed and restarted, ``--account-dir``, ``iopay_rpcStats``,
  ``iopay_dropWebsockets``, the ``iopay localnet`` command line and its
  benchmark: test_localnet_process::test_sigkill_and_restart_keep_every_account,
  ::test_account_dir_at_genesis_rpc_stats_and_dropped_websockets,
  ::test_command_line, ::test_rpc_tps_benchmark_runs;
* ``--demo-world`` and the README walkthrough, which starts ``iopay
  localnet`` itself: test_demo_world::test_demo_world,
  test_readme_walkthrough::test_readme_walkthrough_from_an_empty_home.

Against Agave, test_settler_discovery runs without the cut (a channel opens
mid-run instead), test_serve_discovery waits out a 20-second channel
instead of warping an hour, and test_wallet_cli::test_warp checks that
``iopay warp`` is a one-line error there.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Sequence

import httpx
import pytest
from solders.keypair import Keypair

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0
TEST_VALIDATOR = "solana-test-validator"
CLOCK_SYSVAR = "SysvarC1ock11111111111111111111111111111111"


class RpcCallError(Exception):
    def __init__(self, error: dict) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.error = error


@dataclass
class Validator:
    kind: str  # "localnet" | "solana-test-validator"
    url: str
    ws_url: str
    ledger: Path
    upgrade_authority_path: Path
    proc: subprocess.Popen
    log_path: Path
    info: dict = field(default_factory=dict)

    @property
    def upgrade_authority(self) -> Keypair:
        return Keypair.from_bytes(bytes(json.loads(self.upgrade_authority_path.read_text())))

    @property
    def supports_warp(self) -> bool:
        return self.kind == "localnet"

    def rpc(self, method: str, *params: Any, timeout: float = 10.0) -> Any:
        r = httpx.post(self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)},
                       timeout=timeout)
        r.raise_for_status()
        body = r.json()
        if "error" in body:
            raise RpcCallError(body["error"])
        return body["result"]

    def airdrop(self, pubkey: Any, sol: float = 10, timeout: float = 15.0) -> str:
        """Fund ``pubkey`` from the faucet and wait until it is confirmed."""
        sig = self.rpc("requestAirdrop", str(pubkey), int(sol * 1_000_000_000))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.rpc("getSignatureStatuses", [sig])["value"][0]
            if st and st["confirmationStatus"] in ("confirmed", "finalized"):
                return sig
            time.sleep(0.05)
        raise TimeoutError(f"airdrop {sig} not confirmed within {timeout}s")

    def write_keypair(self, kp: Keypair, path: Path) -> Path:
        """A Solana CLI keypair file (for ``iopay -k``)."""
        path.write_text(json.dumps(list(bytes(kp))))
        return path

    def warp(self, seconds: int, timeout: float = 30.0) -> int:
        """Move the chain clock forward (localnet only); returns the new unix
        time once the warp is visible at ``confirmed`` (the next slot)."""
        if not self.supports_warp:
            raise NotImplementedError(f"{self.kind} cannot warp time")
        out = self.rpc("iopay_warpTime", seconds)
        deadline = time.monotonic() + timeout
        while self.rpc("getSlot", {"commitment": "confirmed"}) < out["slot"] and time.monotonic() < deadline:
            time.sleep(0.02)
        return out["unixTimestamp"]

    def clock(self) -> int:
        """The Clock sysvar's ``unix_timestamp`` at ``confirmed`` (what a program sees)."""
        import base64

        v = self.rpc("getAccountInfo", CLOCK_SYSVAR, {"encoding": "base64", "commitment": "confirmed"})["value"]
        return int.from_bytes(base64.b64decode(v["data"][0])[32:40], "little", signed=True)

    def pass_time_until(self, unix_ts: int, max_wait: float = 45.0) -> int:
        """Until the chain's clock (at ``confirmed``) reaches ``unix_ts``: ``iopay localnet`` warps there,
        the real validator is waited for (at most ``max_wait`` seconds of wall time: keep real waits short)."""
        now = self.clock()
        if now >= unix_ts:
            return now
        if self.supports_warp:
            return self.warp(unix_ts - now)
        if unix_ts - now > max_wait:
            raise ValueError(f"{self.kind}: {unix_ts - now} s to wait is more than max_wait={max_wait} s")
        deadline = time.monotonic() + max_wait + 10
        while time.monotonic() < deadline:
            now = self.clock()
            if now >= unix_ts:
                return now
            time.sleep(0.2)
        raise TimeoutError(f"{self.kind}: the clock did not reach {unix_ts} (at {now})")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def _wait_healthy(v: Validator, deadline: float) -> None:
    while time.monotonic() < deadline:
        if not v.alive():
            raise RuntimeError(f"{v.kind} exited with {v.proc.returncode}:\n{v.log_tail()}")
        try:
            if v.rpc("getHealth", timeout=2) == "ok" and v.rpc("getSlot", {"commitment": "processed"}) > 0:
                return
        except (httpx.HTTPError, RpcCallError):
            pass
        time.sleep(0.05)
    v.kill()
    raise RuntimeError(f"{v.kind} not healthy within {START_TIMEOUT:.0f}s:\n{v.log_tail()}")


def launch_localnet(ledger: Path, *, reset: bool = True, args: Sequence[str] = ()) -> Validator:
    """Start ``python -m iopay.localnet`` on free ports; returns when healthy."""
    ledger.mkdir(parents=True, exist_ok=True)
    log_path = ledger.parent / f"{ledger.name}.{time.monotonic_ns()}.log"
    # Websocket on the RPC port + 1, as Agave (clients derive one from the other).
    port = _free_port(pair=True)
    cmd = [sys.executable, "-m", "iopay.localnet", "--ledger", str(ledger), "--rpc-port", str(port),
           "--ws-port", str(port + 1), *(["--reset"] if reset else []), *args]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT
    info_path = ledger / "localnet.json"
    info: dict = {}
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"localnet exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            info = json.loads(info_path.read_text())
            if info.get("pid") == proc.pid:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError(f"localnet did not start within {START_TIMEOUT:.0f}s:\n{log_path.read_text(errors='replace')}")
    v = Validator("localnet", info["rpc_url"], info["ws_url"], ledger, Path(info["upgrade_authority_keypair"]),
                  proc, log_path, info)
    _wait_healthy(v, deadline)
    return v


def _free_port(pair: bool = False) -> int:
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not pair:
            return port
        with socket.socket() as s2:
            try:
                s2.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port pair")


def test_validator_binary() -> Optional[str]:
    """``solana-test-validator`` from PATH, else the one ``make validator`` cached."""
    found = shutil.which(TEST_VALIDATOR)
    cached = REPO / ".build" / "agave" / "bin" / TEST_VALIDATOR
    return found or (str(cached) if os.access(cached, os.X_OK) else None)


def launch_test_validator(tmp: Path) -> Validator:
    """A real ``solana-test-validator`` with the workspace programs deployed
    upgradeable under a fresh authority."""
    ledger = tmp / "test-ledger"
    auth = Keypair()
    auth_path = tmp / "upgrade-authority.json"
    auth_path.write_text(json.dumps(list(bytes(auth))))
    rpc, faucet, gossip, dyn = _free_port(pair=True), _free_port(), _free_port(), 40000 + (os.getpid() % 200) * 100
    cmd = [test_validator_binary() or TEST_VALIDATOR, "--ledger", str(ledger), "--reset", "--quiet", "--bind-address", "127.0.0.1",
           "--rpc-port", str(rpc), "--faucet-port", str(faucet), "--gossip-port", str(gossip),
           "--dynamic-port-range", f"{dyn}-{dyn + 50}"]
    from iopay.localnet.server import workspace_programs

    for spec in workspace_programs(REPO / "target" / "deploy"):
        cmd += ["--upgradeable-program", str(spec.address), str(spec.path), str(auth.pubkey())]
    log_path = tmp / "solana-test-validator.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=tmp, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    v = Validator(TEST_VALIDATOR, f"http://127.0.0.1:{rpc}", f"ws://127.0.0.1:{rpc + 1}", ledger, auth_path,
                  proc, log_path)
    _wait_healthy(v, time.monotonic() + 90)
    return v


@pytest.fixture(scope="session")
def localnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Validator]:
    v = launch_localnet(tmp_path_factory.mktemp("localnet") / "ledger")
    yield v
    v.stop()


@pytest.fixture(scope="session", params=["localnet", TEST_VALIDATOR])
def validator(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Validator]:
    if request.param == "localnet":
        yield request.getfixturevalue("localnet")
        return
    if test_validator_binary() is None:
        if os.environ.get("IOPAY_REQUIRE_TEST_VALIDATOR"):
            pytest.fail(f"{TEST_VALIDATOR} is not on PATH nor in .build/agave/bin (make validator)")
        pytest.skip(f"{TEST_VALIDATOR} is not on PATH (nor built by `make validator`)")
    v = launch_test_validator(tmp_path_factory.mktemp("test-validator"))
    yield v
    v.stop()


@pytest.fixture
def start_localnet(tmp_path: Path) -> Iterator[Callable[..., Validator]]:
    started: List[Validator] = []

    def start(ledger: Optional[Path] = None, reset: bool = True, args: Sequence[str] = ()) -> Validator:
        v = launch_localnet(ledger or tmp_path / "ledger", reset=reset, args=args)
        started.append(v)
        return v

    yield start
    for v in started:
        if v.alive():
            v.kill()
