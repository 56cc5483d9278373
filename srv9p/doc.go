// Package srv9p exports one local directory tree as a 9P2000.L file system.
//
// New returns a p9.Attacher whose files are backed by open file descriptors
// (O_PATH and openat2 with RESOLVE_BENEATH), never by joined path strings, so
// that nothing outside the export root can be reached: not through "..", not
// through symlinks, and not through a directory swapped for a symlink while a
// request is in flight.
package srv9p
