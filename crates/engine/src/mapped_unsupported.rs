//! Stands in for mapped.rs where its SIGBUS handling is not written for: files are read.

use std::fs::File;

pub(crate) fn enabled() -> bool {
    false
}

pub(crate) fn test_pause() {}

pub(crate) enum Mapping {}

impl Mapping {
    pub(crate) fn map(_file: &File, _offset: u64, _len: usize) -> Option<Mapping> {
        None
    }

    pub(crate) fn len(&self) -> usize {
        match *self {}
    }

    pub(crate) fn release(&self, _hashed: usize) {
        match *self {}
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        match *self {}
    }

    pub(crate) fn cut(&self) -> bool {
        match *self {}
    }
}
