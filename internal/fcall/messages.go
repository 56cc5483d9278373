// One pattern per message, written from the 9P2000.L message table (the
// Linux client's net/9p/client.c and diod's protocol notes) and checked by
// the round-trip tests.

package fcall

import (
	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
)

// Message types.
const (
	MsgRlerror      uint8 = 7
	MsgTstatfs      uint8 = 8
	MsgRstatfs      uint8 = 9
	MsgTlopen       uint8 = 12
	MsgRlopen       uint8 = 13
	MsgTlcreate     uint8 = 14
	MsgRlcreate     uint8 = 15
	MsgTsymlink     uint8 = 16
	MsgRsymlink     uint8 = 17
	MsgTmknod       uint8 = 18
	MsgRmknod       uint8 = 19
	MsgTrename      uint8 = 20
	MsgRrename      uint8 = 21
	MsgTreadlink    uint8 = 22
	MsgRreadlink    uint8 = 23
	MsgTgetattr     uint8 = 24
	MsgRgetattr     uint8 = 25
	MsgTsetattr     uint8 = 26
	MsgRsetattr     uint8 = 27
	MsgTxattrwalk   uint8 = 30
	MsgRxattrwalk   uint8 = 31
	MsgTxattrcreate uint8 = 32
	MsgRxattrcreate uint8 = 33
	MsgTreaddir     uint8 = 40
	MsgRreaddir     uint8 = 41
	MsgTfsync       uint8 = 50
	MsgRfsync       uint8 = 51
	MsgTlock        uint8 = 52
	MsgRlock        uint8 = 53
	MsgTgetlock     uint8 = 54
	MsgRgetlock     uint8 = 55
	MsgTlink        uint8 = 70
	MsgRlink        uint8 = 71
	MsgTmkdir       uint8 = 72
	MsgRmkdir       uint8 = 73
	MsgTrenameat    uint8 = 74
	MsgRrenameat    uint8 = 75
	MsgTunlinkat    uint8 = 76
	MsgRunlinkat    uint8 = 77
	MsgTversion     uint8 = 100
	MsgRversion     uint8 = 101
	MsgTauth        uint8 = 102
	MsgRauth        uint8 = 103
	MsgTattach      uint8 = 104
	MsgRattach      uint8 = 105
	MsgTflush       uint8 = 108
	MsgRflush       uint8 = 109
	MsgTwalk        uint8 = 110
	MsgRwalk        uint8 = 111
	MsgTread        uint8 = 116
	MsgRread        uint8 = 117
	MsgTwrite       uint8 = 118
	MsgRwrite       uint8 = 119
	MsgTclunk       uint8 = 120
	MsgRclunk       uint8 = 121
	MsgTremove      uint8 = 122
	MsgRremove      uint8 = 123
	// 9P2000 and 9P2000.u only (plan9.go).
	MsgRerror  uint8 = 107
	MsgTopen   uint8 = 112
	MsgRopen   uint8 = 113
	MsgTcreate uint8 = 114
	MsgRcreate uint8 = 115
	MsgTstat   uint8 = 124
	MsgRstat   uint8 = 125
	MsgTwstat  uint8 = 126
	MsgRwstat  uint8 = 127
)

// newMsg returns an empty message of type typ, nil for an unknown type.
func newMsg(typ uint8) Msg {
	switch typ {
	case MsgRlerror:
		return new(Rlerror)
	case MsgTstatfs:
		return new(Tstatfs)
	case MsgRstatfs:
		return new(Rstatfs)
	case MsgTlopen:
		return new(Tlopen)
	case MsgRlopen:
		return new(Rlopen)
	case MsgTlcreate:
		return new(Tlcreate)
	case MsgRlcreate:
		return new(Rlcreate)
	case MsgTsymlink:
		return new(Tsymlink)
	case MsgRsymlink:
		return new(Rsymlink)
	case MsgTmknod:
		return new(Tmknod)
	case MsgRmknod:
		return new(Rmknod)
	case MsgTrename:
		return new(Trename)
	case MsgRrename:
		return new(Rrename)
	case MsgTreadlink:
		return new(Treadlink)
	case MsgRreadlink:
		return new(Rreadlink)
	case MsgTgetattr:
		return new(Tgetattr)
	case MsgRgetattr:
		return new(Rgetattr)
	case MsgTsetattr:
		return new(Tsetattr)
	case MsgRsetattr:
		return new(Rsetattr)
	case MsgTxattrwalk:
		return new(Txattrwalk)
	case MsgRxattrwalk:
		return new(Rxattrwalk)
	case MsgTxattrcreate:
		return new(Txattrcreate)
	case MsgRxattrcreate:
		return new(Rxattrcreate)
	case MsgTreaddir:
		return new(Treaddir)
	case MsgRreaddir:
		return new(Rreaddir)
	case MsgTfsync:
		return new(Tfsync)
	case MsgRfsync:
		return new(Rfsync)
	case MsgTlock:
		return new(Tlock)
	case MsgRlock:
		return new(Rlock)
	case MsgTgetlock:
		return new(Tgetlock)
	case MsgRgetlock:
		return new(Rgetlock)
	case MsgTlink:
		return new(Tlink)
	case MsgRlink:
		return new(Rlink)
	case MsgTmkdir:
		return new(Tmkdir)
	case MsgRmkdir:
		return new(Rmkdir)
	case MsgTrenameat:
		return new(Trenameat)
	case MsgRrenameat:
		return new(Rrenameat)
	case MsgTunlinkat:
		return new(Tunlinkat)
	case MsgRunlinkat:
		return new(Runlinkat)
	case MsgTversion:
		return new(Tversion)
	case MsgRversion:
		return new(Rversion)
	case MsgTauth:
		return new(Tauth)
	case MsgRauth:
		return new(Rauth)
	case MsgTattach:
		return new(Tattach)
	case MsgRattach:
		return new(Rattach)
	case MsgTflush:
		return new(Tflush)
	case MsgRflush:
		return new(Rflush)
	case MsgTwalk:
		return new(Twalk)
	case MsgRwalk:
		return new(Rwalk)
	case MsgTread:
		return new(Tread)
	case MsgRread:
		return new(Rread)
	case MsgTwrite:
		return new(Twrite)
	case MsgRwrite:
		return new(Rwrite)
	case MsgTclunk:
		return new(Tclunk)
	case MsgRclunk:
		return new(Rclunk)
	case MsgTremove:
		return new(Tremove)
	case MsgRremove:
		return new(Rremove)
	}
	return newPlan9Msg(typ)
}

