//! Toolchain conformance program for the memory operations Anchor programs are made of.
//! Instruction data: one selector byte, then the case's input; each case logs its results for
//! tests/toolchain/test_sbpf_memops.py to compare with answers computed in Python.
use std::cmp::Ordering;
use std::hint::black_box;

#[no_mangle]
pub fn custom_panic(info: &core::panic::PanicInfo<'_>) {
    println!("panicked: {}", info.message());
}

#[no_mangle]
pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
    let n_accounts = *(input as *const u64);
    assert_eq!(n_accounts, 0, "memops program takes no accounts");
    let len = *(input.add(8) as *const u64) as usize;
    let data = std::slice::from_raw_parts(input.add(16), len);
    let (sel, rest) = match data.split_first() {
        Some((s, r)) => (*s, r),
        None => return 1,
    };
    match sel {
        0 => compares(rest),
        1 => misaligned(rest),
        2 => copies(rest),
        3 => vectors(rest),
        4 => dependency(rest),
        _ => return 2,
    }
    0
}

fn ord(o: Ordering) -> i8 {
    o as i8
}

// ---- memcmp / bcmp of constant lengths -------------------------------------------------------
// Input: a[80] then b[80]. For each length n, at offset 0 and at offset 1 (misaligned):
// the ordering of a[..n] and b[..n] (memcmp) and whether they are equal (memcmp == 0). One
// function per length (a const generic), so each compare has a constant length.
#[inline(never)]
fn cmp_case<const N: usize>(a: &[u8], b: &[u8], off: usize) -> String {
    let (x, y) = (&a[off..off + N], &b[off..off + N]);
    format!("{}:{}{}", N, ord(x.cmp(y)), if x == y { "=" } else { "!" })
}

fn compares(d: &[u8]) {
    let (a, b) = (&d[..80], &d[80..160]);
    for off in [0usize, 1] {
        let out = [
            cmp_case::<1>(a, b, off), cmp_case::<2>(a, b, off), cmp_case::<3>(a, b, off),
            cmp_case::<4>(a, b, off), cmp_case::<5>(a, b, off), cmp_case::<6>(a, b, off),
            cmp_case::<7>(a, b, off), cmp_case::<8>(a, b, off), cmp_case::<9>(a, b, off),
            cmp_case::<12>(a, b, off), cmp_case::<15>(a, b, off), cmp_case::<16>(a, b, off),
            cmp_case::<17>(a, b, off), cmp_case::<24>(a, b, off), cmp_case::<31>(a, b, off),
            cmp_case::<32>(a, b, off), cmp_case::<33>(a, b, off), cmp_case::<64>(a, b, off),
        ];
        println!("cmp{} {}", off, out.join(" "));
    }
    // Fixed-size arrays compare through raw_eq (Anchor's Pubkey == and discriminator checks).
    let ka: [u8; 32] = a[..32].try_into().unwrap();
    let kb: [u8; 32] = b[..32].try_into().unwrap();
    let da: [u8; 8] = a[3..11].try_into().unwrap();
    let db: [u8; 8] = b[3..11].try_into().unwrap();
    println!("arrays {} {} {}", ka == kb, da == db, ord(ka.cmp(&kb)));
    // A length only known at run time still goes to sol_memcmp_.
    let n = black_box(a[0] as usize % 64 + 1);
    println!("variable {} {}", ord(a[..n].cmp(&b[..n])), a[..n] == b[..n]);
}

