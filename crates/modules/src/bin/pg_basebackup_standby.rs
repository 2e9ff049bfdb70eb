//! `pg_basebackup_standby`: see collection/plugins/modules/pg_basebackup_standby.yml; the work is in `pgops::standby`.

fn main() {
    ansible_module::main("pg_basebackup_standby", pgops::standby::run)
}
