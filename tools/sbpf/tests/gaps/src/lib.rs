//! Toolchain conformance program. Instruction data: one selector byte, then the case's input.
//! Each case prints its results (one log line per `println!`) for the Python test to compare.
use std::collections::BTreeMap;
use std::hint::black_box;

extern "C" {
    fn sol_sha256(vals: *const u8, val_len: u64, hash_result: *mut u8) -> u64;
    fn sol_log_64_(a: u64, b: u64, c: u64, d: u64, e: u64);
    fn sol_memcmp_(a: *const u8, b: *const u8, n: u64, result: *mut i32);
}

/// Called by the patched std's panic handler (Solana's entrypoint macros define the same).
#[no_mangle]
pub fn custom_panic(info: &core::panic::PanicInfo<'_>) {
    println!("panicked: {}", info.message());
}

#[no_mangle]
pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
    let data = instruction_data(input);
    let (sel, rest) = match data.split_first() {
        Some((s, r)) => (*s, r),
        None => return 1,
    };
    match sel {
        0 => many_args(rest),
        1 => int128(rest),
        2 => checked(rest),
        3 => indirect(rest),
        4 => big_stack(rest),
        5 => syscalls(rest),
        6 => relocations(rest),
        7 => floats(rest),
        8 => signed_small(rest),
        9 => memory(rest),
        10 => heap(rest),
        11 => panics(rest),
        _ => return 2,
    }
    0
}

/// The serialized input (no accounts are passed): u64 account count, then u64 data length + data.
unsafe fn instruction_data<'a>(input: *mut u8) -> &'a [u8] {
    let n_accounts = *(input as *const u64);
    assert_eq!(n_accounts, 0, "gaps program takes no accounts");
    let len = *(input.add(8) as *const u64) as usize;
    std::slice::from_raw_parts(input.add(16), len)
}

fn u64_at(d: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(d[i * 8..i * 8 + 8].try_into().unwrap())
}
fn u128_at(d: &[u8], i: usize) -> u128 {
    u128::from_le_bytes(d[i * 16..i * 16 + 16].try_into().unwrap())
}

