//! Password hashing as PostgreSQL and Pgpool-II store it.
#![deny(missing_docs)]
