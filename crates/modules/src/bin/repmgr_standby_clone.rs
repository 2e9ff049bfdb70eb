//! `repmgr_standby_clone`: see collection/plugins/modules/repmgr_standby_clone.yml; the work is in `repmgr::clone`.

fn main() {
    ansible_module::main("repmgr_standby_clone", repmgr::clone::run)
}
