// Tests of the codec: every message round-trips through Append and Decode
// with every field set; every type newMsg knows is in that table; bodies
// one byte short or long, bad sizes, unknown types, too many walk names
// and strings running past the frame are refused with the documented
// errors; the two Tfsync forms; the getattr and setattr mask bits; Rreaddir
// entries; the in-place Rread and Rreaddir headers; the dialect; and golden
// frames written by hand from the 9P2000.L layout, which pin the wire
// format rather than only its symmetry.
package fcall

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
)

// qid returns a QID whose fields are all non-zero and differ with n.
func qid(n uint8) p9.QID {
	return p9.QID{
		Type:    p9.TypeDir | p9.TypeSymlink | p9.QIDType(n&1),
		Version: 0x0a0b0c00 | uint32(n),
		Path:    0x1122334455667700 | uint64(n),
	}
}

// allAttrs is a getattr mask with every bit set.
var allAttrs = p9.AttrMask{
	Mode: true, NLink: true, UID: true, GID: true, RDev: true,
	ATime: true, MTime: true, CTime: true, INo: true, Size: true,
	Blocks: true, BTime: true, Gen: true, DataVersion: true,
}

// allSetAttrs is a setattr mask with every bit set.
var allSetAttrs = p9.SetAttrMask{
	Permissions: true, UID: true, GID: true, Size: true,
	ATime: true, MTime: true, CTime: true,
	ATimeNotSystemTime: true, MTimeNotSystemTime: true,
}

// walkNames returns n distinct names of different lengths.
func walkNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = "name" + strings.Repeat("x", i) + itoa(i)
	}
	return names
}

// walkQIDs returns n distinct QIDs.
func walkQIDs(n int) []p9.QID {
	qids := make([]p9.QID, n)
	for i := range qids {
		qids[i] = qid(uint8(0x40 + i))
	}
	return qids
}

