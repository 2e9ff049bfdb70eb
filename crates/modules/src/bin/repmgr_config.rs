//! `repmgr_config`: see collection/plugins/modules/repmgr_config.yml; the work is in `pgha_modules::repmgr_config`.

fn main() {
    ansible_module::main("repmgr_config", pgha_modules::repmgr_config::run)
}
