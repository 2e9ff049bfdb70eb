//! `pg_config`: see collection/plugins/modules/pg_config.yml; the work is in `pgha_modules::pg_config`.

fn main() {
    ansible_module::main("pg_config", pgha_modules::pg_config::run)
}
