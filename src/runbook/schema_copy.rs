//! Copying the application's schema (no data) from a live node into a node's database
//! before it subscribes: what rebuild-node's `--prepare recreate` and add-node do.

use crate::escape::shell::word;

/// The shell command that dumps the schema only from `source_conninfo` and restores it
/// into `target_conninfo`: `pg_dump -Fc -s` without Slony-I's `"_<cluster>"` schema
/// (`-N`), and without Slony's triggers on the application tables (they call functions in
/// that schema, so they would not restore), through a private temporary directory; the
/// restore stops at its first error.
pub(crate) fn copy_schema_command(
    cluster_name: &str,
    source_conninfo: &str,
    target_conninfo: &str,
) -> String {
    let schema = crate::escape::sql::identifier(&format!("_{cluster_name}"));
    let trigger_pattern = format!(
        " TRIGGER .* _{}_(logtrigger|truncatetrigger|denyaccess|truncatedeny) ",
        cluster_name.replace('$', "\\$")
    );
    format!(
        "dump_dir=$(mktemp -d)\npg_dump -Fc -s -N {} -f \"$dump_dir/schema.dump\" -d {}\npg_restore -l \"$dump_dir/schema.dump\" | grep -v -E {} >\"$dump_dir/schema.list\"\npg_restore --exit-on-error -L \"$dump_dir/schema.list\" -d {} \"$dump_dir/schema.dump\"\nrm -rf \"$dump_dir\"",
        word(&schema),
        word(source_conninfo),
        word(&trigger_pattern),
        word(target_conninfo),
    )
}
