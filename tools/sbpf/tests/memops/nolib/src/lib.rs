//! Used as an rlib by sbpf_memops; its own cdylib is never loaded.

/// A 64-bit mix (splitmix64's finalizer), for the program to call across the crate boundary.
pub fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Exported C symbol, as such crates have (it must not be mistaken for a program).
#[no_mangle]
pub extern "C" fn sbpf_nolib_version() -> u64 {
    1
}
