//go:build linux

package main

// nsChecks is part 2: the namespace of a 3-node cluster (filled in ns.go
// once the namespace lands).
var nsChecks = []check{}
