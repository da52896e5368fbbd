//! One module per `uadk` subcommand.

pub mod bench;
pub mod calibrate;
pub mod compress;
pub mod crypto;
pub mod emu;
pub mod info;
