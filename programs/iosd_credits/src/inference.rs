//! The inference_pay interface this program calls, written by hand as
//! `escrow.rs` does for job_escrow (commit 330af93: depending on a program
//! crate with its `cpi` feature makes cargo link an entrypoint-less cdylib,
//! which our SBPF linker refuses): instruction discriminators and argument
//! encodings from `idl/inference_pay.json`, accounts in the order of
//! inference_pay's `Accounts` structs (`#[event_cpi]`'s event authority and
//! program last), and the `Channel` fields read. The unit tests below check
//! all of it against inference_pay's own encodings and serialization.
use anchor_lang::prelude::*;

use crate::errors::CreditsError;

pub const INFERENCE_PROGRAM_ID: Pubkey = pubkey!("9rUK5Wp7mPrD8AqASRarNbQB2LC65TZJ2YFZggw5wrKw");

const IX_OPEN_CHANNEL: [u8; 8] = [91, 45, 253, 71, 140, 166, 107, 109];
const IX_TOP_UP: [u8; 8] = [236, 225, 96, 9, 60, 106, 77, 208];
const IX_START_CLOSE: [u8; 8] = [89, 142, 75, 142, 168, 186, 68, 119];
const IX_COOP_CLOSE: [u8; 8] = [1, 78, 18, 191, 206, 21, 93, 37];
const IX_FINISH_CLOSE: [u8; 8] = [43, 31, 231, 29, 98, 85, 6, 109];
const CHANNEL_DISCRIMINATOR: [u8; 8] = [49, 159, 99, 106, 220, 87, 219, 88];

// `Channel` offsets after the discriminator: payer 32, provider 32, mint 32,
// voucher_signer 32, refund_to 32, rent_payer 32, id 8, open_slot 8,
// deposit 8, settled 8.
const PAYER_AT: usize = 8;
const DEPOSIT_AT: usize = 8 + 6 * 32 + 8 + 8;
const SETTLED_AT: usize = DEPOSIT_AT + 8;

/// `Program<'info, InferencePay>`: the inference_pay program only (no
/// arbitrary CPI target).
#[derive(Clone)]
pub struct InferencePay;

impl anchor_lang::Id for InferencePay {
    fn id() -> Pubkey {
        INFERENCE_PROGRAM_ID
    }
}

/// The `Channel` fields this program relies on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelInfo {
    pub payer: Pubkey,
    pub deposit: u64,
    pub settled: u64,
}

/// Parses a channel's data (pure; `read_channel` checks the owner).
pub fn parse_channel(data: &[u8]) -> Result<ChannelInfo> {
    require!(data.len() >= SETTLED_AT + 8 && data[..8] == CHANNEL_DISCRIMINATOR, CreditsError::WrongChannel);
    let u64_at = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap());
    Ok(ChannelInfo {
        payer: Pubkey::new_from_array(data[PAYER_AT..PAYER_AT + 32].try_into().unwrap()),
        deposit: u64_at(DEPOSIT_AT),
        settled: u64_at(SETTLED_AT),
    })
}

/// An inference_pay channel whose payer is `customer` (a channel funded
/// with this user's credits: only this program can sign for the customer
/// PDA, so every such channel was opened and topped up from credits).
pub fn read_channel(channel: &AccountInfo, customer: &Pubkey) -> Result<ChannelInfo> {
    require_keys_eq!(*channel.owner, INFERENCE_PROGRAM_ID, CreditsError::WrongChannel);
    let info = parse_channel(&channel.try_borrow_data()?)?;
    require_keys_eq!(info.payer, *customer, CreditsError::WrongChannel);
    Ok(info)
}

/// `open_channel(id, deposit, expires_at, dispute_window, voucher_signer)`.
pub fn open_channel_data(id: u64, deposit: u64, expires_at: i64, dispute_window: u32, voucher_signer: &Pubkey)
    -> Vec<u8> {
    let mut data = IX_OPEN_CHANNEL.to_vec();
    data.extend_from_slice(&id.to_le_bytes());
    data.extend_from_slice(&deposit.to_le_bytes());
    data.extend_from_slice(&expires_at.to_le_bytes());
    data.extend_from_slice(&dispute_window.to_le_bytes());
    data.extend_from_slice(voucher_signer.as_ref());
    data
}