// samples holds one message of every type with every field set to a
// distinct non-zero value. TestEveryTypeHasASample keeps it complete; the
// fuzz seeds come from it too.
var samples = []Msg{
	&Rlerror{Errno: linux.ENOTEMPTY},
	&Tstatfs{Fid: 0x01020304},
	&Rstatfs{Stat: p9.FSStat{
		Type: 0x01021994, BlockSize: 4096, Blocks: 0x1000000001,
		BlocksFree: 0x2000000002, BlocksAvailable: 0x3000000003,
		Files: 0x4000000004, FilesFree: 0x5000000005,
		FSID: 0x6000000006, NameLength: 255,
	}},
	&Tlopen{Fid: 0x11, Flags: p9.ReadWrite | 0o1000 | 0o2000 | 0o4000000},
	&Rlopen{QID: qid(1), IOUnit: 0x7fe8},
	&Tlcreate{Fid: 0x12, Name: "new file", Flags: p9.WriteOnly | 0o100, Mode: 0o104755, GID: 1001},
	&Rlcreate{QID: qid(2), IOUnit: 0x7fe9},
	&Tsymlink{Fid: 0x13, Name: "link", Target: "../some/target", GID: 1002},
	&Rsymlink{QID: qid(3)},
	&Tmknod{Dfid: 0x14, Name: "dev", Mode: 0o023666, Major: 0x101, Minor: 0x202, GID: 1003},
	&Rmknod{QID: qid(4)},
	&Trename{Fid: 0x15, Dfid: 0x16, Name: "renamed"},
	&Rrename{},
	&Treadlink{Fid: 0x17},
	&Rreadlink{Target: "/abs/target"},
	&Tgetattr{Fid: 0x18, Mask: allAttrs},
	&Rgetattr{Valid: allAttrs, QID: qid(5), Attr: p9.Attr{
		Mode: 0o106755, UID: 1004, GID: 1005, NLink: 6, RDev: 0x0807,
		Size: 0x100000001, BlockSize: 0x1001, Blocks: 0x1002,
		ATimeSeconds: 0x2001, ATimeNanoSeconds: 0x2002,
		MTimeSeconds: 0x2003, MTimeNanoSeconds: 0x2004,
		CTimeSeconds: 0x2005, CTimeNanoSeconds: 0x2006,
		BTimeSeconds: 0x2007, BTimeNanoSeconds: 0x2008,
		Gen: 0x3001, DataVersion: 0x3002,
	}},
	&Tsetattr{Fid: 0x19, Valid: allSetAttrs, Attr: p9.SetAttr{
		Permissions: 0o107777, UID: 1006, GID: 1007, Size: 0x4001,
		ATimeSeconds: 0x4002, ATimeNanoSeconds: 0x4003,
		MTimeSeconds: 0x4004, MTimeNanoSeconds: 0x4005,
	}},
	&Rsetattr{},
	&Txattrwalk{Fid: 0x1a, NewFid: 0x1b, Name: "user.mime_type"},
	&Rxattrwalk{Size: 0x5001},
	&Txattrcreate{Fid: 0x1c, Name: "security.selinux", Size: 0x5002, Flags: 2},
	&Rxattrcreate{},
	&Treaddir{Fid: 0x1d, Offset: 0x6001, Count: 0x6002},
	&Rreaddir{Data: AppendDirent(AppendDirent(nil, &p9.Dirent{QID: qid(6), Offset: 1, Type: p9.TypeDir, Name: "d"}), &p9.Dirent{QID: qid(7), Offset: 2, Type: p9.TypeSymlink, Name: "l"})},
	&Tfsync{Fid: 0x1e, Datasync: 1},
	&Rfsync{},
	&Tlock{Fid: 0x1f, LockType: p9.WriteLock, Flags: p9.LockFlagsBlock | p9.LockFlagsReclaim, Start: 0x7001, Length: 0x7002, PID: -0x7003, Client: "client-a"},
	&Rlock{Status: p9.LockStatusGrace},
	&Tgetlock{Fid: 0x20, LockType: p9.WriteLock, Start: 0x7004, Length: 0x7005, PID: 0x7006, Client: "client-b"},
	&Rgetlock{LockType: p9.Unlock, Start: 0x7007, Length: 0x7008, PID: 0x7009, Client: "client-c"},
	&Tlink{Dfid: 0x21, Fid: 0x22, Name: "hard"},
	&Rlink{},
	&Tmkdir{Dfid: 0x23, Name: "dir", Mode: 0o041777, GID: 1008},
	&Rmkdir{QID: qid(8)},
	&Trenameat{OldDfid: 0x24, OldName: "old", NewDfid: 0x25, NewName: "new"},
	&Rrenameat{},
	&Tunlinkat{Dfid: 0x26, Name: "gone", Flags: 0x200},
	&Runlinkat{},
	&Tversion{Msize: 0x10000, Version: "9P2000.L"},
	&Rversion{Msize: 0x8000, Version: "9P2000.L.Google.7"},
	&Tauth{Afid: 0x27, Uname: "glenda", Aname: "/export", NUname: 1009},
	&Rauth{QID: qid(9)},
	&Tattach{Fid: 0x28, Afid: NoFid, Uname: "glenda", Aname: "/home", NUname: 1010},
	&Rattach{QID: qid(10)},
	&Tflush{OldTag: 0x2930},
	&Rflush{},
	&Twalk{Fid: 0x29, NewFid: 0x2a, Names: walkNames(MaxWalk)},
	&Rwalk{QIDs: walkQIDs(MaxWalk)},
	&Tread{Fid: 0x2b, Offset: 0x8001, Count: 0x8002},
	&Rread{Data: []byte("read data\x00\xff")},
	&Twrite{Fid: 0x2c, Offset: 0x8003, Data: []byte("\x00written\xfe")},
	&Rwrite{Count: 0x8004},
	&Tclunk{Fid: 0x2d},
	&Rclunk{},
	&Tremove{Fid: 0x2e},
	&Rremove{},
	// 9P2000 and 9P2000.u
	&Rerror{Ename: "file does not exist", Errno: linux.ENOENT},
	&Topen{Fid: 0x2f, Mode: ORDWR | OTRUNC | ORCLOSE},
	&Ropen{QID: qid(11), IOUnit: 0x7fea},
	&Tcreate{Fid: 0x30, Name: "made", Perm: DMSYMLINK | 0o777, Mode: OWRITE, Extension: "../target"},
	&Rcreate{QID: qid(12), IOUnit: 0x7feb},
	&Tstat{Fid: 0x31},
	&Rstat{Stat: sampleDir(1)},
	&Twstat{Fid: 0x32, Stat: sampleDir(2)},
	&Rwstat{},
}

// sampleDir returns a Dir whose fields are all non-zero and differ with n.
func sampleDir(n uint8) Dir {
	return Dir{
		Type: 0x100 + uint16(n), Dev: 0x200 + uint32(n), QID: qid(20 + n),
		Mode: DMDIR | DMSETGID | 0o755, Atime: 0x300 + uint32(n), Mtime: 0x400 + uint32(n),
		Length: 0x500000000 + uint64(n), Name: "name", UID: "glenda", GID: "sys", MUID: "bootes",
		Extension: "b 8 1", NUID: 1011, NGID: 1012, NMUID: 1013,
	}
}

// dialects are the dialects with messages.
var dialects = []Dialect{L, U, Plan9}

// inDialect returns what sample m decodes to in dialect d, which may
// not carry some of its fields: 9P2000 has no n_uname, no errno, no
// extension and no numeric ids.
func inDialect(m Msg, d Dialect) Msg {
	if d == U || d == L {
		return m
	}
	switch m := m.(type) {
	case *Tattach:
		c := *m
		c.NUname = p9.NoUID
		return &c
	case *Tauth:
		c := *m
		c.NUname = p9.NoUID
		return &c
	case *Rerror:
		c := *m
		c.Errno = 0
		return &c
	case *Tcreate:
		c := *m
		c.Extension = ""
		return &c
	case *Rstat:
		c := *m
		c.Stat = plan9Dir(c.Stat)
		return &c
	case *Twstat:
		c := *m
		c.Stat = plan9Dir(c.Stat)
		return &c
	}
	return m
}

func plan9Dir(d Dir) Dir {
	d.Extension = ""
	d.NUID, d.NGID, d.NMUID = NoTouch32, NoTouch32, NoTouch32
	return d
}

