//! `pgha`: every pgha.cluster module in one static binary (see `pgha_modules::multicall`).

use pgha_modules::multicall::{entry, module_in_args_file, parse, Call, MODULES};

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    match parse(&argv, module_in_args_file) {
        Call::Run(name, args) => match entry(name) {
            Some(run) => run(args),
            None => unreachable!("parse names only known modules"),
        },
        Call::List => {
            for (name, _) in MODULES {
                println!("{name}");
            }
        }
        Call::Usage(msg) => {
            println!("{}", serde_json::json!({ "failed": true, "msg": msg }));
            std::process::exit(1);
        }
    }
}
