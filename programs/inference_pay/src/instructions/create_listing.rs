use anchor_lang::prelude::*;

use crate::errors::PayError;
use crate::events::ListingCreated;
use crate::state::*;
use crate::token::{MINT_LEN, TOKEN_PROGRAM_ID};

/// A provider lists a model, priced in base units of `mint`.
#[event_cpi]
#[derive(Accounts)]
#[instruction(model_id: u64)]
pub struct CreateListing<'info> {
    #[account(mut)]
    pub provider: Signer<'info>,
    /// CHECK: owner and size constraints below.
    #[account(
        constraint = *mint.owner == TOKEN_PROGRAM_ID @ PayError::WrongMint,
        constraint = mint.data_len() == MINT_LEN @ PayError::WrongMint,
    )]
    pub mint: UncheckedAccount<'info>,
    #[account(
        init,
        payer = provider,
        space = 8 + Listing::INIT_SPACE,
        seeds = [LISTING_SEED, provider.key().as_ref(), mint.key().as_ref(), &model_id.to_le_bytes()],
        bump,
    )]
    pub listing: Box<Account<'info, Listing>>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<CreateListing>, model_id: u64, price: u64, unit: PriceUnit) -> Result<()> {
    require!(price > 0, PayError::ZeroPrice);
    let provider = ctx.accounts.provider.key();
    let mint = ctx.accounts.mint.key();
    ctx.accounts.listing.set_inner(Listing {
        provider,
        mint,
        model_id,
        price,
        unit,
        active: true,
        bump: ctx.bumps.listing,
        reserved: [0; 16],
    });
    emit_cpi!(ListingCreated { listing: ctx.accounts.listing.key(), provider, mint, model_id, price, unit });
    Ok(())
}
