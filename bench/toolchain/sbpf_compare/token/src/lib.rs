//! spl-token 9.0.0 as published; its `entrypoint` comes from the dependency.
extern crate spl_token;
