//! What a slon's log says about the config file it read (`slon -f FILE`): the one check
//! that a generated file was read without a complaint, shared by the real-cluster harness
//! ([`super::cluster::TestCluster::start_slon`]), the runbook tests and `tests/slon_conf.rs`.
#![allow(dead_code)]

/// Lines slon 2.2.11 writes while reading a config file when something in it is wrong:
/// an unknown option (slon then ignores the whole file), an option slon's own table
/// lacks, a line it cannot parse, a value out of range or of the wrong type.
const COMPLAINTS: &[&str] = &[
    "unrecognized configuration parameter",
    "syntax error",
    "outside the valid range",
    "requires a",
];

/// The line slon writes once it has read its options (it lists every one of them).
pub const OPTIONS_READ: &str = "String option conn_info = ";

/// Every line of `log` in which slon complains about its config file.
pub fn config_complaints(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|line| {
            COMPLAINTS.iter().any(|c| line.contains(c))
                || (line.contains("conf option") && line.contains("not found"))
        })
        .collect()
}

/// Whether slon got as far as listing the options it read.
pub fn listed_its_options(log: &str) -> bool {
    log.contains(OPTIONS_READ)
}

/// Panics (naming `what` and quoting the log) unless slon listed the options it read
/// and complained about none.
pub fn assert_read_its_config(log: &str, what: &str) {
    let complaints = config_complaints(log);
    assert!(
        complaints.is_empty(),
        "{what}: slon complained about its config file:\n{}\n--- log ---\n{log}",
        complaints.join("\n")
    );
    assert!(
        listed_its_options(log),
        "{what}: slon never listed the options it read (no `{OPTIONS_READ}`):\n{log}"
    );
}
