//! `pg_database`: see collection/plugins/modules/pg_database.yml; the work is in `pgops::database`.

fn main() {
    ansible_module::main("pg_database", pgops::database::run)
}
