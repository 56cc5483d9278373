// FuzzDecode feeds Decode hostile frames. Decode must never panic; a frame
// it accepts must re-encode (Append, same tag) to a frame Decode accepts
// again and decodes to the same message, of the same length and bytes but
// for the documented lossy cases; no decoded string or slice may be longer
// than the frame. Seeds are the round-trip samples of fcall_test.go and
// some junk; testdata/fuzz/FuzzDecode holds the same seeds as files,
// rewritten by
//
//	go test ./internal/fcall -run=TestWriteFuzzCorpus -writecorpus
package fcall

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

var writeCorpus = flag.Bool("writecorpus", false, "rewrite testdata/fuzz/FuzzDecode from the round-trip samples")

// fuzzSeeds returns the seed frames, by name: every sample encoded, and
// junk that stops in the header or in a body.
func fuzzSeeds() map[string][]byte {
	seeds := make(map[string][]byte)
	for _, m := range samples {
		for _, d := range dialects {
			if !d.Has(m.Type()) {
				continue
			}
			name := m.String()
			if d != L && (d != Plan9 || L.Has(m.Type())) {
				name += "." + d.String()
			}
			seeds[name] = Append(nil, d, sampleTag(m), m)
		}
	}
	junk := map[string][]byte{
		"junk-empty":        {},
		"junk-short-header": {7, 0, 0},
		"junk-header-only":  {7, 0, 0, 0, MsgTclunk, 1, 0},
		"junk-unknown-type": {9, 0, 0, 0, 0xfe, 1, 0, 0xaa, 0xbb},
		"junk-fsync-short":  {11, 0, 0, 0, MsgTfsync, 1, 0, 5, 0, 0, 0},
		"junk-walk-17":      Append(nil, L, 3, &Twalk{Fid: 1, NewFid: 2, Names: walkNames(MaxWalk + 1)}),
		"junk-string-long":  {17, 0, 0, 0, MsgTversion, 0xff, 0xff, 0, 0x20, 0, 0, 0xff, 0xff, '9', 'P', '2', '0'},
		"junk-count-huge":   {15, 0, 0, 0, MsgRread, 1, 0, 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd'},
		"junk-getattr-bits": {19, 0, 0, 0, MsgTgetattr, 1, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	}
	for name, b := range junk {
		seeds[name] = b
	}
	return seeds
}

func FuzzDecode(f *testing.F) {
	for _, b := range fuzzSeeds() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		frame := append([]byte(nil), data...) // the engine owns data
		if len(frame) >= HeaderSize {
			setSize(frame)
		}
		for _, d := range dialects {
			fuzzOne(t, d, frame)
		}
	})
}

// fuzzOne checks one frame in dialect d.
func fuzzOne(t *testing.T, d Dialect, frame []byte) {
	{
		tag, m, err := Decode(d, frame)
		if err != nil {
			if m != nil {
				t.Fatalf("Decode returned %v with error %v", m, err)
			}
			return
		}
		checkBounded(t, reflect.ValueOf(m).Elem(), len(frame))

		again := Append(nil, d, tag, m)
		tag2, m2, err := Decode(d, again)
		if err != nil {
			t.Fatalf("%s: re-encoded frame %x does not decode: %v\nfirst frame %x", m, again, err, frame)
		}
		if tag2 != tag {
			t.Fatalf("%s: tag %#x re-decodes as %#x", m, tag, tag2)
		}
		if !sameMsg(m, m2) {
			t.Fatalf("%s: re-decoded %#v\nfirst %#v", m, m2, m)
		}
		if !bytes.Equal(again, frame) && !reencodesDifferently(d, m, frame) {
			t.Fatalf("%v %s: re-encoded %x\nfrom %x", d, m, again, frame)
		}
	}
}

// reencodesDifferently reports whether frame may re-encode to other bytes:
// Tfsync's fid-only form comes back with datasync[4], and mask bits the
// protocol does not define are dropped (same length, other bytes).
func reencodesDifferently(d Dialect, m Msg, frame []byte) bool {
	switch m.Type() {
	case MsgTfsync:
		return len(frame) == HeaderSize+4
	case MsgTgetattr, MsgRgetattr, MsgTsetattr:
		return len(Append(nil, d, 0, m)) == len(frame)
	}
	return false
}

// checkBounded fails if a string or slice in v is longer than the frame
// it was decoded from: Decode allocates nothing beyond the frame.
func checkBounded(t *testing.T, v reflect.Value, frameLen int) {
	t.Helper()
	switch v.Kind() {
	case reflect.String, reflect.Slice:
		if v.Len() > frameLen {
			t.Fatalf("%s of length %d from a frame of %d", v.Type(), v.Len(), frameLen)
		}
		if v.Kind() == reflect.Slice {
			for i := range v.Len() {
				checkBounded(t, v.Index(i), frameLen)
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			checkBounded(t, v.Field(i), frameLen)
		}
	}
}

// TestWriteFuzzCorpus rewrites testdata/fuzz/FuzzDecode from fuzzSeeds
// when run with -writecorpus; without it, it checks that every seed has
// its file there, so the checked-in corpus keeps up with the table.
func TestWriteFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for name, b := range fuzzSeeds() {
		path := filepath.Join(dir, name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if *writeCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s is missing or stale (err %v); rewrite with -writecorpus", path, err)
		}
	}
}