/// `top_up(amount, expires_at)`.
pub fn top_up_data(amount: u64, expires_at: i64) -> Vec<u8> {
    let mut data = IX_TOP_UP.to_vec();
    data.extend_from_slice(&amount.to_le_bytes());
    data.extend_from_slice(&expires_at.to_le_bytes());
    data
}

/// An account of a call: (key, writable, signer).
pub type Meta<'a, 'info> = (&'a AccountInfo<'info>, bool, bool);

/// The accounts every inference_pay call of ours passes last.
pub struct InferenceCall<'a, 'info> {
    pub program: &'a AccountInfo<'info>,
    pub event_authority: &'a AccountInfo<'info>,
}

/// `(writable, signer)` of each account of each call, in inference_pay's
/// order (without the event authority and program): checked against
/// inference_pay's `to_account_metas` by the unit tests.
pub const OPEN_CHANNEL_ACCOUNTS: [(bool, bool); 11] = [
    (false, true),  // payer (the customer PDA)
    (true, true),   // rent_payer
    (false, false), // provider
    (false, false), // market
    (true, false),  // pool
    (true, false),  // vault
    (true, false),  // payer_token (the refund account)
    (false, false), // refund_to (the refund account)
    (true, false),  // channel
    (false, false), // token_program
    (false, false), // system_program
];
pub const TOP_UP_ACCOUNTS: [(bool, bool); 7] = [
    (false, true),  // payer
    (false, false), // market
    (false, false), // pool
    (true, false),  // vault
    (true, false),  // payer_token
    (true, false),  // channel
    (false, false), // token_program
];
pub const START_CLOSE_ACCOUNTS: [(bool, bool); 2] = [(false, true), (true, false)];
pub const COOP_CLOSE_ACCOUNTS: [(bool, bool); 8] = [
    (false, true),  // payer
    (false, true),  // provider
    (true, false),  // channel
    (true, false),  // rent_payer
    (true, false),  // refund_to
    (false, false), // pool
    (true, false),  // vault
    (false, false), // token_program
];
pub const FINISH_CLOSE_ACCOUNTS: [(bool, bool); 6] = [
    (true, false),  // channel
    (true, false),  // rent_payer
    (true, false),  // refund_to
    (false, false), // pool
    (true, false),  // vault
    (false, false), // token_program
];

fn meta(key: Pubkey, writable: bool, signer: bool) -> AccountMeta {
    if writable {
        AccountMeta::new(key, signer)
    } else {
        AccountMeta::new_readonly(key, signer)
    }
}

/// The metas of a call: `accounts` with the flags of `shape`, then the
/// event authority and the program.
pub fn metas(accounts: &[Pubkey], shape: &[(bool, bool)], event_authority: Pubkey) -> Vec<AccountMeta> {
    let mut out: Vec<AccountMeta> = accounts.iter().zip(shape).map(|(k, (w, s))| meta(*k, *w, *s)).collect();
    out.push(meta(event_authority, false, false));
    out.push(meta(INFERENCE_PROGRAM_ID, false, false));
    out
}

