package dialtest

import (
	"context"
	"errors"
	"net"
	"path"
	"slices"
	"strings"
	"sync"

	"9fans.net/go/plan9"
	"9fans.net/go/plan9/srv9p"
)

// RAMFS is a 9P2000 server of a tree in memory, for tests of clients in
// that dialect: 9fans.net/go's plan9/srv9p (the Go port of plan9port's
// lib9p, the reference 9P2000 implementation) with a file tree and the
// handlers of Plan 9's ramfs, plus wstat: a new name within the
// directory, mode, length, times and group; the owner changes for nobody
// ("wstat prohibited"). Every file belongs to one user, the owner given to
// NewRAMFS, whom the server checks permissions against: attach as that
// user.
//
// Each connection is a conversation of its own over the one tree.
type RAMFS struct {
	srv   *srv9p.Server
	owner string

	// mu guards every node and the Stat fields the handlers change; the
	// server's own reads of a file's Stat (walks, directory reads) take
	// no lock of ours, so tests change a file while nothing else uses it.
	mu   sync.Mutex
	root *ramNode
}

// ramNode is a file of the tree: its srv9p.File, its data or children.
type ramNode struct {
	file   *srv9p.File
	parent *ramNode
	data   []byte
	kids   map[string]*ramNode
}

// NewRAMFS returns an empty tree (a root directory of mode 0777) owned
// by owner.
func NewRAMFS(owner string) *RAMFS {
	r := &RAMFS{owner: owner}
	tree := srv9p.NewTree(owner, owner, plan9.DMDIR|0o777, nil)
	r.root = &ramNode{file: tree.Root, kids: map[string]*ramNode{}}
	tree.Root.Aux = r.root
	r.srv = &srv9p.Server{
		Tree:   tree,
		Msize:  64<<10 + plan9.IOHDRSZ,
		Open:   r.open,
		Create: r.create,
		Read:   r.read,
		Write:  r.write,
		Remove: r.remove,
		Stat:   r.stat,
		Wstat:  r.wstat,
	}
	return r
}

// Serve serves every connection ln accepts until ln is closed; each ends
// with ln or when its client hangs up.
func (r *RAMFS) Serve(ln net.Listener) error {
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	defer func() {
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	}()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		mu.Lock()
		conns[c] = true
		mu.Unlock()
		go func() {
			r.srv.Serve(c, c)
			c.Close()
			mu.Lock()
			delete(conns, c)
			mu.Unlock()
		}()
	}
}

// Lookup returns the stat and, for a file, the data of the slash-separated
// path p ("" or "/" is the root).
func (r *RAMFS) Lookup(p string) (plan9.Dir, []byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.lookup(p)
	if n == nil {
		return plan9.Dir{}, nil, false
	}
	return n.file.Stat, slices.Clone(n.data), true
}

// lookup finds the node of p.
func (r *RAMFS) lookup(p string) *ramNode {
	n := r.root
	for _, name := range strings.Split(strings.Trim(path.Clean("/"+p), "/"), "/") {
		if name == "" {
			continue
		}
		if n = n.kids[name]; n == nil {
			return nil
		}
	}
	return n
}

// Mkdir makes directory p (its parent must exist) with mode perm.
func (r *RAMFS) Mkdir(p string, perm plan9.Perm) error {
	_, err := r.add(p, plan9.DMDIR|perm)
	return err
}

// WriteFile makes file p (its parent must exist) with mode perm and data.
func (r *RAMFS) WriteFile(p string, perm plan9.Perm, data []byte) error {
	n, err := r.add(p, perm)
	if err == nil {
		r.mu.Lock()
		n.data = slices.Clone(data)
		n.file.Stat.Length = uint64(len(data))
		r.mu.Unlock()
	}
	return err
}

// add creates p in its parent.
func (r *RAMFS) add(p string, perm plan9.Perm) (*ramNode, error) {
	r.mu.Lock()
	dir := r.lookup(path.Dir(path.Clean("/" + p)))
	r.mu.Unlock()
	if dir == nil {
		return nil, errors.New("file does not exist")
	}
	return r.newNode(dir, path.Base(p), perm)
}

// newNode creates name in dir.
func (r *RAMFS) newNode(dir *ramNode, name string, perm plan9.Perm) (*ramNode, error) {
	n := &ramNode{parent: dir}
	if perm&plan9.DMDIR != 0 {
		n.kids = map[string]*ramNode{}
	}
	// The file is in the tree (a walk finds it) as soon as Create
	// returns: n.file must be set before a handler can see n.
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := dir.file.Create(name, r.owner, perm, n)
	if err != nil {
		return nil, err
	}
	n.file = f
	dir.kids[name] = n
	return n, nil
}

