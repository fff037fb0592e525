#!/usr/bin/env bash
# Whole-process comparison of slonik-gen with Debian's altperl tools (slonik_create_set,
# slonik_init_cluster) on the same clusters; see BENCHMARKS.md for the results and method.
#
# Usage: benches/compare-altperl.sh [--quick] [--rounds N] [--keep DIR] [--only WORD]
#   --quick     smallest sizes only, two rounds: a smoke test, seconds once built
#   --rounds N  hyperfine rounds per case (default 5); each round times both tools back to back
#   --keep DIR  write configs, scripts and hyperfine JSON to DIR (default: a temp dir, removed)
#   --only WORD run only the cases whose name contains WORD (e.g. --only imported)
#
# Prerequisites (Debian bookworm), checked below:
#   apt-get install slony1-2-bin hyperfine time     # altperl tools, hyperfine, /usr/bin/time
#   perl (altperl needs it anyway; JSON::PP is core), a Rust toolchain (cargo).
#
# For each case it
#   1. writes the same cluster as slon_tools.conf and slonik-gen.toml (benches/altperl/generate.pl);
#      the "imported" cases instead import the slon_tools.conf with
#      `slonik-gen --write-config imported.toml import altperl`, as an operator migrating
#      would, and compare its size (with its list files) with the slon_tools.conf;
#   2. runs both tools once and CHECKS that they produce the same statements
#      (benches/altperl/normalize.pl lists every normalisation and why), and that the check
#      notices a changed statement, so it can fail;
#   3. times both with hyperfine, alternating: every round runs altperl then slonik-gen;
#   4. measures peak RSS of each with /usr/bin/time -f %M (three runs, median).
# It prints a Markdown table (wall and CPU medians, their ratios, peak memory), the growth of
# slonik-gen's cost with size, and the machine it ran on.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=0
rounds=5
keep=
only=
while (($#)); do
    case $1 in
    --quick) quick=1 rounds=2 ;;
    --rounds) rounds=${2:?--rounds needs a number}; shift ;;
    --keep) keep=${2:?--keep needs a directory}; shift ;;
    --only) only=${2:?--only needs a word}; shift ;;
    -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "compare-altperl.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "compare-altperl.sh: --rounds wants a positive number, got '$rounds'" >&2; exit 2; }

missing=()
for tool in perl hyperfine cargo /usr/bin/time /usr/bin/slonik_create_set /usr/bin/slonik_init_cluster; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    echo "compare-altperl.sh: missing ${missing[*]}" >&2
    echo "  install with: apt-get install slony1-2-bin hyperfine time perl  (and rustup for cargo)" >&2
    exit 1
fi

echo "# building slonik-gen (cargo build --release)" >&2
(cd "$repo" && cargo build --release --quiet)
target_dir=$(cd "$repo" && cargo metadata --format-version 1 --no-deps |
    perl -MJSON::PP -0777 -ne 'print decode_json($_)->{target_directory}')
slonik_gen="$target_dir/release/slonik-gen"
[[ -x $slonik_gen ]] || { echo "compare-altperl.sh: no binary at $slonik_gen" >&2; exit 1; }

if [[ -n $keep ]]; then
    mkdir -p "$keep"
    work=$(cd "$keep" && pwd)
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
generate="$repo/benches/altperl/generate.pl"
normalize="$repo/benches/altperl/normalize.pl"

# case name | generate.pl arguments | altperl command | slonik-gen arguments | normalize flags
cases=()
if ((quick)); then
    table_counts=(1000)
    node_counts=(10 50)
else
    table_counts=(1000 10000 100000)
    node_counts=(10 50 200)
fi
for n in "${table_counts[@]}"; do
    cases+=("create-set plain $n|tables $n|slonik_create_set|create-set set1|--drop-table-comments")
done
for n in "${table_counts[@]}"; do
    cases+=("create-set commented $n|tables $n|slonik_create_set|create-set set1|")
done
for n in "${table_counts[@]}"; do
    cases+=("create-set listfile $n|tables $n|slonik_create_set|create-set set1|--drop-table-comments")
done
for n in "${table_counts[@]}"; do
    cases+=("create-set imported $n|tables $n|slonik_create_set|create-set set1|--drop-table-comments --drop-set-comment")
done
for n in "${node_counts[@]}"; do
    cases+=("init-cluster $n|nodes $n|slonik_init_cluster|init-cluster|")
