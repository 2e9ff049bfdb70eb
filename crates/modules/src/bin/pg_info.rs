//! `pg_info`: see collection/plugins/modules/pg_info.yml; the work is in `pgops::info`.

fn main() {
    ansible_module::main("pg_info", pgops::info::run)
}
