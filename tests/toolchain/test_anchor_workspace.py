"""An Anchor workspace taken as it comes, built by tools/sbpf: bench/toolchain/anchor_bench uses
anchor-spl 1.0.2 with its default token-2022 features (solana-zk-sdk is a cdylib+rlib without an
entrypoint) and `anchor init`'s [profile.release] (no opt-level, so rustc vectorizes at 3). Every
one of its 87 instructions runs in LiteSVM and Anchor's checks reject what they should.

Built and run by `make anchor-workspace` (not by `make programs`: see tools/sbpf/README.md)."""
import hashlib
import sys
import tomllib

import pytest
from solders.instruction import AccountMeta
from solders.keypair import Keypair

from .sbpf_run import ROOT

sys.path.insert(0, str(ROOT / "bench" / "toolchain"))
import anchor_cu  # noqa: E402

pytestmark = pytest.mark.anchor_workspace
WORKSPACE = ROOT / "bench" / "toolchain" / "anchor_bench"
DEPS = anchor_cu.SO.parent / "deps"


@pytest.fixture(scope="module")
def bench():
    if not anchor_cu.SO.exists():
        pytest.fail(f"{anchor_cu.SO} is missing: run `make anchor-workspace`")
    return anchor_cu.Bench(anchor_cu.SO)


def test_the_workspace_is_taken_as_it_comes():
    profile = tomllib.loads((WORKSPACE / "Cargo.toml").read_text())["profile"]["release"]
    assert "opt-level" not in profile  # rustc's default for release: 3
    deps = tomllib.loads((WORKSPACE / "program" / "Cargo.toml").read_text())["dependencies"]
    assert deps["anchor-spl"] == "=1.0.2"  # default features: token_2022, token_2022_extensions
    # anchor-lang's macros at its own version (Cargo.toml says why a fresh resolution breaks).
    lock = tomllib.loads((WORKSPACE / "Cargo.lock").read_text())["package"]
    anchor = {p["name"]: p["version"] for p in lock if p["name"] in ("anchor-lang", "anchor-spl", "anchor-syn")
              or p["name"].startswith(("anchor-attribute-", "anchor-derive-"))}
    assert len(anchor) == 12 and set(anchor.values()) == {"1.0.2"}, anchor
    # solana-zk-sdk's own cdylib was linked as a placeholder, not a failure.
    zk = sorted(DEPS.glob("solana_zk_sdk*.so"))  # cargo adds a metadata hash to a dependency's
    assert zk and all(p.read_bytes().startswith(b"sbpf-ld placeholder") for p in zk)


def test_every_instruction_runs(bench):
    created = {}
    for stem, n, keys, cu in anchor_cu.run_shapes(bench):
        assert cu > 0
        created[(stem, n)] = keys
    assert len(created) == 87
    # init really created the accounts: owned by the program, sized as declared, discriminated.
    for stem, type_name, size in [("account_empty_init", "Empty", 8), ("account_sized_init", "Sized", 16),
                                  ("boxed_account_unsized_init", "Unsized", 32)]:
        for k in created[(stem, 8)]:
            acct = bench.svm.get_account(k.pubkey())
            assert acct.owner == anchor_cu.PROGRAM_ID and len(acct.data) == size
            assert bytes(acct.data[:8]) == hashlib.sha256(f"account:{type_name}".encode()).digest()[:8]


def anchor_error(bench, name, metas, signers=()):
    with pytest.raises(RuntimeError) as e:
        bench.send(name, metas, list(signers))
    return str(e.value)


def test_anchor_checks_reject(bench):
    k = Keypair()
    # A signer slot without a signature: AccountNotSigner (3010).
    assert "InstructionErrorCustom(3010)" in anchor_error(bench, "signer1", [AccountMeta(k.pubkey(), False, False)])
    # A system account (the payer) where a mint is expected: AccountOwnedByWrongProgram (3007).
    err = anchor_error(bench, "interface_account_mint1", [AccountMeta(bench.payer.pubkey(), False, False)])
    assert "InstructionErrorCustom(3007)" in err
    # Not the System program where Program<System> is expected: InvalidProgramId (3008, 0xbc0).
    err = anchor_error(bench, "program1", [AccountMeta(anchor_cu.TOKEN, False, False)])
    assert "InstructionErrorCustom(3008)" in err
    # An unknown discriminator: InstructionFallbackNotFound (101, 0x65).
    err = anchor_error(bench, "no_such_instruction", [])
    assert "InstructionErrorCustom(101)" in err