done
if [[ -n $only ]]; then
    selected=()
    for case in "${cases[@]}"; do
        [[ ${case%%|*} == *"$only"* ]] && selected+=("$case")
    done
    cases=("${selected[@]}")
    ((${#cases[@]})) || { echo "compare-altperl.sh: no case matches --only '$only'" >&2; exit 2; }
fi

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# The check must be able to fail: change one statement of slonik-gen's script and expect a difference.
check_can_fail() {
    local dir=$1
    shift
    sed '0,/id = 1,/s//id = 99999,/' "$dir/slonik-gen.slonik" | perl "$normalize" "$@" >"$dir/broken.norm"
    if cmp -s "$dir/altperl.norm" "$dir/broken.norm"; then
        echo "compare-altperl.sh: the statement check did not notice a changed id; it cannot be trusted" >&2
        exit 1
    fi
}

# Shell-quoted command line for hyperfine.
q() { printf '%q ' "$@"; }

# Every run time (seconds) of hyperfine command $1 in the case directory $2.
run_times() {
    perl -MJSON::PP -0777 -e '
        my $name = shift;
        for my $file (@ARGV) {
            open my $in, "<", $file or die "$file: $!";
            my $doc = decode_json(do { local $/; <$in> });
            print "$_\n" for map { @{ $_->{times} } } grep { $_->{command} eq $name } @{ $doc->{results} };
        }' "$1" "$2"/round-*.json
}

# CPU seconds (user + system, mean of the round's runs) of command $1, one line per round.
run_cpu() {
    perl -MJSON::PP -0777 -e '
        my $name = shift;
        for my $file (@ARGV) {
            open my $in, "<", $file or die "$file: $!";
            my $doc = decode_json(do { local $/; <$in> });
            print $_->{user} + $_->{system}, "\n" for grep { $_->{command} eq $name } @{ $doc->{results} };
        }' "$1" "$2"/round-*.json
}

# Median peak RSS (KB) of three runs of a command.
peak() {
    for _ in 1 2 3; do /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; done | median
}

rows=()
sizes=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
first=1
for case in "${cases[@]}"; do
    IFS='|' read -r name gen_args altperl_tool op_args flags <<<"$case"
    read -r -a op_words <<<"$op_args"
    read -r -a shape_args <<<"$gen_args"
    read -r -a flag_words <<<"$flags"
    style_args=()
    [[ $name == *commented* ]] && style_args=(commented)
    [[ $name == *listfile* ]] && style_args=(listfile)
    dir="$work/${name// /-}"
    mkdir -p "$dir"
    perl "$generate" "${shape_args[@]}" "$dir" "${style_args[@]}"
    altperl_cmd=("/usr/bin/$altperl_tool" --config "$dir/slon_tools.conf")
    [[ $altperl_tool == slonik_create_set ]] && altperl_cmd+=(set1)
    config="$dir/slonik-gen.toml"
    if [[ $name == *imported* ]]; then
        "$slonik_gen" --write-config "$dir/imported.toml" import altperl "$dir/slon_tools.conf" 2>/dev/null
        config="$dir/imported.toml"
        # The imported config and the list files written beside it, against the slon_tools.conf.
        imported_bytes=$(find "$dir" -maxdepth 1 -type f -name 'imported.*' -exec cat {} + | wc -c)
        imported_files=$(find "$dir" -maxdepth 1 -type f -name 'imported.*' -printf '%f ' | sort)
        sizes+=("$name|$(stat -c %s "$dir/slon_tools.conf")|$imported_bytes|$imported_files")
    fi
    ours_cmd=("$slonik_gen" --config "$config" "${op_words[@]}")

    echo "# $name: checking that both tools produce the same statements" >&2
    "${altperl_cmd[@]}" >"$dir/altperl.slonik"
    "${ours_cmd[@]}" >"$dir/slonik-gen.slonik"
    perl "$normalize" "${flag_words[@]}" <"$dir/altperl.slonik" >"$dir/altperl.norm"
    perl "$normalize" "${flag_words[@]}" <"$dir/slonik-gen.slonik" >"$dir/slonik-gen.norm"
    if ! cmp -s "$dir/altperl.norm" "$dir/slonik-gen.norm"; then
        echo "compare-altperl.sh: $name: the tools produce different statements (< altperl, > slonik-gen):" >&2
        diff "$dir/altperl.norm" "$dir/slonik-gen.norm" | head -20 >&2
        exit 1
    fi
    statements=$(wc -l <"$dir/slonik-gen.norm")
    if ((first)); then
        check_can_fail "$dir" "${flag_words[@]}"
        first=0
    fi

    echo "# $name: timing ($rounds rounds, altperl then slonik-gen in each)" >&2
    for ((r = 1; r <= rounds; r++)); do
        hyperfine --shell=none --style none --warmup 1 --runs 2 \
            --export-json "$dir/round-$r.json" \
            --command-name altperl "$(q "${altperl_cmd[@]}")" \
            --command-name slonik-gen "$(q "${ours_cmd[@]}")" >/dev/null
    done
    alt_s=$(run_times altperl "$dir" | median)
    ours_s=$(run_times slonik-gen "$dir" | median)
    alt_cpu=$(run_cpu altperl "$dir" | median)
    ours_cpu=$(run_cpu slonik-gen "$dir" | median)
    alt_kb=$(peak "${altperl_cmd[@]}")
    ours_kb=$(peak "${ours_cmd[@]}")
    rows+=("$name|$statements|$alt_s|$ours_s|$alt_cpu|$ours_cpu|$alt_kb|$ours_kb")
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo
echo "| case | statements | wall: altperl | wall: slonik-gen | wall ratio | CPU: altperl | CPU: slonik-gen | CPU ratio | peak RSS: altperl | peak RSS: slonik-gen |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
declare -A ours_wall ours_cpu_of
for row in "${rows[@]}"; do
    IFS='|' read -r name statements alt_s ours_s alt_cpu ours_cpu alt_kb ours_kb <<<"$row"
    ours_wall[$name]=$ours_s
    ours_cpu_of[$name]=$ours_cpu
    echo "| $name | $statements | $(ms "$alt_s") ms | $(ms "$ours_s") ms | $(ratio "$alt_s" "$ours_s")× |" \
        "$(ms "$alt_cpu") ms | $(ms "$ours_cpu") ms | $(ratio "$alt_cpu" "$ours_cpu")× | $(mb "$alt_kb") MB | $(mb "$ours_kb") MB |"
done
echo
echo "Ratios are altperl ÷ slonik-gen: above 1 means slonik-gen is faster. CPU is user + system time."
echo
if ((${#sizes[@]})); then
    echo "| imported config | slon_tools.conf | slonik-gen config + list files | ratio | files |"
    echo "|---|---:|---:|---:|---|"
    for row in "${sizes[@]}"; do
        IFS='|' read -r name conf_bytes imported_bytes files <<<"$row"
        echo "| $name | $conf_bytes B | $imported_bytes B | $(ratio "$imported_bytes" "$conf_bytes")× | $files|"
    done
    echo
fi
if ((!quick)) && [[ -z $only ]]; then
    growth() { echo "wall $(ratio "${ours_wall[$1]}" "${ours_wall[$2]}")×, CPU $(ratio "${ours_cpu_of[$1]}" "${ours_cpu_of[$2]}")×"; }
    echo "Growth of slonik-gen (whole process):"
    echo "- create-set plain 100k ÷ 10k tables: $(growth "create-set plain 100000" "create-set plain 10000") (linear target: ≤ 11×)"
    echo "- create-set commented 100k ÷ 10k tables: $(growth "create-set commented 100000" "create-set commented 10000")"
    echo "- create-set listfile 100k ÷ 10k tables: $(growth "create-set listfile 100000" "create-set listfile 10000") (linear target: ≤ 11×)"
    echo "- init-cluster 200 ÷ 50 nodes: $(growth "init-cluster 200" "init-cluster 50") (paths grow $(ratio $((200 * 199)) $((50 * 49)))×; n² target: ≤ that)"
    echo
fi
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM;" \
    "load average $load_before before, $load_after after."
echo "Versions: $("$slonik_gen" --version), altperl from slony1-2-bin $(dpkg-query -W -f '${Version}' slony1-2-bin 2>/dev/null || echo '?')," \
    "perl $(perl -e 'print $^V'), $(hyperfine --version), $(rustc --version 2>/dev/null || echo 'rustc ?')."
echo "Method: $rounds hyperfine rounds per case (--shell=none, 1 warm-up + 2 runs of each tool per round, altperl first);" \
    "wall is the median of all runs, CPU the median over rounds of each round's mean user + system time;" \
    "peak RSS is the median of three /usr/bin/time -f %M runs."
