#!/usr/bin/perl
# Prints the statements of a slonik script in a canonical form, one per line, so that the
# scripts of altperl and slonik-gen can be compared statement for statement with diff.
#
#   normalize.pl [--drop-table-comments] [--drop-set-comment] < script.slonik
#
# What is normalised, and why each difference does not change what slonik does:
#   1. `# ...` comments, blank lines and whitespace (spaces, newlines inside a statement) are
#      dropped or collapsed; keywords are lower-cased (slonik's scanner ignores case).
#   2. `echo '...'` statements are dropped: messages to the operator, worded differently.
#   3. `try { ... }` is unwrapped and its `on error { ... }` handler dropped: slonik-gen wraps
#      create-set's adds so a missing table drops the half-created set again (design rule:
#      no half-applied state); the statements inside run exactly as altperl's do.
#   4. Options inside `(...)` are sorted by keyword: slonik options are named, order-free.
#   5. `full qualified name` is spelled `fully qualified name`: slonik accepts both.
#   6. Words inside a conninfo are sorted: libpq keyword=value pairs are order-free
#      (altperl writes host dbname user port, slonik-gen host port dbname user).
#   7. altperl's unquoted `'public.t000001'` becomes `'"public"."t000001"'`: PostgreSQL
#      folds an unquoted name to lower case, so the two are the same table only when the
#      name is lower case already; any other unquoted name stops the comparison.
#   8. Only with --drop-table-comments: the `comment` option of `set add table` and
#      `set add sequence` is dropped. altperl writes 'Table public.t with primary key' for
#      every table; slonik-gen writes a table comment only when the config gives one.
#   9. Only with --drop-set-comment (configs imported from the slon_tools.conf): the
#      `comment` option of `create set` is dropped. altperl hard-codes 'Set 1 (set1) for
#      CLUSTER'; slon_tools.conf has no set comment to import, so slonik-gen writes its own
#      default, 'Set 1 (set1) for cluster CLUSTER'. A comment is only stored, never acted on.
# Anything else that differs is a real difference and makes the comparison fail.
use strict;
use warnings;

my %flag = map { $_ => 1 } @ARGV;
my $drop_table_comments = $flag{'--drop-table-comments'};
my $drop_set_comment = $flag{'--drop-set-comment'};
local $/;
my $text = <STDIN>;

# Split into statements and block punctuation, never inside a '...' literal ('' is a quote)
# nor a `#` comment.
my (@items, $state);
my $current = '';
$state = 'code';
for my $ch (split //, $text) {
    if ($state eq 'comment') {
        $state = 'code' if $ch eq "\n";
        next;
    }
    $current .= $ch if $state eq 'literal' || $ch !~ /[#;{}]/;
    if ($state eq 'literal') {
        $state = 'code' if $ch eq "'";    # a doubled '' re-enters on the next character
        next;
    }
    if    ($ch eq "'") { $state = 'literal' }
    elsif ($ch eq '#') { $state = 'comment' }
    elsif ($ch eq ';') { push @items, [statement => $current]; $current = '' }
    elsif ($ch eq '{') { push @items, [open => $current]; $current = '' }
    elsif ($ch eq '}') { push @items, [close => $current]; $current = '' }
}
die "normalize: unterminated literal\n" if $state eq 'literal';
die "normalize: text after the last statement: $current\n" if $current =~ /\S/;

my @skip;    # stack of open blocks: 1 = skipped handler
for my $item (@items) {
    my ($kind, $body) = @$item;
    my $words = lc(collapse($body));
    if ($kind eq 'open') {
        push @skip, ($words eq 'try' ? 0 : $words =~ /^on (error|success)$/ ? 1 : die "normalize: unknown block `$words`\n");
        next;
    }
    if ($kind eq 'close') {
        die "normalize: statement without `;` before `}`: $body\n" if $body =~ /\S/;
        pop @skip // die "normalize: unbalanced `}`\n";
        next;
    }
    next if grep { $_ } @skip;
    print "$_\n" for canonical(collapse($body));
}
die "normalize: unclosed block\n" if @skip;

sub collapse { my ($s) = @_; $s =~ s/\s+/ /g; $s =~ s/^ | $//g; return $s }

sub canonical {
    my ($statement) = @_;
    return () if $statement eq '';
    # Keyword part: everything before the first quote or parenthesis.
    my ($head, $rest) = $statement =~ /^([^'(]*)(.*)$/s;
    $head = lc $head;
    return () if $head =~ /^echo\b/;
    if ($rest =~ /^\((.*)\)$/s) {
        my @options = map { option($_) } split_options($1);
        @options = grep { !/^comment = / } @options
          if $drop_table_comments && $head =~ /^set add (table|sequence) ?$/;
        @options = grep { !/^comment = / } @options
          if $drop_set_comment && $head =~ /^create set ?$/;
        return "$head(" . join(', ', sort @options) . ")";
    }
    if ($head =~ /^node \d+ admin conninfo ?= ?$/) {
        $head =~ s/ ?= ?$/ = /;
        return $head . conninfo($rest);
    }
    return collapse("$head$rest");
}

sub split_options {
    my ($list) = @_;
    my (@parts, $part, $quoted);
    $part = '';
    for my $ch (split //, $list) {
        $quoted = !$quoted if $ch eq "'";
        if ($ch eq ',' && !$quoted) { push @parts, $part; $part = ''; next; }
        $part .= $ch;
    }
    push @parts, $part;
    return @parts;
}

sub option {
    my ($option) = @_;
    my ($key, $value) = $option =~ /^\s*([^=]+?)\s*=\s*(.*?)\s*$/s
      or die "normalize: option without `=`: $option\n";
    $key = lc collapse($key);
    $key = 'fully qualified name' if $key eq 'full qualified name';
    $value = conninfo($value) if $key eq 'conninfo';
    $value = quoted_name($value) if $key eq 'fully qualified name';
    return "$key = $value";
}

sub conninfo {
    my ($literal) = @_;
    my ($inner) = $literal =~ /^'([^']*)'$/ or die "normalize: conninfo is not a plain literal: $literal\n";
    return "'" . join(' ', sort split ' ', $inner) . "'";
}

sub quoted_name {
    my ($literal) = @_;
    return $literal if $literal =~ /^'"/;
    my ($schema, $name) = $literal =~ /^'([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)'$/
      or die "normalize: unquoted name that PostgreSQL would fold or misread: $literal\n";
    return qq{'"$schema"."$name"'};
}
