//! `slonik-gen`: prints a slonik script for one operation; see `slonik-gen --help`.

mod cli;

use std::error::Error as _;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// A large config is hundreds of thousands of small strings; mimalloc allocates and frees
/// them faster than glibc's malloc (BENCHMARKS.md has the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Run through a link named like an altperl tool (slonik_failover, ...): take its arguments.
    if let Some(code) = slonik_gen::import::altperl_cli::run_if_invoked_as_altperl() {
        return code;
    }
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
    match cli.command {
        cli::Command::Import(command) => {
            return slonik_gen::import::run(&command.request(), cli.slony_version)
        }
        cli::Command::ImportTool(tool) => {
            return slonik_gen::import::run(&tool.request(cli.config), cli.slony_version)
        }
        _ => {}
    }
    let config = slonik_gen::cli_support::config_path(cli.config.as_deref());
    let cluster = slonik_gen::load_config(&config, cli.slony_version)?;
    let check = cli.check;
    let write_config = cli.write_config;
    let operation = match cli.command {
        cli::Command::Runbook(args) => {
            return run_runbook(&cluster, &config, cli.slony_version, args, check, write_config)
        }
        command => command.operation(),
    };
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
    change.write_to(&mut out)?;
    out.flush().map_err(slonik_gen::Error::Io)?;
    // The process ends here. Freeing 100,000 tables and statements one by one costs more
    // (measured: 5% of a large create-set) than letting the OS take the pages back at exit.
    std::mem::forget((change, cluster));
    Ok(ExitCode::SUCCESS)
}

/// `slonik-gen runbook ...`: the plan in the asked format on stdout, nothing else; the
/// config written with the state after the plan, keeping the user's comments.
fn run_runbook(
    cluster: &slonik_gen::Cluster,
    config: &std::path::Path,
    version: Option<slonik_gen::SlonyVersion>,
    args: cli::RunbookArgs,
    check: Option<std::path::PathBuf>,
    write_config: Option<std::path::PathBuf>,
) -> Result<ExitCode, slonik_gen::Error> {
    let plan = args.plan.request().run(cluster)?;
    let text = plan.render(args.format)?;
    if let Some(golden) = check {
        return Ok(match slonik_gen::runbook::check_against(&text, &golden)? {
            None => ExitCode::SUCCESS,
            Some(diff) => {
                eprint!("{diff}");
                ExitCode::FAILURE
            }
        });
    }
    if let Some(path) = write_config {
        slonik_gen::runbook::config_edit::write_config(config, version, &plan.next, &path)?;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    out.write_all(text.as_bytes()).map_err(slonik_gen::Error::Io)?;
    out.flush().map_err(slonik_gen::Error::Io)?;
    Ok(ExitCode::SUCCESS)
}
