//! `repmgr_rejoin`: see collection/plugins/modules/repmgr_rejoin.yml; the work is in `repmgr::rejoin`.

fn main() {
    ansible_module::main("repmgr_rejoin", repmgr::rejoin::run)
}
