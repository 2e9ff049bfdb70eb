//! `pgpool_info`: see collection/plugins/modules/pgpool_info.yml; the work is in `pgops::pgpool::info`.

fn main() {
    ansible_module::main("pgpool_info", pgops::pgpool::info::run)
}