// forEach runs fn for every sample in every dialect that has its type.
func forEach(t *testing.T, fn func(t *testing.T, d Dialect, m Msg)) {
	for _, d := range dialects {
		for _, m := range samples {
			if d.Has(m.Type()) {
				t.Run(d.String()+"/"+m.String(), func(t *testing.T) { fn(t, d, m) })
			}
		}
	}
}

// sampleTag is the tag each sample is sent with: distinct per type.
func sampleTag(m Msg) uint16 { return 0x5100 | uint16(m.Type()) }

// setSize rewrites the size field of frame to len(frame).
func setSize(frame []byte) []byte {
	binary.LittleEndian.PutUint32(frame, uint32(len(frame)))
	return frame
}

// normalise replaces zero-length byte slices in m by nil, since a payload
// of length zero decodes as an empty slice of the frame.
func normalise(m Msg) Msg {
	normaliseValue(reflect.ValueOf(m).Elem())
	return m
}

func normaliseValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			normaliseValue(v.Field(i))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 && v.Len() == 0 && !v.IsNil() {
			v.SetZero()
		}
	}
}

// sameMsg reports whether a and b are equal messages, normalised.
func sameMsg(a, b Msg) bool {
	return reflect.DeepEqual(normalise(a), normalise(b))
}

func TestRoundTrip(t *testing.T) {
	forEach(t, func(t *testing.T, d Dialect, sample Msg) {
		want := inDialect(sample, d)
		{
			frame := Append([]byte("prefix"), d, sampleTag(want), sample)[len("prefix"):]
			tag, got, err := Decode(d, frame)
			if err != nil {
				t.Fatalf("Decode: %v\nframe %x", err, frame)
			}
			if tag != sampleTag(want) {
				t.Errorf("tag = %#x, want %#x", tag, sampleTag(want))
			}
			if !sameMsg(got, want) {
				t.Errorf("Decode = %#v\nwant %#v", got, want)
			}
			if size, typ, _ := Header(frame); size != uint32(len(frame)) || typ != want.Type() {
				t.Errorf("Header = size %d type %d, want %d %d", size, typ, len(frame), want.Type())
			}
		}
	})
}

// TestDialectTypes pins which messages each dialect has: a message of
// another dialect is an unknown type.
func TestDialectTypes(t *testing.T) {
	only := map[uint8]Dialect{MsgTopen: Plan9, MsgTstat: Plan9, MsgRerror: Plan9, MsgTlopen: L, MsgTreaddir: L, MsgRlerror: L}
	for typ, in := range only {
		for _, d := range dialects {
			want := d == in || (in == Plan9 && d == U)
			if d.Has(typ) != want {
				t.Errorf("%v.Has(%s) = %v, want %v", d, Name(typ), !want, want)
			}
			if want {
				continue
			}
			frame := Append(nil, d, 3, newMsg(typ))
			if _, m, err := Decode(d, frame); !errors.Is(err, ErrUnknownType) {
				t.Errorf("%s in %v: Decode = %v, %v, want ErrUnknownType", Name(typ), d, m, err)
			}
		}
	}
	for _, typ := range []uint8{MsgTversion, MsgTattach, MsgTwalk, MsgTread, MsgTremove} {
		for _, d := range dialects {
			if !d.Has(typ) {
				t.Errorf("%v does not have %s", d, Name(typ))
			}
		}
	}
}

func TestEveryTypeHasASample(t *testing.T) {
	inTable := make(map[uint8]bool)
	for _, m := range samples {
		if inTable[m.Type()] {
			t.Errorf("%s: two samples", m)
		}
		inTable[m.Type()] = true
	}
	known := 0
	for typ := range 256 {
		typ := uint8(typ)
		m := newMsg(typ)
		if m == nil {
			if inTable[typ] {
				t.Errorf("type %d: sample of a type newMsg does not know", typ)
			}
			if want := "type " + itoa(int(typ)); Name(typ) != want {
				t.Errorf("Name(%d) = %q, want %q", typ, Name(typ), want)
			}
			continue
		}
		known++
		if m.Type() != typ {
			t.Errorf("newMsg(%d).Type() = %d", typ, m.Type())
		}
		if Name(typ) != m.String() {
			t.Errorf("Name(%d) = %q, String() = %q", typ, Name(typ), m.String())
		}
		if !inTable[typ] {
			t.Errorf("%s (type %d) has no sample in the round-trip table", m, typ)
		}
	}
	if known != len(samples) {
		t.Errorf("newMsg knows %d types, table has %d samples", known, len(samples))
	}
}

// TestShortBody cuts every sample's body at every length short of whole:
// each prefix must fail with ErrShort (but for Tfsync's fid-only form).
func TestShortBody(t *testing.T) {
	forEach(t, func(t *testing.T, d Dialect, m Msg) {
		frame := Append(nil, d, sampleTag(m), m)
		if len(frame) == HeaderSize {
			return
		}
		for n := HeaderSize; n < len(frame); n++ {
			if m.Type() == MsgTfsync && n == HeaderSize+4 {
				continue // the short form, TestTfsyncForms
			}
			cut := setSize(append([]byte(nil), frame[:n]...))
			tag, got, err := Decode(d, cut)
			if !errors.Is(err, ErrShort) {
				t.Errorf("%s cut to %d of %d bytes: Decode = %v, %v, want ErrShort", m, n, len(frame), got, err)
			}
			if tag != sampleTag(m) {
				t.Errorf("%s cut to %d: tag = %#x, want %#x", m, n, tag, sampleTag(m))
			}
		}
	})
}

