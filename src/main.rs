//! The `oplab` command: parses the command line and hands over to the library.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    oplab::cli::main()
}