// ---- more than five arguments --------------------------------------------------------------
#[inline(never)]
fn seven(a: u64, b: u64, c: u64, d: u64, e: u64, f: u64, g: u64) -> u64 {
    a.wrapping_mul(1) ^ b.wrapping_mul(3) ^ c.wrapping_mul(5) ^ d.wrapping_mul(7) ^ e.wrapping_mul(11)
        ^ f.wrapping_mul(13) ^ g.wrapping_mul(17)
}
#[inline(never)]
fn mixed(a: u64, b: u128, c: u8, d: u64, e: u128, f: u16, g: u64, h: u64) -> u128 {
    b.wrapping_add(e) ^ ((a + c as u64 + d + f as u64 + g + h) as u128)
}
fn many_args(d: &[u8]) {
    let v: Vec<u64> = (0..8).map(|i| u64_at(d, i)).collect();
    let direct = seven(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
    let f: fn(u64, u64, u64, u64, u64, u64, u64) -> u64 = black_box(seven);
    let through_ptr = f(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
    let m = black_box(mixed)(v[0], v[1] as u128 * 7, v[2] as u8, v[3], (v[4] as u128) << 64, v[5] as u16, v[6], v[7]);
    println!("seven {} {} mixed {}", direct, through_ptr, m);
}

// ---- i128 arithmetic -------------------------------------------------------------------------
fn int128(d: &[u8]) {
    let (a, b) = (u128_at(d, 0), u128_at(d, 1));
    let s = (u64_at(d, 4) & 127) as u32;
    let (sa, sb) = (a as i128, b as i128);
    println!("mul {} div {} rem {}", a.wrapping_mul(b), a / b, a % b);
    println!("sdiv {} srem {}", sa.wrapping_div(sb), sa.wrapping_rem(sb));
    println!("shl {} shr {} sar {}", a << s, a >> s, sa >> s);
    println!("rotl {} rotr {}", a.rotate_left(s), a.rotate_right(s));
}

fn checked(d: &[u8]) {
    let (a, b) = (u64_at(d, 0), u64_at(d, 1));
    let (c, e) = (u128_at(d, 1), u128_at(d, 2));
    println!("u64 {:?} i64 {:?}", a.checked_mul(b), (a as i64).checked_mul(b as i64));
    println!("u128 {:?} i128 {:?}", c.checked_mul(e), (c as i128).checked_mul(e as i128));
    // fee math as the programs do it: amount * bps / 10_000 in u128, rounded up
    let fee = (a as u128 * (b % 10_001) as u128).div_ceil(10_000);
    println!("fee {}", fee);
}

// ---- indirect calls ------------------------------------------------------------------------
trait Shape {
    fn area(&self) -> u64;
    fn name(&self) -> &'static str;
}
struct Square(u64);
struct Rect(u64, u64);
impl Shape for Square {
    fn area(&self) -> u64 { self.0 * self.0 }
    fn name(&self) -> &'static str { "square" }
}
impl Shape for Rect {
    fn area(&self) -> u64 { self.0 * self.1 }
    fn name(&self) -> &'static str { "rect" }
}
fn indirect(d: &[u8]) {
    let (x, y) = (u64_at(d, 0), u64_at(d, 1));
    let shapes: Vec<Box<dyn Shape>> = vec![Box::new(Square(x)), Box::new(Rect(x, y))];
    for s in black_box(&shapes) {
        println!("{} {}", s.name(), s.area());
    }
    let ops: [fn(u64, u64) -> u64; 3] = [u64::wrapping_add, u64::wrapping_sub, u64::wrapping_mul];
    let r: Vec<u64> = black_box(&ops).iter().map(|f| f(x, y)).collect();
    println!("ops {:?}", r);
}

// ---- big stack frames ----------------------------------------------------------------------
#[inline(never)]
fn frame(seed: u64) -> u64 {
    let mut buf = [0u64; 400]; // 3200 bytes: over BPF's 512, within SBPF's 4096 per frame
    for (i, b) in buf.iter_mut().enumerate() {
        *b = seed.wrapping_mul(i as u64 + 1);
    }
    black_box(&mut buf);
    buf.iter().fold(0u64, |acc, v| acc.wrapping_add(*v))
}
fn big_stack(d: &[u8]) {
    let seed = u64_at(d, 0);
    // nested frames, each big: the VM gives every call its own frame
    let a = frame(seed);
    let b = frame(a);
    println!("frames {} {}", a, b);
}

// ---- syscalls ------------------------------------------------------------------------------
fn syscalls(d: &[u8]) {
    let mut out = [0u8; 32];
    let slices: [&[u8]; 1] = [d];
    // sol_sha256 takes an array of (ptr, len) slices
    unsafe { sol_sha256(slices.as_ptr() as *const u8, 1, out.as_mut_ptr()) };
    println!("sha256 {}", hex(&out));
    unsafe { sol_log_64_(1, 2, 3, 4, d.len() as u64) };
}
fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{:02x}", x)).collect()
}

// ---- relocations: pointers inside read-only data -------------------------------------------
static NAMES: [&str; 3] = ["alpha", "bravo", "charlie"];
static TABLE: [(&str, fn(u64) -> u64); 2] = [("double", |x| x * 2), ("square", |x| x * x)];
static NESTED: &[&[u32]] = &[&[1, 2], &[3, 4, 5]];
fn relocations(d: &[u8]) {
    let i = (u64_at(d, 0) % 3) as usize;
    let x = u64_at(d, 1);
    println!("name {}", NAMES[black_box(i)]);
    for (n, f) in black_box(&TABLE).iter() {
        println!("{} {}", n, f(x));
    }
    let total: u32 = NESTED.iter().map(|s| s.iter().sum::<u32>()).sum();
    println!("nested {}", total);
}

// ---- soft float ----------------------------------------------------------------------------
fn floats(d: &[u8]) {
    let (a, b) = (u64_at(d, 0), u64_at(d, 1));
    let x = a as f64 / 1000.0;
    let y = b as f64 / 1000.0;
    println!("f64 {} {} {} {}", (x * y) as u64, (x / y * 1e6) as u64, (x + y) as u64, (x - y) as i64);
    println!("cmp {} {} {}", x < y, x == y, black_box(f64::NAN) < x);
    println!("sat {} {} {}", (-5.5f64 * black_box(1.0)) as u64, (1e30f64 * black_box(1.0)) as u64, f64::NAN as u64);
    let f = (a as f32) * 0.5f32;
    println!("f32 {}", f as u32);
}

fn signed_small(d: &[u8]) {
    let a = u64_at(d, 0) as i64;
    let b = u64_at(d, 1) as i64;
    println!("i64 {} {}", a / b, a % b);
    println!("i32 {} {}", (a as i32) / (b as i32), (a as i32) % (b as i32));
    println!("i16 {} {}", (a as i16).wrapping_div(b as i16), (a as i16).wrapping_rem(b as i16));
    println!("i8 {} {}", (a as i8).wrapping_div(b as i8), (a as i8).wrapping_rem(b as i8));
}

// ---- memory: long, variable, overlapping -----------------------------------------------------
fn memory(d: &[u8]) {
    let n = (u64_at(d, 0) % 1000) as usize + 300;
    let mut v: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
    let w = v.clone(); // variable-length memcpy
    v.copy_within(0..n - 10, 10); // overlapping memmove
    let z = vec![0xabu8; n]; // memset
    let mut r = 0i32;
    unsafe { sol_memcmp_(w.as_ptr(), v[10..].as_ptr(), (n - 10) as u64, &mut r) };
    println!("mem {} {} {} {} {}", v[10], v[n - 1], z[n - 1], r, w[..] == v[..]);
}

fn heap(d: &[u8]) {
    let mut m = BTreeMap::new();
    for (i, c) in d.chunks(8).enumerate() {
        m.insert(format!("k{}", i), c.iter().map(|b| *b as u64).sum::<u64>());
    }
    let s: String = m.iter().map(|(k, v)| format!("{}={};", k, v)).collect();
    println!("heap {}", s);
}

fn panics(d: &[u8]) {
    let v = vec![1u8, 2, 3];
    let i = u64_at(d, 0) as usize;
    println!("value {}", v[i]);
}