// ---- misaligned loads and stores -----------------------------------------------------------
// Input: 40 bytes. Little-endian u16/u32/u64/u128 read at offsets 1..=7, and a u64 written at
// offset 3 of a buffer.
fn misaligned(d: &[u8]) {
    let mut out = Vec::new();
    for off in 1..=7usize {
        let off = black_box(off);
        let h = u16::from_le_bytes(d[off..off + 2].try_into().unwrap());
        let w = u32::from_le_bytes(d[off..off + 4].try_into().unwrap());
        let q = u64::from_le_bytes(d[off..off + 8].try_into().unwrap());
        let o = u128::from_le_bytes(d[off..off + 16].try_into().unwrap());
        out.push(format!("{} {} {} {}", h, w, q, o));
    }
    println!("loads {}", out.join(" | "));
    let mut buf = [0u8; 16];
    let v = u64::from_le_bytes(d[..8].try_into().unwrap());
    buf[3..11].copy_from_slice(&v.to_le_bytes());
    let p = black_box(buf.as_mut_ptr());
    unsafe { (p.add(5) as *mut u32).write_unaligned(0xdead_beef) };
    println!("stores {:?}", black_box(buf));
}

// ---- memcpy / memmove / memset of constant lengths at odd alignments -------------------------
// Input: 128 bytes of source. For each length: copy src[1..1+n] to dst[3..3+n], move a buffer's
// bytes [0..n] onto [5..5+n] (overlapping), and fill dst2[1..1+n] with a byte; log a checksum of
// each destination buffer.
fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &x| (h ^ x as u64).wrapping_mul(0x100_0000_01b3))
}

#[inline(never)]
fn copy_case<const N: usize>(src: &[u8]) -> String {
    let mut dst = [0u8; 160];
    dst[3..3 + N].copy_from_slice(&src[1..1 + N]);
    let mut mv = [0u8; 160];
    mv[..128].copy_from_slice(&src[..128]);
    mv.copy_within(0..N, 5);
    let mut set = [0u8; 160];
    set[1..1 + N].fill(src[0]);
    format!("{}:{:x}/{:x}/{:x}", N, fnv(black_box(&dst)), fnv(black_box(&mv)), fnv(black_box(&set)))
}

fn copies(d: &[u8]) {
    let s = &d[..128];
    let out = [
        copy_case::<1>(s), copy_case::<3>(s), copy_case::<7>(s), copy_case::<8>(s), copy_case::<9>(s),
        copy_case::<15>(s), copy_case::<16>(s), copy_case::<17>(s), copy_case::<31>(s), copy_case::<32>(s),
        copy_case::<33>(s), copy_case::<40>(s), copy_case::<48>(s), copy_case::<63>(s), copy_case::<64>(s),
        copy_case::<65>(s), copy_case::<100>(s),
    ];
    println!("copies {}", out.join(" "));
}

// ---- vector code (this crate is built at opt-level 3) ------------------------------------------
// Input: 64 bytes = a[8] and b[8] as u32. Straight-line lane arithmetic that the SLP vectorizer
// turns into <4 x i32> operations, and char Debug output (core::unicode::printable).
#[inline(never)]
fn lanes(a: &[u32; 8], b: &[u32; 8]) -> [u32; 8] {
    let mut out = [0u32; 8];
    for i in 0..8 {
        out[i] = (a[i].wrapping_mul(0x9e37_79b9) ^ b[i]).wrapping_add(a[i] >> 3) | (b[i] & 0x0f0f_0f0f);
    }
    out
}

fn vectors(d: &[u8]) {
    let w: Vec<u32> = d[..64].chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect();
    let a: [u32; 8] = w[..8].try_into().unwrap();
    let b: [u32; 8] = w[8..].try_into().unwrap();
    let r = lanes(black_box(&a), black_box(&b));
    let sum = r.iter().fold(0u32, |s, x| s.wrapping_add(*x));
    let c = char::from_u32(u32::from(d[64]) << 8 | u32::from(d[65])).unwrap_or('?');
    println!("lanes {:?} sum {} char {:?} {:?}", r, sum, c, '\u{7f}');
}

// ---- a dependency whose cdylib has no entrypoint ---------------------------------------------
fn dependency(d: &[u8]) {
    let x = u64::from_le_bytes(d[..8].try_into().unwrap());
    println!("mix {} version {}", sbpf_nolib::mix(x), sbpf_nolib::sbpf_nolib_version());
}
