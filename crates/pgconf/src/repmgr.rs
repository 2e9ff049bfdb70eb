//! (helper A: key = value formats) repmgr
