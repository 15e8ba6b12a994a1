//! SPL Governance 4.0.0 as a Solana program: links the crates.io crate, whose `entrypoint`
//! (default features) is the program's entrypoint. Nothing else lives here.
extern crate spl_governance as _;
