//! Dependency scanner (work in progress, see issue 6).
