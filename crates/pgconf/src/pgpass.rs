//! (helper B: line formats) pgpass
