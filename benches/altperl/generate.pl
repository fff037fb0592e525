#!/usr/bin/perl
# Writes the same Slony-I cluster twice: as altperl's slon_tools.conf and as a slonik-gen
# TOML config, so both tools can be timed on identical work.
#
#   generate.pl tables N OUTDIR [plain|commented|listfile]   one set of N tables on two nodes (create-set)
#   generate.pl nodes N OUTDIR                                N nodes and a set of 10 tables (init-cluster)
#
# Files written: OUTDIR/slon_tools.conf and OUTDIR/slonik-gen.toml (and OUTDIR/set1.tables for
# listfile). The clusters match the criterion benches' generator (benches/common/mod.rs).
#
# The TOML gives the set and node comments altperl hard-codes ("Set 1 (set1) for
# replication", "Node N - db@host"), so both tools emit the same statements. Tables:
#   plain      "public.t000001": how an operator writes them; altperl's per-table comment
#              has no counterpart, so the comparison drops that option (normalize.pl rule 8).
#   commented  { schema = "public", name = "t000001", comment = "Table public.t000001 with
#              primary key" }: byte for byte altperl's statements, at the price of a TOML
#              four times larger than the plain one.
#   listfile   the plain tables in OUTDIR/set1.tables, one "public.t000001" a line as psql -At
#              prints them, named by tables_file = "set1.tables"; same statements as plain.
# Addresses are loopback only; nothing ever connects.
use strict;
use warnings;

my ($shape, $count, $dir, $style) = @ARGV;
$style //= 'plain';
die "usage: $0 tables N OUTDIR [plain|commented|listfile] | nodes N OUTDIR\n"
  unless defined $dir
  && ($shape eq 'tables' || $shape eq 'nodes')
  && $count =~ /^[1-9]\d*$/
  && ($style eq 'plain' || $style eq 'commented' || $style eq 'listfile');

my $cluster = 'replication';
my $dbname  = 'bench';
my $host    = '127.0.0.1';
my $user    = 'postgres';
my $nodes   = $shape eq 'nodes'  ? $count : 2;
my $tables  = $shape eq 'tables' ? $count : 10;
my $port    = sub { 20000 + $_[0] };
my $table   = sub { sprintf 't%06d', $_[0] };

open my $perl, '>', "$dir/slon_tools.conf" or die "$dir/slon_tools.conf: $!\n";
open my $toml, '>', "$dir/slonik-gen.toml" or die "$dir/slonik-gen.toml: $!\n";

print $perl "\$CLUSTER_NAME = '$cluster';\n\$MASTERNODE = 1;\n\$LOGDIR = '/tmp';\n";
print $toml "cluster = \"$cluster\"\nslony_version = \"2.2\"\ndefault_origin = 1\n";
for my $n (1 .. $nodes) {
    my $p = $port->($n);
    print $perl "add_node(node => $n, host => '$host', dbname => '$dbname', port => $p, user => '$user');\n";
    print $toml "\n[[node]]\nid = $n\ncomment = \"Node $n - $dbname\@$host\"\n"
      . "host = \"$host\"\nport = $p\ndbname = \"$dbname\"\nuser = \"$user\"\n";
}

print $perl "\$SLONY_SETS = {\n  'set1' => {\n    'set_id' => 1,\n    'table_id' => 1,\n"
  . "    'sequence_id' => 1,\n    'keyedtables' => {},\n    'sequences' => [],\n    'pkeyedtables' => [\n";
my $listed = $style eq 'listfile';
my $list;
if ($listed) {
    open $list, '>', "$dir/set1.tables" or die "$dir/set1.tables: $!\n";
}
print $toml "\n[[set]]\nid = 1\nname = \"set1\"\norigin = 1\ncomment = \"Set 1 (set1) for $cluster\"\n"
  . ($listed ? "tables_file = \"set1.tables\"\n" : "tables = [\n");
for my $t (1 .. $tables) {
    my $name = $table->($t);
    print $perl "      'public.$name',\n";
    if ($listed) {
        print $list "public.$name\n";
    } else {
        print $toml $style eq 'commented'
          ? "  { schema = \"public\", name = \"$name\", comment = \"Table public.$name with primary key\" },\n"
          : "  \"public.$name\",\n";
    }
}
print $perl "    ],\n  },\n};\n1;\n";
print $toml "]\n" unless $listed;
close $perl or die "$dir/slon_tools.conf: $!\n";
close $toml or die "$dir/slonik-gen.toml: $!\n";
if ($listed) {
    close $list or die "$dir/set1.tables: $!\n";
}
