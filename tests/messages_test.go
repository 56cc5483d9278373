package tests

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/fcall"
	"mfs/tests/clusterutil"
)

// dropAfterAttach serves one 9P2000.L client on loopback: it answers the
// Tversion and the Tattach, then closes the connection when the next
// request comes, as a server that crashed or was stopped would.
func dropAfterAttach(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		rd := bufio.NewReader(nc)
		for {
			var size [4]byte
			if _, err := io.ReadFull(rd, size[:]); err != nil {
				return
			}
			frame := make([]byte, binary.LittleEndian.Uint32(size[:]))
			copy(frame, size[:])
			if _, err := io.ReadFull(rd, frame[4:]); err != nil {
				return
			}
			tag, m, err := fcall.Decode(fcall.L, frame)
			if err != nil {
				return
			}
			var r fcall.Msg
			switch m := m.(type) {
			case *fcall.Tversion:
				r = &fcall.Rversion{Msize: min(m.Msize, 8192), Version: "9P2000.L"}
			case *fcall.Tattach:
				r = &fcall.Rattach{QID: p9.QID{Type: p9.TypeDir, Path: 1}}
			default:
				return // drop the connection
			}
			if _, err := nc.Write(fcall.Append(nil, fcall.L, tag, r)); err != nil {
				return
			}
		}
	}()
	return ln.Addr().String()
}

// TestMessageServerDropped: a server that closes the connection in the
// middle of a verb is "the server closed the connection", not a timeout.
func TestMessageServerDropped(t *testing.T) {
	addr := dropAfterAttach(t)
	r := cliRun9p(t, addr, "", "read", "/f")
	if r.code != 1 || r.stderr != "mfs 9p: read /f: the server closed the connection\n" {
		t.Errorf("exit %d, stderr %q; want 1, the server closed the connection", r.code, r.stderr)
	}
}

// TestMessageNoNode: a node that was killed leaves its unix socket; mfs 9p
// and mfs members then say no node serves it and to start mfs node; with
// no socket file at all, or nothing on a loopback port, they say no node
// runs here.
func TestMessageNoNode(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "mfs.sock")
	n, err := clusterutil.NewNode(t, clusterutil.NodeOptions{ID: 1, Listen: "unix:" + sock})
	if err != nil {
		t.Fatal(err)
	}
	n.Kill(t)
	if fi, err := os.Stat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("a killed node's socket: %v, %v; want it left behind", fi, err)
	}
	stale := "connection refused (no node serves " + sock + ": the socket file is left by one that stopped; start mfs node, which replaces it)\n"
	for _, args := range [][]string{{"9p", "--addr", "unix:" + sock, "ls", "/"}, {"members", "--addr", "unix:" + sock}} {
		r := cliRun(t, nil, nil, args...)
		if r.code != 1 || !strings.HasSuffix(r.stderr, ": connect unix:"+sock+": "+stale) {
			t.Errorf("mfs %s: exit %d, %q; want 1, …%s", strings.Join(args, " "), r.code, r.stderr, stale)
		}
	}
	// The next node replaces the stale socket.
	n2, err := clusterutil.NewNode(t, clusterutil.NodeOptions{ID: 1, Listen: "unix:" + sock})
	if err != nil {
		t.Fatal(err)
	}
	if r := cliRun9p(t, "unix:"+sock, "", "ls", "/"); r.code != 0 {
		t.Errorf("after a new node: exit %d, %q", r.code, r.stderr)
	}
	n2.Stop(t)
	none := "(no node runs here: start one with mfs node, or give --addr)\n"
	for _, addr := range []string{"unix:" + sock, "127.0.0.1:1"} {
		r := cliRun9p(t, addr, "", "ls", "/")
		if r.code != 1 || !strings.HasSuffix(r.stderr, none) {
			t.Errorf("mfs 9p --addr %s with no node: exit %d, %q; want …%s", addr, r.code, r.stderr, none)
		}
	}
}

// TestMessageDidYouMean: a mistyped command, verb or flag is one line
// naming it and suggesting the closest, with exit status 2; help examples
// name the node's real socket.
func TestMessageDidYouMean(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"nod", `mfs: unknown command "nod": did you mean node? (see mfs --help)`},
		{"9p --adr 127.0.0.1:1 ls /", "mfs 9p: unknown flag --adr: did you mean --addr?"},
		{"9p ls --adr 127.0.0.1:1 /", "mfs 9p: ls: unknown flag --adr: did you mean --addr?"},
		{"members --adr 127.0.0.1:1", "mfs members: unknown flag --adr: did you mean --addr?"},
		{"9p lss /", `mfs 9p: unknown verb "lss": did you mean ls? (see mfs 9p --help)`},
		{"node --rot /", "mfs node: unknown flag --rot: did you mean --root? (see mfs node --help)"},
		{"--adr x", "mfs: unknown flag --adr (see mfs --help)"},
	} {
		r := cliRun(t, nil, nil, strings.Fields(tc.args)...)
		if r.code != 2 || r.stderr != tc.want+"\n" || r.stdout != "" {
			t.Errorf("mfs %s: exit %d, stderr %q, stdout %q; want 2, %q", tc.args, r.code, r.stderr, r.stdout, tc.want)
		}
	}
	for _, cmd := range [][]string{{"9p", "--help"}, {"members", "--help"}, {"node", "--help"}} {
		r := cliRun(t, nil, nil, cmd...)
		if strings.Contains(r.stdout, "unix:/run/mfs.sock") || !strings.Contains(r.stdout, "/run/mfs/mfs.sock") {
			t.Errorf("mfs %s names another socket than /run/mfs/mfs.sock:\n%s", strings.Join(cmd, " "), r.stdout)
		}
		if strings.Contains(r.stdout, "--encrypt \"$(") {
			t.Errorf("mfs %s puts the gossip key on a command line:\n%s", strings.Join(cmd, " "), r.stdout)
		}
	}
}
