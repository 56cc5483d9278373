package node

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"mfs/membership"
)

// DefaultKeyFile is root's gossip key file when neither --encrypt nor
// --key-file is given: made on a node's first start, readable by root
// alone.
const DefaultKeyFile = "/var/lib/mfs/gossip.key"

// ErrNoKeyFile refuses an ordinary user's node that has no key and no
// $XDG_RUNTIME_DIR to keep one in.
var ErrNoKeyFile = errors.New("no gossip key: give --encrypt KEY or --key-file PATH (an ordinary user's default key file, $XDG_RUNTIME_DIR/mfs/gossip.key, needs XDG_RUNTIME_DIR)")

// KeyFileFor returns the default gossip key file of a node run by euid:
// DefaultKeyFile for root, $XDG_RUNTIME_DIR/mfs/gossip.key (xdgRuntime)
// for anyone else: an ordinary user's own cluster, which only that user
// (and root) can join. Without xdgRuntime an ordinary user has none
// (ErrNoKeyFile).
func KeyFileFor(euid int, xdgRuntime string) (string, error) {
	if euid == 0 {
		return DefaultKeyFile, nil
	}
	if xdgRuntime == "" || !filepath.IsAbs(xdgRuntime) {
		return "", ErrNoKeyFile
	}
	return filepath.Join(xdgRuntime, "mfs", "gossip.key"), nil
}

// loadKey sets cfg.Key from cfg.KeyFile, making the file on first use,
// and says once where the key is (never the key itself).
func (cfg *Config) loadKey(log *slog.Logger) error {
	if cfg.Key != nil || cfg.KeyFile == "" {
		return nil
	}
	key, created, err := membership.LoadKeyFile(cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("--key-file: %w", err)
	}
	cfg.Key = key
	log.Info("gossip key: every node of the cluster needs a copy of this file (mode 0600), given with --key-file",
		slog.String("key_file", cfg.KeyFile), slog.Bool("made", created))
	return nil
}
