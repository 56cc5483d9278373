package dial

import (
	"errors"
	"fmt"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
)

// remover is the p9 client file's Tremove, which p9.File does not declare.
type remover interface{ Remove() error }

// UnlinkAt removes name from the directory dir with Tunlinkat and, where the
// server answers EOPNOTSUPP (diod does), falls back to walk + Tremove as the
// kernel's v9fs client does. flags is 0 or AT_REMOVEDIR (0x200), which the
// fallback does not need: Tremove removes either kind.
func UnlinkAt(dir p9.File, name string, flags uint32) error {
	err := dir.UnlinkAt(name, flags)
	if !errors.Is(err, linux.EOPNOTSUPP) {
		return err
	}
	_, f, err := dir.Walk([]string{name})
	if err != nil {
		return fmt.Errorf("unlink %q: walk: %w", name, err)
	}
	r, ok := f.(remover)
	if !ok {
		f.Close()
		return fmt.Errorf("unlink %q: %T has no Remove: %w", name, f, linux.EOPNOTSUPP)
	}
	// Tremove clunks the fid whether or not the removal succeeds.
	if err := r.Remove(); err != nil {
		return fmt.Errorf("unlink %q: remove: %w", name, err)
	}
	return nil
}
