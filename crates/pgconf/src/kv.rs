//! (helper A: key = value formats) kv
