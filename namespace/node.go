package namespace

import (
	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
)

// walkNode walks names from the root of node id, reached from the union
// root as entry (a number or a context name). The first QID is that of
// the node directory itself.
func (ns *Namespace) walkNode(id int, names []string, entry string) ([]p9.QID, p9.File, error) {
	_, numeric := parseNodeNumber(entry)
	p := ns.lookup(id)
	if p == nil || id != ns.here && p.node().State != Alive {
		if numeric {
			return nil, nil, linux.ENOENT
		}
		return nil, nil, linux.EHOSTUNREACH
	}
	var (
		qids []p9.QID
		f    p9.File
	)
	if id == ns.here {
		q, lf, err := ns.localRoot.Walk(names)
		if err != nil {
			return nil, nil, err
		}
		qids, f = ns.mapQIDs(id, q), &localFile{ns: ns, f: lf, top: len(names) == 0}
	} else {
		pc, err := p.get()
		if err != nil {
			return nil, nil, err
		}
		var rf p9.File
		err = pc.call("walk", func() error {
			var err error
			qids, rf, err = pc.root.Walk(names)
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		qids, f = ns.mapQIDs(id, qids), &remoteFile{pc: pc, f: rf, top: len(names) == 0}
	}
	return append([]p9.QID{nodeDirQID(id)}, qids...), f, nil
}
