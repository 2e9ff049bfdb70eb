//! (helper A: key = value formats) pgpool
