//! Pickle engine (work in progress, see issue 4).
