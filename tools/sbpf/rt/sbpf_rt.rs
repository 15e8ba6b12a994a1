//! Runtime helpers that the `sbpf-legalize` pass calls in place of operations the upstream BPF
//! backend cannot lower for SBPF. Linked into every program as bitcode.
//!
//! Rules for this file: it is itself compiled for the SBPF target and then legalized, so it must
//! not use the operations it implements: no u128/i128 multiply, divide or variable shift, no
//! signed division, at most five arguments per function. 128-bit values travel by pointer as two
//! little-endian u64 limbs.
#![no_std]
#![allow(clippy::missing_safety_doc)]

extern "C" {
    fn sol_memcpy_(dst: *mut u8, src: *const u8, n: u64);
    fn sol_memmove_(dst: *mut u8, src: *const u8, n: u64);
    fn sol_memset_(dst: *mut u8, c: u8, n: u64);
    fn sol_memcmp_(a: *const u8, b: *const u8, n: u64, result: *mut i32);
}

// ---- memory: the VM's syscalls beat any byte loop we could write -------------------------------

#[no_mangle]
pub unsafe extern "C" fn __sbpf_memcpy(d: *mut u8, s: *const u8, n: u64) -> *mut u8 {
    sol_memcpy_(d, s, n);
    d
}
#[no_mangle]
pub unsafe extern "C" fn __sbpf_memmove(d: *mut u8, s: *const u8, n: u64) -> *mut u8 {
    sol_memmove_(d, s, n);
    d
}
#[no_mangle]
pub unsafe extern "C" fn __sbpf_memset(d: *mut u8, c: u64, n: u64) -> *mut u8 {
    sol_memset_(d, c as u8, n);
    d
}
// The C names, for code (core's slice comparisons) that calls them as ordinary functions.
#[no_mangle]
pub unsafe extern "C" fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    __sbpf_memcpy(d, s, n as u64)
}
#[no_mangle]
pub unsafe extern "C" fn memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    __sbpf_memmove(d, s, n as u64)
}
#[no_mangle]
pub unsafe extern "C" fn memset(d: *mut u8, c: i32, n: usize) -> *mut u8 {
    __sbpf_memset(d, c as u8 as u64, n as u64)
}
#[no_mangle]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut r: i32 = 0;
    sol_memcmp_(a, b, n as u64, &mut r);
    r
}
#[no_mangle]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    memcmp(a, b, n)
}

// ---- 128-bit arithmetic on (lo, hi) limbs -----------------------------------------------------

#[derive(Clone, Copy)]
struct W {
    lo: u64,
    hi: u64,
}

const ZERO: W = W { lo: 0, hi: 0 };

