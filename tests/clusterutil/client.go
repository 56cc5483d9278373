package clusterutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hugelgupf/p9/p9"

	"mfs/internal/dial"
)

// OpTimeout bounds each helper operation (dial, walk, read) so a hang shows
// as an error.
var OpTimeout = 3 * PeerTimeout

// ErrTimeout is returned (wrapped) when an operation took longer than
// OpTimeout: the server hung.
var ErrTimeout = errors.New("timed out")

// Do dials n's namespace, attaches with aname, runs fn on the root and
// closes the connection. If fn takes longer than OpTimeout the connection
// is closed under it and Do returns an error wrapping "timed out".
func (n *Node) Do(aname string, fn func(root p9.File) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), OpTimeout)
	defer cancel()
	c, err := dial.Dial(ctx, n.Addr, dial.Options{Timeout: OpTimeout})
	if err != nil {
		return fmt.Errorf("dial node %d: %w", n.ID, err)
	}
	done := make(chan error, 1)
	go func() {
		root, err := c.Attach(aname)
		if err != nil {
			done <- fmt.Errorf("attach %q: %w", aname, err)
			return
		}
		err = fn(root)
		root.Close()
		done <- err
	}()
	select {
	case err = <-done:
		c.Close()
		return err
	case <-ctx.Done():
		c.Close()
		<-done
		return fmt.Errorf("node %d: %w after %v", n.ID, ErrTimeout, OpTimeout)
	}
}

// walk walks path (slash-separated, from the root) from root.
func walk(root p9.File, path string) (p9.File, error) {
	var names []string
	for _, s := range strings.Split(path, "/") {
		if s != "" {
			names = append(names, s)
		}
	}
	_, f, err := root.Walk(names)
	if err != nil {
		return nil, fmt.Errorf("walk %q: %w", path, err)
	}
	return f, nil
}

// List returns the names in directory path of n's namespace (without . and ..).
func (n *Node) List(path string) ([]string, error) {
	var names []string
	err := n.Do("", func(root p9.File) error {
		d, err := walk(root, path)
		if err != nil {
			return err
		}
		defer d.Close()
		if _, _, err := d.Open(p9.ReadOnly); err != nil {
			return fmt.Errorf("open %q: %w", path, err)
		}
		var off uint64
		for {
			ents, err := d.Readdir(off, 64<<10)
			if err != nil {
				return fmt.Errorf("readdir %q: %w", path, err)
			}
			if len(ents) == 0 {
				return nil
			}
			for _, e := range ents {
				if e.Name != "." && e.Name != ".." {
					names = append(names, e.Name)
				}
				off = e.Offset
			}
		}
	})
	return names, err
}

// ReadFile returns the contents of file path in n's namespace.
func (n *Node) ReadFile(path string) ([]byte, error) {
	var out []byte
	err := n.Do("", func(root p9.File) error {
		f, err := walk(root, path)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, _, err := f.Open(p9.ReadOnly); err != nil {
			return fmt.Errorf("open %q: %w", path, err)
		}
		buf := make([]byte, 64<<10)
		for {
			k, err := f.ReadAt(buf, int64(len(out)))
			out = append(out, buf[:k]...)
			if err == io.EOF || (err == nil && k == 0) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read %q: %w", path, err)
			}
		}
	})
	return out, err
}

// NodeLine is one line of a namespace's nodes file.
type NodeLine struct {
	ID    int
	Addr  string
	State string // alive, failed, left
}

// Nodes reads n's nodes file: the first field of each line is the node
// number, the second its address, and the state is whichever of alive,
// failed and left appears on the line.
func (n *Node) Nodes() ([]NodeLine, error) {
	b, err := n.ReadFile("/nodes")
	if err != nil {
		return nil, err
	}
	var out []NodeLine
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		var nl NodeLine
		if _, err := fmt.Sscan(f[0], &nl.ID); err != nil {
			continue // a header
		}
		nl.Addr = f[1]
		for _, w := range f[2:] {
			switch w {
			case "alive", "failed", "left":
				nl.State = w
			}
		}
		out = append(out, nl)
	}
	return out, nil
}