// Name returns the name of a message type ("Twalk"), or "type N".
func Name(typ uint8) string {
	switch typ {
	case MsgRlerror:
		return "Rlerror"
	case MsgTstatfs:
		return "Tstatfs"
	case MsgRstatfs:
		return "Rstatfs"
	case MsgTlopen:
		return "Tlopen"
	case MsgRlopen:
		return "Rlopen"
	case MsgTlcreate:
		return "Tlcreate"
	case MsgRlcreate:
		return "Rlcreate"
	case MsgTsymlink:
		return "Tsymlink"
	case MsgRsymlink:
		return "Rsymlink"
	case MsgTmknod:
		return "Tmknod"
	case MsgRmknod:
		return "Rmknod"
	case MsgTrename:
		return "Trename"
	case MsgRrename:
		return "Rrename"
	case MsgTreadlink:
		return "Treadlink"
	case MsgRreadlink:
		return "Rreadlink"
	case MsgTgetattr:
		return "Tgetattr"
	case MsgRgetattr:
		return "Rgetattr"
	case MsgTsetattr:
		return "Tsetattr"
	case MsgRsetattr:
		return "Rsetattr"
	case MsgTxattrwalk:
		return "Txattrwalk"
	case MsgRxattrwalk:
		return "Rxattrwalk"
	case MsgTxattrcreate:
		return "Txattrcreate"
	case MsgRxattrcreate:
		return "Rxattrcreate"
	case MsgTreaddir:
		return "Treaddir"
	case MsgRreaddir:
		return "Rreaddir"
	case MsgTfsync:
		return "Tfsync"
	case MsgRfsync:
		return "Rfsync"
	case MsgTlock:
		return "Tlock"
	case MsgRlock:
		return "Rlock"
	case MsgTgetlock:
		return "Tgetlock"
	case MsgRgetlock:
		return "Rgetlock"
	case MsgTlink:
		return "Tlink"
	case MsgRlink:
		return "Rlink"
	case MsgTmkdir:
		return "Tmkdir"
	case MsgRmkdir:
		return "Rmkdir"
	case MsgTrenameat:
		return "Trenameat"
	case MsgRrenameat:
		return "Rrenameat"
	case MsgTunlinkat:
		return "Tunlinkat"
	case MsgRunlinkat:
		return "Runlinkat"
	case MsgTversion:
		return "Tversion"
	case MsgRversion:
		return "Rversion"
	case MsgTauth:
		return "Tauth"
	case MsgRauth:
		return "Rauth"
	case MsgTattach:
		return "Tattach"
	case MsgRattach:
		return "Rattach"
	case MsgTflush:
		return "Tflush"
	case MsgRflush:
		return "Rflush"
	case MsgTwalk:
		return "Twalk"
	case MsgRwalk:
		return "Rwalk"
	case MsgTread:
		return "Tread"
	case MsgRread:
		return "Rread"
	case MsgTwrite:
		return "Twrite"
	case MsgRwrite:
		return "Rwrite"
	case MsgTclunk:
		return "Tclunk"
	case MsgRclunk:
		return "Rclunk"
	case MsgTremove:
		return "Tremove"
	case MsgRremove:
		return "Rremove"
	}
	if m := newPlan9Msg(typ); m != nil {
		return m.String()
	}
	return "type " + itoa(int(typ))
}

// Rlerror is the Rlerror message.
type Rlerror struct {
	Errno linux.Errno
}

