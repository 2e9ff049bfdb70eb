//! `pg_extension`: see collection/plugins/modules/pg_extension.yml; the work is in `pgops::extension`.

fn main() {
    ansible_module::main("pg_extension", pgops::extension::run)
}
