package clusterutil

import (
	"testing"
	"time"
)

// PollInterval is how often Poll checks its condition.
const PollInterval = 20 * time.Millisecond

// Poll checks cond every PollInterval until it holds (true) or within
// passes (false). It is the one poll loop of the tests: none sleeps a
// fixed time hoping it is enough.
func Poll(within time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(PollInterval)
	}
	return true
}

// Eventually is Poll that fails the test with "after WITHIN: WHAT" when
// cond does not hold in time.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Poll(within, cond) {
		t.Fatalf("after %v: %s", within, what)
	}
}