func TestTrailingByte(t *testing.T) {
	forEach(t, func(t *testing.T, d Dialect, m Msg) {
		frame := setSize(append(Append(nil, d, sampleTag(m), m), 0xee))
		tag, got, err := Decode(d, frame)
		if !errors.Is(err, ErrTrailing) {
			t.Errorf("%s with a trailing byte: Decode = %v, %v, want ErrTrailing", m, got, err)
		}
		if tag != sampleTag(m) {
			t.Errorf("%s with a trailing byte: tag = %#x, want %#x", m, tag, sampleTag(m))
		}
	})
}

// TestStatSizes checks the inner sizes of stat[n]: a Dir's size[2] or
// the count before it that says more or less than the Dir holds is
// refused, whatever the frame's size.
func TestStatSizes(t *testing.T) {
	for _, d := range []Dialect{U, Plan9} {
		dir := sampleDir(3)
		frame := Append(nil, d, 1, &Rstat{Stat: dir})
		// frame: header[7] n[2] size[2] ...
		for _, tt := range []struct {
			name string
			off  int
			add  int
		}{{"count+1", HeaderSize, 1}, {"count-1", HeaderSize, -1}, {"size+1", HeaderSize + 2, 1}, {"size-1", HeaderSize + 2, -1}} {
			f := append([]byte(nil), frame...)
			v := int(binary.LittleEndian.Uint16(f[tt.off:])) + tt.add
			binary.LittleEndian.PutUint16(f[tt.off:], uint16(v))
			if _, m, err := Decode(d, f); err == nil {
				t.Errorf("%v Rstat with %s: Decode = %v, want an error", d, tt.name, m)
			}
		}
		if got := DirSize(d, &dir); got != len(frame)-HeaderSize-2 {
			t.Errorf("%v: DirSize = %d, frame holds %d", d, got, len(frame)-HeaderSize-2)
		}
	}
}

func TestDecodeDirs(t *testing.T) {
	for _, d := range []Dialect{U, Plan9} {
		a, b := sampleDir(4), sampleDir(5)
		b.Name = "other"
		data := AppendDir(AppendDir(nil, d, &a), d, &b)
		got, err := DecodeDirs(d, data)
		want := []Dir{a, b}
		if d == Plan9 {
			want = []Dir{plan9Dir(a), plan9Dir(b)}
		}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%v: DecodeDirs = %+v, %v\nwant %+v", d, got, err, want)
		}
		if _, err := DecodeDirs(d, data[:len(data)-1]); !errors.Is(err, ErrShort) {
			t.Errorf("%v: DecodeDirs of a cut entry: err = %v, want ErrShort", d, err)
		}
	}
}

func TestFrameSize(t *testing.T) {
	good := Append(nil, L, 1, &Tclunk{Fid: 2})
	tests := []struct {
		name  string
		frame []byte
	}{
		{"nil", nil},
		{"size only", []byte{4, 0, 0, 0}},
		{"six bytes", []byte{6, 0, 0, 0, MsgRclunk, 1}},
		{"size one less", withSize(good, uint32(len(good)-1))},
		{"size one more", withSize(good, uint32(len(good)+1))},
		{"size zero", withSize(good, 0)},
		{"size max", withSize(good, 0xffffffff)},
		{"frame cut", good[:len(good)-1]},
	}
	for _, tt := range tests {
		if _, m, err := Decode(L, tt.frame); !errors.Is(err, ErrFrameSize) {
			t.Errorf("%s: Decode = %v, %v, want ErrFrameSize", tt.name, m, err)
		}
	}
}

// withSize returns a copy of frame with size field n.
func withSize(frame []byte, n uint32) []byte {
	f := append([]byte(nil), frame...)
	binary.LittleEndian.PutUint32(f, n)
	return f
}

func TestUnknownType(t *testing.T) {
	for typ := range 256 {
		if newMsg(uint8(typ)) != nil {
			continue
		}
		frame := []byte{0, 0, 0, 0, uint8(typ), 0xef, 0xbe, 1, 2, 3}
		tag, m, err := Decode(L, setSize(frame))
		if !errors.Is(err, ErrUnknownType) || m != nil {
			t.Errorf("type %d: Decode = %v, %v, want ErrUnknownType", typ, m, err)
		}
		if tag != 0xbeef {
			t.Errorf("type %d: tag = %#x, want 0xbeef", typ, tag)
		}
	}
}

