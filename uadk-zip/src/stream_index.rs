//! The block index of a streaming compressor ([`crate::Config::stream_index`],
//! [`crate::Compressor::with_block_index`]): every full flush ends a piece that decodes on
//! its own; at the end the pieces are written as an [`Index`] in a carrier of empty stored
//! blocks, followed by an empty final block ([`crate::index`], "streams").

use crate::index::{self, CheckKind, Entry, Index};
use crate::Format;

/// Pieces smaller than this (uncompressed) are merged with the next one: parallel decoding
/// gains nothing from smaller pieces, and the index stays small however often a stream
/// flushes.
pub const MIN_PIECE: u64 = 1 << 20;

/// The full-flush points of one stream so far.
pub(crate) struct IndexLog {
    kind: CheckKind,
    header_len: u64,
    entries: Vec<Entry>,
    seg_start: u64,
    seg_in: u64,
    seg_check: u32,
}

impl IndexLog {
    /// A log for a stream of `format` whose header is `header_len` bytes.
    pub(crate) fn new(format: Format, header_len: usize) -> Self {
        let kind = CheckKind::for_format(format);
        IndexLog {
            kind,
            header_len: header_len as u64,
            entries: Vec::new(),
            seg_start: 0,
            seg_in: 0,
            seg_check: kind.empty(),
        }
    }

    /// Input consumed by the compressor.
    pub(crate) fn input(&mut self, data: &[u8]) {
        self.seg_check = self.kind.update(self.seg_check, data);
        self.seg_in += data.len() as u64;
    }

    /// A full flush completed when `emitted` bytes of the stream (header included) were out.
    pub(crate) fn boundary(&mut self, emitted: u64) {
        let pos = emitted.saturating_sub(self.header_len);
        let compressed = pos.saturating_sub(self.seg_start);
        if compressed == 0 {
            return;
        }
        let kind = self.kind;
        match self.entries.last_mut() {
            // Small pieces, and flushes that added no input, join the piece before.
            Some(last) if last.uncompressed < MIN_PIECE || self.seg_in == 0 => {
                last.check = kind.combine(last.check, self.seg_check, self.seg_in);
                last.compressed += compressed;
                last.uncompressed += self.seg_in;
            }
            _ => self.entries.push(Entry {
                compressed,
                uncompressed: self.seg_in,
                check: self.seg_check,
                needs_window: false,
            }),
        }
        self.seg_start = pos;
        self.seg_in = 0;
        self.seg_check = kind.empty();
    }

    /// The end of the deflate data after the last full flush: the carrier (when there are
    /// two pieces or more) and an empty final block.
    pub(crate) fn finish(self) -> Vec<u8> {
        if self.entries.len() < 2 {
            return index::FINAL_EMPTY.to_vec();
        }
        index::stream_tail(&Index {
            kind: self.kind,
            last_final: false,
            entries: self.entries,
        })
    }
}
