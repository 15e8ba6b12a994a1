"""The sbpf-legalize LLVM pass on small IR: each rewrite happens, and what it cannot lower is
a hard error naming the function (never a silently broken program)."""
import subprocess

import pytest

from .sbpf_run import ROOT

PLUGIN = ROOT / ".build" / "sbpf" / "libSbpfLegalize.so"
HEAD = 'target datalayout = "e-m:e-p:64:64-i64:64-i128:128-n32:64-S128"\ntarget triple = "bpfel"\n'


def legalize(tmp_path, ir):
    if not PLUGIN.exists():
        pytest.fail(f"{PLUGIN} is missing: run `make programs`")
    src = tmp_path / "in.ll"
    src.write_text(HEAD + ir)
    r = subprocess.run(["opt-22", f"-load-pass-plugin={PLUGIN}", "-passes=sbpf-legalize", "-S", str(src)],
                       capture_output=True, text=True)
    return r


def test_rewrites_each_gap(tmp_path):
    r = legalize(tmp_path, """
define i64 @sdiv(i64 %a, i64 %b) {
  %q = sdiv i64 %a, %b
  ret i64 %q
}
define i128 @wide(i128 %a, i128 %b, i64 %s) {
  %m = mul i128 %a, %b
  %d = udiv i128 %m, %b
  %s128 = zext i64 %s to i128
  %sh = shl i128 %d, %s128
  ret i128 %sh
}
define { i64, i1 } @checked(i64 %a, i64 %b) {
  %r = call { i64, i1 } @llvm.umul.with.overflow.i64(i64 %a, i64 %b)
  ret { i64, i1 } %r
}
define double @fl(double %a, i64 %n) {
  %x = uitofp i64 %n to double
  %y = fmul double %a, %x
  ret double %y
}
define i64 @seven(i64 %a, i64 %b, i64 %c, i64 %d, i64 %e, i64 %f, i64 %g) {
  %s = add i64 %a, %g
  ret i64 %s
}
define i64 @caller(ptr %fp) {
  %r1 = call i64 @seven(i64 1, i64 2, i64 3, i64 4, i64 5, i64 6, i64 7)
  %r2 = call i64 %fp(i64 1, i64 2, i64 3, i64 4, i64 5, i64 6, i64 7)
  %r = add i64 %r1, %r2
  ret i64 %r
}
define void @copy(ptr %d, ptr %s, i64 %n) {
  call void @llvm.memcpy.p0.p0.i64(ptr %d, ptr %s, i64 %n, i1 false)
  ret void
}
define void @sret_fn(ptr sret([16 x i8]) %out) {
  ret void
}
declare { i64, i1 } @llvm.umul.with.overflow.i64(i64, i64)
declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)
""")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert " sdiv " not in out and "udiv i64" in out
    assert "mul i128" not in out and "udiv i128" not in out and "shl i128" not in out
    assert "@__sbpf_mul128" in out and "@__sbpf_udiv128" in out and "@__sbpf_shl128" in out
    assert "@llvm.umul.with.overflow.i64(" not in out.split("declare")[0] and "@__sbpf_umulo64" in out
    assert "fmul" not in out and "@__muldf3" in out and "@__floatundidf" in out
    assert "define i64 @seven(i64 %a, i64 %b, i64 %c, i64 %d, ptr %sbpf.pack)" in out
    assert out.count("call i64 @seven(i64 1, i64 2, i64 3, i64 4, ptr") == 1
    assert "call i64 %fp(i64 1, i64 2, i64 3, i64 4, ptr" in out
    assert "@llvm.memcpy" not in out.split("declare")[0] and "@__sbpf_memcpy" in out
    assert "sret(" not in out and "define void @sret_fn(ptr %out)" in out


@pytest.mark.parametrize("ir,what", [
    ("define i256 @f(i256 %a, i256 %b) {\n  %q = udiv i256 %a, %b\n  ret i256 %q\n}\n", "wider than 128"),
    ("define double @f(double %a) {\n  %r = call double @llvm.sqrt.f64(double %a)\n  ret double %r\n}\n"
     "declare double @llvm.sqrt.f64(double)\n", "llvm.sqrt"),
    ("define i128 @f(double %a) {\n  %r = fptoui double %a to i128\n  ret i128 %r\n}\n", "wider than 64"),
])
def test_unsupported_constructs_fail_loudly(tmp_path, ir, what):
    r = legalize(tmp_path, ir)
    assert r.returncode != 0
    assert "in f:" in r.stderr and what in r.stderr


def test_packed_functions_lose_pure_memory_claims(tmp_path):
    # A pure 7-argument function becomes one that reads the caller's buffer; if it kept
    # memory(none), O2 would delete the stores that fill the buffer (seen before this check).
    r = legalize(tmp_path, """
define i64 @seven(i64 %a, i64 %b, i64 %c, i64 %d, i64 %e, i64 %f, i64 %g) #0 {
  %s = add i64 %a, %g
  ret i64 %s
}
define i64 @caller() {
  %r = call i64 @seven(i64 1, i64 2, i64 3, i64 4, i64 5, i64 6, i64 7) #0
  ret i64 %r
}
attributes #0 = { memory(none) speculatable }
""")
    assert r.returncode == 0, r.stderr
    assert "memory(none)" not in r.stdout and "speculatable" not in r.stdout


def test_short_constant_compares_are_inline(tmp_path):
    # Anchor compares an 8-byte discriminator per instruction while dispatching and 32-byte keys in
    # its constraints: up to 32 bytes, compares become loads (memcmp keeps its ordering through a
    # bswap); longer or variable ones stay calls (sol_memcmp_ behind them).
    r = legalize(tmp_path, """
define i1 @disc(ptr %a, ptr %b) {
  %r = call i32 @memcmp(ptr %a, ptr %b, i64 8)
  %e = icmp eq i32 %r, 0
  ret i1 %e
}
define i1 @key(ptr %a, ptr %b) {
  %r = call i32 @bcmp(ptr %a, ptr %b, i64 32)
  %e = icmp ne i32 %r, 0
  ret i1 %e
}
define i32 @order(ptr %a, ptr %b) {
  %r = call i32 @memcmp(ptr %a, ptr %b, i64 13)
  ret i32 %r
}
define i32 @long(ptr %a, ptr %b, i64 %n) {
  %r = call i32 @memcmp(ptr %a, ptr %b, i64 33)
  %v = call i32 @memcmp(ptr %a, ptr %b, i64 %n)
  %s = add i32 %r, %v
  ret i32 %s
}
define i32 @memcmp(ptr %a, ptr %b, i64 %n) {
  ret i32 0
}
declare i32 @bcmp(ptr, ptr, i64)
""")
    assert r.returncode == 0, r.stderr
    fns = {f.split("(")[0].split("@")[1]: f for f in r.stdout.split("define ")[1:]}
    for name in ("disc", "key", "order"):
        assert "call i32 @memcmp" not in fns[name] and "call i32 @bcmp" not in fns[name], fns[name]
    assert "load i64" in fns["disc"] and "bswap" not in fns["disc"]
    assert fns["key"].count("load i64") == 8
    assert "llvm.bswap.i64" in fns["order"]
    assert fns["long"].count("call i32 @memcmp") == 2
    # The syscall wrapper stays a call, so lengths that become constant after O2 inlines are
    # found by the pass's second run.
    group = fns["memcmp"].split("{")[0].split("#")[1].strip()
    assert "noinline" in r.stdout.split(f"attributes #{group} = ")[1].splitlines()[0]
