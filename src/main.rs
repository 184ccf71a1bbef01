//! The `oplab` command: parses the command line and hands over to the library.

#[global_allocator]
static ALLOCATOR: oplab::alloc::Allocator = oplab::alloc::Allocator;

fn main() -> std::process::ExitCode {
    oplab::cli::main()
}
