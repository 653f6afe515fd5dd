//! The `strait` binary: parse the command line, run it, map failures to exit codes.

use clap::Parser;

fn main() {
    let cli = match strait::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version go to stdout with code 0; usage errors exit 2.
            let _ = error.print();
            std::process::exit(if error.use_stderr() { 2 } else { 0 });
        }
    };
    if let Err(error) = strait::cli::execute(cli) {
        eprintln!("{error}");
        std::process::exit(error.exit_code());
    }
}
