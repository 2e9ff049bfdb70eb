//! (helper B: line formats) hba
