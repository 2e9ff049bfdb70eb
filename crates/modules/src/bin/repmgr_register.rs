//! `repmgr_register`: see collection/plugins/modules/repmgr_register.yml; the work is in `repmgr::register`.

fn main() {
    ansible_module::main("repmgr_register", repmgr::register::run)
}
