# Evaluates a slon_tools.conf the way altperl's slonik_* tools do (they `require` it in
# package main right after slon-tools.pm) and prints what it defines as one JSON object on
# the original stdout. Run by `slonik-gen import altperl`: perl DRIVER CONFIG.
#
# The config is Perl code, so it runs for real: `if ($ENV{SLONYNODES}) { require ... }`,
# loops that call add_node, `require` of shared files all behave as under altperl.
# add_node is replaced by a recorder that keeps altperl's defaults and checks (and fills the
# same globals, @NODES, $DSN[n], ..., for configs that read them back) and notes where each
# call was made. Anything the config prints goes to stderr, so stdout carries only the JSON.

package main;

use POSIX;                                  # slon-tools.pm imports these into main,
use Errno;                                  # so configs may rely on them
use File::Temp qw/ tempfile tempdir /;
use JSON::PP ();

my $config_file = $ARGV[0];
open(my $json_out, '>&', \*STDOUT) or die "cannot dup stdout: $!";
open(STDOUT, '>&', \*STDERR) or die "cannot redirect stdout: $!";

sub emit {
    my ($result) = @_;
    my $json = JSON::PP->new->canonical(1)->allow_nonref(1);
    my $text = eval { $json->encode($result) };
    if (!defined $text) {
        $text = $json->encode({ error => { message => "the config defines values slonik-gen cannot read (only numbers, strings, lists and hashes are understood): $@" } });
    }
    print $json_out $text, "\n";
    close $json_out;
}

my @add_node_calls;
my @unknown_keys;

# altperl's add_node (slon-tools.pm), recording each call with its file and line.
sub record_add_node {
    my (undef, $file, $line) = caller;
    my %PARAMS = (host => undef, dbname => 'template1', port => 5432, user => 'postgres',
                  node => undef, password => undef, parent => undef, noforward => undef,
                  sslmode => undef, options => undef, config => undef);
    my @unknown;
    my $K;
    while ($K = shift) {
        push @unknown, $K unless exists $PARAMS{$K};
        $PARAMS{$K} = shift;
    }
    die "add_node: I need a node number (node => N) at $file line $line.\n" unless $PARAMS{'node'};
    die "add_node: I need a host name (host => ...) at $file line $line.\n" unless $PARAMS{'host'};
    die "add_node: I need a port number (port => ...) at $file line $line.\n" unless $PARAMS{'port'};
    my $node = $PARAMS{'node'};
    my %call = (node => $node, file => $file, line => $line, unknown_keys => \@unknown);
    push @NODES, $node;
    my $loginstr = "host=$PARAMS{host}";
    $HOST[$node] = $call{host} = $PARAMS{host};
    if ($PARAMS{dbname}) {
        $loginstr .= " dbname=$PARAMS{dbname}";
        $DBNAME[$node] = $call{dbname} = $PARAMS{dbname};
    }
    $loginstr .= " user=$PARAMS{user}";
    $USER[$node] = $call{user} = $PARAMS{user};
    $loginstr .= " port=$PARAMS{port}";
    $PORT[$node] = $call{port} = $PARAMS{port};
    if ($PARAMS{password}) {
        $loginstr .= " password=$PARAMS{password}";
        $PASSWORD[$node] = $call{password} = $PARAMS{password};
    }
    if ($PARAMS{sslmode}) {
        $loginstr .= " sslmode=$PARAMS{sslmode}";
        $SSLMODE[$node] = $call{sslmode} = $PARAMS{sslmode};
    }
    $DSN[$node] = $call{dsn} = $loginstr;
    $PARENT[$node] = $call{parent} = $PARAMS{parent} if $PARAMS{parent};
    $NOFORWARD[$node] = $call{noforward} = $PARAMS{noforward} if $PARAMS{noforward};
    $OPTIONS[$node] = $call{options} = $PARAMS{options} if $PARAMS{options};
    $CONFIG[$node] = $call{config} = $PARAMS{config} if $PARAMS{config};
    push @add_node_calls, \%call;
}

my $recorder = \&record_add_node;
{
    no warnings 'redefine';
    *main::add_node = $recorder;
}
# A config that loads slon-tools.pm itself must not replace the recorder.
$INC{'/usr/share/slony1/slon-tools.pm'} = __FILE__;
$INC{'slon-tools.pm'} = __FILE__;

unless (-r $config_file) {
    emit({ error => { message => "cannot read the file: $!" } });
    exit 0;
}

# Where the last `die` happened, for messages that end in "\n" (Perl then adds no location).
my ($die_file, $die_line);
$SIG{__DIE__} = sub {
    my @frame = caller(0);
    ($die_file, $die_line) = @frame[1, 2] if defined $frame[2] && $frame[2] =~ /^\d+$/;
};

my $done = do $config_file;
$SIG{__DIE__} = 'DEFAULT';
if ($@) {
    emit({ error => { message => "$@", file => $die_file, line => $die_line } });
    exit 0;
}

if (\&main::add_node != $recorder) {
    emit({ error => { message => "the config redefines add_node (it loads slon-tools.pm from a path slonik-gen cannot intercept); remove that require: the altperl tools load slon-tools.pm themselves" } });
    exit 0;
}

emit({
    cluster_name => $CLUSTER_NAME,
    master_node  => $MASTERNODE,
    logdir       => $LOGDIR,
    # What start_slon (slon_start) reads, before its `||=` defaults.
    slon         => {
        pidfile_dir         => $PIDFILE_DIR,
        pidfile_prefix      => $PIDFILE_PREFIX,
        sync_check_interval => $SYNC_CHECK_INTERVAL,
        debuglevel          => $DEBUGLEVEL,
        apache_rotator      => $APACHE_ROTATOR,
        log_name_suffix     => $LOG_NAME_SUFFIX,
    },
    nodes        => \@add_node_calls,
    sets         => $SLONY_SETS,
    # The $SLONYSET style: set variables assigned directly instead of $SLONY_SETS.
    direct_set   => (defined $TABLE_ID || defined $SET_ID || @PKEYEDTABLES || @SEQUENCES) ? JSON::PP::true : JSON::PP::false,
});
