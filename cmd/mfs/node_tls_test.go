package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"mfs/internal/clustertls"
	"mfs/namespace"
)

func runApp(t *testing.T, args ...string) (line string, code int, out string) {
	t.Helper()
	var stdout bytes.Buffer
	app := &cli.App{Name: "mfs", Writer: &stdout, ErrWriter: &stdout,
		Commands: []*cli.Command{tlsCommand(), nodeCommand()}}
	if err := app.Run(append([]string{"mfs"}, args...)); err != nil {
		return errorLine(err), exitCode(err), stdout.String()
	}
	return "", 0, stdout.String()
}

func TestTLSCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	steps := []struct {
		args []string
		code int
		want string // in the error line, or in stdout when code is 0
	}{
		{[]string{"tls"}, 2, "mfs tls: missing subcommand: ca, cert or revoke"},
		{[]string{"tls", "crl"}, 2, `mfs tls: unknown subcommand "crl"`},
		{[]string{"tls", "ca"}, 2, "mfs tls ca: --dir is required"},
		{[]string{"tls", "ca", "--dir", dir, "--key", "rsa"}, 2, `mfs tls ca: --key "rsa": want ecdsa or ed25519`},
		{[]string{"tls", "ca", "--dir", dir, "--valid", "-1h"}, 2, "mfs tls ca: --valid -1h0m0s: must be positive"},
		{[]string{"tls", "ca", "--dir", dir, "--bogus"}, 2, "mfs tls ca: unknown flag --bogus"},
		{[]string{"tls", "cert", "--dir", dir, "--id", "1"}, 1, "mfs tls cert: " + filepath.Join(dir, "ca.pem") + ": no such file or directory"},
		{[]string{"tls", "ca", "--dir", dir, "--valid", "48h"}, 0, "wrote " + filepath.Join(dir, "ca.pem")},
		{[]string{"tls", "ca", "--dir", dir}, 1, "mfs tls ca: " + filepath.Join(dir, "ca-key.pem") + ": file already exists; refusing to overwrite it"},
		{[]string{"tls", "cert", "--dir", dir}, 2, "mfs tls cert: --id is required"},
		{[]string{"tls", "cert", "--dir", dir, "--id", "0"}, 2, "mfs tls cert: --id 0: want a node number from 1 to 65535"},
		{[]string{"tls", "cert", "--dir", dir, "--id", "1"}, 1, "would outlive the CA"},
		{[]string{"tls", "cert", "--dir", dir, "--id", "1", "--valid", "24h", "--key", "ed25519"}, 0, "wrote " + filepath.Join(dir, "node-1.pem")},
		{[]string{"tls", "cert", "--dir", dir, "--id", "2", "--valid", "24h"}, 0, "mfs node --id 2 --tls-dir " + dir},
		{[]string{"tls", "cert", "--dir", dir, "--id", "2", "--valid", "24h"}, 1, "node-2-key.pem: file already exists"},
		// mfs node reads them.
		{[]string{"node", "--id", "1", "--tls-dir", dir, "--gossip", "127.0.0.1:0", "--root", t.TempDir()}, 2, "mfs node: --tls-dir needs --encrypt"},
		{[]string{"node", "--id", "3", "--tls-dir", dir, "--encrypt", "QUFBQUFBQUFBQUFBQUFBQQ==", "--root", t.TempDir()}, 2, "mfs node: --tls-dir: " + filepath.Join(dir, "node-3.pem") + ": no such file or directory"},
		{[]string{"node", "--id", "1", "--gossip", "10.1.2.3:7946", "--root", t.TempDir()}, 2, "mfs node: --gossip 10.1.2.3:7946 is reachable from the network"},
	}
	for _, s := range steps {
		line, code, out := runApp(t, s.args...)
		got := line
		if s.code == 0 {
			got = out
		}
		if code != s.code || !strings.Contains(got, s.want) {
			t.Errorf("mfs %s: exit %d, %q; want exit %d and %q", strings.Join(s.args, " "), code, got, s.code, s.want)
		}
		if strings.Contains(line, "\n") {
			t.Errorf("mfs %s: error of more than one line: %q", strings.Join(s.args, " "), line)
		}
	}
	for name, mode := range map[string]os.FileMode{"ca-key.pem": 0o600, "node-1-key.pem": 0o600, "ca.pem": 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
		} else if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
	if _, err := clustertls.Load(dir, 1); err != nil {
		t.Errorf("load node 1 after mfs tls: %v", err)
	}
}

func TestMaxNodeID(t *testing.T) {
	if clustertls.MaxNodeID != namespace.MaxNodeID {
		t.Errorf("clustertls.MaxNodeID %d, namespace.MaxNodeID %d", clustertls.MaxNodeID, namespace.MaxNodeID)
	}
}
