// Package clusterutil starts real mfs processes for end-to-end tests.
//
// The mfs binary is built once per test binary (with -race when the tests
// are), or taken from $MFS_BIN. Every test package using it must run its
// tests through Main, which removes the build afterwards:
//
//	func TestMain(m *testing.M) { os.Exit(clusterutil.Main(m)) }
//
// Start runs a cluster of `mfs node` processes on loopback with the fast
// gossip profile, each exporting its own temporary directory (seeded with
// node-N.txt containing "node N\n"), every address on a free port:
//
//	c := clusterutil.Start(t, clusterutil.Options{Nodes: 3})
//	c.WaitListed(t, 1, 2, 3)          // every node's / lists 1 2 3
//	names, err := c.Node(1).List("/2")
//	c.Node(2).Kill(t)                 // kill -9
//	c.Node(2).Restart(t)              // same id, dir and addresses
//
// Processes are stopped, and their logs shown if the test failed, in
// t.Cleanup. Nothing here sleeps a fixed time: waits poll with deadlines.
package clusterutil
