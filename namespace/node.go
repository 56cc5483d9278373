package namespace

import (
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/client"
	"mfs/membership"
)

// stateErrno is the errno of using a node in state st: 0 for an alive
// node, EHOSTDOWN for a failed one (it may come back), ENOENT for one that
// left (as for one that was never a member).
func stateErrno(st membership.State) linux.Errno {
	switch st {
	case membership.Alive:
		return 0
	case membership.Failed:
		return linux.EHOSTDOWN
	}
	return linux.ENOENT
}

// nodeErrno says whether node id, whose table entry is p (nil if none),
// can be walked into: 0 and nil if so, else the errno of the package
// doc's table and the reason. The serving node always can: its files are
// in-process, whatever membership says of it.
func (ns *Namespace) nodeErrno(p *peer, id int) (linux.Errno, error) {
	if p == nil {
		return linux.ENOENT, errNoNode
	}
	if id == ns.here {
		return 0, nil
	}
	switch st := p.node().State; stateErrno(st) {
	case 0:
		return 0, nil
	case linux.EHOSTDOWN:
		return linux.EHOSTDOWN, errFailed
	}
	return linux.ENOENT, errLeft
}

// walkNode walks names from the root of node id, reached from the union
// root as entry (a number or a context name). The first QID is that of
// the node directory itself. With getattr it also returns the attributes
// of the file reached, in the same round trip for a remote node.
//
// uid is the attach's user: a remote node's files are walked from its
// root attached as that user, so every operation there runs as the user.
func (ns *Namespace) walkNode(id int, names []string, entry string, uid p9.UID, getattr bool) ([]p9.QID, p9.File, p9.AttrMask, p9.Attr, error) {
	var (
		qids  []p9.QID
		f     p9.File
		valid p9.AttrMask
		attr  p9.Attr
	)
	p := ns.lookup(id)
	if errno, _ := ns.nodeErrno(p, id); errno != 0 {
		return nil, nil, valid, attr, errno
	}
	// walk runs on the node's root file; walkGetAttr falls back to Walk
	// and GetAttr where the file has no WalkGetAttr (ENOSYS).
	walk := func(root p9.File) (q []p9.QID, nf p9.File, err error) {
		if getattr {
			q, nf, valid, attr, err = root.WalkGetAttr(names)
			if err != linux.ENOSYS {
				return q, nf, err
			}
		}
		q, nf, err = root.Walk(names)
		if err != nil || !getattr {
			return q, nf, err
		}
		if _, valid, attr, err = nf.GetAttr(p9.AttrMaskAll); err != nil {
			nf.Close()
			return nil, nil, err
		}
		return q, nf, nil
	}
	if id == ns.here {
		q, lf, err := walk(ns.localRoot)
		if err != nil {
			return nil, nil, valid, attr, err
		}
		qids, f = ns.mapQIDs(id, q), &localFile{ns: ns, f: lf, top: len(names) == 0}
	} else {
		pc, err := p.get()
		if err != nil {
			return nil, nil, valid, attr, err
		}
		var rf p9.File
		gen := pc.gen.Load()
		err = pc.query("walk", func() error {
			root, err := pc.root(uid)
			if err != nil {
				return err
			}
			if len(names) == 0 {
				qids, rf, err = walk(root)
				return err
			}
			// A walk to a name fetches the attributes in the same round
			// trip: for the caller, or for the getattr that follows.
			qids, rf, valid, attr, err = root.WalkGetAttr(names)
			return err
		})
		if err != nil {
			return nil, nil, valid, attr, err
		}
		qids = ns.mapQIDs(id, qids)
		r := &remoteFile{pc: pc, f: rf.(*client.File), top: len(names) == 0}
		if len(names) > 0 && !getattr {
			r.walked.Store(&walkAttr{gen: gen, at: time.Now(), qid: qids[len(qids)-1], mask: valid, attr: attr})
		}
		f = r
	}
	return append([]p9.QID{nodeDirQID(id)}, qids...), f, valid, attr, nil
}
