"""Each gap between upstream LLVM BPF and SBPF v0 that tools/sbpf closes, checked by running the
conformance program (tools/sbpf/tests/gaps) in LiteSVM against answers computed here."""
import hashlib
import struct

import pytest

from .sbpf_run import ROOT, Runner

SO = ROOT / "target" / "sbpf-tests" / "sbpf_gaps.so"
M64, M128 = (1 << 64) - 1, (1 << 128) - 1


@pytest.fixture(scope="module")
def gaps():
    return Runner(SO)


def u64s(*v):
    return b"".join(struct.pack("<Q", x & M64) for x in v)


def u128s(*v):
    return b"".join((x & M128).to_bytes(16, "little") for x in v)


def s128(x):
    x &= M128
    return x - (1 << 128) if x >> 127 else x


def tdiv(a, b):
    """Rust's truncating signed division and remainder."""
    q = abs(a) // abs(b)
    q = -q if (a < 0) != (b < 0) else q
    return q, a - q * b


def run_ok(gaps, sel, payload):
    r = gaps.call(bytes([sel]) + payload)
    assert r.ok, (r.error, r.raw_logs)
    return r.logs


def test_more_than_five_arguments(gaps):
    v = [0x1234_5678_9ABC_DEF0, M64, 0x77, 5, 0xFFFF_0000_1111_2222, 0x1FFFF, 3, 4]
    logs = run_ok(gaps, 0, u64s(*v))
    seven = 0
    for x, k in zip(v[:7], (1, 3, 5, 7, 11, 13, 17)):
        seven ^= (x * k) & M64
    mixed = ((v[1] * 7 + (v[4] << 64)) & M128) ^ (v[0] + (v[2] & 0xFF) + v[3] + (v[5] & 0xFFFF) + v[6] + v[7])
    assert logs == [f"seven {seven} {seven} mixed {mixed}"]