// Type implements Msg.
func (*Rlerror) Type() uint8 { return MsgRlerror }

func (m *Rlerror) String() string { return "Rlerror" }

func (m *Rlerror) encode(e *encoder, _ Dialect) {
	e.u32(uint32(m.Errno))
}

func (m *Rlerror) decode(d *decoder, _ Dialect) {
	m.Errno = linux.Errno(d.u32())
}

// Tstatfs is the Tstatfs message.
type Tstatfs struct {
	Fid uint32
}

// Type implements Msg.
func (*Tstatfs) Type() uint8 { return MsgTstatfs }

func (m *Tstatfs) String() string { return "Tstatfs" }

func (m *Tstatfs) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
}

func (m *Tstatfs) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
}

// Rstatfs is the Rstatfs message.
type Rstatfs struct {
	Stat p9.FSStat
}

// Type implements Msg.
func (*Rstatfs) Type() uint8 { return MsgRstatfs }

func (m *Rstatfs) String() string { return "Rstatfs" }

func (m *Rstatfs) encode(e *encoder, _ Dialect) {
	encodeFSStat(e, &m.Stat)
}

func (m *Rstatfs) decode(d *decoder, _ Dialect) {
	decodeFSStat(d, &m.Stat)
}

// Tlopen is the Tlopen message.
type Tlopen struct {
	Fid   uint32
	Flags p9.OpenFlags
}

// Type implements Msg.
func (*Tlopen) Type() uint8 { return MsgTlopen }

func (m *Tlopen) String() string { return "Tlopen" }

func (m *Tlopen) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.u32(uint32(m.Flags))
}

func (m *Tlopen) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.Flags = p9.OpenFlags(d.u32())
}

// Rlopen is the Rlopen message.
type Rlopen struct {
	QID    p9.QID
	IOUnit uint32
}

// Type implements Msg.
func (*Rlopen) Type() uint8 { return MsgRlopen }

func (m *Rlopen) String() string { return "Rlopen" }

func (m *Rlopen) encode(e *encoder, _ Dialect) {
	e.qid(m.QID)
	e.u32(m.IOUnit)
}

func (m *Rlopen) decode(d *decoder, _ Dialect) {
	m.QID = d.qid()
	m.IOUnit = d.u32()
}

// Tlcreate is the Tlcreate message.
type Tlcreate struct {
	Fid   uint32
	Name  string
	Flags p9.OpenFlags
	Mode  p9.FileMode
	GID   p9.GID
}

// Type implements Msg.
func (*Tlcreate) Type() uint8 { return MsgTlcreate }

func (m *Tlcreate) String() string { return "Tlcreate" }

func (m *Tlcreate) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.str(m.Name)
	e.u32(uint32(m.Flags))
	e.u32(uint32(m.Mode))
	e.u32(uint32(m.GID))
}

func (m *Tlcreate) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.Name = d.str()
	m.Flags = p9.OpenFlags(d.u32())
	m.Mode = p9.FileMode(d.u32())
	m.GID = p9.GID(d.u32())
}

// Rlcreate is the Rlcreate message.
type Rlcreate struct {
	QID    p9.QID
	IOUnit uint32
}

// Type implements Msg.
func (*Rlcreate) Type() uint8 { return MsgRlcreate }

func (m *Rlcreate) String() string { return "Rlcreate" }

func (m *Rlcreate) encode(e *encoder, _ Dialect) {
	e.qid(m.QID)
	e.u32(m.IOUnit)
}

func (m *Rlcreate) decode(d *decoder, _ Dialect) {
	m.QID = d.qid()
	m.IOUnit = d.u32()
}

// Tsymlink is the Tsymlink message.
type Tsymlink struct {
	Fid    uint32
	Name   string
	Target string
	GID    p9.GID
}

// Type implements Msg.
func (*Tsymlink) Type() uint8 { return MsgTsymlink }

func (m *Tsymlink) String() string { return "Tsymlink" }

func (m *Tsymlink) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.str(m.Name)
	e.str(m.Target)
	e.u32(uint32(m.GID))
}

func (m *Tsymlink) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.Name = d.str()
	m.Target = d.str()
	m.GID = p9.GID(d.u32())
}

// Rsymlink is the Rsymlink message.
type Rsymlink struct {
	QID p9.QID
}

// Type implements Msg.
func (*Rsymlink) Type() uint8 { return MsgRsymlink }

func (m *Rsymlink) String() string { return "Rsymlink" }

func (m *Rsymlink) encode(e *encoder, _ Dialect) {
	e.qid(m.QID)
}

func (m *Rsymlink) decode(d *decoder, _ Dialect) {
	m.QID = d.qid()
}

// Tmknod is the Tmknod message.
type Tmknod struct {
	Dfid  uint32
	Name  string
	Mode  p9.FileMode
	Major uint32
	Minor uint32
	GID   p9.GID
}

// Type implements Msg.
func (*Tmknod) Type() uint8 { return MsgTmknod }

