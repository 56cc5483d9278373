# mk file for mfs (Debian's 9base: /usr/lib/plan9/bin/mk). Recipes run in sh;
# the go tool tracks dependencies, so every target is virtual.

BIN=bin
GO=go
PREFIX=/usr/local
MANDIR=$PREFIX/share/man/man1
COMPDIR=$PREFIX/share/bash-completion/completions
UNITDIR=$PREFIX/lib/systemd/system
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

# Everything under $PREFIX: the binary (mode 755, for every user), the
# manual page, the bash completion and the systemd unit of mfs node (its
# ExecStart runs $PREFIX/bin/mfs), the last three made from the binary's
# commands by mfs gen. The unit's environment file is /etc/default/mfs:
# mfs gen env prints an example.
install:V: all
	umask 022
	mkdir -p $PREFIX/bin $MANDIR $COMPDIR $UNITDIR
	install -m 755 $BIN/mfs $PREFIX/bin/mfs
	$BIN/mfs gen man > $MANDIR/mfs.1
	$BIN/mfs gen bash > $COMPDIR/mfs
	$BIN/mfs gen --bin $PREFIX/bin/mfs systemd > $UNITDIR/mfs.service
	chmod 644 $MANDIR/mfs.1 $COMPDIR/mfs $UNITDIR/mfs.service

# Only what this mkfile made: the go tool's caches are shared with every
# other project (go test -count=1 already skips cached results).
clean:V:
	rm -rf $BIN

nuke:V: clean
	rm -rf tests/vm/.cache
