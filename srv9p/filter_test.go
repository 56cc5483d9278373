package srv9p

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestAuthNotRequired checks that a Tauth is refused the way diod refuses
// it when no authentication is needed (ENOENT), which diod's own client
// tools require, and that the attach then works.
func TestAuthNotRequired(t *testing.T) {
	a, _ := newExport(t)
	r := dialRaw(t, serve(t, "tcp", a))
	var b enc
	b.u32(1).str("").str("/").u32(0)
	if _, err := r.call(102, b); err != errnoError(unix.ENOENT) {
		t.Fatalf("Tauth: %v, want ENOENT", err)
	}
	if err := r.attach(1); err != nil {
		t.Fatalf("attach after Tauth: %v", err)
	}
}

// TestMalformedRequests sends broken frames of the kinds the filter looks
// into: the server must answer with an error or drop the connection, never
// hang or crash, and keep serving others.
func TestMalformedRequests(t *testing.T) {
	a, _ := newExport(t)
	addr := serve(t, "tcp", a)
	frame := func(typ uint8, body ...byte) []byte {
		m := binary.LittleEndian.AppendUint32(nil, uint32(7+len(body)))
		m = append(m, typ, 1, 0)
		return append(m, body...)
	}
	cases := []struct {
		name string
		raw  []byte
	}{
		{"size below header", []byte{3, 0, 0, 0, 110, 1, 0}},
		{"tgetlock short", frame(54, 1, 0, 0, 0, 1)},
		{"tgetlock client overruns", frame(54, append(make([]byte, 25), 0xff, 0xff, 'x')...)},
		{"blocking tlock client overruns", frame(52, append(append(make([]byte, 5), 1, 0, 0, 0), append(make([]byte, 20), 0xff, 0xff, 'x')...)...)},
		{"tflush short", frame(108, 1)},
		{"tattach aname overruns", frame(104, append(make([]byte, 8), 0, 0, 0xff, 0xff, 'x')...)},
		{"twalk nwname overruns", frame(110, 1, 0, 0, 0, 2, 0, 0, 0, 9, 0, 1, 0, 'a')},
		{"twalk short", frame(110, 1, 0)},
		{"txattrwalk short", frame(30, 1, 0, 0, 0)},
		{"txattrwalk name overruns", frame(30, 1, 0, 0, 0, 2, 0, 0, 0, 50, 0, 'a')},
		{"huge size", []byte{0xff, 0xff, 0xff, 0x7f, 110, 1, 0}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, addr)
			r.c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := r.c.Write(tc.raw); err != nil {
				t.Fatal(err)
			}
			var hdr [7]byte
			_, err := io.ReadFull(r.c, hdr[:])
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				t.Fatal("no answer and no close")
			case err == nil && hdr[4] != 7:
				t.Fatalf("answered with type %d, want Rlerror", hdr[4])
			}
			// The server still serves a fresh connection.
			if err := dialRaw(t, addr).attach(1); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// FuzzFilterParsers feeds arbitrary frames to the filter's parsers: they
// must never panic.
func FuzzFilterParsers(f *testing.F) {
	f.Add([]byte{30, 0, 0, 0, 54, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{17, 0, 0, 0, 110, 1, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 1, 0, 'a'})
	f.Add([]byte{16, 0, 0, 0, 30, 1, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < hdrLen {
			return
		}
		if _, token := disguise(b); token != "" {
			takeGetLock(token)
		}
		if _, token := markBlocking(b); token != "" {
			takeWaitLock(token)
		}
		rewriteAttach(b)
		if t := markSetid(b); t != 0 {
			takeSetid(t)
		}
		plainWalk(b)
		if _, _, _, tok := splitXattrwalk(b); tok != 0 {
			takeXattrErr(tok)
		}
	})
}