func (m *Tmknod) String() string { return "Tmknod" }

func (m *Tmknod) encode(e *encoder, _ Dialect) {
	e.u32(m.Dfid)
	e.str(m.Name)
	e.u32(uint32(m.Mode))
	e.u32(m.Major)
	e.u32(m.Minor)
	e.u32(uint32(m.GID))
}

func (m *Tmknod) decode(d *decoder, _ Dialect) {
	m.Dfid = d.u32()
	m.Name = d.str()
	m.Mode = p9.FileMode(d.u32())
	m.Major = d.u32()
	m.Minor = d.u32()
	m.GID = p9.GID(d.u32())
}

// Rmknod is the Rmknod message.
type Rmknod struct {
	QID p9.QID
}

// Type implements Msg.
func (*Rmknod) Type() uint8 { return MsgRmknod }

func (m *Rmknod) String() string { return "Rmknod" }

func (m *Rmknod) encode(e *encoder, _ Dialect) {
	e.qid(m.QID)
}

func (m *Rmknod) decode(d *decoder, _ Dialect) {
	m.QID = d.qid()
}

// Trename is the Trename message.
type Trename struct {
	Fid  uint32
	Dfid uint32
	Name string
}

// Type implements Msg.
func (*Trename) Type() uint8 { return MsgTrename }

func (m *Trename) String() string { return "Trename" }

func (m *Trename) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.u32(m.Dfid)
	e.str(m.Name)
}

func (m *Trename) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.Dfid = d.u32()
	m.Name = d.str()
}

// Rrename is the Rrename message.
type Rrename struct {
}

// Type implements Msg.
func (*Rrename) Type() uint8 { return MsgRrename }

func (m *Rrename) String() string { return "Rrename" }

func (m *Rrename) encode(*encoder, Dialect) {}
func (m *Rrename) decode(*decoder, Dialect) {}

// Treadlink is the Treadlink message.
type Treadlink struct {
	Fid uint32
}

// Type implements Msg.
func (*Treadlink) Type() uint8 { return MsgTreadlink }

func (m *Treadlink) String() string { return "Treadlink" }

func (m *Treadlink) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
}

func (m *Treadlink) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
}

// Rreadlink is the Rreadlink message.
type Rreadlink struct {
	Target string
}

// Type implements Msg.
func (*Rreadlink) Type() uint8 { return MsgRreadlink }

func (m *Rreadlink) String() string { return "Rreadlink" }

func (m *Rreadlink) encode(e *encoder, _ Dialect) {
	e.str(m.Target)
}

func (m *Rreadlink) decode(d *decoder, _ Dialect) {
	m.Target = d.str()
}

// Tgetattr is the Tgetattr message.
type Tgetattr struct {
	Fid  uint32
	Mask p9.AttrMask
}

// Type implements Msg.
func (*Tgetattr) Type() uint8 { return MsgTgetattr }

func (m *Tgetattr) String() string { return "Tgetattr" }

func (m *Tgetattr) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.u64(AttrMaskBits(m.Mask))
}

func (m *Tgetattr) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.Mask = AttrMaskOf(d.u64())
}

// Rgetattr is the Rgetattr message.
type Rgetattr struct {
	Valid p9.AttrMask
	QID   p9.QID
	Attr  p9.Attr
}

// Type implements Msg.
func (*Rgetattr) Type() uint8 { return MsgRgetattr }

func (m *Rgetattr) String() string { return "Rgetattr" }

func (m *Rgetattr) encode(e *encoder, _ Dialect) {
	e.u64(AttrMaskBits(m.Valid))
	e.qid(m.QID)
	encodeAttr(e, &m.Attr)
}

func (m *Rgetattr) decode(d *decoder, _ Dialect) {
	m.Valid = AttrMaskOf(d.u64())
	m.QID = d.qid()
	decodeAttr(d, &m.Attr)
}

// Tsetattr is the Tsetattr message.
type Tsetattr struct {
	Fid   uint32
	Valid p9.SetAttrMask
	Attr  p9.SetAttr
}

// Type implements Msg.
func (*Tsetattr) Type() uint8 { return MsgTsetattr }

func (m *Tsetattr) String() string { return "Tsetattr" }

func (m *Tsetattr) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.u32(SetAttrMaskBits(m.Valid))
	encodeSetAttr(e, &m.Attr)
}

func (m *Tsetattr) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.Valid = SetAttrMaskOf(d.u32())
	decodeSetAttr(d, &m.Attr)
}

// Rsetattr is the Rsetattr message.
type Rsetattr struct {
}

// Type implements Msg.
func (*Rsetattr) Type() uint8 { return MsgRsetattr }

func (m *Rsetattr) String() string { return "Rsetattr" }

func (m *Rsetattr) encode(*encoder, Dialect) {}
func (m *Rsetattr) decode(*decoder, Dialect) {}

// Txattrwalk is the Txattrwalk message.
type Txattrwalk struct {
	Fid    uint32
	NewFid uint32
	Name   string
}