func TestTooManyWalkElements(t *testing.T) {
	tests := []Msg{
		&Twalk{Fid: 1, NewFid: 2, Names: walkNames(MaxWalk + 1)},
		&Rwalk{QIDs: walkQIDs(MaxWalk + 1)},
	}
	for _, m := range tests {
		tag, got, err := Decode(L, Append(nil, L, 7, m))
		if !errors.Is(err, ErrTooMany) || got != nil {
			t.Errorf("%s with %d elements: Decode = %v, %v, want ErrTooMany", m, MaxWalk+1, got, err)
		}
		if tag != 7 {
			t.Errorf("%s: tag = %d, want 7", m, tag)
		}
	}
	// A count of 0xffff with nothing after it is too many before it is short.
	frame := setSize([]byte{0, 0, 0, 0, MsgRwalk, 7, 0, 0xff, 0xff})
	if _, _, err := Decode(L, frame); !errors.Is(err, ErrTooMany) {
		t.Errorf("Rwalk of 0xffff qids: err = %v, want ErrTooMany", err)
	}
}

func TestStringPastFrame(t *testing.T) {
	tests := []struct {
		name  string
		frame string // hex, size field rewritten
	}{
		{"Tversion len 0xffff", "00000000 64 ffff 00200000 ffff 3950"},
		{"Tversion len one past", "00000000 64 ffff 00200000 0900 3950323030302e4c"},
		{"Twalk second name", "00000000 6e 0100 01000000 02000000 0200 0100 61 0300 6263"},
		{"Rreadlink len only", "00000000 17 0100 0500"},
		{"Rread count past", "00000000 75 0100 05000000 68656c6c"},
		{"Twrite count max", "00000000 76 0100 01000000 0000000000000000 ffffffff 00"},
	}
	for _, tt := range tests {
		tag, m, err := Decode(L, setSize(unhex(t, tt.frame)))
		if !errors.Is(err, ErrShort) || m != nil {
			t.Errorf("%s: Decode = %v, %v, want ErrShort", tt.name, m, err)
		}
		if wantTag := binary.LittleEndian.Uint16(unhex(t, tt.frame)[5:]); tag != wantTag {
			t.Errorf("%s: tag = %#x, want %#x", tt.name, tag, wantTag)
		}
	}
}

func TestTfsyncForms(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  Tfsync
	}{
		{"fid only (hugelgupf/p9)", "0b000000 32 0100 2a000000", Tfsync{Fid: 42}},
		{"fid datasync (Linux)", "0f000000 32 0100 2a000000 01000000", Tfsync{Fid: 42, Datasync: 1}},
		{"fid datasync 0", "0f000000 32 0100 2a000000 00000000", Tfsync{Fid: 42}},
	}
	for _, tt := range tests {
		_, m, err := Decode(L, unhex(t, tt.frame))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got, ok := m.(*Tfsync); !ok || *got != tt.want {
			t.Errorf("%s: Decode = %#v, want %#v", tt.name, m, tt.want)
		}
	}
	for _, bad := range []string{"0c000000 32 0100 2a000000 01", "0e000000 32 0100 2a000000 010000"} {
		if _, _, err := Decode(L, unhex(t, bad)); !errors.Is(err, ErrShort) {
			t.Errorf("Tfsync %s: err = %v, want ErrShort", bad, err)
		}
	}
}

// attrBitNames are the getattr mask bits as Linux numbers them
// (P9_GETATTR_* in include/net/9p/9p.h), by p9.AttrMask field.
var attrBitNames = []struct {
	field string
	bit   uint64
}{
	{"Mode", 0x1}, {"NLink", 0x2}, {"UID", 0x4}, {"GID", 0x8},
	{"RDev", 0x10}, {"ATime", 0x20}, {"MTime", 0x40}, {"CTime", 0x80},
	{"INo", 0x100}, {"Size", 0x200}, {"Blocks", 0x400}, {"BTime", 0x800},
	{"Gen", 0x1000}, {"DataVersion", 0x2000},
}

func TestAttrMaskBits(t *testing.T) {
	if n := reflect.TypeFor[p9.AttrMask]().NumField(); n != len(attrBitNames) {
		t.Fatalf("p9.AttrMask has %d fields, table %d", n, len(attrBitNames))
	}
	var all uint64
	for _, b := range attrBitNames {
		var m p9.AttrMask
		reflect.ValueOf(&m).Elem().FieldByName(b.field).SetBool(true)
		if got := AttrMaskBits(m); got != b.bit {
			t.Errorf("AttrMaskBits({%s}) = %#x, want %#x", b.field, got, b.bit)
		}
		if got := AttrMaskOf(b.bit); got != m {
			t.Errorf("AttrMaskOf(%#x) = %+v, want %+v", b.bit, got, m)
		}
		all |= b.bit
	}
	if got := AttrMaskBits(allAttrs); got != all {
		t.Errorf("AttrMaskBits(all) = %#x, want %#x", got, all)
	}
	if got := AttrMaskOf(^uint64(0)); got != allAttrs {
		t.Errorf("AttrMaskOf(^0) = %+v, want every bit (unknown bits ignored)", got)
	}
	if got := AttrMaskOf(^all); got != (p9.AttrMask{}) {
		t.Errorf("AttrMaskOf(unknown bits) = %+v, want empty", got)
	}
}

