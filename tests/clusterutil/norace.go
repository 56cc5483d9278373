//go:build !race

package clusterutil

const raceEnabled = false
