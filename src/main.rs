//! `slonik-gen`: prints a slonik script for one operation; see `slonik-gen --help`. All of
//! it is the library's front end, [`slonik_gen::frontend`].

use std::process::ExitCode;

/// A large config is hundreds of thousands of small strings; mimalloc allocates and frees
/// them faster than glibc's malloc (BENCHMARKS.md has the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    slonik_gen::frontend::main()
}