@pytest.mark.parametrize("a,b,s", [
    (M128 // 3, 0x1_0000_0001, 0),
    (M128 - 5, M128 // 7 + 11, 64),
    (12345678901234567890123456789, 987654321, 127),
    (1 << 127, (1 << 64) + 3, 63),
    ((-1000000000000000000000) & M128, 77777, 65),
    (100, 7, 1),  # both in 64 bits: the fast path
])
def test_i128_arithmetic(gaps, a, b, s):
    logs = run_ok(gaps, 1, u128s(a, b) + u64s(s))
    sa, sb = s128(a), s128(b)
    q, r = tdiv(sa, sb)
    rotl = ((a << s) | (a >> (128 - s))) & M128 if s else a
    rotr = ((a >> s) | (a << (128 - s))) & M128 if s else a
    assert logs == [
        f"mul {(a * b) & M128} div {a // b} rem {a % b}",
        f"sdiv {q} srem {r}",
        f"shl {(a << s) & M128} shr {a >> s} sar {sa >> s}",
        f"rotl {rotl} rotr {rotr}",
    ]


def opt(x, lo, hi):
    return f"Some({x})" if lo <= x <= hi else "None"


@pytest.mark.parametrize("a,b,c,e", [
    (3_000_000_000, 5_000_000_000, M64, M64),  # u64 overflows; u128 product of two u64 fits
    (4_294_967_296, 4_294_967_295, 1 << 64, 1 << 64),  # fits in u64; u128 product overflows
    ((-5) & M64, 7, (-(1 << 126)) & M128, 2),  # signed: -5*7; i128 min boundary
    (M64, 0, 1 << 127, 1),
])
def test_checked_mul_and_fee_math(gaps, a, b, c, e):
    logs = run_ok(gaps, 2, u64s(a, b) + u128s(c, e))
    sa, sb = (a - (1 << 64) if a >> 63 else a), (b - (1 << 64) if b >> 63 else b)
    i128 = opt(s128(c) * s128(e), -(1 << 127), (1 << 127) - 1)
    fee = -(-(a * (b % 10_001)) // 10_000)
    assert logs == [
        f"u64 {opt(a * b, 0, M64)} i64 {opt(sa * sb, -(1 << 63), (1 << 63) - 1)}",
        f"u128 {opt(c * e, 0, M128)} i128 {i128}",
        f"fee {fee}",
    ]


def test_indirect_calls_through_vtables_and_fn_tables(gaps):
    x, y = 123456, 789
    logs = run_ok(gaps, 3, u64s(x, y))
    assert logs == [f"square {x * x}", f"rect {x * y}", f"ops [{x + y}, {x - y}, {x * y}]"]


def test_big_stack_frames(gaps):
    seed = 0x9E37_79B9_7F4A_7C15

    def frame(s):
        return sum((s * (i + 1)) & M64 for i in range(400)) & M64

    a = frame(seed)
    assert run_ok(gaps, 4, u64s(seed)) == [f"frames {a} {frame(a)}"]


def test_syscalls(gaps):
    payload = b"iopay offline sbpf" * 3
    r = gaps.call(bytes([5]) + payload)
    assert r.ok, r.raw_logs
    # sha256 saw exactly the bytes after the selector; sol_log_64_ logs its five values in hex
    assert r.logs[0] == "sha256 " + hashlib.sha256(payload).hexdigest()
    assert r.logs[1] == f"0x1, 0x2, 0x3, 0x4, {hex(len(payload))}"


def test_relocations_in_read_only_data(gaps):
    for i, name in enumerate(["alpha", "bravo", "charlie"]):
        logs = run_ok(gaps, 6, u64s(i, 12))
        assert logs == [f"name {name}", "double 24", "square 144", "nested 15"]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def test_soft_float(gaps):
    a, b = 123_456_789, 4_321
    x, y = a / 1000.0, b / 1000.0
    logs = run_ok(gaps, 7, u64s(a, b))
    assert logs == [
        f"f64 {int(x * y)} {int(x / y * 1e6)} {int(x + y)} {int(x - y)}",
        f"cmp {str(x < y).lower()} {str(x == y).lower()} false",
        f"sat 0 {M64} 0",
        f"f32 {int(f32(f32(a) * 0.5))}",
    ]


@pytest.mark.parametrize("a,b", [(-17, 5), (17, -5), (-17, -5), (-(1 << 40) - 3, 7), (1000003, 3)])
def test_signed_division_of_every_width(gaps, a, b):
    logs = run_ok(gaps, 8, u64s(a, b))

    def wrap(v, bits):
        v &= (1 << bits) - 1
        return v - (1 << bits) if v >> (bits - 1) else v

    lines = []
    for bits in (64, 32, 16, 8):
        q, r = tdiv(wrap(a, bits), wrap(b, bits))
        lines.append(f"i{bits} {wrap(q, bits)} {wrap(r, bits)}")
    assert logs == lines


@pytest.mark.parametrize("n", [0, 1, 999, 12345])
def test_long_variable_and_overlapping_memory_ops(gaps, n):
    logs = run_ok(gaps, 9, u64s(n))
    size = n % 1000 + 300
    w = bytes(i * 7 % 251 for i in range(size))
    v = w[:10] + w[:size - 10]
    assert logs == [f"mem {v[10]} {v[size - 1]} {0xab} 0 {str(w == v).lower()}"]


def test_heap_collections_and_formatting(gaps):
    payload = bytes(range(1, 90))
    logs = run_ok(gaps, 10, payload)
    chunks = {f"k{i}": sum(payload[i * 8:i * 8 + 8]) for i in range((len(payload) + 7) // 8)}
    assert logs == ["heap " + "".join(f"{k}={chunks[k]};" for k in sorted(chunks))]


def test_panic_reaches_custom_panic_and_fails_the_program(gaps):
    r = gaps.call(bytes([11]) + u64s(7))
    assert not r.ok
    assert "panicked: index out of bounds: the len is 3 but the index is 7" in r.logs
    assert any("SBF program panicked" in l or "failed" in l for l in r.raw_logs)
    ok = gaps.call(bytes([11]) + u64s(2))
    assert ok.ok and ok.logs == ["value 3"]


def test_unknown_selector_returns_error(gaps):
    r = gaps.call(bytes([200]))
    assert not r.ok and "Custom(2)" in r.error