// setAttrBitNames are the setattr mask bits as Linux numbers them
// (P9_ATTR_*), by p9.SetAttrMask field.
var setAttrBitNames = []struct {
	field string
	bit   uint32
}{
	{"Permissions", 0x1}, {"UID", 0x2}, {"GID", 0x4}, {"Size", 0x8},
	{"ATime", 0x10}, {"MTime", 0x20}, {"CTime", 0x40},
	{"ATimeNotSystemTime", 0x80}, {"MTimeNotSystemTime", 0x100},
}

func TestSetAttrMaskBits(t *testing.T) {
	if n := reflect.TypeFor[p9.SetAttrMask]().NumField(); n != len(setAttrBitNames) {
		t.Fatalf("p9.SetAttrMask has %d fields, table %d", n, len(setAttrBitNames))
	}
	var all uint32
	for _, b := range setAttrBitNames {
		var m p9.SetAttrMask
		reflect.ValueOf(&m).Elem().FieldByName(b.field).SetBool(true)
		if got := SetAttrMaskBits(m); got != b.bit {
			t.Errorf("SetAttrMaskBits({%s}) = %#x, want %#x", b.field, got, b.bit)
		}
		if got := SetAttrMaskOf(b.bit); got != m {
			t.Errorf("SetAttrMaskOf(%#x) = %+v, want %+v", b.bit, got, m)
		}
		all |= b.bit
	}
	if got := SetAttrMaskBits(allSetAttrs); got != all {
		t.Errorf("SetAttrMaskBits(all) = %#x, want %#x", got, all)
	}
	if got := SetAttrMaskOf(^uint32(0)); got != allSetAttrs {
		t.Errorf("SetAttrMaskOf(^0) = %+v, want every bit (unknown bits ignored)", got)
	}
}

var sampleDirents = p9.Dirents{
	{QID: qid(0x61), Offset: 1, Type: p9.TypeDir, Name: "."},
	{QID: qid(0x62), Offset: 2, Type: p9.TypeDir, Name: ".."},
	{QID: qid(0x63), Offset: 0x123456789, Type: p9.TypeSymlink, Name: "a link"},
	{QID: qid(0x64), Offset: 4, Type: p9.TypeRegular, Name: strings.Repeat("long", 64)},
}

// direntData returns the Rreaddir data of sampleDirents.
func direntData(t *testing.T) []byte {
	var b []byte
	for i := range sampleDirents {
		n := len(b)
		b = AppendDirent(b, &sampleDirents[i])
		if got, want := len(b)-n, DirentSize(&sampleDirents[i]); got != want {
			t.Errorf("dirent %q: appended %d bytes, DirentSize %d", sampleDirents[i].Name, got, want)
		}
	}
	return b
}

func TestDirents(t *testing.T) {
	data := direntData(t)
	got, err := DecodeDirents(data)
	if err != nil || !reflect.DeepEqual(got, sampleDirents) {
		t.Errorf("DecodeDirents = %v, %v\nwant %v", got, err, sampleDirents)
	}
	if got, err := DecodeDirents(nil); err != nil || len(got) != 0 {
		t.Errorf("DecodeDirents(nil) = %v, %v, want none", got, err)
	}
	// Cut anywhere but at an entry's end, the data is short.
	ends := make(map[int]bool)
	n := 0
	for i := range sampleDirents {
		n += DirentSize(&sampleDirents[i])
		ends[n] = true
	}
	for cut := 1; cut < len(data); cut++ {
		_, err := DecodeDirents(data[:cut])
		if ends[cut] != (err == nil) || (err != nil && !errors.Is(err, ErrShort)) {
			t.Errorf("DecodeDirents cut to %d of %d: err = %v", cut, len(data), err)
		}
	}
}

func TestPutRreadHeader(t *testing.T) {
	data := []byte("file data read in place")
	buf := make([]byte, RreadHeaderSize+1024)
	copy(buf[RreadHeaderSize:], data)
	frame := PutRreadHeader(buf, 0x1234, len(data))
	if want := Append(nil, L, 0x1234, &Rread{Data: data}); string(frame) != string(want) {
		t.Errorf("PutRreadHeader = %x\nAppend = %x", frame, want)
	}
	checkCountFrame(t, frame, &Rread{Data: data})

	empty := PutRreadHeader(make([]byte, RreadHeaderSize), 1, 0)
	checkCountFrame(t, empty, &Rread{})
}

func TestPutRreaddirHeader(t *testing.T) {
	buf := make([]byte, RreadHeaderSize, 4096)
	for i := range sampleDirents {
		buf = AppendDirent(buf, &sampleDirents[i])
	}
	n := len(buf) - RreadHeaderSize
	frame := PutRreaddirHeader(buf[:cap(buf)], 0x4321, n)
	checkCountFrame(t, frame, &Rreaddir{Data: direntData(t)})
	_, m, _ := Decode(L, frame)
	if r, ok := m.(*Rreaddir); ok {
		if ents, err := DecodeDirents(r.Data); err != nil || !reflect.DeepEqual(ents, sampleDirents) {
			t.Errorf("entries = %v, %v\nwant %v", ents, err, sampleDirents)
		}
	}
}

