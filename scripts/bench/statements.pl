#!/usr/bin/perl
# The SQL an endpoint runs, read from PostgreSQL's log (log_statement = 'all'), and the pgbench
# script that runs the same statements.
#
#   statements.pl extract PID[,PID...] < log-excerpt > statements.tsv
#       Keeps the log entries of the given backends: "statement: SQL" (simple protocol) and
#       "execute NAME: SQL" with its "parameters: $1 = '…'" detail (extended protocol). Prints one
#       line per statement, "S<TAB>kind<TAB>sql", each followed by its "P<TAB>n<TAB>value" lines
#       (value \N for NULL).
#
#   statements.pl pgbench SCRIPT DEFINES < statements.tsv
#       Writes a pgbench script running the statements in order, every parameter kept a
#       parameter (:sKpN; with -M prepared pgbench sends them as bind values, as the service does),
#       and DEFINES, one "sKpN=value" per line for pgbench -D. A parameter whose value equals
#       $BENCH_OVERRIDE_VALUE is replaced by the SQL expression $BENCH_OVERRIDE_EXPR instead,
#       after the meta-commands in $BENCH_OVERRIDE_SET (lines separated by "|"), e.g. a random
#       id or a unique name per transaction.
use strict;
use warnings;

my $mode = shift @ARGV // die "usage: statements.pl extract PIDS | pgbench SCRIPT DEFINES\n";

if ($mode eq 'extract') {
    my %pids = map { $_ => 1 } split /,/, (shift @ARGV // '');
    my @entries;    # [pid, text]
    my $keep = 0;
    while (my $line = <STDIN>) {
        chomp $line;
        if ($line =~ /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[(\d+)\] (.*)$/) {
            $keep = $pids{$1} ? 1 : 0;
            push @entries, [$1, $2] if $keep;
        } elsif ($keep && @entries) {
            $entries[-1][1] .= ' ' . ($line =~ s/^\s+//r);    # a statement's continuation line
        }
    }
    for my $entry (@entries) {
        my $text = $entry->[1];
        if ($text =~ /\bLOG:\s+statement: (.*)$/) {
            print "S\tstatement\t$1\n";
        } elsif ($text =~ /\bLOG:\s+execute ([^:]+): (.*)$/) {
            print "S\texecute $1\t$2\n";
        } elsif ($text =~ /\bDETAIL:\s+parameters: (.*)$/) {
            my $params = $1;
            while ($params =~ /\$(\d+) = (NULL|'((?:[^']|'')*)')/g) {
                my ($n, $raw, $quoted) = ($1, $2, $3);
                my $value = $raw eq 'NULL' ? '\N' : ($quoted =~ s/''/'/gr);
                print "P\t$n\t$value\n";
            }
        }
    }
} elsif ($mode eq 'pgbench') {
    my ($script, $defines) = @ARGV;
    die "usage: statements.pl pgbench SCRIPT DEFINES\n" unless defined $defines;
    my $override_value = $ENV{BENCH_OVERRIDE_VALUE};
    my $override_expr  = $ENV{BENCH_OVERRIDE_EXPR};
    my @set = grep { length } split /\|/, ($ENV{BENCH_OVERRIDE_SET} // '');
    my (@statements, %params);
    while (my $line = <STDIN>) {
        chomp $line;
        my @f = split /\t/, $line, 3;
        if ($f[0] eq 'S') {
            push @statements, $f[2];
        } elsif ($f[0] eq 'P' && @statements) {
            $params{ scalar(@statements) }{ $f[1] } = $f[2];
        }
    }
    die "no statements\n" unless @statements;
    open my $out, '>', $script or die "$script: $!\n";
    open my $def, '>', $defines or die "$defines: $!\n";
    print $out "$_\n" for @set;
    # A row id drawn from its sequence (the store does so to bind a secret's ciphertext to its
    # row) is kept with \gset and used as the next statement's $1, so each insert gets its own.
    my $allocated = 0;
    for my $k (1 .. @statements) {
        my $sql = $statements[ $k - 1 ];
        if ($sql =~ /^SELECT nextval\(/) {
            # Its parameters name the table and column: written in as literals.
            $sql =~ s{\$(\d+)}{
                my $value = $params{$k}{$1};
                die "statement $k: no value for \$$1\n" unless defined $value;
                "'$value'";
            }ge;
            $sql =~ s/;\s*$//;
            print $out "$sql AS next_id \\gset\n";
            $allocated = 1;
            next;
        }
        my $use_allocated = $allocated;
        $allocated = 0;
        $sql =~ s{\$(\d+)}{
            my $n = $1;
            my $value = $params{$k}{$n};
            die "statement $k: no value for \$$n\n" unless defined $value;
            if ($use_allocated && $n == 1) {
                ':next_id';
            } elsif (defined $override_value && $value eq $override_value) {
                $override_expr;
            } elsif ($value eq '\N') {
                'NULL';
            } else {
                print $def "s${k}p$n=$value\n";
                ":s${k}p$n";
            }
        }ge;
        $sql =~ s/;\s*$//;
        print $out "$sql;\n";
    }
    close $out;
    close $def;
} else {
    die "unknown mode $mode\n";
}
