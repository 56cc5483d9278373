package membership

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestLoadKeyFile: the first load makes a 32-byte key, mode 0600, in a
// directory made 0700; later loads (and concurrent first ones) read the
// same key.
func TestLoadKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mfs", "gossip.key")
	keys := make([][]byte, 4)
	created := make([]bool, len(keys))
	var wg sync.WaitGroup
	for i := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			keys[i], created[i], err = LoadKeyFile(path)
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	n := 0
	for i := range keys {
		if created[i] {
			n++
		}
		if string(keys[i]) != string(keys[0]) || len(keys[i]) != KeyFileSize {
			t.Fatalf("load %d: key of %d bytes, differs from the first: %v", i, len(keys[i]), string(keys[i]) != string(keys[0]))
		}
	}
	if n != 1 {
		t.Errorf("%d loads say they made the key, want 1", n)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v; want mode 0600", fi.Mode(), err)
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("key directory: %v, %v; want mode 0700", di.Mode(), err)
	}
	b, _ := os.ReadFile(path)
	if got, err := ParseKey(strings.TrimSpace(string(b))); err != nil || string(got) != string(keys[0]) {
		t.Fatalf("file holds %q (%v), not the key as base64", b, err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
	again, created2, err := LoadKeyFile(path)
	if err != nil || created2 || string(again) != string(keys[0]) {
		t.Fatalf("second load: %v, created %v, same key %v", err, created2, string(again) == string(keys[0]))
	}
}

// TestLoadKeyFileErrors: a key file others may read, a bad key, or one
// that cannot be read is a one-line error naming the file, and never
// quotes the key.
func TestLoadKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	good := base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name, content string
		mode          os.FileMode
		want          string
	}{
		{"readable by others", good, 0o644, "chmod 600"},
		{"readable by group", good, 0o640, "chmod 600"},
		{"not base64", "secret!", 0o600, "not a base64 key"},
		{"short key", "c2hvcnQ=", 0o600, "key of 5 bytes, want 16, 24 or 32"},
		{"empty", "\n", 0o600, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(path, tt.mode)
			_, _, err := LoadKeyFile(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v, want one line naming %s and saying %q", err, path, tt.want)
			}
			if c := strings.TrimSpace(tt.content); c != "" && strings.Contains(err.Error(), c) {
				t.Errorf("error quotes the file: %v", err)
			}
		})
	}
	t.Run("a directory", func(t *testing.T) {
		if _, _, err := LoadKeyFile(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("directory not writable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes anywhere")
		}
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o500)
		if _, _, err := LoadKeyFile(filepath.Join(ro, "gossip.key")); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("err %v", err)
		}
	})
}
