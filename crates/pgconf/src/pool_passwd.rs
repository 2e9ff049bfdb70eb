//! (helper B: line formats) pool_passwd
