//! `pg_promote`: see collection/plugins/modules/pg_promote.yml; the work is in `pgops::promote`.

fn main() {
    ansible_module::main("pg_promote", pgops::promote::run)
}
