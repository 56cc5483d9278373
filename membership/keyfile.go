package membership

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// KeyFileSize is the size of a key LoadKeyFile makes: 32 bytes (AES-256).
const KeyFileSize = 32

// LoadKeyFile returns the gossip key in the file at path (base64 of 16,
// 24 or 32 bytes on one line, as `openssl rand -base64 32` prints). When
// the file does not exist it makes one first, with a fresh 32-byte key
// from crypto/rand, mode 0600, in a directory made 0700 if missing, and
// reports created. Two nodes starting at once on one machine get the same
// key: the file appears whole (written aside, then linked in place) or
// not at all.
//
// Whoever reads the file may join the cluster, so LoadKeyFile refuses a
// file that group or others may read or write, or that another user owns.
// Errors name the file and say what to do, on one line.
func LoadKeyFile(path string) (key []byte, created bool, err error) {
	if path == "" {
		return nil, false, errors.New("gossip key file: empty path")
	}
	key, err = readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	if err := makeKeyFile(path); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return nil, false, err
		}
		// Another node made it first: use its key.
		key, err = readKeyFile(path)
		return key, false, err
	}
	key, err = readKeyFile(path)
	return key, err == nil, err
}

// readKeyFile reads and checks an existing key file; an error wrapping
// fs.ErrNotExist means there is none.
func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("gossip key file %s: permission denied%s", path, permHint(err))
		}
		return nil, fmt.Errorf("gossip key file %s: %w", path, unwrapPath(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("gossip key file %s: %w", path, unwrapPath(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("gossip key file %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("gossip key file %s: mode %04o lets others read or change the cluster's key: chmod 600 %s", path, perm, path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return nil, fmt.Errorf("gossip key file %s: owned by uid %d, not by this node's user (uid %d): chown it, or make a key of your own", path, st.Uid, os.Geteuid())
	}
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, fmt.Errorf("gossip key file %s: %w", path, unwrapPath(err))
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil, fmt.Errorf("gossip key file %s: empty: want base64 of 16, 24 or 32 bytes (openssl rand -base64 32 > %s)", path, path)
	}
	key, err := decodeKey(s)
	if err != nil {
		return nil, fmt.Errorf("gossip key file %s: %v", path, err)
	}
	return key, nil
}

// decodeKey decodes a gossip key for ParseKey and LoadKeyFile; its
// errors never quote the key.
func decodeKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not a base64 key: want base64 of 16, 24 or 32 bytes (openssl rand -base64 32)")
	}
	switch len(key) {
	case 16, 24, 32:
		return key, nil
	}
	return nil, fmt.Errorf("key of %d bytes, want 16, 24 or 32", len(key))
}

// makeKeyFile writes a fresh key at path unless a file is there (then
// the error wraps fs.ErrExist).
func makeKeyFile(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("gossip key file %s: cannot make its directory: %w%s", path, unwrapPath(err), permHint(err))
		}
	}
	key := make([]byte, KeyFileSize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("gossip key file %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, ".gossip-key-")
	if err != nil {
		return fmt.Errorf("gossip key file %s: cannot write it: %w%s", path, unwrapPath(err), permHint(err))
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes it 0600; say so anyway, whatever the umask.
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("gossip key file %s: cannot write it: %w", path, unwrapPath(err))
	}
	// Link fails if path exists: the first node to get here wins.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return fmt.Errorf("gossip key file %s: cannot write it: %w", path, unwrapPath(err))
	}
	return nil
}

// permHint says, after a permission error, what a node without the key
// can do.
func permHint(err error) string {
	if !errors.Is(err, fs.ErrPermission) {
		return ""
	}
	return " (a node joins only with the cluster's key: run it as the key file's owner, or give --key-file or --encrypt)"
}

// unwrapPath drops the path from an *fs.PathError or *os.LinkError (the
// messages name the file themselves).
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