impl<'a, 'info> InferenceCall<'a, 'info> {
    /// Through the C ABI ([`token_cpi::invoke_c`]): no `Instruction` built,
    /// no `AccountInfo` cloned. No caller holds a borrow of these accounts.
    fn invoke(&self, data: Vec<u8>, accounts: &[&AccountInfo<'info>], shape: &[(bool, bool)],
              seeds: &[&[&[u8]]]) -> Result<()> {
        let mut metas: Vec<token_cpi::CMeta> = Vec::with_capacity(accounts.len() + 2);
        let mut infos: Vec<token_cpi::CInfo> = Vec::with_capacity(accounts.len() + 2);
        for (a, (w, s)) in accounts.iter().zip(shape) {
            metas.push(token_cpi::CMeta::new(a, *w, *s));
            infos.push(token_cpi::CInfo::new(a));
        }
        metas.push(token_cpi::CMeta::new(self.event_authority, false, false));
        metas.push(token_cpi::CMeta::new(self.program, false, false));
        infos.push(token_cpi::CInfo::new(self.event_authority));
        infos.push(token_cpi::CInfo::new(self.program));
        token_cpi::invoke_c(&INFERENCE_PROGRAM_ID, &metas, &infos, &data, seeds)
    }

    /// `open_channel`: accounts in `OPEN_CHANNEL_ACCOUNTS` order.
    #[allow(clippy::too_many_arguments)]
    pub fn open_channel(&self, accounts: [&AccountInfo<'info>; 11], id: u64, deposit: u64, expires_at: i64,
                        dispute_window: u32, voucher_signer: &Pubkey, seeds: &[&[&[u8]]]) -> Result<()> {
        let data = open_channel_data(id, deposit, expires_at, dispute_window, voucher_signer);
        self.invoke(data, &accounts, &OPEN_CHANNEL_ACCOUNTS, seeds)
    }

    /// `top_up`: accounts in `TOP_UP_ACCOUNTS` order.
    pub fn top_up(&self, accounts: [&AccountInfo<'info>; 7], amount: u64, expires_at: i64,
                  seeds: &[&[&[u8]]]) -> Result<()> {
        self.invoke(top_up_data(amount, expires_at), &accounts, &TOP_UP_ACCOUNTS, seeds)
    }

    /// `start_close`: (payer, channel).
    pub fn start_close(&self, accounts: [&AccountInfo<'info>; 2], seeds: &[&[&[u8]]]) -> Result<()> {
        self.invoke(IX_START_CLOSE.to_vec(), &accounts, &START_CLOSE_ACCOUNTS, seeds)
    }

    /// `coop_close`: accounts in `COOP_CLOSE_ACCOUNTS` order.
    pub fn coop_close(&self, accounts: [&AccountInfo<'info>; 8], seeds: &[&[&[u8]]]) -> Result<()> {
        self.invoke(IX_COOP_CLOSE.to_vec(), &accounts, &COOP_CLOSE_ACCOUNTS, seeds)
    }

    /// `finish_close`: accounts in `FINISH_CLOSE_ACCOUNTS` order; nobody signs.
    pub fn finish_close(&self, accounts: [&AccountInfo<'info>; 6]) -> Result<()> {
        self.invoke(IX_FINISH_CLOSE.to_vec(), &accounts, &FINISH_CLOSE_ACCOUNTS, &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::{AccountSerialize, Discriminator, InstructionData, ToAccountMetas};
    use inference_pay::{accounts as acc, instruction as ix, state as st};

    fn k(i: u8) -> Pubkey {
        Pubkey::new_from_array([i; 32])
    }

    #[test]
    fn discriminators_and_program_id_are_inference_pays() {
        assert_eq!(inference_pay::ID, INFERENCE_PROGRAM_ID);
        assert_eq!(ix::OpenChannel::DISCRIMINATOR, &IX_OPEN_CHANNEL[..]);
        assert_eq!(ix::TopUp::DISCRIMINATOR, &IX_TOP_UP[..]);
        assert_eq!(ix::StartClose::DISCRIMINATOR, &IX_START_CLOSE[..]);
        assert_eq!(ix::CoopClose::DISCRIMINATOR, &IX_COOP_CLOSE[..]);
        assert_eq!(ix::FinishClose::DISCRIMINATOR, &IX_FINISH_CLOSE[..]);
        assert_eq!(st::Channel::DISCRIMINATOR, &CHANNEL_DISCRIMINATOR[..]);
        assert_eq!(ix::StartClose {}.data(), IX_START_CLOSE.to_vec());
        assert_eq!(ix::CoopClose {}.data(), IX_COOP_CLOSE.to_vec());
        assert_eq!(ix::FinishClose {}.data(), IX_FINISH_CLOSE.to_vec());
    }

    #[test]
    fn instruction_data_matches_inference_pays_encoding() {
        for (id, deposit, expires_at, window) in [(0, 1, 1, 60), (u64::MAX, u64::MAX, i64::MIN, u32::MAX),
                                                  (7, 123_456, 1_700_000_000, 3_600)] {
            let expected = ix::OpenChannel { id, deposit, expires_at, dispute_window: window, voucher_signer: k(5) }
                .data();
            assert_eq!(open_channel_data(id, deposit, expires_at, window, &k(5)), expected);
            assert_eq!(top_up_data(deposit, expires_at), ix::TopUp { amount: deposit, expires_at }.data());
        }
    }

    #[test]
    fn account_order_and_flags_match_inference_pays() {
        let ev = k(99);
        let ours = |keys: &[Pubkey], shape: &[(bool, bool)]| metas(keys, shape, ev);
        // Anchor's client metas carry the signer flags of the instruction
        // (a PDA signing by invoke_signed is still a signer of it).
        let keys: Vec<Pubkey> = (1..=11).map(k).collect();
        let theirs = acc::OpenChannel {
            payer: keys[0], rent_payer: keys[1], provider: keys[2], market: keys[3], pool: keys[4], vault: keys[5],
            payer_token: keys[6], refund_to: keys[7], channel: keys[8], token_program: keys[9],
            system_program: keys[10], event_authority: ev, program: INFERENCE_PROGRAM_ID,
        }
        .to_account_metas(None);
        assert_eq!(ours(&keys, &OPEN_CHANNEL_ACCOUNTS), theirs);
        let keys: Vec<Pubkey> = (1..=7).map(k).collect();
        let theirs = acc::TopUp {
            payer: keys[0], market: keys[1], pool: keys[2], vault: keys[3], payer_token: keys[4], channel: keys[5],
            token_program: keys[6], event_authority: ev, program: INFERENCE_PROGRAM_ID,
        }
        .to_account_metas(None);
        assert_eq!(ours(&keys, &TOP_UP_ACCOUNTS), theirs);
        let theirs = acc::StartClose { payer: k(1), channel: k(2), event_authority: ev, program: INFERENCE_PROGRAM_ID }
            .to_account_metas(None);
        assert_eq!(ours(&[k(1), k(2)], &START_CLOSE_ACCOUNTS), theirs);
        let keys: Vec<Pubkey> = (1..=8).map(k).collect();
        let theirs = acc::CoopClose {
            payer: keys[0], provider: keys[1], channel: keys[2], rent_payer: keys[3], refund_to: keys[4],
            pool: keys[5], vault: keys[6], token_program: keys[7], event_authority: ev, program: INFERENCE_PROGRAM_ID,
        }
        .to_account_metas(None);
        assert_eq!(ours(&keys, &COOP_CLOSE_ACCOUNTS), theirs);
        let keys: Vec<Pubkey> = (1..=6).map(k).collect();
        let theirs = acc::FinishClose {
            channel: keys[0], rent_payer: keys[1], refund_to: keys[2], pool: keys[3], vault: keys[4],
            token_program: keys[5], event_authority: ev, program: INFERENCE_PROGRAM_ID,
        }
        .to_account_metas(None);
        assert_eq!(ours(&keys, &FINISH_CLOSE_ACCOUNTS), theirs);
    }

    fn channel(payer: Pubkey, deposit: u64, settled: u64) -> Vec<u8> {
        let c = st::Channel {
            payer, provider: k(2), mint: k(3), voucher_signer: k(4), refund_to: k(5), rent_payer: k(6),
            id: u64::MAX - 3, open_slot: 77, deposit, settled, nonce: 9, fee_bps: 250, expires_at: -5,
            dispute_window: 600, close_at: 1, state: st::ChannelState::Closing, bump: 251, reserved: [0; 16],
        };
        let mut data = Vec::new();
        c.try_serialize(&mut data).unwrap();
        assert_eq!(data.len(), 8 + st::Channel::INIT_SPACE);
        data
    }

    #[test]
    fn reads_payer_deposit_and_settled_from_inference_pays_channel() {
        let data = channel(k(1), 1_234_567_890, 987_654);
        assert_eq!(parse_channel(&data).unwrap(), ChannelInfo { payer: k(1), deposit: 1_234_567_890, settled: 987_654 });
        let mut other = data.clone();
        other[0] ^= 1; // another account type
        assert!(parse_channel(&other).is_err());
        assert!(parse_channel(&data[..SETTLED_AT + 7]).is_err());

        let mut data = channel(k(1), 10, 3);
        let key = k(7);
        let mut lamports = 0u64;
        let info = AccountInfo::new(&key, false, false, &mut lamports, &mut data, &INFERENCE_PROGRAM_ID, false);
        assert_eq!(read_channel(&info, &k(1)).unwrap().deposit, 10);
        assert!(read_channel(&info, &k(2)).is_err(), "another user's channel");
        let mut data = channel(k(1), 10, 3);
        let mut lamports = 0u64;
        let fake = AccountInfo::new(&key, false, false, &mut lamports, &mut data, &crate::ID, false);
        assert!(read_channel(&fake, &k(1)).is_err(), "not owned by inference_pay");
    }
}
