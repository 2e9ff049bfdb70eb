//! `pg_hba`: see collection/plugins/modules/pg_hba.yml; the work is in `pgha_modules::pg_hba`.

fn main() {
    ansible_module::main("pg_hba", pgha_modules::pg_hba::run)
}
