//! `pgpool_node`: see collection/plugins/modules/pgpool_node.yml; the work is in `pcp::module::node`.

fn main() {
    ansible_module::main("pgpool_node", pcp::module::node::run)
}
