//! spl-memo 7.0.0 as published; its `entrypoint` comes from the dependency.
#![allow(deprecated)] // the program crate is deprecated in favour of pinocchio-memo-program; we want this exact source
extern crate spl_memo;
