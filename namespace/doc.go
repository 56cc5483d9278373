// Package namespace is the mfs union server: every cluster node's export as
// one 9P file system, MOSIX MFS style. A Namespace is a p9.Attacher and an
// srv9p.Attacher (it sees the whole Tattach); serve it with srv9p, which
// speaks 9P2000.L, 9P2000.u and 9P2000 to clients (peers are always reached
// in 9P2000.L).
//
// The root lists, at the moment of each call:
//
//	1 2 …      one directory per alive node (decimal, no leading zeros)
//	home       the attach's home node
//	here       the serving node
//	selected   the attach's selected node
//	nodes      the node table: "ID ADDR STATE MARKS" per line, MARKS a
//	           comma-separated subset of here,home,selected or "-"
//	ctl        reads "here 1 home 2 selected 3\n"; "select N" changes
//	           selected for this attach
//
// home, here, selected and N are directories presenting the root of their
// node. Failed and left nodes stay in nodes but not in the listing.
//
// A node that cannot be used fails the same way wherever it is named (/N,
// home, selected, an attach name, a ctl "select N"):
//
//	the node is                                  errno
//	listed as failed (a crash, a cut link)       EHOSTDOWN
//	gone: it left, was reaped, or never joined   ENOENT
//	the serving node, in any state               — (always usable)
//
// A malformed attach-name element or ctl command is EINVAL.
//
// Attach context: the attach name is "/"-separated key=value elements,
// keys home and selected, optionally followed by a path to attach at:
// "home=2/selected=3", "home=2/here/var/log". Defaults: here = the serving
// node, home = here, selected = home until set. Every fid walked from one
// attach shares its context: "select N" written to ctl changes selected for
// all of them from then on; a directory already walked through selected
// stays on the node it reached. Context is never global.
//
// QIDs are unique across the union (the kernel's inode numbers): the node
// number is in the top 16 bits of every path, and /home/x is /2/x when home
// is 2 (see qid.go). No directory is its own ancestor, so find and pwd end.
//
// Files of the serving node are the local export's, called in-process;
// files of another node go to it over one connection per node. Every call
// to a peer is bounded by WithTimeout (default 5 s): one that runs out
// fails alone with ETIMEDOUT; a peer that answers nothing is dead, its
// calls fail with EHOSTDOWN and the next walk dials again. Rename and link
// across nodes are EXDEV. Every operation runs as the attach's user, on
// every node.
package namespace
