//! `pgpool_config`: see collection/plugins/modules/pgpool_config.yml; the work is in `pgha_modules::pgpool_config`.

fn main() {
    ansible_module::main("pgpool_config", pgha_modules::pgpool_config::run)
}
