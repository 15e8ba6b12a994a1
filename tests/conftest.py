"""Shared fixtures: an embedded LiteSVM chain with the real SPL Token program.

Program tests need ``target/deploy/job_escrow.so`` and ``idl/job_escrow.json``.
When either is missing they FAIL (never skip) with the command that builds it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from iopay.idl import IdlNotFound, ProgramIdl
from iopay.litesvm import Harness, ProgramNotBuilt, deploy_dir

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
