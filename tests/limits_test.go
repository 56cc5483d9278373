package tests

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
	"mfs/srv9p/srv9ptest"
	"mfs/tests/clusterutil"
)

// clonesEnv makes the test binary the fid-clone attacker (cloneClient):
// "ADDR N" attaches to ADDR, walks to /1 and sends N Twalk clones of it.
const clonesEnv = "MFS_CLONES_CLIENT"

// cloneClient attaches to a namespace as its own user, walks to "1" and
// clones that fid N times (Twalk, nwname 0, 500 in flight at a time),
// then prints "ok=… emfile=… other=…" and holds the fids until its
// standard input closes.
func cloneClient() int {
	f := strings.Fields(os.Getenv(clonesEnv))
	n, _ := strconv.Atoi(f[1])
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "clones:", err)
		return 1
	}
	nc, err := net.Dial("unix", strings.TrimPrefix(f[0], "unix:"))
	if err != nil {
		return fail(err)
	}
	defer nc.Close()
	rd := bufio.NewReader(nc)
	recv := func() (fcall.Msg, error) {
		hdr, err := rd.Peek(fcall.HeaderSize)
		if err != nil {
			return nil, err
		}
		size, _, _ := fcall.Header(hdr)
		if size < fcall.HeaderSize || size > 1<<20 {
			return nil, fmt.Errorf("frame size %d", size)
		}
		frame := make([]byte, size)
		if _, err := io.ReadFull(rd, frame); err != nil {
			return nil, err
		}
		_, m, err := fcall.Decode(fcall.L, frame)
		return m, err
	}
	for _, m := range []fcall.Msg{
		&fcall.Tversion{Msize: 64 << 10, Version: "9P2000.L"},
		&fcall.Tattach{Fid: 0, Afid: fcall.NoFid, NUname: p9.NoUID},
		&fcall.Twalk{Fid: 0, NewFid: 1, Names: []string{"1"}},
	} {
		nc.Write(fcall.Append(nil, fcall.L, 1, m))
		rep, err := recv()
		if err != nil {
			return fail(err)
		}
		if e, ok := rep.(*fcall.Rlerror); ok {
			return fail(fmt.Errorf("%s: %v", m, e.Errno))
		}
	}
	ok, emfile, other := 0, 0, 0
	const batch = 500
	var out []byte
	for sent := 0; sent < n; sent += batch {
		out = out[:0]
		for i := range min(batch, n-sent) {
			out = fcall.Append(out, fcall.L, uint16(i), &fcall.Twalk{Fid: 1, NewFid: uint32(2 + sent + i)})
		}
		if _, err := nc.Write(out); err != nil {
			return fail(err)
		}
		for range min(batch, n-sent) {
			m, err := recv()
			if err != nil {
				return fail(err)
			}
			switch m := m.(type) {
			case *fcall.Rwalk:
				ok++
			case *fcall.Rlerror:
				if m.Errno == linux.EMFILE {
					emfile++
					continue
				}
				other++
			default:
				other++
			}
		}
	}
	fmt.Printf("ok=%d emfile=%d other=%d\n", ok, emfile, other)
	os.Stdout.Sync()
	io.Copy(io.Discard, os.Stdin)
	return 0
}

// TestLimitsNodeFidClones: an ordinary user (uid 1000) sends 200,000 fid
// clones on one unix-socket connection to a real `mfs node`. Past
// --max-fids the walks are refused EMFILE and the connection goes on;
// meanwhile, and while the user holds its fids, root is served on node 1,
// node 2 sees node 1 alive and reads /1, and the limit is logged once.
func TestLimitsNodeFidClones(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run a client as uid 1000")
	}
	sock := filepath.Join(socketDir(t), "ns.sock")
	n1, err := clusterutil.NewNode(t, clusterutil.NodeOptions{ID: 1, Listen: "unix:" + sock, Args: []string{"--max-fids", "4096"}})
	if err != nil {
		t.Fatal(err)
	}
	n2, err := clusterutil.NewNode(t, clusterutil.NodeOptions{ID: 2, Join: []string{n1.GossipAddr}})
	if err != nil {
		t.Fatal(err)
	}
	n2.WaitListed(t, 1, 2)
	if err := os.Chmod(sock, 0o777); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(identityBinary(t), "-test.run=^$")
	cmd.Env = append(os.Environ(), clonesEnv+"=unix:"+sock+" 200000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000, Groups: []uint32{}}}
	cmd.Stderr = os.Stderr
	result := srv9ptest.StartHelper(t, cmd)

	served := func(when string) {
		t.Helper()
		if got, err := n1.ReadFile("/1/node-1.txt"); err != nil || string(got) != "node 1\n" {
			t.Fatalf("%s: root on node 1 reads /1/node-1.txt: %q, %v", when, got, err)
		}
		if got, err := n2.ReadFile("/1/node-1.txt"); err != nil || string(got) != "node 1\n" {
			t.Fatalf("%s: node 2 reads /1/node-1.txt: %q, %v", when, got, err)
		}
		lines, err := n2.Nodes()
		if err != nil {
			t.Fatalf("%s: node 2's nodes: %v", when, err)
		}
		for _, l := range lines {
			if l.ID == 1 && l.State != "alive" {
				t.Fatalf("%s: node 2 sees node 1 %s", when, l.State)
			}
		}
	}
	var line string
	deadline := time.After(5 * time.Minute)
	for tries := 0; line == "" && tries < 10000; tries++ {
		served("during the attack")
		select {
		case line = <-result:
		case <-deadline:
			t.Fatal("the client did not finish within 5 minutes")
		case <-time.After(50 * time.Millisecond):
		}
	}
	// 4096 fids on the connection: its attach fid, /1, and 4,094 clones.
	if want := "ok=4094 emfile=195906 other=0"; line != want {
		t.Fatalf("client saw %q, want %q", line, want)
	}
	served("with the user's fids held")
	if n := strings.Count(n1.Log(), `"limit":"max-fids"`); n != 1 {
		t.Errorf("max-fids logged %d times on node 1, want once", n)
	}
}
