package srv9p

import (
	"errors"

	"github.com/hugelgupf/p9/p9"
)

// Option configures an export.
type Option func(*config)

type config struct {
	readOnly bool
	exclude  []string
}

// ReadOnly makes every mutating operation fail with EROFS.
func ReadOnly() Option { return func(c *config) { c.readOnly = true } }

// Exclude leaves the given paths (relative to the export root) out of the export.
func Exclude(paths ...string) Option {
	return func(c *config) { c.exclude = append(c.exclude, paths...) }
}

// New exports the directory root.
func New(root string, opts ...Option) (p9.Attacher, error) {
	return nil, errors.New("srv9p: not built yet")
}
