package namespace

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
	"mfs/srv9p/srv9ptest"
)

// TestWalkAttr: the Tgetattr the kernel sends after a lookup's Twalk on
// /2 is answered from the walk, which asked the peer for both at once;
// once only, and never after something that may change attributes went
// to the peer since the walk.
func TestWalkAttr(t *testing.T) {
	old := walkAttrTTL
	walkAttrTTL = time.Hour // the test must not depend on the machine's speed
	t.Cleanup(func() { walkAttrTTL = old })

	c := newCluster(t, 2)
	mustWriteHost(t, c.dirs[1], "w/f", "")
	var peerGetattrs atomic.Int32
	hookedPeer(t, c, &hooked{getattr: func() { peerGetattrs.Add(1) }})
	r := srv9ptest.DialRaw(t, c.nsSrv[0].addr)
	if err := r.Attach(1); err != nil {
		t.Fatal(err)
	}
	// The peer connection and the attach to the peer, first.
	if err := r.Walk(1, 99, "2"); err != nil {
		t.Fatal(err)
	}
	size := func(fid uint32) uint64 {
		t.Helper()
		rep, err := r.RPC(&fcall.Tgetattr{Fid: fid, Mask: p9.AttrMaskAll})
		if err != nil {
			t.Fatal(err)
		}
		return rep.(*fcall.Rgetattr).Attr.Size
	}
	walk := func(fid, newfid uint32, names ...string) {
		t.Helper()
		if err := r.Walk(fid, newfid, names...); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name     string
		do       func() uint64 // the size a Tgetattr answered
		size     uint64
		fromPeer int32 // GetAttrs the peer ran for the step: one per walk, and the getattr's unless answered from the walk
	}{
		{"walk from the union root, getattr", func() uint64 { walk(1, 2, "2", "w", "f"); return size(2) }, 0, 1},
		{"the same getattr again", func() uint64 { return size(2) }, 0, 1},
		{"walk within the node, getattr", func() uint64 { walk(1, 3, "2", "w"); walk(3, 4, "f"); return size(4) }, 0, 2},
		{"walk, a write on another fid, getattr", func() uint64 {
			walk(1, 5, "2", "w", "f")
			walk(1, 6, "2", "w", "f")
			if err := r.Lopen(6, uint32(p9.WriteOnly)); err != nil {
				t.Fatal(err)
			}
			if err := r.Write(6, 0, []byte("hello")); err != nil {
				t.Fatal(err)
			}
			return size(5)
		}, 5, 3},
	}
	// The QID of an answer from the walk is the walk's, as the peer's is.
	t.Run("qid", func(t *testing.T) {
		rep, err := r.RPC(&fcall.Twalk{Fid: 1, NewFid: 7, Names: []string{"2", "w", "f"}})
		if err != nil {
			t.Fatal(err)
		}
		qids := rep.(*fcall.Rwalk).QIDs
		for _, from := range []string{"the walk", "the peer"} {
			rep, err := r.RPC(&fcall.Tgetattr{Fid: 7, Mask: p9.AttrMaskAll})
			if err != nil {
				t.Fatal(err)
			}
			if q := rep.(*fcall.Rgetattr).QID; q != qids[len(qids)-1] {
				t.Errorf("QID from %s %v, walk %v", from, q, qids[len(qids)-1])
			}
		}
	})
	for _, st := range steps {
		before := peerGetattrs.Load()
		if got := st.do(); got != st.size {
			t.Errorf("%s: size %d, want %d", st.name, got, st.size)
		}
		if n := peerGetattrs.Load() - before; n != st.fromPeer {
			t.Errorf("%s: %d GetAttrs on the peer, want %d", st.name, n, st.fromPeer)
		}
	}
}
