// Package membership tracks who is in the mfs cluster with serf gossip.
//
// Every node runs one Membership. It gossips two serf tags, the node number
// ("id") and the address of the node's 9P export ("9p"), and turns serf's
// member events into calls on a Table (the namespace's node table):
//
//	join, update → SetNode(Alive)
//	failed       → SetNode(Failed)   (no answer to probes: kill -9, a cut link)
//	leave        → SetNode(Left)     (graceful Leave, e.g. on SIGTERM)
//	reap         → RemoveNode        (after Timings.ReconnectTimeout or TombstoneTimeout)
//
// The local node is in the table too, as soon as serf announces it.
//
// Node numbers are configured, not assigned. The serf node name is derived
// from the number ("node-N"), so memberlist itself never accepts two live
// members with one number. On top of that a merge delegate makes a newcomer
// that claims a number held by a live member fail its Join with
// ErrDuplicateID, and makes members refuse to merge such a newcomer, so the
// number is never shown twice.
//
// A node restarted with the same number comes back without restarting
// anyone: at the same gossip address memberlist refutes the old "dead" or
// "left" record with a higher incarnation; at another address the old record
// is reclaimed once it is dead for Timings.DeadNodeReclaimTime.
//
// A node gossiping on every interface (0.0.0.0, ::) advertises the host's
// first non-loopback IPv4 address unless Config.AdvertiseAddr says
// otherwise.
//
// Logs: one line per member event ("member joined", "member updated",
// "member left", "member reaped" at info; "member failed", a fault seen
// from this node, at warn; each with the member's id). serf's and
// memberlist's own lines go to the same logger, levelled by their
// "[LEVEL]" prefix alone, never by their words: [DEBUG], [INFO] and
// [WARN] at debug (events this package logs itself, and the protocol at
// work: refutations, suspicions, a probe answered late on a loaded
// machine), [ERR] at info (the library's own account of something that
// failed, which on a healthy loaded machine is a late ping; the node's
// view of a real failure is its "member failed" warning).
//
// Gossip may be encrypted with a shared key (Config.Key, see ParseKey,
// or LoadKeyFile for a key kept in a file only its owner reads); a node
// with another key, or none, cannot join an encrypted cluster and Join
// says so. Either side logs KeyWarning, naming the peer, when a peer's
// gossip cannot be decrypted.
package membership