// checkCountFrame decodes an Rread or Rreaddir frame built in place.
func checkCountFrame(t *testing.T, frame []byte, want Msg) {
	t.Helper()
	tag, got, err := Decode(L, frame)
	if err != nil {
		t.Fatalf("Decode(%x): %v", frame, err)
	}
	if wantTag := binary.LittleEndian.Uint16(frame[5:]); tag != wantTag {
		t.Errorf("tag = %#x, want %#x", tag, wantTag)
	}
	if !sameMsg(got, want) {
		t.Errorf("Decode = %#v\nwant %#v", got, want)
	}
}

func TestDecodeAliasesPayload(t *testing.T) {
	frame := Append(nil, L, 1, &Twrite{Fid: 1, Data: []byte("abc")})
	_, m, err := Decode(L, frame)
	if err != nil {
		t.Fatal(err)
	}
	frame[len(frame)-1] = 'z'
	if got := string(m.(*Twrite).Data); got != "abz" {
		t.Errorf("Data = %q after editing the frame, want it to alias (abz)", got)
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		version string
		want    Dialect
	}{
		{"9P2000.L", L},
		{"9P2000.L.Google.7", L},
		{"9P2000", Plan9},
		{"9P2000.u", U},
		{"9P2000.u.extra", U},
		{"9P2000.", Plan9},
		{"9P2000.x", Plan9},
		{"9P2000x", Unknown},
		{"9P1999", Unknown},
		{"9p2000.l", Unknown},
		{"", Unknown},
		{"bogus", Unknown},
	}
	for _, tt := range tests {
		if got := ParseVersion(tt.version); got != tt.want {
			t.Errorf("ParseVersion(%q) = %v, want %v", tt.version, got, tt.want)
		}
	}
}

func TestDialectString(t *testing.T) {
	tests := []struct {
		d    Dialect
		want string
	}{
		{L, "9P2000.L"},
		{U, "9P2000.u"},
		{Plan9, "9P2000"},
		{Unknown, "unknown"},
		{Dialect(200), "unknown"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("Dialect(%d).String() = %q, want %q", tt.d, got, tt.want)
		}
	}
	for _, d := range dialects {
		if ParseVersion(d.String()) != d {
			t.Errorf("ParseVersion(%v.String()) != %v", d, d)
		}
		if got, ok := ParseDialect(strings.ToLower(d.String())); !ok || got != d {
			t.Errorf("ParseDialect(%q) = %v, %v", strings.ToLower(d.String()), got, ok)
		}
	}
	if _, ok := ParseDialect("9P2000.X"); ok {
		t.Errorf("ParseDialect(9P2000.X) accepted")
	}
}

// golden frames, written by hand: size[4] type[1] tag[2] then the fields,
// little-endian, strings as len[2] bytes, qids as type[1] vers[4] path[8].
var golden = []struct {
	m     Msg
	tag   uint16
	frame string
	d     Dialect // L when zero
}{
	{&Tversion{Msize: 8192, Version: "9P2000.L"}, NoTag,
		"15000000 64 ffff 00200000 0800 3950323030302e4c", L},
	{&Tattach{Fid: 1, Afid: NoFid, Uname: "u", Aname: "", NUname: 1000}, 1,
		"18000000 68 0100 01000000 ffffffff 0100 75 0000 e8030000", L},
	{&Twalk{Fid: 1, NewFid: 2, Names: []string{"a", "bc"}}, 2,
		"18000000 6e 0200 01000000 02000000 0200 0100 61 0200 6263", L},
	{&Rwalk{QIDs: []p9.QID{{Type: p9.TypeDir, Version: 1, Path: 0x10}}}, 2,
		"16000000 6f 0200 0100 80 01000000 1000000000000000", L},
	{&Tlopen{Fid: 2, Flags: p9.ReadWrite | 0o1000}, 3,
		"0f000000 0c 0300 02000000 02020000", L},
	{&Tread{Fid: 2, Offset: 0x0102030405060708, Count: 4096}, 4,
		"17000000 74 0400 02000000 0807060504030201 00100000", L},
	{&Rread{Data: []byte("hi")}, 4,
		"0d000000 75 0400 02000000 6869", L},
	{&Tgetattr{Fid: 2, Mask: allAttrs}, 6,
		"13000000 18 0600 02000000 ff3f000000000000", L},
	{&Tmkdir{Dfid: 2, Name: "d", Mode: 0o41777, GID: 7}, 8,
		"16000000 48 0800 02000000 0100 64 ff430000 07000000", L},
	{&Rlerror{Errno: linux.ENOENT}, 5,
		"0b000000 07 0500 02000000", L},
	{&Rclunk{}, 9,
		"07000000 79 0900", L},
	{&Tattach{Fid: 1, Afid: NoFid, Uname: "u", Aname: "", NUname: p9.NoUID}, 1,
		"14000000 68 0100 01000000 ffffffff 0100 75 0000", Plan9},
	{&Rerror{Ename: "no"}, 5,
		"0b000000 6b 0500 0200 6e6f", Plan9},
	{&Rerror{Ename: "no", Errno: linux.ENOENT}, 5,
		"0f000000 6b 0500 0200 6e6f 02000000", U},
	{&Topen{Fid: 2, Mode: ORDWR | OTRUNC}, 3,
		"0c000000 70 0300 02000000 12", Plan9},
	{&Tcreate{Fid: 2, Name: "l", Perm: DMSYMLINK | 0o777, Mode: OREAD, Extension: "t"}, 3,
		"16000000 72 0300 02000000 0100 6c ff010002 00 0100 74", U},
	// stat(5): n[2] then size[2] type[2] dev[4] qid[13] mode[4] atime[4]
	// mtime[4] length[8] name uid gid muid.
	{&Rstat{Stat: Dir{Type: 1, Dev: 2, QID: p9.QID{Type: p9.TypeDir, Version: 3, Path: 4}, Mode: DMDIR | 0o755, Atime: 5, Mtime: 6, Length: 7, Name: "d", UID: "u", GID: "g", MUID: "", NUID: NoTouch32, NGID: NoTouch32, NMUID: NoTouch32}}, 4,
		"3d000000 7d 0400 3400 3200 0100 02000000 80 03000000 0400000000000000 ed010080 05000000 06000000 0700000000000000 0100 64 0100 75 0100 67 0000", Plan9},
}

