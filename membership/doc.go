// Package membership tracks who is in the mfs cluster with serf gossip.
package membership
