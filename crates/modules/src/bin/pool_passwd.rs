//! `pool_passwd`: see collection/plugins/modules/pool_passwd.yml; the work is in `pgha_modules::pool_passwd`.

fn main() {
    ansible_module::main("pool_passwd", pgha_modules::pool_passwd::run)
}