// node is fid's file. The server runs a connection's requests
// concurrently, so a request pipelined behind the Twalk that makes its fid
// (mfs's client sends Tstat so) can find the fid before the walk gives it
// a file; it fails then, as a request for an unknown fid would.
func node(fid *srv9p.Fid) (*ramNode, error) {
	f := fid.File()
	if f == nil {
		return nil, errors.New("fid not yet walked")
	}
	return f.Aux.(*ramNode), nil
}

func (r *RAMFS) open(_ context.Context, fid *srv9p.Fid, mode uint8) error {
	n, err := node(fid)
	if err != nil {
		return err
	}
	if mode&plan9.OTRUNC != 0 {
		r.mu.Lock()
		n.data = nil
		n.file.Stat.Length = 0
		r.mu.Unlock()
	}
	return nil
}

func (r *RAMFS) create(_ context.Context, fid *srv9p.Fid, name string, perm plan9.Perm, _ uint8) (plan9.Qid, error) {
	if name == "." || name == ".." || strings.Contains(name, "/") {
		return plan9.Qid{}, errors.New("illegal name")
	}
	dir, err := node(fid)
	if err != nil {
		return plan9.Qid{}, err
	}
	n, err := r.newNode(dir, name, perm)
	if err != nil {
		return plan9.Qid{}, err
	}
	fid.SetFile(n.file)
	return n.file.Stat.Qid, nil
}

func (r *RAMFS) read(_ context.Context, fid *srv9p.Fid, data []byte, off int64) (int, error) {
	n, err := node(fid)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return fid.ReadBytes(data, off, n.data)
}

func (r *RAMFS) write(_ context.Context, fid *srv9p.Fid, data []byte, off int64) (int, error) {
	n, err := node(fid)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if off < 0 || off > 1<<30 {
		return 0, srv9p.ErrBadOffset
	}
	if end := int(off) + len(data); end > len(n.data) {
		n.data = append(n.data, make([]byte, end-len(n.data))...)
	}
	copy(n.data[off:], data)
	n.file.Stat.Length = uint64(len(n.data))
	return len(data), nil
}

func (r *RAMFS) remove(_ context.Context, fid *srv9p.Fid) error {
	n, err := node(fid)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case n.parent == nil:
		return errors.New("cannot remove root")
	case len(n.kids) > 0:
		return errors.New("directory not empty")
	}
	delete(n.parent.kids, n.file.Stat.Name)
	return nil
}

func (r *RAMFS) stat(_ context.Context, fid *srv9p.Fid) (*plan9.Dir, error) {
	n, err := node(fid)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	d := n.file.Stat
	return &d, nil
}

// wstat changes what d says, all of it or, if one change is refused,
// nothing.
func (r *RAMFS) wstat(_ context.Context, fid *srv9p.Fid, d *plan9.Dir) error {
	n, err := node(fid)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &n.file.Stat
	isDir := st.Mode&plan9.DMDIR != 0
	switch {
	case d.Name != "" && d.Name != st.Name && (n.parent == nil || strings.Contains(d.Name, "/") || d.Name == "." || d.Name == ".."):
		return errors.New("illegal name")
	case d.Name != "" && d.Name != st.Name && n.parent.kids[d.Name] != nil:
		return errors.New("file already exists")
	case ^d.Length != 0 && isDir:
		return errors.New("is a directory")
	case ^d.Length != 0 && d.Length > 1<<30:
		return errors.New("file too big")
	case d.Uid != "" && d.Uid != st.Uid:
		return errors.New("wstat prohibited")
	}
	if d.Name != "" && d.Name != st.Name {
		delete(n.parent.kids, st.Name)
		n.parent.kids[d.Name] = n
		st.Name = d.Name
	}
	if ^d.Mode != 0 {
		st.Mode = d.Mode
	}
	if ^d.Length != 0 {
		n.data = append(n.data, make([]byte, max(0, int(d.Length)-len(n.data)))...)[:d.Length]
		st.Length = d.Length
	}
	if ^d.Mtime != 0 {
		st.Mtime = d.Mtime
	}
	if ^d.Atime != 0 {
		st.Atime = d.Atime
	}
	if d.Gid != "" {
		st.Gid = d.Gid
	}
	return nil
}
