//go:build race

package clusterutil

const raceEnabled = true
