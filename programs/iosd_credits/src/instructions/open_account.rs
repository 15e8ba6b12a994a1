use anchor_lang::prelude::*;
use anchor_lang::system_program;
use crate::token::{self, Token, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};

use crate::errors::CreditsError;
use crate::events::CreditAccountOpened;
use crate::state::*;

/// Opens a user's credit account, its customer PDA (funded to the
/// rent-exempt minimum: it pays the rent of the jobs it opens) and its
/// refund account (a token account of the stablecoin owned by the customer
/// PDA, where job refunds land). The user signs and pays the rent.
#[event_cpi]
#[derive(Accounts)]
pub struct OpenAccount<'info> {
    #[account(mut)]
    pub user: Signer<'info>,
    #[account(seeds = [CONFIG_SEED, config.mint.as_ref()], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    /// CHECK: address checked against the config.
    #[account(address = config.mint @ CreditsError::WrongMint)]
    pub mint: UncheckedAccount<'info>,
    #[account(
        init,
        payer = user,
        space = 8 + CreditAccount::INIT_SPACE,
        seeds = [CREDIT_SEED, config.key().as_ref(), user.key().as_ref()],
        bump,
    )]
    pub credit_account: Box<Account<'info, CreditAccount>>,
    /// CHECK: a data-less system account at this PDA; funded here.
    #[account(
        mut,

        dup,
        seeds = [CUSTOMER_SEED, config.key().as_ref(), user.key().as_ref()],
        bump,
    )]
    pub customer: SystemAccount<'info>,
    /// CHECK: created here as a token account owned by the customer PDA.
    #[account(
        init,
        payer = user,
        space = TOKEN_ACCOUNT_LEN,
        owner = TOKEN_PROGRAM_ID,
        seeds = [REFUND_SEED, config.key().as_ref(), user.key().as_ref()],
        bump,
    )]
    pub refund_account: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<OpenAccount>) -> Result<()> {
    let min = Rent::get()?.minimum_balance(0);
    let have = ctx.accounts.customer.lamports();
    if have < min {
        system_program::transfer(
            CpiContext::new(
                system_program::ID,
                system_program::Transfer {
                    from: ctx.accounts.user.to_account_info(),
                    to: ctx.accounts.customer.to_account_info(),
                },
            ),
            min - have,
        )?;
    }
    let customer = ctx.accounts.customer.key();
    token::initialize_account3(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.refund_account.to_account_info(),
        &ctx.accounts.mint.to_account_info(),
        &customer,
    )?;
    let config_key = ctx.accounts.config.key();
    let user = ctx.accounts.user.key();
    ctx.accounts.credit_account.set_inner(CreditAccount {
        config: config_key,
        user,
        balance: 0,
        deposited: 0,
        redeemed: 0,
        spent: 0,
        refunded: 0,
        in_flight: 0,
        jobs_opened: 0,
        customer,
        refund_account: ctx.accounts.refund_account.key(),
        bump: ctx.bumps.credit_account,
        customer_bump: ctx.bumps.customer,
        refund_bump: ctx.bumps.refund_account,
        channels_opened: 0,
        reserved: [0; 24],
    });
    let config = &mut ctx.accounts.config;
    config.accounts = config.accounts.checked_add(1).ok_or(CreditsError::MathOverflow)?;
    emit_cpi!(CreditAccountOpened {
        config: config_key,
        credit_account: ctx.accounts.credit_account.key(),
        user,
        customer,
        refund_account: ctx.accounts.refund_account.key(),
    });
    Ok(())
}
