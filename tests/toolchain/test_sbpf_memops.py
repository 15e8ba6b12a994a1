"""What Anchor programs are made of, built the way Anchor builds them: short memcmp/bcmp (inline
up to 32 bytes), misaligned loads and stores, short memcpy/memmove/memset at any alignment (inline
up to 64 bytes), code rustc vectorizes at opt-level 3, and a dependency whose cdylib has no
entrypoint. Runs tools/sbpf/tests/memops in LiteSVM against answers computed here."""
import random
import struct

import pytest

from .sbpf_run import ROOT, Runner

SO = ROOT / "target" / "sbpf-tests" / "sbpf_memops.so"
CMP_LENGTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 64]
COPY_LENGTHS = [1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 40, 48, 63, 64, 65, 100]
M32, M64 = (1 << 32) - 1, (1 << 64) - 1


@pytest.fixture(scope="module")
def prog():
    return Runner(SO)


def run_ok(prog, sel, payload):
    r = prog.call(bytes([sel]) + payload)
    assert r.ok, (r.error, r.raw_logs)
    return r.logs


def sign(x, y):
    return (x > y) - (x < y)


def cmp_pairs():
    rng = random.Random(9)
    a = bytes(rng.randrange(256) for _ in range(80))
    pairs = [("equal", a, a)]
    # One differing byte at each interesting position, both directions: every chunk boundary of
    # the inline expansion (4-byte halves, 8-byte chunks, the overlapping tail) and past 32.
    for pos in [0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 15, 16, 23, 24, 30, 31, 32, 40, 63, 64]:
        for delta in (1, -1):
            b = bytearray(a)
            b[pos] = (b[pos] + delta) % 256
            pairs.append((f"pos{pos}{'+' if delta > 0 else '-'}", a, bytes(b)))
    # Differences in the high bit (unsigned ordering) and in several places at once.
    b = bytearray(a)
    b[5] ^= 0x80
    b[20] ^= 0x01
    pairs.append(("high-bit", a, bytes(b)))
    return pairs


@pytest.mark.parametrize("name,a,b", cmp_pairs(), ids=lambda v: v if isinstance(v, str) else "")
def test_short_compares_inline_and_variable(prog, name, a, b):
    logs = run_ok(prog, 0, a + b)
    expect = []
    for off in (0, 1):
        parts = []
        for n in CMP_LENGTHS:
            x, y = a[off:off + n], b[off:off + n]
            parts.append(f"{n}:{sign(x, y)}{'=' if x == y else '!'}")
        expect.append(f"cmp{off} " + " ".join(parts))
    expect.append(f"arrays {str(a[:32] == b[:32]).lower()} {str(a[3:11] == b[3:11]).lower()} {sign(a[:32], b[:32])}")
    n = a[0] % 64 + 1
    expect.append(f"variable {sign(a[:n], b[:n])} {str(a[:n] == b[:n]).lower()}")
    assert logs == expect


def test_misaligned_loads_and_stores(prog):
    d = bytes((i * 37 + 11) % 256 for i in range(40))
    logs = run_ok(prog, 1, d)
    parts = []
    for off in range(1, 8):
        h, w, q = struct.unpack_from("<HIQ", d[off:off + 2] + d[off:off + 4] + d[off:off + 8])
        o = int.from_bytes(d[off:off + 16], "little")
        parts.append(f"{h} {w} {q} {o}")
    buf = bytearray(16)
    buf[3:11] = d[:8]
    buf[5:9] = struct.pack("<I", 0xDEADBEEF)
    assert logs == ["loads " + " | ".join(parts), "stores [" + ", ".join(str(x) for x in buf) + "]"]


def fnv(b):
    h = 0xCBF29CE484222325
    for x in b:
        h = ((h ^ x) * 0x100000001B3) & M64
    return h


@pytest.mark.parametrize("seed", [1, 2])
def test_short_copies_moves_and_fills_at_odd_alignments(prog, seed):
    rng = random.Random(seed)
    src = bytes(rng.randrange(256) for _ in range(128))
    logs = run_ok(prog, 2, src)
    parts = []
    for n in COPY_LENGTHS:
        dst = bytearray(160)
        dst[3:3 + n] = src[1:1 + n]
        mv = bytearray(160)
        mv[:128] = src
        mv[5:5 + n] = bytes(mv[0:n])
        fill = bytearray(160)
        fill[1:1 + n] = bytes([src[0]]) * n
        parts.append(f"{n}:{fnv(dst):x}/{fnv(mv):x}/{fnv(fill):x}")
    assert logs == ["copies " + " ".join(parts)]


def rust_char_debug(c):
    # The cases below are either printable (shown as is) or escaped as \u{hex} by Rust's Debug.
    return f"'\\u{{{ord(c):x}}}'" if c in ("\u0300", "\u00ad", "\u007f") else f"'{c}'"


@pytest.mark.parametrize("ch", ["A", "\u00e9", "\u4e2d", "\u0300", "\u00ad"])
def test_vectorized_code_is_scalarized(prog, ch):
    rng = random.Random(ord(ch))
    a = [rng.randrange(1 << 32) for _ in range(8)]
    b = [rng.randrange(1 << 32) for _ in range(8)]
    cp = ord(ch)
    logs = run_ok(prog, 3, struct.pack("<16I", *a, *b) + bytes([cp >> 8, cp & 0xFF]))
    r = [((((x * 0x9E3779B9) & M32) ^ y) + (x >> 3)) & M32 | (y & 0x0F0F0F0F) for x, y in zip(a, b)]
    expect = f"lanes [{', '.join(map(str, r))}] sum {sum(r) & M32} char {rust_char_debug(ch)} '\\u{{7f}}'"
    assert logs == [expect]


def test_dependency_with_cdylib_and_no_entrypoint(prog):
    x = 0x0123_4567_89AB_CDEF
    logs = run_ok(prog, 4, struct.pack("<Q", x))
    z = x ^ (x >> 30)
    z = (z * 0xBF58476D1CE4E5B9) & M64
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & M64
    assert logs == [f"mix {z ^ (z >> 31)} version 1"]
    # cargo linked the dependency's own cdylib too: it got a placeholder no loader accepts.
    deps = ROOT / "target" / "sbpf-tests-build" / "sbpf-solana" / "release" / "deps"
    placeholders = sorted(deps.glob("sbpf_nolib*.so"))  # cargo may add a metadata hash
    assert placeholders and all(p.read_bytes().startswith(b"sbpf-ld placeholder") for p in placeholders)
