// Package demo is `mfs demo`: a whole cluster of real nodes in this
// process, on loopback, with TLS and gossip encryption as across machines,
// and the banner saying how to use it.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"mfs/internal/clustertls"
	"mfs/internal/node"
	"mfs/membership"
	"mfs/srv9p"
)

// MaxNodes bounds the number of nodes: every node is a serf instance and
// two servers in this one process.
const MaxNodes = 64

// Run starts a cluster of count nodes in this process, on loopback,
// exporting dir/1 … dir/count (a temporary directory, removed at the end,
// when dir is ""), mounts node 1's namespace at mnt with FUSE unless mnt is
// "", prints how to use it on out (first the line "export
// MFS_ADDR=…"), and serves until ctx is done (nil) or a node fails; then
// every node leaves.
func Run(ctx context.Context, out io.Writer, count int, dir, mnt string, log *slog.Logger) (err error) {
	if dir == "" {
		if dir, err = os.MkdirTemp("", "mfs-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tlsDir, err := os.MkdirTemp("", "mfs-demo-tls-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tlsDir)
	key, err := demoTrust(tlsDir, count)
	if err != nil {
		return err
	}
	var nodes []*node.Node
	defer func() { stopAll(nodes) }()
	for id := 1; id <= count; id++ {
		root := filepath.Join(dir, strconv.Itoa(id))
		if err := seed(root, id); err != nil {
			return err
		}
		cfg := node.Config{
			ID:           id,
			Root:         root,
			Listen:       []string{"127.0.0.1:0"},
			ExportListen: "127.0.0.1:0",
			Gossip:       "127.0.0.1:0",
			Timings:      membership.FastTimings(),
			Key:          key,
			Access:       demoAccess(),
			Log:          log,
		}
		if cfg.TLS, err = clustertls.Load(tlsDir, id); err != nil {
			return err
		}
		if id > 1 {
			cfg.Join = []string{nodes[0].GossipAddr()}
		} else {
			cfg.Mount = mnt
		}
		n, err := node.Start(cfg)
		if err != nil {
			return fmt.Errorf("node %d: %w", id, err)
		}
		nodes = append(nodes, n)
		jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = n.Join(jctx)
		cancel()
		if err != nil {
			return fmt.Errorf("node %d: %w", id, err)
		}
	}
	if err := waitAllAlive(ctx, nodes); err != nil {
		return err
	}
	printDemo(out, dir, tlsDir, mnt, nodes)
	if err := firstFailure(ctx, nodes); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nstopping: every node leaves the cluster")
	return nil
}

// demoGossipKey is the file, in the demo's certificate directory, that
// holds the gossip key.
const demoGossipKey = "gossip.key"

// demoTrust makes what a cluster off loopback would need, so that the
// demo runs as one: a CA and certificates of nodes 1…count in dir, and a
// gossip key, written to dir/gossip.key and returned.
func demoTrust(dir string, count int) ([]byte, error) {
	if err := clustertls.CreateCA(dir, clustertls.DefaultCAValidity, clustertls.ECDSA); err != nil {
		return nil, err
	}
	for id := 1; id <= count; id++ {
		if err := clustertls.CreateNodeCert(dir, id, clustertls.DefaultNodeValidity, clustertls.ECDSA); err != nil {
			return nil, err
		}
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	b64 := base64.StdEncoding.EncodeToString(key) + "\n"
	if err := os.WriteFile(filepath.Join(dir, demoGossipKey), []byte(b64), 0o600); err != nil {
		return nil, err
	}
	return key, nil
}

// demoAccess is whom the demo's namespace listeners serve. Root's demo
// serves as a node does. An ordinary user's demo can act as that user
// alone (srv9p refuses other users' attaches), so it serves every client
// as that user: its TCP listeners are on loopback, and what it exports
// are its own directories.
func demoAccess() node.Access {
	if os.Geteuid() == 0 {
		return node.Access{AnonUID: srv9p.DefaultAnonUID, AnonGID: srv9p.DefaultAnonGID}
	}
	return node.Access{Squash: srv9p.SquashAll, AnonUID: uint32(os.Geteuid()), AnonGID: uint32(os.Getegid())}
}

// seed makes a node's export directory hold what the demo's banner and
// the README's examples use: hello.txt ("hello from node N"),
// etc/hostname ("node-N") and tmp/ (mode 1777, as /tmp). What is there
// already (a --dir used before) is kept.
func seed(root string, id int) error {
	for _, d := range []string{root, filepath.Join(root, "etc")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	tmp := filepath.Join(root, "tmp")
	if err := os.Mkdir(tmp, 0o755); err == nil {
		if err := os.Chmod(tmp, 0o777|os.ModeSticky); err != nil {
			return err
		}
	} else if !errors.Is(err, os.ErrExist) {
		return err
	}
	for _, f := range []struct{ name, text string }{
		{"hello.txt", fmt.Sprintf("hello from node %d\n", id)},
		{"etc/hostname", fmt.Sprintf("node-%d\n", id)},
	} {
		name := filepath.Join(root, f.name)
		if _, err := os.Lstat(name); err == nil {
			continue
		}
		if err := os.WriteFile(name, []byte(f.text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// waitAllAlive waits until every node's table has every node alive.
func waitAllAlive(ctx context.Context, nodes []*node.Node) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		ok := true
		for _, n := range nodes {
			alive := 0
			for _, nd := range n.Namespace().Nodes() {
				if nd.State == membership.Alive {
					alive++
				}
			}
			ok = ok && alive == len(nodes)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("nodes did not all see each other in 30s")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// firstFailure waits until ctx is done (nil) or a node fails (its error).
func firstFailure(ctx context.Context, nodes []*node.Node) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() {
			if err := n.Wait(ctx); err != nil {
				c <- fmt.Errorf("node %d: %w", n.ID(), err)
			}
		}()
	}
	select {
	case <-ctx.Done():
		return nil
	case err := <-c:
		return err
	}
}

// stopAll makes every node leave, the last started first: a node leaving
// while its peers are leaving too would wait out its broadcast timeout.
func stopAll(nodes []*node.Node) {
	for i := len(nodes) - 1; i >= 0; i-- {
		nodes[i].Stop(true)
	}
}

// printDemo prints the addresses and commands to try: first the line
// that points mfs 9p at node 1 (eval-able: scripts and tests read it).
func printDemo(out io.Writer, dir, tlsDir, mnt string, nodes []*node.Node) {
	self := "mfs"
	first := nodes[0]
	addr := first.NamespaceAddrs()[0]
	_, port, _ := net.SplitHostPort(addr)
	other := min(2, len(nodes))
	last := nodes[len(nodes)-1]
	extra := len(nodes) + 1

	fmt.Fprintf(out, "export MFS_ADDR=%s\n\n", addr)
	fmt.Fprintf(out, "mfs demo: %d nodes on 127.0.0.1, exporting %s/1 … %s/%d\n", len(nodes), dir, dir, len(nodes))
	fmt.Fprintf(out, "Between nodes: mutual TLS with a CA and node certificates in %s, gossip encrypted with the key in %s/%s.\n",
		tlsDir, tlsDir, demoGossipKey)
	if note := whereIsMfs(); note != "" {
		fmt.Fprintln(out, note)
	}
	if uid := os.Geteuid(); uid != 0 {
		fmt.Fprintf(out, "Run as uid %d, not root: the demo can act as uid %d alone, so every client acts as uid %d.\n", uid, uid, uid)
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tNAMESPACE (mount, mfs 9p)\tEXPORT (peers)\tGOSSIP (serf)")
	for _, n := range nodes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", n.ID(), n.NamespaceAddrs()[0], n.ExportAddr(), n.GossipAddr())
	}
	tw.Flush()
	fmt.Fprintf(out, `
Every node's namespace shows every node's files: /1 … /%[1]d, plus here, home, selected.

Try (mfs 9p and mfs members use $MFS_ADDR, node 1's namespace, once exported as above):
  %[2]s 9p ls /
  %[2]s members
  %[2]s 9p read /%[3]d/hello.txt
  echo hi | %[2]s 9p write /%[3]d/tmp/from-node-1.txt
  %[2]s 9p --addr %[4]s read /%[3]d/tmp/from-node-1.txt
  %[2]s 9p select %[3]d read /selected/etc/hostname
`, len(nodes), self, other, last.NamespaceAddrs()[0])
	if mnt != "" {
		fmt.Fprintf(out, `
Node 1's namespace is mounted at %[1]s (FUSE), with a context per process:
  ls %[1]s
  cat %[1]s/ctl
  sh -c 'echo select %[2]d > %[1]s/ctl; cat %[1]s/selected/etc/hostname'
  %[3]s run --mnt %[1]s --select %[2]d -- cat %[1]s/selected/etc/hostname
`, mnt, other, self)
	}
	fmt.Fprintf(out, `
Mount it (Linux with v9fs, as root):
  mkdir -p /mnt/mfs
  mount -t 9p -o trans=tcp,port=%[1]s,version=9p2000.L,aname=home=1,msize=1048576,cache=none 127.0.0.1 /mnt/mfs
  ls /mnt/mfs /mnt/mfs/%[2]d
`, port, other)
	fmt.Fprintf(out, `
Add node %[2]d from another shell (a certificate first, signed by the demo's CA):
  %[1]s tls cert --dir %[3]s --id %[2]d
  export MFS_ENCRYPT="$(cat %[3]s/%[5]s)"   # the gossip key: in the environment, not in ps
  mkdir -p %[4]s/%[2]d && %[1]s node --id %[2]d --root %[4]s/%[2]d --profile fast --gossip 127.0.0.1:0 --listen unix:%[4]s/%[2]d.sock --export-listen 127.0.0.1:0 --tls-dir %[3]s --join %[6]s

Ctrl-C stops the demo`, self, extra, tlsDir, dir, demoGossipKey, first.GossipAddr())
	removed := []string{tlsDir}
	if strings.HasPrefix(filepath.Base(dir), "mfs-demo-") {
		removed = []string{dir, tlsDir}
	}
	fmt.Fprintf(out, " and removes %s.\n", strings.Join(removed, " and "))
}

// whereIsMfs says how to get the mfs that the banner's commands run, when
// it is not this program on $PATH: a binary built by go run (or a test)
// is gone when it exits, and one run by its path is not found by name.
func whereIsMfs() string {
	if strings.Contains(os.Args[0], "go-build") {
		return "The commands below run mfs: this demo runs from go run, so build it first (go build -o /usr/local/bin/mfs ./cmd/mfs, or mk install)."
	}
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	if p, err := exec.LookPath("mfs"); err == nil {
		if a, b := canonical(p), canonical(self); a == b {
			return ""
		}
	}
	return fmt.Sprintf("The commands below run mfs: this demo is %s (put it on $PATH, or mk install).", self)
}

// canonical is path with symbolic links resolved, or path itself.
func canonical(path string) string {
	if p, err := filepath.EvalSymlinks(path); err == nil {
		return p
	}
	return path
}