// Type implements Msg.
func (*Txattrwalk) Type() uint8 { return MsgTxattrwalk }

func (m *Txattrwalk) String() string { return "Txattrwalk" }

func (m *Txattrwalk) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.u32(m.NewFid)
	e.str(m.Name)
}

func (m *Txattrwalk) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.NewFid = d.u32()
	m.Name = d.str()
}

// Rxattrwalk is the Rxattrwalk message.
type Rxattrwalk struct {
	Size uint64
}

// Type implements Msg.
func (*Rxattrwalk) Type() uint8 { return MsgRxattrwalk }

func (m *Rxattrwalk) String() string { return "Rxattrwalk" }

func (m *Rxattrwalk) encode(e *encoder, _ Dialect) {
	e.u64(m.Size)
}

func (m *Rxattrwalk) decode(d *decoder, _ Dialect) {
	m.Size = d.u64()
}

// Txattrcreate is the Txattrcreate message.
type Txattrcreate struct {
	Fid   uint32
	Name  string
	Size  uint64
	Flags uint32
}

// Type implements Msg.
func (*Txattrcreate) Type() uint8 { return MsgTxattrcreate }

func (m *Txattrcreate) String() string { return "Txattrcreate" }

func (m *Txattrcreate) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.str(m.Name)
	e.u64(m.Size)
	e.u32(m.Flags)
}

func (m *Txattrcreate) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.Name = d.str()
	m.Size = d.u64()
	m.Flags = d.u32()
}

// Rxattrcreate is the Rxattrcreate message.
type Rxattrcreate struct {
}

// Type implements Msg.
func (*Rxattrcreate) Type() uint8 { return MsgRxattrcreate }

func (m *Rxattrcreate) String() string { return "Rxattrcreate" }

func (m *Rxattrcreate) encode(*encoder, Dialect) {}
func (m *Rxattrcreate) decode(*decoder, Dialect) {}

// Treaddir is the Treaddir message.
type Treaddir struct {
	Fid    uint32
	Offset uint64
	Count  uint32
}

// Type implements Msg.
func (*Treaddir) Type() uint8 { return MsgTreaddir }

func (m *Treaddir) String() string { return "Treaddir" }

func (m *Treaddir) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.u64(m.Offset)
	e.u32(m.Count)
}

func (m *Treaddir) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.Offset = d.u64()
	m.Count = d.u32()
}

// Rreaddir is the Rreaddir message.
type Rreaddir struct {
	Data []byte
}

// Type implements Msg.
func (*Rreaddir) Type() uint8 { return MsgRreaddir }

func (m *Rreaddir) String() string { return "Rreaddir" }

func (m *Rreaddir) encode(e *encoder, _ Dialect) {
	e.u32(uint32(len(m.Data)))
	e.b = append(e.b, m.Data...)
}

func (m *Rreaddir) decode(d *decoder, _ Dialect) {
	m.Data = d.take(int(d.u32()))
}

// Tfsync is the Tfsync message.
type Tfsync struct {
	Fid      uint32
	Datasync uint32
}

// Type implements Msg.
func (*Tfsync) Type() uint8 { return MsgTfsync }

func (m *Tfsync) String() string { return "Tfsync" }

func (m *Tfsync) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.u32(m.Datasync)
}

func (m *Tfsync) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	if len(d.b) > 0 {
		m.Datasync = d.u32()
	}
}

// Rfsync is the Rfsync message.
type Rfsync struct {
}

// Type implements Msg.
func (*Rfsync) Type() uint8 { return MsgRfsync }

func (m *Rfsync) String() string { return "Rfsync" }

func (m *Rfsync) encode(*encoder, Dialect) {}
func (m *Rfsync) decode(*decoder, Dialect) {}

// Tlock is the Tlock message.
type Tlock struct {
	Fid      uint32
	LockType p9.LockType
	Flags    p9.LockFlags
	Start    uint64
	Length   uint64
	PID      int32
	Client   string
}

// Type implements Msg.
func (*Tlock) Type() uint8 { return MsgTlock }

func (m *Tlock) String() string { return "Tlock" }

func (m *Tlock) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.u8(uint8(m.LockType))
	e.u32(uint32(m.Flags))
	e.u64(m.Start)
	e.u64(m.Length)
	e.u32(uint32(m.PID))
	e.str(m.Client)
}

func (m *Tlock) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.LockType = p9.LockType(d.u8())
	m.Flags = p9.LockFlags(d.u32())
	m.Start = d.u64()
	m.Length = d.u64()
	m.PID = int32(d.u32())
	m.Client = d.str()
}

// Rlock is the Rlock message.
type Rlock struct {
	Status p9.LockStatus
}

// Type implements Msg.
func (*Rlock) Type() uint8 { return MsgRlock }

func (m *Rlock) String() string { return "Rlock" }

func (m *Rlock) encode(e *encoder, _ Dialect) {
	e.u8(uint8(m.Status))
}

