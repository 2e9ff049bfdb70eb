//! `pgpool_info`: see collection/plugins/modules/pgpool_info.yml; the work is in `pcp::module::info`.

fn main() {
    ansible_module::main("pgpool_info", pcp::module::info::run)
}
