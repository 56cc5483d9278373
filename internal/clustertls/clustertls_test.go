package clustertls

import (
	"bytes"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// makeDir creates a CA and certificates for ids in a fresh directory.
func makeDir(t *testing.T, keyType string, ids ...int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tls")
	if err := CreateCA(dir, time.Hour, keyType); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if err := CreateNodeCert(dir, id, 30*time.Minute, keyType); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mustLoad loads node id from dir.
func mustLoad(t *testing.T, dir string, id int) *Node {
	t.Helper()
	n, err := Load(dir, id)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// pair makes a certificate of node id signed by ca, valid from notBefore
// to notAfter, and its key, as a tls.Certificate.
func pair(t *testing.T, ca *authority, id int, notBefore, notAfter time.Time) tls.Certificate {
	t.Helper()
	key, err := newKey(ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	der, err := ca.issueNode(id, key.Public(), notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// loadCA reads the authority in dir.
func loadCA(t *testing.T, dir string) *authority {
	t.Helper()
	ca, err := loadAuthority(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// otherCA is a CA of another cluster, valid now.
func otherCA(t *testing.T) *authority {
	t.Helper()
	key, err := newKey(ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := newAuthority(key, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestCreateAndLoad(t *testing.T) {
	for _, keyType := range []string{"", ECDSA, Ed25519} {
		t.Run("key="+keyType, func(t *testing.T) {
			dir := makeDir(t, keyType, 1, 2)
			for name, mode := range map[string]os.FileMode{
				CAFile: 0o644, CAKeyFile: 0o600, NodeFile(1): 0o644, NodeKeyFile(1): 0o600,
			} {
				fi, err := os.Stat(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if name == CAKeyFile || name == NodeKeyFile(1) {
					if got := fi.Mode().Perm(); got != mode {
						t.Errorf("%s: mode %v, want %v", name, got, mode)
					}
				}
			}
			n := mustLoad(t, dir, 1)
			leaf := n.cert.Leaf
			if n.ID() != 1 || leaf.Subject.CommonName != "mfs-node-1" {
				t.Errorf("node 1: id %d, CN %q", n.ID(), leaf.Subject.CommonName)
			}
			if len(leaf.URIs) != 1 || leaf.URIs[0].String() != "mfs://node/1" {
				t.Errorf("node 1 URIs %v, want mfs://node/1", leaf.URIs)
			}
			if len(leaf.ExtKeyUsage) != 2 {
				t.Errorf("node 1 ExtKeyUsage %v, want server and client", leaf.ExtKeyUsage)
			}
			if d := time.Until(n.NotAfter()); d > 30*time.Minute || d < 29*time.Minute {
				t.Errorf("node 1 valid for %v more, want about 30m", d)
			}

			// Nothing is overwritten, and a refusal says so.
			before, _ := os.ReadFile(filepath.Join(dir, NodeFile(1)))
			if err := CreateCA(dir, time.Hour, keyType); err == nil || !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), "ca-key.pem") {
				t.Errorf("CreateCA over an existing CA: %v", err)
			}
			if err := CreateNodeCert(dir, 1, time.Minute, keyType); err == nil || !strings.Contains(err.Error(), "node-1-key.pem: file already exists; refusing to overwrite it") {
				t.Errorf("CreateNodeCert over node 1: %v", err)
			}
			if after, _ := os.ReadFile(filepath.Join(dir, NodeFile(1))); !bytes.Equal(before, after) {
				t.Error("node-1.pem changed")
			}
		})
	}
}

func TestCreateErrors(t *testing.T) {
	dir := makeDir(t, ECDSA)
	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"CA key type", func() error { return CreateCA(t.TempDir(), time.Hour, "rsa") }, `key type "rsa": want ecdsa or ed25519`},
		{"CA validity", func() error { return CreateCA(t.TempDir(), 0, "") }, "validity 0s: must be positive"},
		{"node key type", func() error { return CreateNodeCert(dir, 1, time.Minute, "dsa") }, `key type "dsa"`},
		{"node validity", func() error { return CreateNodeCert(dir, 1, -time.Minute, "") }, "must be positive"},
		{"id 0", func() error { return CreateNodeCert(dir, 0, time.Minute, "") }, "node id 0: want 1 to 65535"},
		{"id too large", func() error { return CreateNodeCert(dir, 65536, time.Minute, "") }, "node id 65536"},
		{"no CA", func() error { return CreateNodeCert(t.TempDir(), 1, time.Minute, "") }, "ca.pem: no such file or directory"},
		{"outlives the CA", func() error { return CreateNodeCert(dir, 1, 2*time.Hour, "") }, "would outlive the CA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.do(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, NodeFile(1))); err == nil {
		t.Error("a refused CreateNodeCert wrote node-1.pem")
	}
}

func TestLoadErrors(t *testing.T) {
	// Each case starts from a directory with a CA and nodes 1 and 2, and
	// breaks it.
	copyFile := func(dir, from, to string) {
		b, err := os.ReadFile(filepath.Join(dir, from))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, to), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeCert := func(dir string, c tls.Certificate) {
		keyPEM, err := encodeKey(c.PrivateKey.(crypto.Signer))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, NodeFile(1)), encodeCert(c.Certificate[0]), 0o644)
		os.WriteFile(filepath.Join(dir, NodeKeyFile(1)), keyPEM, 0o600)
	}
	tests := []struct {
		name   string
		break_ func(dir string)
		want   string
	}{
		{"no ca.pem", func(dir string) { os.Remove(filepath.Join(dir, CAFile)) }, "ca.pem: no such file or directory"},
		{"no node-1.pem", func(dir string) { os.Remove(filepath.Join(dir, NodeFile(1))) }, "node-1.pem: no such file or directory"},
		{"no node-1-key.pem", func(dir string) { os.Remove(filepath.Join(dir, NodeKeyFile(1))) }, "node-1-key.pem: no such file or directory"},
		{"garbage ca.pem", func(dir string) { os.WriteFile(filepath.Join(dir, CAFile), []byte("hello"), 0o644) }, "ca.pem: no CERTIFICATE in PEM"},
		{"ca.pem is a node", func(dir string) { copyFile(dir, NodeFile(2), CAFile) }, "ca.pem: not a CA certificate"},
		{"key of node 2", func(dir string) { copyFile(dir, NodeKeyFile(2), NodeKeyFile(1)) }, "node-1-key.pem: tls: private key does not match public key"},
		{"certificate of node 2", func(dir string) {
			copyFile(dir, NodeFile(2), NodeFile(1))
			copyFile(dir, NodeKeyFile(2), NodeKeyFile(1))
		}, "node-1.pem: certificate names node 2, not 1"},
		{"another CA", func(dir string) {
			writeCert(dir, pair(t, otherCA(t), 1, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)))
		},
			"node-1.pem: certificate of node 1 is not signed by this cluster's CA"},
		{"expired", func(dir string) {
			writeCert(dir, pair(t, loadCA(t, dir), 1, time.Now().Add(-3*time.Hour), time.Now().Add(-2*time.Hour)))
		}, "node-1.pem: certificate of node 1 expired at "},
		{"not yet valid", func(dir string) {
			writeCert(dir, pair(t, loadCA(t, dir), 1, time.Now().Add(10*time.Minute), time.Now().Add(20*time.Minute)))
		}, "node-1.pem: certificate of node 1 is not valid before "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := makeDir(t, ECDSA, 1, 2)
			tt.break_(dir)
			_, err := Load(dir, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error of more than one line: %q", err)
			}
		})
	}
}
