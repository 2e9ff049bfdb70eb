//! Lossless parsers and editors for the configuration files of a PostgreSQL HA cluster.
//!
//! Every parser keeps each input line as it was, so writing an unedited file gives back
//! the same bytes; an edit rewrites only the lines it must. A line that cannot be parsed is
//! kept verbatim and reported, never dropped.
#![deny(missing_docs)]

pub mod conninfo;
pub mod edit;
pub mod kv;
pub mod line_store;
pub mod pg_params;
pub mod pgpool;
pub mod postgresql;
pub mod repmgr;

pub mod hba;
pub mod pcp;
pub mod pgpass;
pub mod pool_passwd;
