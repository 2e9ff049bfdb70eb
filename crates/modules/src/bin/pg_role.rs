//! `pg_role`: see collection/plugins/modules/pg_role.yml; the work is in `pgops::role`.

fn main() {
    ansible_module::main("pg_role", pgops::role::run)
}
