package namespace

import (
	"reflect"

	"github.com/hugelgupf/p9/p9"
)

// clientFid returns the fid the p9 client uses for f, read from the
// unexported field fid of *p9.clientFile (read-only, with reflect): the
// p9 client offers no accessor, and the injected requests in raw.go must
// name that fid. TestClientFidLayout fails loudly if the library changes.
func clientFid(f p9.File) (uint32, bool) {
	v := reflect.ValueOf(f)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return 0, false
	}
	fv := v.Elem().FieldByName("fid")
	if !fv.IsValid() || (fv.Kind() != reflect.Uint64 && fv.Kind() != reflect.Uint32) {
		return 0, false
	}
	return uint32(fv.Uint()), true
}
