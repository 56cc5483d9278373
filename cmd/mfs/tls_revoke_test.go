package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mfs/internal/clustertls"
)

// TestTLSRevokeCommand: mfs tls revoke by id, by file and by serial, and
// its one-line refusals; a revoked node does not start.
func TestTLSRevokeCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	other := filepath.Join(t.TempDir(), "other")
	for _, args := range [][]string{
		{"tls", "ca", "--dir", dir}, {"tls", "cert", "--dir", dir, "--id", "1"},
		{"tls", "cert", "--dir", dir, "--id", "2"}, {"tls", "cert", "--dir", dir, "--id", "3"},
		{"tls", "ca", "--dir", other}, {"tls", "cert", "--dir", other, "--id", "1"},
	} {
		if line, code, _ := runApp(t, args...); code != 0 {
			t.Fatalf("mfs %s: %s", strings.Join(args, " "), line)
		}
	}
	// The serial of node 2, then its file gone: revoked by serial.
	n2, err := clustertls.Load(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	serial2 := "serial=" + clustertls.SerialText(n2.Serial())
	os.Rename(filepath.Join(dir, "node-2.pem"), filepath.Join(t.TempDir(), "node-2.pem"))
	// A copy of node 3's certificate elsewhere: revoked by file.
	cert3 := filepath.Join(t.TempDir(), "stolen.pem")
	if b, err := os.ReadFile(filepath.Join(dir, "node-3.pem")); err != nil || os.WriteFile(cert3, b, 0o644) != nil {
		t.Fatal(err)
	}
	crl := filepath.Join(dir, clustertls.CRLFile)
	steps := []struct {
		args []string
		code int
		want string // in the error line, or in stdout when code is 0
	}{
		{[]string{"tls", "revoke"}, 2, "mfs tls revoke: --dir is required"},
		{[]string{"tls", "revoke", "--dir", dir}, 2, "mfs tls revoke: what to revoke: give --id N (DIR/node-N.pem), --cert FILE or --serial HEX"},
		{[]string{"tls", "revoke", "--dir", dir, "--id", "0"}, 2, "--id 0: want a node number from 1 to 65535"},
		{[]string{"tls", "revoke", "--dir", dir, "--cert", cert3, "--serial", "1F"}, 2, "--cert and --serial: give one"},
		{[]string{"tls", "revoke", "--dir", dir, "--serial", "xyz"}, 2, `--serial: serial "xyz": want a positive hexadecimal number`},
		{[]string{"tls", "revoke", "--dir", dir, "--id", "2"}, 2, "node-2.pem: no such file: give the certificate (--cert FILE) or its serial (--serial HEX"},
		{[]string{"tls", "revoke", "--dir", dir, "--cert", filepath.Join(other, "node-1.pem")}, 1, "not signed by the CA " + filepath.Join(dir, "ca.pem")},
		{[]string{"tls", "revoke", "--dir", dir, "--cert", cert3, "--id", "1"}, 1, "certificate names node 3, not 1; nothing revoked"},
		{[]string{"tls", "revoke", "--dir", other + "-none", "--id", "1"}, 2, "node-1.pem: no such file"},
		{[]string{"tls", "revoke", "--dir", dir, "--id", "1"}, 0, "revoked node 1's certificate (serial "},
		{[]string{"tls", "revoke", "--dir", dir, "--id", "1"}, 0, "is already revoked in " + crl + "; nothing changed"},
		{[]string{"tls", "revoke", "--dir", dir, "--serial", serial2, "--id", "2"}, 0, crl + " now lists 2 certificate(s)"},
		{[]string{"tls", "revoke", "--dir", dir, "--cert", cert3}, 0, "revoked node 3's certificate"},
		{[]string{"node", "--id", "1", "--tls-dir", dir, "--encrypt", "QUFBQUFBQUFBQUFBQUFBQQ==", "--gossip", "127.0.0.1:0", "--root", t.TempDir()}, 2,
			"mfs node: --tls-dir: " + filepath.Join(dir, "node-1.pem") + ": certificate of node 1 (serial "},
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
	if fi, err := os.Stat(crl); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("%s: %v, %v; want mode 0644", crl, fi, err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
