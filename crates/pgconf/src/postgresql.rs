//! (helper A: key = value formats) postgresql
