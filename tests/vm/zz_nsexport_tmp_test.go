package vm

import "testing"
import "mfs/tests/clusterutil"

func TestTmpNSExport(t *testing.T) {
	a := needAssets(t)
	c := clusterutil.Start(t, clusterutil.Options{Nodes: 2})
	c.WaitListed(t, 1, 2)
	orc := startOracle(t, map[string]string{"export": c.Node(2).Dir})
	for _, tc := range []struct{ name, addr, aname string }{
		{"here", c.Node(2).Addr, "here"},
		{"remote", c.Node(1).Addr, "2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bl := boot(t, a, vmConfig{
				phases: []string{phaseSpec("ns-"+tc.name, "export", "tcp", 512<<10, "", "none", tc.aname)},
				fwds:   map[int]string{guestP9Port: tc.addr, oraclePort: orc.addr()},
				env:    map[string]string{"hostroot": "export"},
			})
			report(t, bl, knownFailures)
		})
	}
}
