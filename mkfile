# mk file for mfs (Debian's 9base: /usr/lib/plan9/bin/mk). Recipes run in sh;
# the go tool tracks dependencies, so every target is virtual.

BIN=bin
GO=go
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
# node processes; the namespace's takes each path's best of ten iterations.
bench:V:
	$GO test $BENCHFLAGS -benchtime 1x ./srv9p ./membership
	$GO test -run '^$' -bench BenchmarkProxy -benchtime 5x ./tests
	$GO test $BENCHFLAGS -benchtime 10x ./namespace

install:V:
	$GO install ./cmd/mfs

clean:V:
	rm -rf $BIN
	$GO clean -testcache

nuke:V: clean
	rm -rf tests/vm/.cache
