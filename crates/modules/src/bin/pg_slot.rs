//! `pg_slot`: see collection/plugins/modules/pg_slot.yml; the work is in `pgops::slot`.

fn main() {
    ansible_module::main("pg_slot", pgops::slot::run)
}
