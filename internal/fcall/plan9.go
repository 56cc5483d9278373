// The messages of 9P2000 and 9P2000.u that 9P2000.L replaced (intro(5),
// open(5), stat(5), error(5), and the 9P2000.u additions as the Linux
// client's net/9p/protocol.c reads them).

package fcall

import (
	"fmt"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
)

// Bits of a 9P2000 mode (Dir.Mode, Tcreate's Perm). The DM*SYMLINK to
// DMSETVTX bits are 9P2000.u's.
const (
	DMDIR       uint32 = 0x80000000
	DMAPPEND    uint32 = 0x40000000
	DMEXCL      uint32 = 0x20000000
	DMMOUNT     uint32 = 0x10000000
	DMAUTH      uint32 = 0x08000000
	DMTMP       uint32 = 0x04000000
	DMSYMLINK   uint32 = 0x02000000
	DMLINK      uint32 = 0x01000000
	DMDEVICE    uint32 = 0x00800000
	DMNAMEDPIPE uint32 = 0x00200000
	DMSOCKET    uint32 = 0x00100000
	DMSETUID    uint32 = 0x00080000
	DMSETGID    uint32 = 0x00040000
	DMSETVTX    uint32 = 0x00010000
)

// Modes of Topen and Tcreate (open(5)).
const (
	OREAD   uint8 = 0
	OWRITE  uint8 = 1
	ORDWR   uint8 = 2
	OEXEC   uint8 = 3
	OTRUNC  uint8 = 0x10
	OCEXEC  uint8 = 0x20
	ORCLOSE uint8 = 0x40
	// OAPPEND is 9P2000.u's (the Linux client sends it for O_APPEND).
	OAPPEND uint8 = 0x80
)

// NoTouch32 and friends are the "don't touch" values of a Twstat field.
const (
	NoTouch16 uint16 = 0xffff
	NoTouch32 uint32 = 0xffffffff
	NoTouch64 uint64 = 0xffffffffffffffff
)

// Dir is a directory entry as Tstat, Twstat and a directory's Tread carry
// it (stat(5)). Extension, NUID, NGID and NMUID travel in 9P2000.u only.
type Dir struct {
	Type   uint16
	Dev    uint32
	QID    p9.QID
	Mode   uint32
	Atime  uint32
	Mtime  uint32
	Length uint64
	Name   string
	UID    string
	GID    string
	MUID   string

	// Extension is a symlink's target, a device's "b|c major minor", or
	// the "fid\n" of a hard link's source in Tcreate.
	Extension string
	NUID      uint32
	NGID      uint32
	NMUID     uint32
}

// NoTouchDir returns the Dir whose every field says "don't touch", for a
// Twstat to fill in.
func NoTouchDir() Dir {
	return Dir{
		Type: NoTouch16, Dev: NoTouch32,
		QID:  p9.QID{Type: 0xff, Version: NoTouch32, Path: NoTouch64},
		Mode: NoTouch32, Atime: NoTouch32, Mtime: NoTouch32, Length: NoTouch64,
		NUID: NoTouch32, NGID: NoTouch32, NMUID: NoTouch32,
	}
}

// AppendDir appends the wire form of d in dialect dl, its size[2] first.
func AppendDir(b []byte, dl Dialect, d *Dir) []byte {
	e := encoder{b: b}
	start := len(e.b)
	e.u16(0)
	e.u16(d.Type)
	e.u32(d.Dev)
	e.qid(d.QID)
	e.u32(d.Mode)
	e.u32(d.Atime)
	e.u32(d.Mtime)
	e.u64(d.Length)
	e.str(d.Name)
	e.str(d.UID)
	e.str(d.GID)
	e.str(d.MUID)
	if dl == U {
		e.str(d.Extension)
		e.u32(d.NUID)
		e.u32(d.NGID)
		e.u32(d.NMUID)
	}
	n := len(e.b) - start - 2
	e.b[start], e.b[start+1] = byte(n), byte(n>>8)
	return e.b
}

// DirSize is the wire size of d in dialect dl, its size[2] included.
func DirSize(dl Dialect, d *Dir) int {
	n := 2 + 2 + 4 + 13 + 4 + 4 + 4 + 8 + 8 + len(d.Name) + len(d.UID) + len(d.GID) + len(d.MUID)
	if dl == U {
		n += 2 + len(d.Extension) + 12
	}
	return n
}

