//! `repmgr_info`: see collection/plugins/modules/repmgr_info.yml; the work is in `repmgr::info`.

fn main() {
    ansible_module::main("repmgr_info", repmgr::info::run)
}
