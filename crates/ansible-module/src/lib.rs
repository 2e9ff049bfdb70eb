//! Ansible module protocol (being written).