func TestGoldenFrames(t *testing.T) {
	for _, g := range golden {
		d := g.d
		if d == Unknown {
			d = L
		}
		want := unhex(t, g.frame)
		if got := Append(nil, d, g.tag, g.m); string(got) != string(want) {
			t.Errorf("Append(%s) =\n%x, want\n%x", g.m, got, want)
		}
		tag, m, err := Decode(d, want)
		if err != nil || tag != g.tag || !sameMsg(m, g.m) {
			t.Errorf("Decode(%s golden) = %#x, %#v, %v", g.m, tag, m, err)
		}
	}
}

// unhex decodes hex with spaces in it.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestErrorStrings(t *testing.T) {
	tests := []struct {
		e    linux.Errno
		want string
	}{
		{linux.ENOENT, "file does not exist"},
		{linux.EACCES, "permission denied"},
		{linux.EEXIST, "file exists"},
		{linux.EISDIR, "is a directory"},
		{linux.ENOTDIR, "not a directory"},
		{linux.ENOTEMPTY, "directory is not empty"},
		{linux.EPERM, "Operation not permitted"},
		{linux.EHOSTDOWN, "Host is down"},
		{linux.EINVAL, "Invalid argument"},
		{linux.Errno(4000), "i/o error"},
	}
	for _, tt := range tests {
		if got := ErrorString(tt.e); got != tt.want {
			t.Errorf("ErrorString(%d) = %q, want %q", tt.e, got, tt.want)
		}
	}
	// Every errno a server sends comes back as itself.
	for e := linux.Errno(1); e < 134; e++ {
		s := ErrorString(e)
		if s == "i/o error" && e != linux.EIO {
			continue
		}
		if got := ErrnoOfString(s); got != e && !(e == linux.EAGAIN || e == linux.EDEADLK || e == linux.ENOTSUP) {
			t.Errorf("ErrnoOfString(ErrorString(%d) = %q) = %d", e, s, got)
		}
	}
	for s, want := range map[string]linux.Errno{"file not found": linux.ENOENT, "Directory not empty": linux.ENOTEMPTY, "bogus": linux.EIO} {
		if got := ErrnoOfString(s); got != want {
			t.Errorf("ErrnoOfString(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestSpecialBitsAndDevices(t *testing.T) {
	for _, tt := range []struct{ dm, unix uint32 }{
		{DMSETUID, 0o4000}, {DMSETGID, 0o2000}, {DMSETVTX, 0o1000},
		{DMSETUID | DMSETGID | DMSETVTX | 0o755, 0o7000}, {DMDIR | 0o777, 0},
	} {
		if got := UnixSpecial(tt.dm); got != tt.unix {
			t.Errorf("UnixSpecial(%#x) = %#o, want %#o", tt.dm, got, tt.unix)
		}
		if got := DMSpecial(tt.unix | 0o644); got != tt.dm&(DMSETUID|DMSETGID|DMSETVTX) {
			t.Errorf("DMSpecial(%#o) = %#x", tt.unix|0o644, got)
		}
	}
	for _, tt := range []struct {
		ext          string
		block, ok    bool
		major, minor uint32
	}{
		{"c 1 3", false, true, 1, 3}, {"b 8 17", true, true, 8, 17},
		{"x 1 3", false, false, 0, 0}, {"c 1", false, false, 0, 0}, {"", false, false, 0, 0},
	} {
		block, major, minor, ok := ParseDevice(tt.ext)
		if ok != tt.ok || (ok && (block != tt.block || major != tt.major || minor != tt.minor)) {
			t.Errorf("ParseDevice(%q) = %v %d %d %v", tt.ext, block, major, minor, ok)
		}
		if ok && DeviceExtension(block, major, minor) != tt.ext {
			t.Errorf("DeviceExtension(%v, %d, %d) = %q, want %q", block, major, minor, DeviceExtension(block, major, minor), tt.ext)
		}
	}
}
