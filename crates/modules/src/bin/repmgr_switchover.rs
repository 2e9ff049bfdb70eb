//! `repmgr_switchover`: see collection/plugins/modules/repmgr_switchover.yml; the work is in `repmgr::switchover`.

fn main() {
    ansible_module::main("repmgr_switchover", repmgr::switchover::run)
}