/// Full 64x64 -> 128 product from 32-bit halves (every partial product fits in u64).
#[inline(always)]
fn mul64(a: u64, b: u64) -> W {
    let (a0, a1) = (a & 0xffff_ffff, a >> 32);
    let (b0, b1) = (b & 0xffff_ffff, b >> 32);
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 32) + (p01 & 0xffff_ffff) + (p10 & 0xffff_ffff);
    W { lo: (p00 & 0xffff_ffff) | (mid << 32), hi: p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32) }
}
#[inline(always)]
unsafe fn ld(p: *const u64) -> W {
    W { lo: *p, hi: *p.add(1) }
}
#[inline(always)]
unsafe fn st(p: *mut u64, w: W) {
    *p = w.lo;
    *p.add(1) = w.hi;
}
#[inline(always)]
fn is_zero(a: W) -> bool {
    a.lo == 0 && a.hi == 0
}
#[inline(always)]
fn ge(a: W, b: W) -> bool {
    a.hi > b.hi || (a.hi == b.hi && a.lo >= b.lo)
}
#[inline(always)]
fn sub(a: W, b: W) -> W {
    let borrow = (a.lo < b.lo) as u64;
    W { lo: a.lo.wrapping_sub(b.lo), hi: a.hi.wrapping_sub(b.hi).wrapping_sub(borrow) }
}
#[inline(always)]
fn neg(a: W) -> W {
    sub(ZERO, a)
}
#[inline(always)]
fn is_neg(a: W) -> bool {
    a.hi >> 63 == 1
}
#[inline(always)]
fn abs(a: W) -> W {
    if is_neg(a) {
        neg(a)
    } else {
        a
    }
}
#[inline(always)]
fn clz(a: W) -> u32 {
    if a.hi != 0 {
        a.hi.leading_zeros()
    } else {
        64 + a.lo.leading_zeros()
    }
}
#[inline(always)]
fn shl(a: W, s: u32) -> W {
    let s = s & 127;
    if s == 0 {
        a
    } else if s < 64 {
        W { lo: a.lo << s, hi: (a.hi << s) | (a.lo >> (64 - s)) }
    } else {
        W { lo: 0, hi: a.lo << (s - 64) }
    }
}
#[inline(always)]
fn lshr(a: W, s: u32) -> W {
    let s = s & 127;
    if s == 0 {
        a
    } else if s < 64 {
        W { lo: (a.lo >> s) | (a.hi << (64 - s)), hi: a.hi >> s }
    } else {
        W { lo: a.hi >> (s - 64), hi: 0 }
    }
}
#[inline(always)]
fn ashr(a: W, s: u32) -> W {
    let s = s & 127;
    let fill = if is_neg(a) { u64::MAX } else { 0 };
    if s == 0 {
        a
    } else if s < 64 {
        W { lo: (a.lo >> s) | (a.hi << (64 - s)), hi: (a.hi >> s) | (fill << (64 - s)) }
    } else if s == 64 {
        W { lo: a.hi, hi: fill }
    } else {
        W { lo: (a.hi >> (s - 64)) | (fill << (128 - s)), hi: fill }
    }
}
/// Wrapping 128x128 product.
#[inline(always)]
fn mul(a: W, b: W) -> W {
    let mut p = mul64(a.lo, b.lo);
    p.hi = p.hi.wrapping_add(a.lo.wrapping_mul(b.hi)).wrapping_add(a.hi.wrapping_mul(b.lo));
    p
}
/// True when the full 128x128 product does not fit in 128 bits (unsigned).
#[inline(always)]
fn umul_overflows(a: W, b: W) -> bool {
    if a.hi != 0 && b.hi != 0 {
        return true;
    }
    // One operand fits in 64 bits: (x.hi*2^64 + x.lo) * y overflows iff x.hi*y >= 2^64 or the
    // sum of the cross term and the high half of x.lo*y carries out.
    let (x, y) = if a.hi != 0 { (a, b.lo) } else { (b, a.lo) };
    let cross = mul64(x.hi, y);
    if cross.hi != 0 {
        return true;
    }
    let low = mul64(x.lo, y);
    low.hi.checked_add(cross.lo).is_none()
}

/// Restoring long division; division by zero yields zero (callers check before dividing, as
/// Rust does, so this path is never taken by safe code).
fn udivmod(a: W, b: W) -> (W, W) {
    if is_zero(b) {
        return (ZERO, ZERO);
    }
    if a.hi == 0 && b.hi == 0 {
        // b.lo != 0 here; checked ops only keep the panic path out of the runtime.
        let (q, r) = (a.lo.checked_div(b.lo).unwrap_or(0), a.lo.checked_rem(b.lo).unwrap_or(0));
        return (W { lo: q, hi: 0 }, W { lo: r, hi: 0 });
    }
    if !ge(a, b) {
        return (ZERO, a);
    }
    let shift = clz(b) - clz(a);
    let mut d = shl(b, shift);
    let mut r = a;
    let mut q = ZERO;
    let mut i = 0;
    while i <= shift {
        q = shl(q, 1);
        if ge(r, d) {
            r = sub(r, d);
            q.lo |= 1;
        }
        d = lshr(d, 1);
        i += 1;
    }
    (q, r)
}

