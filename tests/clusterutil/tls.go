package clusterutil

import (
	"crypto/rand"
	"encoding/base64"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// MakeTLS makes a cluster CA and certificates of nodes ids with `mfs tls`
// in a fresh directory, and returns it (for NodeOptions.TLSDir).
func MakeTLS(t testing.TB, ids ...int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tls")
	run := func(args ...string) {
		t.Helper()
		out, err := exec.Command(Binary(t), append([]string{"tls"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("mfs tls %v: %v\n%s", args, err, out)
		}
	}
	run("ca", "--dir", dir)
	for _, id := range ids {
		run("cert", "--dir", dir, "--id", strconv.Itoa(id))
	}
	return dir
}

// NewKey returns a fresh gossip key (NodeOptions.Encrypt).
func NewKey(t testing.TB) string {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(k)
}
