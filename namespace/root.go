package namespace

import (
	"strconv"

	"github.com/hugelgupf/p9/fsimpl/templatefs"
	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/srv9p"
)

// root is the union's root directory for one attach context. Its listing
// is computed from the node table at every call.
type root struct {
	templatefs.ReadOnlyDir
	templatefs.NilCloser

	ns  *Namespace
	ctx *attachCtx
}

var _ p9.File = (*root)(nil)

// Names of the root's fixed entries.
const (
	nameHome     = "home"
	nameHere     = "here"
	nameSelected = "selected"
	nameNodes    = "nodes"
	nameCtl      = "ctl"
)

// resolve maps a root entry name to the node it presents (0 if none).
func (r *root) resolve(name string) (int, bool) {
	switch name {
	case nameHere:
		return r.ns.here, true
	case nameHome:
		h, _ := r.ctx.get()
		return h, true
	case nameSelected:
		_, s := r.ctx.get()
		return s, true
	}
	return parseNodeNumber(name)
}

// Walk implements p9.File.Walk: a node or context directory walks the
// rest of names on that node.
func (r *root) Walk(names []string) ([]p9.QID, p9.File, error) {
	if len(names) == 0 {
		return nil, &root{ns: r.ns, ctx: r.ctx}, nil
	}
	name := names[0]
	if name == nameNodes || name == nameCtl {
		if len(names) > 1 {
			return nil, nil, linux.ENOTDIR
		}
		f := &synth{ns: r.ns, ctx: r.ctx, ctl: name == nameCtl}
		return []p9.QID{f.qid()}, f, nil
	}
	id, ok := r.resolve(name)
	if !ok {
		return nil, nil, linux.ENOENT
	}
	qids, f, _, _, err := r.ns.walkNode(id, names[1:], name, r.ctx.uid, false)
	return qids, f, err
}

// WalkGetAttr implements p9.File.WalkGetAttr: into a node it walks and
// gets the attributes in one round trip; anything else is ENOSYS, and the
// caller uses Walk and GetAttr.
func (r *root) WalkGetAttr(names []string) ([]p9.QID, p9.File, p9.AttrMask, p9.Attr, error) {
	if len(names) == 0 || names[0] == nameNodes || names[0] == nameCtl {
		return nil, nil, p9.AttrMask{}, p9.Attr{}, linux.ENOSYS
	}
	id, ok := r.resolve(names[0])
	if !ok {
		return nil, nil, p9.AttrMask{}, p9.Attr{}, linux.ENOENT
	}
	return r.ns.walkNode(id, names[1:], names[0], r.ctx.uid, true)
}

// StatFS implements p9.File.StatFS: that of the serving node's export.
func (r *root) StatFS() (p9.FSStat, error) {
	return r.ns.localRoot.StatFS()
}

// dirAttr is the attribute set of the synthesized directories.
func (ns *Namespace) dirAttr(nlink int) (p9.AttrMask, p9.Attr) {
	t := uint64(ns.started.Unix())
	return p9.AttrMask{Mode: true, NLink: true, UID: true, GID: true, RDev: true, ATime: true, MTime: true, CTime: true, INo: true, Size: true, Blocks: true},
		p9.Attr{Mode: p9.ModeDirectory | 0o555, NLink: p9.NLink(nlink), BlockSize: 4096, ATimeSeconds: t, MTimeSeconds: t, CTimeSeconds: t}
}

// GetAttr implements p9.File.GetAttr.
func (r *root) GetAttr(p9.AttrMask) (p9.QID, p9.AttrMask, p9.Attr, error) {
	m, a := r.ns.dirAttr(2 + 3 + len(r.ns.alive()))
	return synthQID(qidRoot, true), m, a, nil
}

// Open implements p9.File.Open: read-only.
func (r *root) Open(mode p9.OpenFlags) (p9.QID, uint32, error) {
	if mode&p9.OpenFlagsModeMask != p9.ReadOnly {
		return p9.QID{}, 0, linux.EISDIR
	}
	return synthQID(qidRoot, true), 0, nil
}

// Readdir implements p9.File.Readdir: alive nodes, then the context
// directories, then nodes and ctl. Offsets are positions in that list.
func (r *root) Readdir(offset uint64, count uint32) (p9.Dirents, error) {
	var ents p9.Dirents
	add := func(name string, q p9.QID) {
		ents = append(ents, p9.Dirent{QID: q, Offset: uint64(len(ents) + 1), Type: q.Type, Name: name})
	}
	for _, id := range r.ns.alive() {
		add(strconv.Itoa(id), nodeDirQID(id))
	}
	h, s := r.ctx.get()
	add(nameHome, nodeDirQID(h))
	add(nameHere, nodeDirQID(r.ns.here))
	add(nameSelected, nodeDirQID(s))
	add(nameNodes, synthQID(qidNodes, false))
	add(nameCtl, synthQID(qidCtl, false))
	if offset >= uint64(len(ents)) {
		return nil, nil
	}
	ents = ents[offset:]
	if uint64(count) < uint64(len(ents)) {
		ents = ents[:count]
	}
	return ents, nil
}

// Rename implements p9.File.Rename (never called by the server).
func (r *root) Rename(p9.File, string) error { return linux.EXDEV }

// LinkRoot implements srv9p.LinkRoot: below a node or context directory,
// an absolute symlink target is a path of that node's tree, whose root is
// the node's "/" (what its export serves).
func (r *root) LinkRoot(path []string) (int, string, bool) {
	if len(path) == 0 {
		return 0, "", false
	}
	if _, ok := r.resolve(path[0]); !ok {
		return 0, "", false
	}
	return 1, "/", true
}

var _ srv9p.LinkRoot = (*root)(nil)
