//! HiSilicon QM queue pairs: the ring protocol over the mapped regions.
//!
//! | file | what lives there |
//! |---|---|
//! | [`layout`] | the `api` version, DUS geometry (SQ, CQ, status words) and its validation |
//! | [`doorbell`] | doorbell word encoders/decoders for v1 (offset 0x340) and v2+ (0x1000) |
//! | [`sqe`] | the opaque 128-byte descriptor type and where its tag lives |
//! | [`cqe`] | the 16-byte completion entry and its phase bit |
//! | [`ring`] | SQ producer / CQ consumer on the regions: where the doorbell is rung |
//! | [`queue`] | [`QueuePair`]: lifecycle (open → `START_Q`, drop → `PUT_Q`), slots, fork check |
//! | `submit` | writing descriptors, tags, one SQ doorbell per batch, the sync wait |
//! | `complete` | draining the CQ, routing completions, CQ doorbell, failing a stopped queue |

mod complete;
pub mod cqe;
pub mod doorbell;
pub mod layout;
pub mod queue;
pub mod ring;
pub mod sqe;
mod submit;

pub use queue::{QueueOptions, QueuePair};
pub use sqe::{Sqe, TagField};
