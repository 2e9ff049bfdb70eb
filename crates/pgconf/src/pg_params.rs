//! (helper A: key = value formats) pg_params