// decodeDir reads one Dir whose size[2] must cover exactly its fields.
func decodeDir(d *decoder, dl Dialect) Dir {
	var dir Dir
	sized(d, func(s *decoder) {
		dir.Type = s.u16()
		dir.Dev = s.u32()
		dir.QID = s.qid()
		dir.Mode = s.u32()
		dir.Atime = s.u32()
		dir.Mtime = s.u32()
		dir.Length = s.u64()
		dir.Name = s.str()
		dir.UID = s.str()
		dir.GID = s.str()
		dir.MUID = s.str()
		if dl == U {
			dir.Extension = s.str()
			dir.NUID = s.u32()
			dir.NGID = s.u32()
			dir.NMUID = s.u32()
		} else {
			dir.NUID, dir.NGID, dir.NMUID = NoTouch32, NoTouch32, NoTouch32
		}
	})
	return dir
}

// sized reads a count[2] and runs fields on exactly that many bytes: a
// count that says more than the frame holds is ErrShort, fields that end
// before the count does ErrTrailing.
func sized(d *decoder, fields func(*decoder)) {
	body := d.take(int(d.u16()))
	if d.err != nil {
		return
	}
	s := decoder{b: body}
	fields(&s)
	switch {
	case s.err != nil:
		d.err = s.err
	case len(s.b) != 0:
		d.err = ErrTrailing
	}
}

// DecodeDirs parses the data of a 9P2000 directory Tread: whole entries
// only.
func DecodeDirs(dl Dialect, data []byte) ([]Dir, error) {
	d := decoder{b: data}
	var out []Dir
	for len(d.b) > 0 && d.err == nil {
		dir := decodeDir(&d, dl)
		if d.err == nil {
			out = append(out, dir)
		}
	}
	return out, d.err
}

// newPlan9Msg is newMsg for the messages of this file.
func newPlan9Msg(typ uint8) Msg {
	switch typ {
	case MsgRerror:
		return new(Rerror)
	case MsgTopen:
		return new(Topen)
	case MsgRopen:
		return new(Ropen)
	case MsgTcreate:
		return new(Tcreate)
	case MsgRcreate:
		return new(Rcreate)
	case MsgTstat:
		return new(Tstat)
	case MsgRstat:
		return new(Rstat)
	case MsgTwstat:
		return new(Twstat)
	case MsgRwstat:
		return new(Rwstat)
	}
	return nil
}

// Rerror is the error reply of 9P2000 (a string) and 9P2000.u (a string
// and an errno).
type Rerror struct {
	Ename string
	Errno linux.Errno // 9P2000.u only
}

// Type implements Msg.
func (*Rerror) Type() uint8 { return MsgRerror }

func (m *Rerror) String() string { return "Rerror" }

func (m *Rerror) encode(e *encoder, dl Dialect) {
	e.str(m.Ename)
	if dl == U {
		e.u32(uint32(m.Errno))
	}
}

func (m *Rerror) decode(d *decoder, dl Dialect) {
	m.Ename = d.str()
	if dl == U {
		m.Errno = linux.Errno(d.u32())
	}
}

// Topen is the Topen message.
type Topen struct {
	Fid  uint32
	Mode uint8
}

// Type implements Msg.
func (*Topen) Type() uint8 { return MsgTopen }

func (m *Topen) String() string { return "Topen" }

func (m *Topen) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.u8(m.Mode)
}

func (m *Topen) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.Mode = d.u8()
}

// Ropen is the Ropen message.
type Ropen struct {
	QID    p9.QID
	IOUnit uint32
}

// Type implements Msg.
func (*Ropen) Type() uint8 { return MsgRopen }

func (m *Ropen) String() string { return "Ropen" }

func (m *Ropen) encode(e *encoder, _ Dialect) {
	e.qid(m.QID)
	e.u32(m.IOUnit)
}

func (m *Ropen) decode(d *decoder, _ Dialect) {
	m.QID = d.qid()
	m.IOUnit = d.u32()
}

// Tcreate is the Tcreate message; Extension travels in 9P2000.u only.
type Tcreate struct {
	Fid       uint32
	Name      string
	Perm      uint32
	Mode      uint8
	Extension string
}

// Type implements Msg.
func (*Tcreate) Type() uint8 { return MsgTcreate }

func (m *Tcreate) String() string { return "Tcreate" }

func (m *Tcreate) encode(e *encoder, dl Dialect) {
	e.u32(m.Fid)
	e.str(m.Name)
	e.u32(m.Perm)
	e.u8(m.Mode)
	if dl == U {
		e.str(m.Extension)
	}
}

