//! The `eclip` binary: everything is in the library; see `cli.rs` for the commands.
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
