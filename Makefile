# iopay: `make demo` and `make test` set up everything they need on a fresh Debian machine
# (apt packages, .venv, the SBPF programs) and are safe to rerun.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
# The host Rust toolchain (rustup); /usr/bin/cargo is Debian's, reserved for the SBPF build.
HOST_CARGO := $(shell [ -x $(HOME)/.cargo/bin/cargo ] && echo $(HOME)/.cargo/bin/cargo || echo cargo)

.PHONY: all venv programs idl idl-check test test-rust test-python demo bench bench-sbpf anchor-workspace anchor-workspace-build bench-anchor bench-cu bench-keeper bench-rpc clean bench-escrow bench-localnet bench-credits bench-rewards validator test-parity bench-scale bench-inference

all: programs

venv:
	@scripts/venv.sh

# Offline SBPF build of every program into target/deploy/ (tools/sbpf/README.md).
programs:
	@tools/sbpf/build-programs.sh

idl:
	@tools/idl/gen.sh

idl-check:
	@tools/idl/check.sh

test-rust:
	@env -u RUSTUP_TOOLCHAIN $(HOST_CARGO) test --locked --workspace --target-dir target/host --quiet

test-python: venv programs
	@$(PY) -m pytest -q --durations=25

test: venv programs idl-check test-rust test-python

# Optional: Agave's solana-test-validator, built once into .build/agave/bin (about an hour).
validator:
	@scripts/validator.sh

# The integration tier against both validators (needs `make validator` or the binary on PATH).
test-parity: venv programs
	@scripts/test-parity.sh

demo: venv programs
	@$(PY) -m iopay.demo

# Official SPL programs built by our toolchain vs LiteSVM's platform-tools builds, and Anchor's benchmark
# shapes (bench/toolchain/anchor_bench) vs Anchor's published platform-tools figures, per shape (JSON summary).
bench-sbpf: venv anchor-workspace-build
	@tools/sbpf/install.sh
	@tools/sbpf/cargo-sbpf build --release --locked --manifest-path bench/toolchain/sbpf_compare/Cargo.toml --target-dir target --workspace
	@$(PY) bench/toolchain/sbpf_compare.py

# An Anchor workspace as it comes (anchor-spl 1.0.2 with token-2022, `anchor init`'s release
# profile) built by tools/sbpf and its tests. Not part of `make test`: building anchor-spl's
# whole dependency tree and std at opt-level 3 takes far longer than the rest of CI.
anchor-workspace-build:
	@tools/sbpf/install.sh
	@tools/sbpf/cargo-sbpf build --release --locked --manifest-path bench/toolchain/anchor_bench/Cargo.toml --target-dir target/anchor-bench --workspace

anchor-workspace: venv anchor-workspace-build
	@$(PY) -m pytest -q -m anchor_workspace tests/toolchain

# Our Anchor shapes vs Anchor's published platform-tools figures, per shape (JSON summary).
bench-anchor: venv anchor-workspace-build
	@$(PY) bench/toolchain/anchor_cu.py

# Compute units per job_escrow instruction and per worker-hour paid.
bench-cu: venv programs
	@$(PY) bench/escrow/cu.py

# Keeper payouts per transaction, transactions and CU per worker-hour (50 jobs x 4 workers).
bench-keeper: venv programs
	@$(PY) bench/escrow/keeper_payouts.py

# Transactions per second over JSON-RPC (local validator) vs in process.
bench-rpc: venv programs
	@$(PY) bench/localnet/rpc_tps.py

# One hour boundary at network scale over JSON-RPC: 2,500 jobs x 4 workers, the keeper as a process.
bench-scale: venv programs
	@$(PY) bench/scale/keeper_boundary.py

# Compute units of every iosd_credits instruction; a job paid with credits vs with tokens.
bench-credits: venv programs
	@$(PY) bench/credits/cu.py

# Rewards: Merkle tree build time (10k / 1M workers), CU per claim at those depths, rent per claim.
bench-rewards: venv programs
	@$(PY) bench/rewards/distributor.py

bench-escrow: bench-cu bench-keeper
bench-localnet: bench-rpc

# Vouchers signed/verified per second, CU per settled channel (alone, batched) and cost per inference vs an
# SPL transfer, requests/s through the HTTP 402 endpoint with vs without payment.
bench-inference: venv programs
	@$(PY) bench/inference/inference.py

bench: bench-sbpf bench-cu bench-keeper bench-rpc bench-credits bench-rewards bench-inference

clean:
	rm -rf target .build $(VENV)
