//! `slonik-gen`: prints a slonik script for one operation; see `slonik-gen --help`.

mod cli;

use std::error::Error as _;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            let mut message = format!("slonik-gen: error: {err}");
            let mut source = err.source();
            while let Some(cause) = source {
                message.push_str(&format!("\n  caused by: {cause}"));
                source = cause.source();
            }
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: cli::Cli) -> Result<ExitCode, slonik_gen::Error> {
    let config = slonik_gen::cli_support::config_path(cli.config.as_deref());
    let cluster = slonik_gen::load_config(&config, cli.slony_version)?;
    let check = cli.check;
    let write_config = cli.write_config;
    let operation = cli.command.operation();
    slonik_gen::cli_support::preflight(&operation)?;
    let change = operation.run(&cluster)?;
    if let Some(golden) = check {
        let report = slonik_gen::cli_support::check_against(&change.script, &golden)?;
        return Ok(match report {
            None => ExitCode::SUCCESS,
            Some(diff) => {
                eprint!("{diff}");
                ExitCode::FAILURE
            }
        });
    }
    if let Some(path) = write_config {
        slonik_gen::cli_support::write_config(&change.next, &path)?;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    change.script.write_to(&mut out)?;
    out.flush().map_err(slonik_gen::Error::Io)?;
    Ok(ExitCode::SUCCESS)
}
