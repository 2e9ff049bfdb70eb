//! (helper B: line formats) pcp
