//! Vouchers and their verification through the Ed25519 precompile.
//!
//! A voucher is the payer's ed25519 signature over exactly
//! [`VOUCHER_LEN`] bytes:
//!
//! ```text
//! 0   16  "iopay-voucher-v1"            domain prefix
//! 16  32  program id                     (cross-program safety)
//! 48  32  channel address
//! 80   8  channel open_slot (u64 LE)     (a later channel at the same address differs)
//! 88   8  cumulative amount (u64 LE)     base units, fee included
//! 96   8  nonce (u64 LE)
//! ```
//!
//! The program never verifies signatures itself: the transaction carries an
//! Ed25519 precompile instruction (which the runtime verifies, failing the
//! whole transaction on a bad signature) and `settle` reads it back through
//! the instructions sysvar. What makes this safe is checking that the
//! precompile verified *what we think*: the instruction's program id, the
//! signature count, that every offset's instruction index designates the
//! precompile instruction itself (`u16::MAX` or its own index: the data we
//! read is the data that was verified), the public key, and the exact
//! message bytes. Everything here is pure over byte slices, unit-tested
//! below against the runtime's own sysvar serializer.
use anchor_lang::prelude::*;

use crate::errors::PayError;

pub const DOMAIN: &[u8; 16] = b"iopay-voucher-v1";
pub const VOUCHER_LEN: usize = 104;

pub const ED25519_PROGRAM_ID: Pubkey = pubkey!("Ed25519SigVerify111111111111111111111111111");
pub const INSTRUCTIONS_SYSVAR_ID: Pubkey = pubkey!("Sysvar1nstructions1111111111111111111111111");

const SIGNATURE_LEN: usize = 64;
const PUBKEY_LEN: usize = 32;
const OFFSETS_START: usize = 2;
const OFFSETS_LEN: usize = 14;
/// Offsets' instruction index meaning "the precompile instruction itself".
pub const THIS_INSTRUCTION: u16 = u16::MAX;

/// The exact bytes a voucher signs.
pub fn message(program: &Pubkey, channel: &Pubkey, open_slot: u64, cumulative: u64, nonce: u64) -> [u8; VOUCHER_LEN] {
    let mut m = [0u8; VOUCHER_LEN];
    m[0..16].copy_from_slice(DOMAIN);
    m[16..48].copy_from_slice(program.as_ref());
    m[48..80].copy_from_slice(channel.as_ref());
    m[80..88].copy_from_slice(&open_slot.to_le_bytes());
    m[88..96].copy_from_slice(&cumulative.to_le_bytes());
    m[96..104].copy_from_slice(&nonce.to_le_bytes());
    m
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

/// Checks a signed message against what `channel` (opened at `open_slot`)
/// of `program` expects, each mismatch its own error, and returns
/// `(cumulative, nonce)`.
pub fn parse_message(msg: &[u8], program: &Pubkey, channel: &Pubkey, open_slot: u64) -> Result<(u64, u64)> {
    require!(msg.len() == VOUCHER_LEN, PayError::WrongMessageLength);
    require!(&msg[0..16] == DOMAIN, PayError::WrongDomain);
    require!(&msg[16..48] == program.as_ref(), PayError::WrongProgram);
    require!(&msg[48..80] == channel.as_ref() && u64_at(msg, 80) == open_slot, PayError::WrongChannel);
    Ok((u64_at(msg, 88), u64_at(msg, 96)))
}

/// One signature verified by a precompile instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signed<'a> {
    pub pubkey: &'a [u8],
    pub message: &'a [u8],
}

