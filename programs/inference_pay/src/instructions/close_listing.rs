use anchor_lang::prelude::*;

use crate::errors::PayError;
use crate::events::ListingClosed;
use crate::state::*;

/// The provider removes a listing; rent back to the provider.
#[event_cpi]
#[derive(Accounts)]
pub struct CloseListing<'info> {
    #[account(mut)]
    pub provider: Signer<'info>,
    #[account(
        mut,
        close = provider,
        seeds = [LISTING_SEED, listing.provider.as_ref(), listing.mint.as_ref(), &listing.model_id.to_le_bytes()],
        bump = listing.bump,
        has_one = provider @ PayError::WrongListing,
    )]
    pub listing: Box<Account<'info, Listing>>,
}

pub fn handler(ctx: Context<CloseListing>) -> Result<()> {
    emit_cpi!(ListingClosed { listing: ctx.accounts.listing.key() });
    Ok(())
}
