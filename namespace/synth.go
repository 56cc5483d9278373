package namespace

import (
	"fmt"
	"strings"

	"github.com/hugelgupf/p9/fsimpl/templatefs"
	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
)

// synth is the nodes file (read-only) or the ctl file (read the context,
// write "select N") of one attach context.
//
// nodes is rendered once, at Open, so a reader sees one consistent table;
// ctl is rendered at every read, so it shows the context as it is now.
type synth struct {
	p9.DefaultWalkGetAttr
	templatefs.ReadOnlyFile
	templatefs.NilCloser

	ns   *Namespace
	ctx  *attachCtx
	ctl  bool
	text []byte // nodes: rendered at Open
}

var _ p9.File = (*synth)(nil)

func (f *synth) qid() p9.QID {
	if f.ctl {
		return synthQID(qidCtl, false)
	}
	return synthQID(qidNodes, false)
}

// Walk implements p9.File.Walk: only a clone.
func (f *synth) Walk(names []string) ([]p9.QID, p9.File, error) {
	if len(names) > 0 {
		return nil, nil, linux.ENOTDIR
	}
	return nil, &synth{ns: f.ns, ctx: f.ctx, ctl: f.ctl}, nil
}

// StatFS implements p9.File.StatFS.
func (f *synth) StatFS() (p9.FSStat, error) { return f.ns.localRoot.StatFS() }

// GetAttr implements p9.File.GetAttr. The size is that of the content as
// it would be rendered now, so readers that trust the size (the kernel's
// cached modes) see it all.
func (f *synth) GetAttr(p9.AttrMask) (p9.QID, p9.AttrMask, p9.Attr, error) {
	m, a := f.ns.dirAttr(1)
	a.Mode = p9.ModeRegular | 0o444
	a.Size = uint64(len(f.ns.nodesText(f.ctx)))
	if f.ctl {
		a.Mode = p9.ModeRegular | 0o666
		a.Size = uint64(len(f.ns.ctlString(f.ctx)))
	}
	return f.qid(), m, a, nil
}

// Open implements p9.File.Open. nodes is read-only.
func (f *synth) Open(mode p9.OpenFlags) (p9.QID, uint32, error) {
	if !f.ctl {
		if mode&p9.OpenFlagsModeMask != p9.ReadOnly {
			return p9.QID{}, 0, linux.EACCES
		}
		f.text = []byte(f.ns.nodesText(f.ctx))
	}
	return f.qid(), 0, nil
}

// ReadAt implements p9.File.ReadAt.
func (f *synth) ReadAt(p []byte, off int64) (int, error) {
	text := f.text
	if f.ctl {
		text = []byte(f.ns.ctlString(f.ctx))
	}
	if off < 0 {
		return 0, linux.EINVAL
	}
	if off >= int64(len(text)) {
		return 0, nil
	}
	return copy(p, text[off:]), nil
}

// WriteAt implements p9.File.WriteAt: ctl takes one command per write.
func (f *synth) WriteAt(p []byte, off int64) (int, error) {
	if !f.ctl {
		return 0, linux.EACCES
	}
	if err := f.ns.ctlWrite(f.ctx, string(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// SetAttr implements p9.File.SetAttr: truncating ctl (O_TRUNC from a
// shell redirect) is accepted and does nothing.
func (f *synth) SetAttr(valid p9.SetAttrMask, attr p9.SetAttr) error {
	if f.ctl && valid.Size && attr.Size == 0 {
		return nil
	}
	return linux.EACCES
}

// nodesText renders the nodes file: "ID ADDR STATE MARKS" per line, MARKS
// being a comma-separated subset of here,home,selected or "-".
func (ns *Namespace) nodesText(ctx *attachCtx) string {
	h, s := ctx.get()
	var b strings.Builder
	for _, n := range ns.Nodes() {
		var marks []string
		if n.ID == ns.here {
			marks = append(marks, nameHere)
		}
		if n.ID == h {
			marks = append(marks, nameHome)
		}
		if n.ID == s {
			marks = append(marks, nameSelected)
		}
		m := strings.Join(marks, ",")
		if m == "" {
			m = "-"
		}
		addr := n.Addr
		if addr == "" {
			addr = "-"
		}
		fmt.Fprintf(&b, "%d %s %s %s\n", n.ID, addr, n.State, m)
	}
	return b.String()
}
