package main

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
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"mfs/internal/clustertls"
	"mfs/membership"
	"mfs/namespace"
)

// demoMaxNodes bounds --nodes: every node is a serf instance and two
// servers in this one process.
const demoMaxNodes = 64

// demoCommand runs a whole cluster in one process, on loopback.
func demoCommand() *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run a small cluster on this machine (loopback only) and show how to use it",
		Description: `Starts --nodes real nodes in this process: real serf gossip, real 9P
servers, each on a free 127.0.0.1 port, each exporting its own directory
(DIR/1, DIR/2, …, seeded with hello.txt; without --dir a temporary
directory removed on exit). The nodes talk to each other as a cluster
across machines would: mutual TLS with a CA and node certificates, and
encrypted gossip, all made in a temporary directory removed on exit.
Prints the addresses and commands to try, and serves until interrupted
(Ctrl-C).`,
		OnUsageError: onUsageError("demo"),
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "nodes", Value: 3, EnvVars: []string{"MFS_DEMO_NODES"}, Usage: "number of nodes (1 to 64)"},
			&cli.StringFlag{Name: "dir", EnvVars: []string{"MFS_DEMO_DIR"}, Usage: "export DIR/1, DIR/2, … (kept on exit); default a temporary directory (removed)"},
			&cli.StringFlag{Name: "log-format", Value: "text", EnvVars: []string{"MFS_LOG_FORMAT"}, Usage: "text or json"},
			&cli.StringFlag{Name: "log-level", Value: "warn", EnvVars: []string{"MFS_LOG_LEVEL"}, Usage: "debug, info, warn or error"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return commandErr("demo", usagef("unexpected argument %q", c.Args().First()))
			}
			nodes := c.Int("nodes")
			if nodes < 1 || nodes > demoMaxNodes {
				return commandErr("demo", usagef("--nodes %d: want 1 to %d", nodes, demoMaxNodes))
			}
			log, err := newLogger(c.App.ErrWriter, c.String("log-format"), c.String("log-level"))
			if err != nil {
				return commandErr("demo", usagef("%v", err))
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out := c.App.Writer
			if out == nil {
				out = os.Stdout
			}
			return commandErr("demo", runDemo(ctx, out, nodes, c.String("dir"), log))
		},
	}
}

// runDemo starts the cluster, prints how to use it, and serves until ctx
// is done; then every node leaves and a temporary directory is removed.
func runDemo(ctx context.Context, out io.Writer, count int, dir string, log *slog.Logger) (err error) {
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
	var nodes []*runningNode
	defer func() { stopAll(nodes) }()
	for id := 1; id <= count; id++ {
		root := filepath.Join(dir, strconv.Itoa(id))
		if err := seed(root, id); err != nil {
			return err
		}
		cfg := nodeConfig{
			ID:           id,
			Root:         root,
			Listen:       []string{"127.0.0.1:0"},
			ExportListen: "127.0.0.1:0",
			Gossip:       "127.0.0.1:0",
			Timings:      membership.FastTimings(),
			Key:          key,
			Log:          log,
		}
		if cfg.TLS, err = clustertls.Load(tlsDir, id); err != nil {
			return err
		}
		if id > 1 {
			cfg.Join = []string{nodes[0].member.GossipAddr()}
		}
		n, err := startNode(cfg)
		if err != nil {
			return fmt.Errorf("node %d: %w", id, err)
		}
		nodes = append(nodes, n)
		jctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = n.join(jctx)
		cancel()
		if err != nil {
			return fmt.Errorf("node %d: %w", id, err)
		}
	}
	if err := waitAllAlive(ctx, nodes); err != nil {
		return err
	}
	printDemo(out, dir, tlsDir, nodes)
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

// seed creates a node's export directory with one small file in it.
func seed(root string, id int) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	name := filepath.Join(root, "hello.txt")
	if _, err := os.Stat(name); err == nil {
		return nil
	}
	return os.WriteFile(name, fmt.Appendf(nil, "hello from node %d\n", id), 0o644)
}

// waitAllAlive waits until every node's table has every node alive.
func waitAllAlive(ctx context.Context, nodes []*runningNode) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		ok := true
		for _, n := range nodes {
			alive := 0
			for _, nd := range n.ns.Nodes() {
				if nd.State == namespace.Alive {
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
func firstFailure(ctx context.Context, nodes []*runningNode) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() {
			if err := n.wait(ctx); err != nil {
				c <- fmt.Errorf("node %d: %w", n.cfg.ID, err)
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
func stopAll(nodes []*runningNode) {
	for i := len(nodes) - 1; i >= 0; i-- {
		nodes[i].stop(true)
	}
}

// printDemo prints the addresses and commands to try.
func printDemo(out io.Writer, dir, tlsDir string, nodes []*runningNode) {
	self := "mfs"
	if strings.Contains(os.Args[0], "go-build") {
		self = "go run ./cmd/mfs"
	}
	first := nodes[0]
	addr := first.nsAddrs[0]
	_, port, _ := net.SplitHostPort(addr)
	other := min(2, len(nodes))

	fmt.Fprintf(out, "mfs demo: %d nodes on 127.0.0.1, exporting %s/1 … %s/%d\n", len(nodes), dir, dir, len(nodes))
	fmt.Fprintf(out, "Between nodes: mutual TLS with a CA and node certificates in %s, gossip encrypted with the key in %s/%s.\n\n",
		tlsDir, tlsDir, demoGossipKey)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tNAMESPACE (mount, mfs 9p)\tEXPORT (peers)\tGOSSIP (serf)")
	for _, n := range nodes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", n.cfg.ID, n.nsAddrs[0], n.exportAddr, n.member.GossipAddr())
	}
	tw.Flush()
	fmt.Fprintf(out, `
Every node's namespace shows every node's files: /1 … /%d, plus here, home, selected.

Try:
  %[2]s 9p --addr %[3]s ls /
  %[2]s 9p --addr %[3]s nodes
  %[2]s 9p --addr %[3]s read /%[4]d/hello.txt
  echo hi | %[2]s 9p --addr %[3]s write /%[4]d/from-node-1.txt
  %[2]s 9p --addr %[5]s read /%[4]d/from-node-1.txt

Mount it (Linux with v9fs, as root):
  mkdir -p /mnt/mfs
  mount -t 9p -o trans=tcp,port=%[6]s,version=9p2000.L,aname=home=1,msize=1048576,cache=none 127.0.0.1 /mnt/mfs
  ls /mnt/mfs /mnt/mfs/%[4]d

Add a node from another shell (a certificate first, signed by the demo's CA):
  %[2]s tls cert --dir %[9]s --id %[7]d
  mkdir -p /tmp/mfs-extra && %[2]s node --id %[7]d --root /tmp/mfs-extra --profile fast --gossip 127.0.0.1:0 --listen 127.0.0.1:0 --export-listen 127.0.0.1:0 --tls-dir %[9]s --encrypt "$(cat %[9]s/%[10]s)" --join %[8]s

Ctrl-C stops the demo`, len(nodes), self, addr, other, nodes[len(nodes)-1].nsAddrs[0], port, len(nodes)+1, first.member.GossipAddr(), tlsDir, demoGossipKey)
	removed := []string{tlsDir}
	if strings.HasPrefix(filepath.Base(dir), "mfs-demo-") {
		removed = []string{dir, tlsDir}
	}
	fmt.Fprintf(out, " and removes %s.\n", strings.Join(removed, " and "))
}
