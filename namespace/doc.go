// Package namespace is the mfs union server: /N per cluster node, and the
// context directories home, here and selected, synthesized per attach.
package namespace