func (m *Tcreate) decode(d *decoder, dl Dialect) {
	m.Fid = d.u32()
	m.Name = d.str()
	m.Perm = d.u32()
	m.Mode = d.u8()
	if dl == U {
		m.Extension = d.str()
	}
}

// Rcreate is the Rcreate message.
type Rcreate struct {
	QID    p9.QID
	IOUnit uint32
}

// Type implements Msg.
func (*Rcreate) Type() uint8 { return MsgRcreate }

func (m *Rcreate) String() string { return "Rcreate" }

func (m *Rcreate) encode(e *encoder, _ Dialect) {
	e.qid(m.QID)
	e.u32(m.IOUnit)
}

func (m *Rcreate) decode(d *decoder, _ Dialect) {
	m.QID = d.qid()
	m.IOUnit = d.u32()
}

// Tstat is the Tstat message.
type Tstat struct {
	Fid uint32
}

// Type implements Msg.
func (*Tstat) Type() uint8 { return MsgTstat }

func (m *Tstat) String() string { return "Tstat" }

func (m *Tstat) encode(e *encoder, _ Dialect) { e.u32(m.Fid) }

func (m *Tstat) decode(d *decoder, _ Dialect) { m.Fid = d.u32() }

// Rstat is the Rstat message: stat[n] is a count[2] followed by the Dir,
// whose own size[2] is two less.
type Rstat struct {
	Stat Dir
}

// Type implements Msg.
func (*Rstat) Type() uint8 { return MsgRstat }

func (m *Rstat) String() string { return "Rstat" }

func (m *Rstat) encode(e *encoder, dl Dialect) {
	e.u16(uint16(DirSize(dl, &m.Stat)))
	e.b = AppendDir(e.b, dl, &m.Stat)
}

func (m *Rstat) decode(d *decoder, dl Dialect) {
	m.Stat = decodeStatN(d, dl)
}

// Twstat is the Twstat message.
type Twstat struct {
	Fid  uint32
	Stat Dir
}

// Type implements Msg.
func (*Twstat) Type() uint8 { return MsgTwstat }

func (m *Twstat) String() string { return "Twstat" }

func (m *Twstat) encode(e *encoder, dl Dialect) {
	e.u32(m.Fid)
	e.u16(uint16(DirSize(dl, &m.Stat)))
	e.b = AppendDir(e.b, dl, &m.Stat)
}

func (m *Twstat) decode(d *decoder, dl Dialect) {
	m.Fid = d.u32()
	m.Stat = decodeStatN(d, dl)
}

// decodeStatN reads stat[n]: a count[2] that must cover exactly one Dir.
func decodeStatN(d *decoder, dl Dialect) Dir {
	var dir Dir
	sized(d, func(s *decoder) { dir = decodeDir(s, dl) })
	return dir
}

// Rwstat is the Rwstat message.
type Rwstat struct{}

// Type implements Msg.
func (*Rwstat) Type() uint8 { return MsgRwstat }

func (m *Rwstat) String() string { return "Rwstat" }

func (m *Rwstat) encode(*encoder, Dialect) {}
func (m *Rwstat) decode(*decoder, Dialect) {}

// UnixSpecial is the Linux setuid, setgid and sticky bits (04000, 02000,
// 01000) of 9P2000.u's DMSETUID, DMSETGID and DMSETVTX in perm.
func UnixSpecial(perm uint32) uint32 {
	var b uint32
	for _, s := range specialBits {
		if perm&s.dm != 0 {
			b |= s.unix
		}
	}
	return b
}

// DMSpecial is UnixSpecial backwards.
func DMSpecial(mode uint32) uint32 {
	var b uint32
	for _, s := range specialBits {
		if mode&s.unix != 0 {
			b |= s.dm
		}
	}
	return b
}

var specialBits = [...]struct{ dm, unix uint32 }{
	{DMSETUID, 0o4000}, {DMSETGID, 0o2000}, {DMSETVTX, 0o1000},
}

// DeviceExtension is the 9P2000.u extension of a device: "b major minor"
// for a block device, "c major minor" for a character one.
func DeviceExtension(block bool, major, minor uint32) string {
	kind := "c"
	if block {
		kind = "b"
	}
	return kind + " " + itoa(int(major)) + " " + itoa(int(minor))
}

// ParseDevice reads a device's 9P2000.u extension.
func ParseDevice(ext string) (block bool, major, minor uint32, ok bool) {
	var kind byte
	if n, _ := fmt.Sscanf(ext, "%c %d %d", &kind, &major, &minor); n != 3 || (kind != 'b' && kind != 'c') {
		return false, 0, 0, false
	}
	return kind == 'b', major, minor, true
}
