"""Shared fixtures: an embedded LiteSVM chain with the real SPL Token program.

Program tests need ``target/deploy/job_escrow.so`` and ``idl/job_escrow.json``.
When either is missing they FAIL (never skip) with the command that builds it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iopay.core.idl import IdlNotFound, ProgramIdl
from iopay.core.harness import Harness, ProgramNotBuilt, deploy_dir

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def harness() -> Harness:
    return Harness()


@pytest.fixture(scope="session")
def escrow_idl() -> ProgramIdl:
    try:
        return ProgramIdl.load("job_escrow")
    except IdlNotFound as e:
        pytest.fail(f"{e}\n-> generate it: tools/idl/gen.sh (programs/job_escrow), then commit idl/job_escrow.json")


@pytest.fixture
def escrow_harness(harness: Harness, escrow_idl: ProgramIdl) -> Harness:
    so = deploy_dir() / "job_escrow.so"
    try:
        harness.load_program(escrow_idl, so)
    except ProgramNotBuilt as e:
        pytest.fail(f"{e}: `make programs` builds target/deploy/job_escrow.so")
    return harness


# -- compute units per instruction, printed at the end of the run -------------

CU_LOG: dict[str, list[int]] = {}


@pytest.fixture
def record_cu():
    def record(name: str, units: int) -> None:
        CU_LOG.setdefault(name, []).append(units)

    return record


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if not CU_LOG:
        return
    import json

    terminalreporter.section("compute units (job_escrow, LiteSVM)")
    summary = {}
    for name, xs in sorted(CU_LOG.items()):
        summary[name] = {"min": min(xs), "max": max(xs), "n": len(xs)}
        terminalreporter.write_line(f"{name:<28} min {min(xs):>7}  max {max(xs):>7}  n={len(xs)}")
    out = REPO / "target" / "cu" / "job_escrow.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    terminalreporter.write_line(f"written to {out.relative_to(REPO)}")