func (m *Rlock) decode(d *decoder, _ Dialect) {
	m.Status = p9.LockStatus(d.u8())
}

// Tgetlock is the Tgetlock message.
type Tgetlock struct {
	Fid      uint32
	LockType p9.LockType
	Start    uint64
	Length   uint64
	PID      int32
	Client   string
}

// Type implements Msg.
func (*Tgetlock) Type() uint8 { return MsgTgetlock }

func (m *Tgetlock) String() string { return "Tgetlock" }

func (m *Tgetlock) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.u8(uint8(m.LockType))
	e.u64(m.Start)
	e.u64(m.Length)
	e.u32(uint32(m.PID))
	e.str(m.Client)
}

func (m *Tgetlock) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.LockType = p9.LockType(d.u8())
	m.Start = d.u64()
	m.Length = d.u64()
	m.PID = int32(d.u32())
	m.Client = d.str()
}

// Rgetlock is the Rgetlock message.
type Rgetlock struct {
	LockType p9.LockType
	Start    uint64
	Length   uint64
	PID      int32
	Client   string
}

// Type implements Msg.
func (*Rgetlock) Type() uint8 { return MsgRgetlock }

func (m *Rgetlock) String() string { return "Rgetlock" }

func (m *Rgetlock) encode(e *encoder, _ Dialect) {
	e.u8(uint8(m.LockType))
	e.u64(m.Start)
	e.u64(m.Length)
	e.u32(uint32(m.PID))
	e.str(m.Client)
}

func (m *Rgetlock) decode(d *decoder, _ Dialect) {
	m.LockType = p9.LockType(d.u8())
	m.Start = d.u64()
	m.Length = d.u64()
	m.PID = int32(d.u32())
	m.Client = d.str()
}

// Tlink is the Tlink message.
type Tlink struct {
	Dfid uint32
	Fid  uint32
	Name string
}

// Type implements Msg.
func (*Tlink) Type() uint8 { return MsgTlink }

func (m *Tlink) String() string { return "Tlink" }

func (m *Tlink) encode(e *encoder, _ Dialect) {
	e.u32(m.Dfid)
	e.u32(m.Fid)
	e.str(m.Name)
}

func (m *Tlink) decode(d *decoder, _ Dialect) {
	m.Dfid = d.u32()
	m.Fid = d.u32()
	m.Name = d.str()
}

// Rlink is the Rlink message.
type Rlink struct {
}

// Type implements Msg.
func (*Rlink) Type() uint8 { return MsgRlink }

func (m *Rlink) String() string { return "Rlink" }

func (m *Rlink) encode(*encoder, Dialect) {}
func (m *Rlink) decode(*decoder, Dialect) {}

// Tmkdir is the Tmkdir message.
type Tmkdir struct {
	Dfid uint32
	Name string
	Mode p9.FileMode
	GID  p9.GID
}

// Type implements Msg.
func (*Tmkdir) Type() uint8 { return MsgTmkdir }

func (m *Tmkdir) String() string { return "Tmkdir" }

func (m *Tmkdir) encode(e *encoder, _ Dialect) {
	e.u32(m.Dfid)
	e.str(m.Name)
	e.u32(uint32(m.Mode))
	e.u32(uint32(m.GID))
}

func (m *Tmkdir) decode(d *decoder, _ Dialect) {
	m.Dfid = d.u32()
	m.Name = d.str()
	m.Mode = p9.FileMode(d.u32())
	m.GID = p9.GID(d.u32())
}

// Rmkdir is the Rmkdir message.
type Rmkdir struct {
	QID p9.QID
}

// Type implements Msg.
func (*Rmkdir) Type() uint8 { return MsgRmkdir }

func (m *Rmkdir) String() string { return "Rmkdir" }

func (m *Rmkdir) encode(e *encoder, _ Dialect) {
	e.qid(m.QID)
}

func (m *Rmkdir) decode(d *decoder, _ Dialect) {
	m.QID = d.qid()
}

// Trenameat is the Trenameat message.
type Trenameat struct {
	OldDfid uint32
	OldName string
	NewDfid uint32
	NewName string
}

// Type implements Msg.
func (*Trenameat) Type() uint8 { return MsgTrenameat }

func (m *Trenameat) String() string { return "Trenameat" }

func (m *Trenameat) encode(e *encoder, _ Dialect) {
	e.u32(m.OldDfid)
	e.str(m.OldName)
	e.u32(m.NewDfid)
	e.str(m.NewName)
}

func (m *Trenameat) decode(d *decoder, _ Dialect) {
	m.OldDfid = d.u32()
	m.OldName = d.str()
	m.NewDfid = d.u32()
	m.NewName = d.str()
}

// Rrenameat is the Rrenameat message.
type Rrenameat struct {
}

// Type implements Msg.
func (*Rrenameat) Type() uint8 { return MsgRrenameat }

func (m *Rrenameat) String() string { return "Rrenameat" }

func (m *Rrenameat) encode(*encoder, Dialect) {}
func (m *Rrenameat) decode(*decoder, Dialect) {}

