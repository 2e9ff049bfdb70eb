//! `pgpool_node`: see collection/plugins/modules/pgpool_node.yml; the work is in `pgops::pgpool::node`.

fn main() {
    ansible_module::main("pgpool_node", pgops::pgpool::node::run)
}
