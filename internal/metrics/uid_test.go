package metrics

import (
	"testing"

	"github.com/hugelgupf/p9/p9"
)

// TestTopUIDs: at most MaxUIDSeries uids, the busiest, the rest as
// "other"; fids of no uid as "none".
func TestTopUIDs(t *testing.T) {
	fids := map[p9.UID]int{p9.NoUID: 500}
	for uid := range 100 {
		fids[p9.UID(uid)] = uid + 1 // uid 99 is the busiest
	}
	got := topUIDs(fids, MaxUIDSeries)
	if len(got) != MaxUIDSeries+1 {
		t.Fatalf("%d series, want %d", len(got), MaxUIDSeries+1)
	}
	if got[0] != (uidFids{"none", 500}) || got[1] != (uidFids{"99", 100}) {
		t.Errorf("first series %v, %v", got[0], got[1])
	}
	// Kept: none and uids 99…37; summed: uids 36…0, holding 1…37 fids.
	if last := got[MaxUIDSeries]; last != (uidFids{"other", 37 * 38 / 2}) {
		t.Errorf("last series %v, want other=%d", last, 37*38/2)
	}
}
