package srv9p_test

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
	"mfs/srv9p"
)

// FuzzServeConn feeds arbitrary bytes to a live server connection, after a
// valid Tversion and a Tattach of fid 1 to an export with a file and a
// directory. Whatever the bytes, the server must not panic, and once the
// client hangs up the connection must end within a few seconds (no
// goroutine left waiting, no hang). The seeds, run by every plain
// `go test`, are the attacks the server was built against.
func FuzzServeConn(f *testing.F) {
	a, dir := newExport(f)
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("data"), 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		f.Fatal(err)
	}
	msg := func(tag uint16, m fcall.Msg) []byte { return fcall.Append(nil, fcall.L, tag, m) }
	cat := func(frames ...[]byte) []byte {
		var b []byte
		for _, fr := range frames {
			b = append(b, fr...)
		}
		return b
	}
	walkF := msg(1, &fcall.Twalk{Fid: 1, NewFid: 2, Names: []string{"f"}})
	openF := msg(2, &fcall.Tlopen{Fid: 2, Flags: p9.ReadWrite})
	names17 := make([]string, 17)
	for i := range names17 {
		names17[i] = "d"
	}
	padded := msg(3, &fcall.Txattrwalk{Fid: 2, NewFid: 3, Name: "user.x"})
	padded = append(padded, make([]byte, 9000)...)
	padded[0], padded[1] = byte(len(padded)), byte(len(padded)>>8)
	for _, seed := range [][]byte{
		nil,
		walkF,
		cat(walkF, openF, msg(3, &fcall.Tread{Fid: 2, Count: 100})),
		cat(walkF, padded, msg(4, &fcall.Tclunk{Fid: 3}), msg(5, &fcall.Tread{Fid: 2, Count: 4})),
		msg(7, &fcall.Tflush{OldTag: 7}),
		cat(walkF, openF, msg(3, &fcall.Tlock{Fid: 2, LockType: p9.WriteLock, Flags: 1 << 31, Client: "\x00mfs-getlock\x00x\x00B"})),
		cat(walkF, msg(3, &fcall.Txattrcreate{Fid: 2, Name: "user.big", Size: 1 << 40}), msg(4, &fcall.Twrite{Fid: 2, Data: make([]byte, 4096)})),
		msg(1, &fcall.Twalk{Fid: 1, NewFid: 2, Names: names17}),
		cat(walkF, msg(3, &fcall.Twalk{Fid: 1, NewFid: 2, Names: []string{"d"}})),
		cat(walkF, msg(3, &fcall.Twalk{Fid: 2, NewFid: 4, Names: []string{"x"}})),
		cat(msg(0xffff, &fcall.Tversion{Msize: 4 << 20, Version: "9P2000.L"}), msg(0xffff, &fcall.Tversion{Msize: 8192, Version: "bogus"})),
		cat(walkF, openF, msg(3, &fcall.Tlock{Fid: 2, LockType: p9.WriteLock, Flags: p9.LockFlagsBlock}), msg(4, &fcall.Tflush{OldTag: 3})),
		{0xff, 0xff, 0xff, 0x7f, 100, 0, 0},
		{3, 0, 0, 0, 100, 0, 0},
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		legacySeed(fcall.Plan9),
		legacySeed(fcall.U),
	} {
		f.Add(seed)
	}
	prefix := cat(msg(fcall.NoTag, &fcall.Tversion{Msize: 64 << 10, Version: "9P2000.L"}),
		msg(0, &fcall.Tattach{Fid: 1, Afid: fcall.NoFid, NUname: p9.NoUID}))
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		srv := srv9p.NewServer(a, srv9p.MaxInflight(4), srv9p.IdleTimeout(time.Second), srv9p.TrustClaims())
		done := make(chan struct{})
		go func() {
			srv9p.ServeConn(srv, context.Background(), server)
			close(done)
		}()
		go io.Copy(io.Discard, client)
		client.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if _, err := client.Write(prefix); err == nil {
			client.Write(data)
		}
		client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("the connection did not end after the client hung up (input %x)", data)
		}
	})
}

// legacySeed switches the connection to dialect d and walks, opens,
// reads, stats, renames, creates and removes in it.
func legacySeed(d fcall.Dialect) []byte {
	var b []byte
	add := func(tag uint16, m fcall.Msg) { b = fcall.Append(b, d, tag, m) }
	add(fcall.NoTag, &fcall.Tversion{Msize: 8192, Version: d.String()})
	add(1, &fcall.Tattach{Fid: 1, Afid: fcall.NoFid, Uname: "root", NUname: p9.NoUID})
	add(2, &fcall.Twalk{Fid: 1, NewFid: 2, Names: []string{"d", "..", "..", "f"}})
	add(3, &fcall.Topen{Fid: 2, Mode: fcall.ORDWR | fcall.OTRUNC})
	add(4, &fcall.Tread{Fid: 2, Count: 100})
	add(5, &fcall.Twalk{Fid: 1, NewFid: 3, Names: []string{"d"}})
	add(6, &fcall.Topen{Fid: 3, Mode: fcall.OREAD})
	add(7, &fcall.Tread{Fid: 3, Offset: 5, Count: 100})
	add(8, &fcall.Tstat{Fid: 2})
	w := fcall.NoTouchDir()
	w.Name, w.Length = "g", 1
	add(9, &fcall.Twstat{Fid: 2, Stat: w})
	add(10, &fcall.Twalk{Fid: 1, NewFid: 4})
	add(11, &fcall.Tcreate{Fid: 4, Name: "n", Perm: fcall.DMSYMLINK | 0o777, Mode: fcall.ORCLOSE, Extension: "5\n"})
	add(12, &fcall.Tremove{Fid: 2})
	return b
}
