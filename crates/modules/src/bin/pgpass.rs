//! `pgpass`: see collection/plugins/modules/pgpass.yml; the work is in `pgha_modules::pgpass`.

fn main() {
    ansible_module::main("pgpass", pgha_modules::pgpass::run)
}
