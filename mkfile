# mk file for mfs (Debian's 9base: /usr/lib/plan9/bin/mk). Recipes run in sh;
# the go tool tracks dependencies, so every target is virtual.

BIN=bin
GO=go
PREFIX=/usr/local
MANDIR=$PREFIX/share/man/man1
COMPDIR=$PREFIX/share/bash-completion/completions
TESTFLAGS=-race -count=1 -timeout 25m
BENCHFLAGS=-run '^$' -bench .

all:V:
	mkdir -p $BIN
	$GO build -o $BIN/mfs ./cmd/mfs

test:V: all
	$GO vet ./...
	$GO test $TESTFLAGS ./...

# One iteration of srv9p's benchmark already takes turns with diod part
# by part, one of membership's times a whole join, failure and leave, and
# one of the proxy's takes turns between direct, /here and /2 between real
# node processes; the namespace's takes each path's best of ten iterations;
# the FUSE mount's (root, /dev/fuse) compares the disk, go-fuse's loopback,
# /here and /2.
bench:V:
	$GO test $BENCHFLAGS -benchtime 1x ./srv9p ./membership
	$GO test -run '^$' -bench BenchmarkProxy -benchtime 5x ./tests
	$GO test $BENCHFLAGS -benchtime 10x ./namespace
	$GO test -run '^$' -bench BenchmarkMount -benchtime 3x ./internal/mount

# The binary goes where go install puts it ($(go env GOBIN), else
# $(go env GOPATH)/bin); the manual page and bash completion, made from
# the binary's commands by mfs gen, under $PREFIX.
install:V: all
	$GO install ./cmd/mfs
	mkdir -p $MANDIR $COMPDIR
	$BIN/mfs gen man > $MANDIR/mfs.1
	$BIN/mfs gen bash > $COMPDIR/mfs

# Only what this mkfile made: the go tool's caches are shared with every
# other project (go test -count=1 already skips cached results).
clean:V:
	rm -rf $BIN

nuke:V: clean
	rm -rf tests/vm/.cache