// Tunlinkat is the Tunlinkat message.
type Tunlinkat struct {
	Dfid  uint32
	Name  string
	Flags uint32
}

// Type implements Msg.
func (*Tunlinkat) Type() uint8 { return MsgTunlinkat }

func (m *Tunlinkat) String() string { return "Tunlinkat" }

func (m *Tunlinkat) encode(e *encoder, _ Dialect) {
	e.u32(m.Dfid)
	e.str(m.Name)
	e.u32(m.Flags)
}

func (m *Tunlinkat) decode(d *decoder, _ Dialect) {
	m.Dfid = d.u32()
	m.Name = d.str()
	m.Flags = d.u32()
}

// Runlinkat is the Runlinkat message.
type Runlinkat struct {
}

// Type implements Msg.
func (*Runlinkat) Type() uint8 { return MsgRunlinkat }

func (m *Runlinkat) String() string { return "Runlinkat" }

func (m *Runlinkat) encode(*encoder, Dialect) {}
func (m *Runlinkat) decode(*decoder, Dialect) {}

// Tversion is the Tversion message.
type Tversion struct {
	Msize   uint32
	Version string
}

// Type implements Msg.
func (*Tversion) Type() uint8 { return MsgTversion }

func (m *Tversion) String() string { return "Tversion" }

func (m *Tversion) encode(e *encoder, _ Dialect) {
	e.u32(m.Msize)
	e.str(m.Version)
}

func (m *Tversion) decode(d *decoder, _ Dialect) {
	m.Msize = d.u32()
	m.Version = d.str()
}

// Rversion is the Rversion message.
type Rversion struct {
	Msize   uint32
	Version string
}

// Type implements Msg.
func (*Rversion) Type() uint8 { return MsgRversion }

func (m *Rversion) String() string { return "Rversion" }

func (m *Rversion) encode(e *encoder, _ Dialect) {
	e.u32(m.Msize)
	e.str(m.Version)
}

func (m *Rversion) decode(d *decoder, _ Dialect) {
	m.Msize = d.u32()
	m.Version = d.str()
}

// Tauth is the Tauth message.
type Tauth struct {
	Afid   uint32
	Uname  string
	Aname  string
	NUname p9.UID
}

// Type implements Msg.
func (*Tauth) Type() uint8 { return MsgTauth }

func (m *Tauth) String() string { return "Tauth" }

func (m *Tauth) encode(e *encoder, dl Dialect) {
	e.u32(m.Afid)
	e.str(m.Uname)
	e.str(m.Aname)
	if dl != Plan9 {
		e.u32(uint32(m.NUname))
	}
}

func (m *Tauth) decode(d *decoder, dl Dialect) {
	m.Afid = d.u32()
	m.Uname = d.str()
	m.Aname = d.str()
	m.NUname = p9.NoUID
	if dl != Plan9 {
		m.NUname = p9.UID(d.u32())
	}
}

// Rauth is the Rauth message.
type Rauth struct {
	QID p9.QID
}

// Type implements Msg.
func (*Rauth) Type() uint8 { return MsgRauth }

func (m *Rauth) String() string { return "Rauth" }

func (m *Rauth) encode(e *encoder, _ Dialect) {
	e.qid(m.QID)
}

func (m *Rauth) decode(d *decoder, _ Dialect) {
	m.QID = d.qid()
}

// Tattach is the Tattach message.
type Tattach struct {
	Fid    uint32
	Afid   uint32
	Uname  string
	Aname  string
	NUname p9.UID
}

// Type implements Msg.
func (*Tattach) Type() uint8 { return MsgTattach }

func (m *Tattach) String() string { return "Tattach" }

func (m *Tattach) encode(e *encoder, dl Dialect) {
	e.u32(m.Fid)
	e.u32(m.Afid)
	e.str(m.Uname)
	e.str(m.Aname)
	if dl != Plan9 {
		e.u32(uint32(m.NUname))
	}
}

func (m *Tattach) decode(d *decoder, dl Dialect) {
	m.Fid = d.u32()
	m.Afid = d.u32()
	m.Uname = d.str()
	m.Aname = d.str()
	m.NUname = p9.NoUID
	if dl != Plan9 {
		m.NUname = p9.UID(d.u32())
	}
}

// Rattach is the Rattach message.
type Rattach struct {
	QID p9.QID
}

// Type implements Msg.
func (*Rattach) Type() uint8 { return MsgRattach }

func (m *Rattach) String() string { return "Rattach" }

func (m *Rattach) encode(e *encoder, _ Dialect) {
	e.qid(m.QID)
}

func (m *Rattach) decode(d *decoder, _ Dialect) {
	m.QID = d.qid()
}

// Tflush is the Tflush message.
type Tflush struct {
	OldTag uint16
}

// Type implements Msg.
func (*Tflush) Type() uint8 { return MsgTflush }

func (m *Tflush) String() string { return "Tflush" }

