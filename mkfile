# mk file for mfs (Debian's 9base: /usr/lib/plan9/bin/mk). Recipes run in sh;
# the go tool tracks dependencies, so every target is virtual.

BIN=bin
GO=go
TESTFLAGS=-race -count=1 -timeout 25m
BENCHFLAGS=-run '^$' -bench . -benchtime 1x

all:V:
	mkdir -p $BIN
	$GO build -o $BIN/mfs ./cmd/mfs

test:V: all
	$GO vet ./...
	$GO test $TESTFLAGS ./...

bench:V:
	$GO test $BENCHFLAGS ./...

install:V:
	$GO install ./cmd/mfs

clean:V:
	rm -rf $BIN
	$GO clean -testcache

nuke:V: clean
	rm -rf tests/vm/.cache