fn u16_at(b: &[u8], at: usize) -> Result<u16> {
    let s = b.get(at..at + 2).ok_or(PayError::MalformedEd25519Instruction)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

fn slice(b: &[u8], at: u16, len: usize) -> Result<&[u8]> {
    let start = at as usize;
    Ok(b.get(start..start + len).ok_or(PayError::MalformedEd25519Instruction)?)
}

/// Parses the data of the Ed25519 precompile instruction at index
/// `own_index`: exactly `expected` signatures, every signature, key and
/// message inside this same instruction's data.
pub fn parse_ed25519(data: &[u8], own_index: u16, expected: usize) -> Result<Vec<Signed<'_>>> {
    let count = *data.first().ok_or(PayError::MalformedEd25519Instruction)? as usize;
    require!(count == expected, PayError::SignatureCountMismatch);
    require!(data.len() >= OFFSETS_START + count * OFFSETS_LEN, PayError::MalformedEd25519Instruction);
    let own = |ix: u16| ix == THIS_INSTRUCTION || ix == own_index;
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let o = OFFSETS_START + i * OFFSETS_LEN;
        let sig_offset = u16_at(data, o)?;
        let sig_ix = u16_at(data, o + 2)?;
        let pk_offset = u16_at(data, o + 4)?;
        let pk_ix = u16_at(data, o + 6)?;
        let msg_offset = u16_at(data, o + 8)?;
        let msg_size = u16_at(data, o + 10)?;
        let msg_ix = u16_at(data, o + 12)?;
        require!(own(sig_ix) && own(pk_ix) && own(msg_ix), PayError::ForeignSignatureData);
        slice(data, sig_offset, SIGNATURE_LEN)?;
        out.push(Signed {
            pubkey: slice(data, pk_offset, PUBKEY_LEN)?,
            message: slice(data, msg_offset, msg_size as usize)?,
        });
    }
    Ok(out)
}

/// Index of the instruction being executed (the sysvar's last two bytes).
pub fn current_index(sysvar: &[u8]) -> Result<u16> {
    require!(sysvar.len() >= 2, PayError::InvalidInstructionsSysvar);
    u16_at(sysvar, sysvar.len() - 2)
}

/// Absolute index of the instruction `back` places before the current one.
pub fn index_before(sysvar: &[u8], back: u8) -> Result<u16> {
    let current = current_index(sysvar)?;
    require!(back > 0, PayError::NotEd25519Instruction);
    current.checked_sub(back as u16).ok_or(error!(PayError::NotEd25519Instruction))
}

