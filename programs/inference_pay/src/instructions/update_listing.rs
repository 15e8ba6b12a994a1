use anchor_lang::prelude::*;

use crate::errors::PayError;
use crate::events::ListingUpdated;
use crate::state::*;

/// The provider reprices a listing or (de)activates it.
#[event_cpi]
#[derive(Accounts)]
pub struct UpdateListing<'info> {
    pub provider: Signer<'info>,
    #[account(
        mut,
        seeds = [LISTING_SEED, listing.provider.as_ref(), listing.mint.as_ref(), &listing.model_id.to_le_bytes()],
        bump = listing.bump,
        has_one = provider @ PayError::WrongListing,
    )]
    pub listing: Box<Account<'info, Listing>>,
}

pub fn handler(ctx: Context<UpdateListing>, price: u64, unit: PriceUnit, active: bool) -> Result<()> {
    require!(price > 0, PayError::ZeroPrice);
    let listing = &mut ctx.accounts.listing;
    listing.price = price;
    listing.unit = unit;
    listing.active = active;
    emit_cpi!(ListingUpdated { listing: listing.key(), price, unit, active });
    Ok(())
}