#[no_mangle]
pub unsafe extern "C" fn __sbpf_mul128(a: *const u64, b: *const u64, r: *mut u64) {
    st(r, mul(ld(a), ld(b)))
}
#[no_mangle]
pub unsafe extern "C" fn __sbpf_udiv128(a: *const u64, b: *const u64, r: *mut u64) {
    st(r, udivmod(ld(a), ld(b)).0)
}
#[no_mangle]
pub unsafe extern "C" fn __sbpf_urem128(a: *const u64, b: *const u64, r: *mut u64) {
    st(r, udivmod(ld(a), ld(b)).1)
}
#[no_mangle]
pub unsafe extern "C" fn __sbpf_sdiv128(a: *const u64, b: *const u64, r: *mut u64) {
    let (x, y) = (ld(a), ld(b));
    let q = udivmod(abs(x), abs(y)).0;
    st(r, if is_neg(x) != is_neg(y) { neg(q) } else { q })
}
#[no_mangle]
pub unsafe extern "C" fn __sbpf_srem128(a: *const u64, b: *const u64, r: *mut u64) {
    let (x, y) = (ld(a), ld(b));
    let m = udivmod(abs(x), abs(y)).1;
    st(r, if is_neg(x) { neg(m) } else { m })
}
#[no_mangle]
pub unsafe extern "C" fn __sbpf_shl128(a: *const u64, s: u64, r: *mut u64) {
    st(r, shl(ld(a), (s & 127) as u32))
}
#[no_mangle]
pub unsafe extern "C" fn __sbpf_lshr128(a: *const u64, s: u64, r: *mut u64) {
    st(r, lshr(ld(a), (s & 127) as u32))
}
#[no_mangle]
pub unsafe extern "C" fn __sbpf_ashr128(a: *const u64, s: u64, r: *mut u64) {
    st(r, ashr(ld(a), (s & 127) as u32))
}

/// u64 multiply with overflow flag (u64::checked_mul); returns 1 on overflow.
#[no_mangle]
pub unsafe extern "C" fn __sbpf_umulo64(a: *const u64, b: *const u64, r: *mut u64) -> u64 {
    let p = mul64(*a, *b);
    *r = p.lo;
    (p.hi != 0) as u64
}
/// i64 multiply with overflow flag (i64::checked_mul).
#[no_mangle]
pub unsafe extern "C" fn __sbpf_smulo64(a: *const u64, b: *const u64, r: *mut u64) -> u64 {
    let (x, y) = (*a as i64, *b as i64);
    let (ux, uy) = (x.unsigned_abs(), y.unsigned_abs());
    let p = mul64(ux, uy);
    let negative = (x < 0) != (y < 0) && p.lo != 0;
    *r = if negative { p.lo.wrapping_neg() } else { p.lo };
    let limit = if negative { 1u64 << 63 } else { (1u64 << 63) - 1 };
    (p.hi != 0 || p.lo > limit) as u64
}
/// u128 multiply with overflow flag (u128::checked_mul).
#[no_mangle]
pub unsafe extern "C" fn __sbpf_umulo128(a: *const u64, b: *const u64, r: *mut u64) -> u64 {
    let (x, y) = (ld(a), ld(b));
    st(r, mul(x, y));
    umul_overflows(x, y) as u64
}
/// i128 multiply with overflow flag (i128::checked_mul).
#[no_mangle]
pub unsafe extern "C" fn __sbpf_smulo128(a: *const u64, b: *const u64, r: *mut u64) -> u64 {
    let (x, y) = (ld(a), ld(b));
    let (ux, uy) = (abs(x), abs(y));
    let p = mul(ux, uy);
    let negative = is_neg(x) != is_neg(y) && !is_zero(p);
    st(r, if negative { neg(p) } else { p });
    let limit = if negative { W { lo: 0, hi: 1 << 63 } } else { W { lo: u64::MAX, hi: (1 << 63) - 1 } };
    (umul_overflows(ux, uy) || !ge(limit, p)) as u64
}

/// Wrapping multiply of two n-limb little-endian integers (n*64 bits); r must not alias a or b.
#[no_mangle]
pub unsafe extern "C" fn __sbpf_mul_wide(a: *const u64, b: *const u64, r: *mut u64, n: u64) {
    let n = n as usize;
    let mut k = 0;
    while k < n {
        *r.add(k) = 0;
        k += 1;
    }
    let mut i = 0;
    while i < n {
        let mut carry = 0u64;
        let mut j = 0;
        while i + j < n {
            let p = mul64(*a.add(i), *b.add(j));
            let (s1, c1) = (*r.add(i + j)).overflowing_add(p.lo);
            let (s2, c2) = s1.overflowing_add(carry);
            *r.add(i + j) = s2;
            // p.hi <= 2^64 - 2, so adding two carry bits cannot wrap.
            carry = p.hi + c1 as u64 + c2 as u64;
            j += 1;
        }
        i += 1;
    }
}