/// `(program_id, data)` of instruction `index` of the transaction, read from
/// the instructions sysvar's serialized form: `u16 count, u16 offsets[count]`,
/// then per instruction `u16 n_accounts, n * (u8 flags, 32 key), 32 program
/// id, u16 data_len, data`, and the current index in the last two bytes.
pub fn instruction_at(sysvar: &[u8], index: u16) -> Result<(&[u8], &[u8])> {
    let bad = PayError::MalformedEd25519Instruction;
    let count = u16_at(sysvar, 0)?;
    require!(index < count, PayError::MalformedEd25519Instruction);
    let start = u16_at(sysvar, 2 + 2 * index as usize)? as usize;
    let n_accounts = u16_at(sysvar, start)? as usize;
    let pid_at = start + 2 + n_accounts * 33;
    let program = sysvar.get(pid_at..pid_at + 32).ok_or(bad)?;
    let len = u16_at(sysvar, pid_at + 32)? as usize;
    let data = sysvar.get(pid_at + 34..pid_at + 34 + len).ok_or(bad)?;
    Ok((program, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
    use anchor_lang::solana_program::sysvar::instructions::{construct_instructions_data, BorrowedAccountMeta, BorrowedInstruction};

    /// Builds precompile data the way the SDK does: offsets, then per
    /// signature pubkey, signature, message.
    fn ed_data(entries: &[(&[u8; 32], &[u8])], ix: u16) -> Vec<u8> {
        let n = entries.len();
        let mut head = vec![n as u8, 0];
        let mut body = Vec::new();
        let base = 2 + n * 14;
        for (pk, msg) in entries {
            let pk_off = base + body.len();
            body.extend_from_slice(*pk);
            let sig_off = base + body.len();
            body.extend_from_slice(&[7u8; 64]);
            let msg_off = base + body.len();
            body.extend_from_slice(msg);
            for v in [sig_off as u16, ix, pk_off as u16, ix, msg_off as u16, msg.len() as u16, ix] {
                head.extend_from_slice(&v.to_le_bytes());
            }
        }
        head.extend(body);
        head
    }

    fn keys() -> (Pubkey, Pubkey) {
        (Pubkey::new_from_array([3u8; 32]), Pubkey::new_from_array([4u8; 32]))
    }

    #[test]
    fn message_round_trips_and_each_field_has_its_error() {
        let (program, channel) = keys();
        let m = message(&program, &channel, 9, 1234, 5);
        assert_eq!(parse_message(&m, &program, &channel, 9).unwrap(), (1234, 5));
        let err = |r: Result<(u64, u64)>| r.unwrap_err();
        assert_eq!(err(parse_message(&m[..103], &program, &channel, 9)), PayError::WrongMessageLength.into());
        let mut d = m;
        d[0] ^= 1;
        assert_eq!(err(parse_message(&d, &program, &channel, 9)), PayError::WrongDomain.into());
        assert_eq!(err(parse_message(&m, &channel, &channel, 9)), PayError::WrongProgram.into());
        assert_eq!(err(parse_message(&m, &program, &program, 9)), PayError::WrongChannel.into());
        assert_eq!(err(parse_message(&m, &program, &channel, 10)), PayError::WrongChannel.into());
    }

    #[test]
    fn parses_several_signatures_with_either_self_index() {
        let (program, channel) = keys();
        let m1 = message(&program, &channel, 1, 10, 1);
        let m2 = message(&program, &channel, 1, 20, 2);
        for ix in [THIS_INSTRUCTION, 3] {
            let data = ed_data(&[(&[1u8; 32], &m1), (&[2u8; 32], &m2)], ix);
            let s = parse_ed25519(&data, 3, 2).unwrap();
            assert_eq!(s[0].pubkey, &[1u8; 32]);
            assert_eq!(s[1].message, &m2[..]);
        }
    }

    #[test]
    fn header_checks() {
        let m = [0u8; VOUCHER_LEN];
        let data = ed_data(&[(&[1u8; 32], &m)], THIS_INSTRUCTION);
        assert_eq!(parse_ed25519(&data, 0, 2).unwrap_err(), PayError::SignatureCountMismatch.into());
        assert_eq!(parse_ed25519(&[], 0, 1).unwrap_err(), PayError::MalformedEd25519Instruction.into());
        assert_eq!(parse_ed25519(&data[..10], 0, 1).unwrap_err(), PayError::MalformedEd25519Instruction.into());
        // Any of the three instruction indexes pointing elsewhere.
        for field in [2usize, 6, 12] {
            let mut d = data.clone();
            d[2 + field..2 + field + 2].copy_from_slice(&1u16.to_le_bytes());
            assert_eq!(parse_ed25519(&d, 0, 1).unwrap_err(), PayError::ForeignSignatureData.into());
        }
        // Message running past the data.
        let mut d = data.clone();
        d[2 + 10..2 + 12].copy_from_slice(&(VOUCHER_LEN as u16 + 1).to_le_bytes());
        assert_eq!(parse_ed25519(&d, 0, 1).unwrap_err(), PayError::MalformedEd25519Instruction.into());
        // Explicit index of another position is foreign.
        let d = ed_data(&[(&[1u8; 32], &m)], 2);
        assert_eq!(parse_ed25519(&d, 1, 1).unwrap_err(), PayError::ForeignSignatureData.into());
    }

    #[test]
    fn reads_instructions_like_the_runtime_serializes_them() {
        let a = Pubkey::new_from_array([5u8; 32]);
        let ix0 = Instruction::new_with_bytes(ED25519_PROGRAM_ID, &[1, 2, 3], vec![]);
        let ix1 = Instruction::new_with_bytes(crate::ID, &[9; 40], vec![AccountMeta::new(a, true), AccountMeta::new_readonly(a, false)]);
        let borrowed: Vec<_> = [&ix0, &ix1]
            .iter()
            .map(|ix| BorrowedInstruction {
                program_id: &ix.program_id,
                accounts: ix
                    .accounts
                    .iter()
                    .map(|m| BorrowedAccountMeta { pubkey: &m.pubkey, is_signer: m.is_signer, is_writable: m.is_writable })
                    .collect(),
                data: &ix.data,
            })
            .collect();
        let sysvar = construct_instructions_data(&borrowed);
        let (p0, d0) = instruction_at(&sysvar, 0).unwrap();
        assert_eq!((p0, d0), (ED25519_PROGRAM_ID.as_ref(), &[1u8, 2, 3][..]));
        let (p1, d1) = instruction_at(&sysvar, 1).unwrap();
        assert_eq!((p1, d1), (crate::ID.as_ref(), &[9u8; 40][..]));
        assert!(instruction_at(&sysvar, 2).is_err());
        let mut with_current = sysvar.clone();
        let n = with_current.len();
        with_current[n - 2..].copy_from_slice(&1u16.to_le_bytes());
        assert_eq!(current_index(&with_current).unwrap(), 1);
        assert_eq!(index_before(&with_current, 1).unwrap(), 0);
        assert!(index_before(&with_current, 2).is_err());
        assert!(index_before(&with_current, 0).is_err());
    }
}
