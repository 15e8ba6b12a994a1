//! Test-only program: forwards one instruction to another program, signing
//! it as the PDA `["signer", seed]` of this program (`invoke_signed`).
//!
//! Accounts: `[target program, inner accounts...]`; each inner account keeps
//! its signer/writable flags, and the PDA's meta is marked signer.
//! Instruction data: `[bump, seed_len, seed.., inner instruction data..]`.
//! Raw syscalls and the runtime's input layout, no dependencies.

const MAX_ACCOUNTS: usize = 24;
const MAX_PERMITTED_DATA_INCREASE: usize = 10_240;

#[repr(C)]
struct SolAccountMeta {
    pubkey: *const u8,
    is_writable: bool,
    is_signer: bool,
}

#[repr(C)]
struct SolInstruction {
    program_id: *const u8,
    accounts: *const SolAccountMeta,
    account_len: u64,
    data: *const u8,
    data_len: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct SolAccountInfo {
    key: *const u8,
    lamports: *mut u64,
    data_len: u64,
    data: *mut u8,
    owner: *const u8,
    rent_epoch: u64,
    is_signer: bool,
    is_writable: bool,
    executable: bool,
}

#[repr(C)]
struct SolSignerSeed {
    addr: *const u8,
    len: u64,
}

#[repr(C)]
struct SolSignerSeeds {
    addr: *const SolSignerSeed,
    len: u64,
}

extern "C" {
    fn sol_invoke_signed_c(
        instruction: *const SolInstruction,
        account_infos: *const SolAccountInfo,
        account_infos_len: u64,
        signers_seeds: *const SolSignerSeeds,
        signers_seeds_len: u64,
    ) -> u64;
    fn sol_create_program_address(seeds: *const SolSignerSeed, seeds_len: u64, program_id: *const u8,
                                  address: *mut u8) -> u64;
}

#[no_mangle]
pub fn custom_panic(_info: &core::panic::PanicInfo<'_>) {}

#[no_mangle]
pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
    let null = SolAccountInfo {
        key: core::ptr::null(),
        lamports: core::ptr::null_mut(),
        data_len: 0,
        data: core::ptr::null_mut(),
        owner: core::ptr::null(),
        rent_epoch: 0,
        is_signer: false,
        is_writable: false,
        executable: false,
    };
    let mut infos = [null; MAX_ACCOUNTS];
    let n = *(input as *const u64) as usize;
    if n == 0 || n > MAX_ACCOUNTS {
        return 1;
    }
    let mut p = input.add(8);
    for i in 0..n {
        let dup = *p;
        if dup != u8::MAX {
            infos[i] = infos[dup as usize];
            p = p.add(8);
            continue;
        }
        let data_len = *(p.add(80) as *const u64);
        infos[i] = SolAccountInfo {
            key: p.add(8),
            lamports: p.add(72) as *mut u64,
            data_len,
            data: p.add(88),
            owner: p.add(40),
            rent_epoch: 0,
            is_signer: *p.add(1) != 0,
            is_writable: *p.add(2) != 0,
            executable: *p.add(3) != 0,
        };
        let after = 88 + data_len as usize + MAX_PERMITTED_DATA_INCREASE;
        p = p.add((after + 7) / 8 * 8);
        infos[i].rent_epoch = *(p as *const u64);
        p = p.add(8);
    }
    let data_len = *(p as *const u64) as usize;
    let data = core::slice::from_raw_parts(p.add(8), data_len);
    let program_id = p.add(8 + data_len);
    if data.len() < 2 || data.len() < 2 + data[1] as usize {
        return 2;
    }
    let bump = [data[0]];
    let seed = &data[2..2 + data[1] as usize];
    let inner = &data[2 + seed.len()..];
    let seeds = [
        SolSignerSeed { addr: b"signer".as_ptr(), len: 6 },
        SolSignerSeed { addr: seed.as_ptr(), len: seed.len() as u64 },
        SolSignerSeed { addr: bump.as_ptr(), len: 1 },
    ];
    let mut pda = [0u8; 32];
    if sol_create_program_address(seeds.as_ptr(), 3, program_id, pda.as_mut_ptr()) != 0 {
        return 3;
    }
    let mut metas: [SolAccountMeta; MAX_ACCOUNTS] =
        core::array::from_fn(|_| SolAccountMeta { pubkey: core::ptr::null(), is_writable: false, is_signer: false });
    for i in 1..n {
        let key = core::slice::from_raw_parts(infos[i].key, 32);
        metas[i - 1] = SolAccountMeta {
            pubkey: infos[i].key,
            is_writable: infos[i].is_writable,
            is_signer: infos[i].is_signer || key == pda,
        };
    }
    let ix = SolInstruction {
        program_id: infos[0].key,
        accounts: metas.as_ptr(),
        account_len: (n - 1) as u64,
        data: inner.as_ptr(),
        data_len: inner.len() as u64,
    };
    let signer = SolSignerSeeds { addr: seeds.as_ptr(), len: 3 };
    sol_invoke_signed_c(&ix, infos.as_ptr(), n as u64, &signer, 1)
}
