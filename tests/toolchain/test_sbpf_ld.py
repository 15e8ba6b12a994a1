"""sbpf-ld end to end on small bitcode: vector IR (what rustc makes at opt-level 3) is scalarized
and runs in LiteSVM; a cdylib without `entrypoint` is a placeholder for a dependency and an error
for the crate being built."""
import os
import subprocess
from pathlib import Path

import pytest

from .sbpf_run import ROOT, Runner

SBPF_LD = ROOT / "tools" / "sbpf" / "ld" / "sbpf-ld"
HEAD = 'target datalayout = "e-m:e-p:64:64-i64:64-i128:128-n32:64-S128"\ntarget triple = "bpfel"\n'
M32 = (1 << 32) - 1


def sbpf_ld(tmp_path: Path, ir: str, primary: bool):
    if not (ROOT / ".build" / "sbpf" / "libSbpfLegalize.so").exists():
        pytest.fail("the toolchain is not built: run `make programs`")
    ll, bc, out = tmp_path / "p.ll", tmp_path / "p.o", tmp_path / "p.so"
    ll.write_text(HEAD + ir)
    subprocess.run(["llvm-as-22", str(ll), "-o", str(bc)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "CARGO_PRIMARY_PACKAGE"}
    env["CARGO_CRATE_NAME"] = "p"
    if primary:
        env["CARGO_PRIMARY_PACKAGE"] = "1"
    r = subprocess.run([str(SBPF_LD), str(bc), "-o", str(out)], capture_output=True, text=True, env=env)
    return r, out


VECTOR_PROGRAM = """
declare void @sol_log_64_(i64, i64, i64, i64, i64)
declare i32 @llvm.vector.reduce.add.v4i32(<4 x i32>)
declare i32 @llvm.vector.reduce.umax.v4i32(<4 x i32>)
define i64 @entrypoint(ptr %in) {
  %pa = getelementptr i8, ptr %in, i64 17
  %pb = getelementptr i8, ptr %in, i64 33
  %a = load <4 x i32>, ptr %pa, align 1
  %b = load <4 x i32>, ptr %pb, align 1
  %m = mul <4 x i32> %a, <i32 3, i32 5, i32 7, i32 9>
  %x = xor <4 x i32> %m, %b
  %c = icmp ugt <4 x i32> %x, %b
  %s = select <4 x i1> %c, <4 x i32> %x, <4 x i32> %b
  %r = shufflevector <4 x i32> %s, <4 x i32> poison, <4 x i32> <i32 3, i32 2, i32 1, i32 0>
  %sum = call i32 @llvm.vector.reduce.add.v4i32(<4 x i32> %r)
  %max = call i32 @llvm.vector.reduce.umax.v4i32(<4 x i32> %r)
  %r0 = extractelement <4 x i32> %r, i64 0
  %r3 = extractelement <4 x i32> %r, i64 3
  %w = zext i32 %sum to i64
  %x1 = zext i32 %max to i64
  %x2 = zext i32 %r0 to i64
  %x3 = zext i32 %r3 to i64
  call void @sol_log_64_(i64 %w, i64 %x1, i64 %x2, i64 %x3, i64 0)
  ret i64 0
}
"""


def test_vector_code_is_scalarized_and_runs(tmp_path):
    r, so = sbpf_ld(tmp_path, VECTOR_PROGRAM, primary=True)
    assert r.returncode == 0, r.stderr
    a, b = [0x8000_0001, 7, 0x1234_5678, 0xFFFF_FFFF], [5, 0xFFFF_FFF0, 0x0F0F_0F0F, 1]
    # Input layout: u64 account count (0), u64 data length, data; the program reads data[1..33].
    data = b"\x00" + b"".join(x.to_bytes(4, "little") for x in a + b)
    run = Runner(so).call(data)
    assert run.ok, run.raw_logs
    s = [max((x * k) & M32 ^ y, y) for x, y, k in zip(a, b, (3, 5, 7, 9))][::-1]
    assert run.logs == [f"{hex(sum(s) & M32)}, {hex(max(s))}, {hex(s[0])}, {hex(s[3])}, 0x0"]


NO_ENTRY = "define i64 @helper(i64 %x) {\n  %y = add i64 %x, 1\n  ret i64 %y\n}\n"


def test_dependency_without_entrypoint_gets_a_placeholder(tmp_path):
    r, so = sbpf_ld(tmp_path, NO_ENTRY, primary=False)
    assert r.returncode == 0, r.stderr
    assert "warning" in r.stderr and "placeholder" in r.stderr
    assert so.read_bytes().startswith(b"sbpf-ld placeholder") and not so.read_bytes().startswith(b"\x7fELF")


def test_program_being_built_without_entrypoint_is_an_error(tmp_path):
    r, so = sbpf_ld(tmp_path, NO_ENTRY, primary=True)
    assert r.returncode != 0
    assert "entry symbol 'entrypoint' is not defined in p" in r.stderr
    assert not so.exists()
