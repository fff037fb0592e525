//! `slonik-gen`: prints a slonik script for one operation; see `slonik-gen --help`.

mod cli;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

/// A large config is hundreds of thousands of small strings; mimalloc allocates and frees
/// them faster than glibc's malloc (BENCHMARKS.md has the figures).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ignore_file_size_signal();
    // Run through a link named like an altperl tool (slonik_failover, ...): take its arguments.
    if let Some(code) = slonik_gen::import::altperl_cli::run_if_invoked_as_altperl() {
        return code;
    }
    let cli = cli::Cli::parse();
    if cli.check.is_some() && cli.write_config.is_some() {
        cli::usage_error(
            clap::error::ErrorKind::ArgumentConflict,
            "--check and --write-config cannot be used together: --check compares the script with a file and prints nothing, so there is no script whose state --write-config could record; run the check, then the command with --write-config",
        )
        .exit();
    }
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("slonik-gen: error: {}", slonik_gen::error::Report(&err));
            ExitCode::FAILURE
        }
    }
}

/// A write past the file-size limit (`ulimit -f`) raises SIGXFSZ, which by default kills
/// the process in the middle of writing a config's temporary file. Ignored, the write fails
/// with EFBIG instead: the error is reported, the temporary file removed, the old config
/// left as it was.
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code and
    // happens before any other thread exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

fn run(cli: cli::Cli) -> Result<ExitCode, slonik_gen::Error> {
    // Usage errors first (exit 2), before the config is read.
    let job = match cli.command {
        cli::Command::Import(command) => {
            return slonik_gen::import::run_writing(
                &command.request(),
                cli.slony_version,
                cli.write_config.as_deref(),
            )
        }
        cli::Command::ImportTool(tool) => {
            return slonik_gen::import::run_writing(
                &tool.request(cli.config),
                cli.slony_version,
                cli.write_config.as_deref(),
            )
        }
        cli::Command::Runbook(args) => Err(args),
        cli::Command::Operation(command) => Ok(command.operation().unwrap_or_else(|e| e.exit())),
    };
    let config = slonik_gen::cli_support::config_path(cli.config.as_deref());
    let cluster = slonik_gen::load_config(&config, cli.slony_version)?;
    let check = cli.check;
    let write_config = cli.write_config;
    let operation = match job {
        Ok(words) => words.resolve(&cluster)?,
        Err(args) => return run_runbook(&cluster, &config, cli.slony_version, args, check, write_config),
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
    // The next config is written and synced under a temporary name first, the script is
    // written in full, and only then does the new config take the old one's place: a
    // failed write of either leaves the old config as it was.
    let staged = match &write_config {
        Some(path) => Some(slonik_gen::config_writer::stage_config(
            &config,
            cli.slony_version,
            &change.next,
            path,
        )?),
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    change.write_to(&mut out)?;
    out.flush().map_err(slonik_gen::Error::Io)?;
    if let (Some(staged), Some(path)) = (staged, &write_config) {
        slonik_gen::config_writer::commit(staged, path)?;
    }
    // The process ends here. Freeing 100,000 tables and statements one by one costs more
    // (measured: 5% of a large create-set) than letting the OS take the pages back at exit.
    std::mem::forget((change, cluster));
    Ok(ExitCode::SUCCESS)
}

/// `slonik-gen runbook ...`: the plan in the asked format on stdout, nothing else; the
/// config written with the state after the plan, keeping the user's comments, once the
/// plan is on stdout in full.
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
    let staged = match &write_config {
        Some(path) => Some(slonik_gen::config_writer::stage_config(
            config, version, &plan.next, path,
        )?),
        None => None,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    out.write_all(text.as_bytes()).map_err(slonik_gen::Error::Io)?;
    out.flush().map_err(slonik_gen::Error::Io)?;
    if let (Some(staged), Some(path)) = (staged, &write_config) {
        slonik_gen::config_writer::commit(staged, path)?;
    }
    Ok(ExitCode::SUCCESS)
}