func (m *Tflush) encode(e *encoder, _ Dialect) {
	e.u16(m.OldTag)
}

func (m *Tflush) decode(d *decoder, _ Dialect) {
	m.OldTag = d.u16()
}

// Rflush is the Rflush message.
type Rflush struct {
}

// Type implements Msg.
func (*Rflush) Type() uint8 { return MsgRflush }

func (m *Rflush) String() string { return "Rflush" }

func (m *Rflush) encode(*encoder, Dialect) {}
func (m *Rflush) decode(*decoder, Dialect) {}

// Twalk is the Twalk message.
type Twalk struct {
	Fid    uint32
	NewFid uint32
	Names  []string
}

// Type implements Msg.
func (*Twalk) Type() uint8 { return MsgTwalk }

func (m *Twalk) String() string { return "Twalk" }

func (m *Twalk) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.u32(m.NewFid)
	e.u16(uint16(len(m.Names)))
	for _, s := range m.Names {
		e.str(s)
	}
}

func (m *Twalk) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.NewFid = d.u32()
	m.Names = decodeNames(d)
}

// Rwalk is the Rwalk message.
type Rwalk struct {
	QIDs []p9.QID
}

// Type implements Msg.
func (*Rwalk) Type() uint8 { return MsgRwalk }

func (m *Rwalk) String() string { return "Rwalk" }

func (m *Rwalk) encode(e *encoder, _ Dialect) {
	e.u16(uint16(len(m.QIDs)))
	for _, q := range m.QIDs {
		e.qid(q)
	}
}

func (m *Rwalk) decode(d *decoder, _ Dialect) {
	m.QIDs = decodeQIDs(d)
}

// Tread is the Tread message.
type Tread struct {
	Fid    uint32
	Offset uint64
	Count  uint32
}

// Type implements Msg.
func (*Tread) Type() uint8 { return MsgTread }

func (m *Tread) String() string { return "Tread" }

func (m *Tread) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.u64(m.Offset)
	e.u32(m.Count)
}

func (m *Tread) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.Offset = d.u64()
	m.Count = d.u32()
}

// Rread is the Rread message.
type Rread struct {
	Data []byte
}

// Type implements Msg.
func (*Rread) Type() uint8 { return MsgRread }

func (m *Rread) String() string { return "Rread" }

func (m *Rread) encode(e *encoder, _ Dialect) {
	e.u32(uint32(len(m.Data)))
	e.b = append(e.b, m.Data...)
}

func (m *Rread) decode(d *decoder, _ Dialect) {
	m.Data = d.take(int(d.u32()))
}

// Twrite is the Twrite message.
type Twrite struct {
	Fid    uint32
	Offset uint64
	Data   []byte
}

// Type implements Msg.
func (*Twrite) Type() uint8 { return MsgTwrite }

func (m *Twrite) String() string { return "Twrite" }

func (m *Twrite) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
	e.u64(m.Offset)
	e.u32(uint32(len(m.Data)))
	e.b = append(e.b, m.Data...)
}

func (m *Twrite) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
	m.Offset = d.u64()
	m.Data = d.take(int(d.u32()))
}

// Rwrite is the Rwrite message.
type Rwrite struct {
	Count uint32
}

// Type implements Msg.
func (*Rwrite) Type() uint8 { return MsgRwrite }

func (m *Rwrite) String() string { return "Rwrite" }

func (m *Rwrite) encode(e *encoder, _ Dialect) {
	e.u32(m.Count)
}

func (m *Rwrite) decode(d *decoder, _ Dialect) {
	m.Count = d.u32()
}

// Tclunk is the Tclunk message.
type Tclunk struct {
	Fid uint32
}

// Type implements Msg.
func (*Tclunk) Type() uint8 { return MsgTclunk }

func (m *Tclunk) String() string { return "Tclunk" }

func (m *Tclunk) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
}

func (m *Tclunk) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
}

// Rclunk is the Rclunk message.
type Rclunk struct {
}

// Type implements Msg.
func (*Rclunk) Type() uint8 { return MsgRclunk }

func (m *Rclunk) String() string { return "Rclunk" }

func (m *Rclunk) encode(*encoder, Dialect) {}
func (m *Rclunk) decode(*decoder, Dialect) {}

// Tremove is the Tremove message.
type Tremove struct {
	Fid uint32
}

// Type implements Msg.
func (*Tremove) Type() uint8 { return MsgTremove }

func (m *Tremove) String() string { return "Tremove" }

func (m *Tremove) encode(e *encoder, _ Dialect) {
	e.u32(m.Fid)
}

func (m *Tremove) decode(d *decoder, _ Dialect) {
	m.Fid = d.u32()
}

// Rremove is the Rremove message.
type Rremove struct {
}

// Type implements Msg.
func (*Rremove) Type() uint8 { return MsgRremove }

func (m *Rremove) String() string { return "Rremove" }

func (m *Rremove) encode(*encoder, Dialect) {}
func (m *Rremove) decode(*decoder, Dialect) {}
