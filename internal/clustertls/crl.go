package clustertls

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// CRLFile is the name of the cluster's certificate revocation list in a
// certificate directory: an X.509 CRL, PEM, signed by the cluster CA
// (Revoke writes it; `openssl crl -in crl.pem -text -noout` reads it).
const CRLFile = "crl.pem"

// RevokedError is the refusal of a certificate that the revocation list
// names.
type RevokedError struct {
	Node   int       // the node the certificate names
	Serial *big.Int  // its serial number
	Since  time.Time // when it was revoked
}

func (e *RevokedError) Error() string {
	return fmt.Sprintf("certificate of node %d (serial %s) is revoked since %s (%s)", e.Node, SerialText(e.Serial), stamp(e.Since), CRLFile)
}

// SerialText writes a certificate serial number as `mfs tls revoke
// --serial` reads it and as `openssl x509 -serial` prints it: upper-case
// hexadecimal.
func SerialText(s *big.Int) string { return fmt.Sprintf("%X", s) }

// revList is one revocation list as read and checked: the serials it
// names (by SerialText) and when each was revoked.
type revList struct {
	number  *big.Int // the CRL number; 0 when there was no file
	revoked map[string]time.Time
}

// lookup returns when serial was revoked, if it is.
func (l *revList) lookup(serial *big.Int) (time.Time, bool) {
	t, ok := l.revoked[SerialText(serial)]
	return t, ok
}

// parseCRL reads a revocation list (PEM "X509 CRL", or DER) and checks
// that ca signed it.
func parseCRL(data []byte, ca *x509.Certificate) (*revList, error) {
	der := data
	if blk, _ := pem.Decode(data); blk != nil {
		if blk.Type != "X509 CRL" {
			return nil, fmt.Errorf("PEM block %q, want X509 CRL", blk.Type)
		}
		der = blk.Bytes
	}
	rl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("not a revocation list: %w", err)
	}
	if err := rl.CheckSignatureFrom(ca); err != nil {
		return nil, fmt.Errorf("not signed by this cluster's CA (%s): %w", CAFile, err)
	}
	l := &revList{number: rl.Number, revoked: make(map[string]time.Time, len(rl.RevokedCertificateEntries))}
	if l.number == nil {
		l.number = new(big.Int)
	}
	for _, e := range rl.RevokedCertificateEntries {
		l.revoked[SerialText(e.SerialNumber)] = e.RevocationTime
	}
	return l, nil
}

// readCRL reads and checks the revocation list in path; a missing file
// is an empty list.
func readCRL(path string, ca *x509.Certificate) (*revList, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &revList{number: new(big.Int)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	l, err := parseCRL(data, ca)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

// revocations is a node's view of DIR/crl.pem, read again whenever the
// file changes, and the live connections whose peers it may revoke.
//
// Policy: a list that does not read (garbled, half copied, signed by
// another CA) or is older than the one in use (a lower CRL number) is
// logged and ignored, and the last good list stays in force; so does a
// list whose file is removed. A node never forgets a revocation while it
// runs, and a typo in the list cannot make every node refuse every peer.
// At start (Load) there is no last good list: a bad file is an error.
//
// Lock order: mu before connMu.
type revocations struct {
	path string
	ca   *x509.Certificate
	self *big.Int // the node's own certificate, said when a list revokes it
	log  atomic.Pointer[slog.Logger]
	list atomic.Pointer[revList] // the list in force; never nil

	mu      sync.Mutex  // serializes refresh; guards the fields below
	seen    fs.FileInfo // the file at the last read, good or not; nil: absent
	seenErr string      // the last stat error other than absence, logged once

	connMu sync.Mutex
	live   map[*trackedConn]struct{}
}

// newRevocations reads the list in dir (absent: empty) for a node whose
// certificate has serial self.
func newRevocations(dir string, ca *x509.Certificate, self *big.Int) (*revocations, error) {
	r := &revocations{path: filepath.Join(dir, CRLFile), ca: ca, self: self, live: make(map[*trackedConn]struct{})}
	r.log.Store(slog.New(slog.DiscardHandler))
	fi, _ := os.Stat(r.path)
	l, err := readCRL(r.path, ca)
	if err != nil {
		return nil, err
	}
	r.seen = fi
	r.list.Store(l)
	return r, nil
}

// sameFile reports whether a and b (either nil for no file) are the same
// file with the same size and modification time.
func sameFile(a, b fs.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// refresh reads the list again if its file changed since the last look:
// one stat when it did not. A new good list goes into force and the live
// connections of certificates it revokes are closed.
func (r *revocations) refresh() {
	r.mu.Lock()
	defer r.mu.Unlock()
	log := r.log.Load()
	fi, err := os.Stat(r.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		if err.Error() != r.seenErr {
			r.seenErr = err.Error()
			log.Error("tls: cannot read the revocation list; the last good one stays in force",
				slog.String("file", r.path), slog.String("error", err.Error()), slog.Int("revoked", len(r.list.Load().revoked)))
		}
		return
	}
	r.seenErr = ""
	if err != nil {
		fi = nil
	}
	if sameFile(r.seen, fi) {
		return
	}
	r.seen = fi
	cur := r.list.Load()
	if fi == nil {
		if len(cur.revoked) > 0 {
			log.Warn("tls: the revocation list was removed; the certificates it revoked stay refused until restart",
				slog.String("file", r.path), slog.Int("revoked", len(cur.revoked)))
		}
		return
	}
	l, err := readCRL(r.path, r.ca)
	switch {
	case err != nil:
		log.Error("tls: bad revocation list ignored; the last good one stays in force",
			slog.String("error", err.Error()), slog.Int("revoked", len(cur.revoked)))
		return
	case l.number.Cmp(cur.number) < 0:
		log.Error("tls: revocation list older than the one in force ignored",
			slog.String("file", r.path), slog.String("number", l.number.String()), slog.String("in_force", cur.number.String()))
		return
	}
	r.list.Store(l)
	log.Info("tls: revocation list loaded", slog.String("file", r.path), slog.String("number", l.number.String()), slog.Int("revoked", len(l.revoked)))
	if _, ok := l.lookup(r.self); ok {
		log.Error("tls: this node's own certificate is revoked: its peers refuse it, and it will not start again with it",
			slog.String("serial", SerialText(r.self)))
	}
	r.sweep(l)
}

// check refreshes the list and returns a RevokedError if it names serial
// (of a certificate of node id).
func (r *revocations) check(id int, serial *big.Int) error {
	r.refresh()
	return r.list.Load().refuse(id, serial)
}

// refuse returns a RevokedError if l names serial.
func (l *revList) refuse(id int, serial *big.Int) error {
	if since, ok := l.lookup(serial); ok {
		return &RevokedError{Node: id, Serial: serial, Since: since}
	}
	return nil
}

// trackedConn is the connection under a node's TLS connection: it is
// known to the node's revocations from its making to its Close, so that
// a revocation closes it.
type trackedConn struct {
	net.Conn
	r *revocations
	// Set under r.connMu once the peer's certificate is verified.
	node   int
	serial *big.Int
}

// track makes nc a trackedConn known to r.
func (r *revocations) track(nc net.Conn) *trackedConn {
	c := &trackedConn{Conn: nc, r: r}
	r.connMu.Lock()
	r.live[c] = struct{}{}
	r.connMu.Unlock()
	return c
}

// Close implements net.Conn.
func (c *trackedConn) Close() error {
	c.r.connMu.Lock()
	delete(c.r.live, c)
	c.r.connMu.Unlock()
	return c.Conn.Close()
}

// NetConn returns the connection underneath.
func (c *trackedConn) NetConn() net.Conn { return c.Conn }

// admit refuses a peer certificate (serial, of node id) of connection c
// (nil: untracked) if the list names it, and otherwise records whose
// connection c is, so that a later list revoking it closes it. It checks
// again after recording, so that a list put in force meanwhile (whose
// sweep could not see the record yet) is not missed.
func (r *revocations) admit(c *trackedConn, id int, serial *big.Int) error {
	if err := r.check(id, serial); err != nil {
		return err
	}
	if c == nil {
		return nil
	}
	r.connMu.Lock()
	c.node, c.serial = id, serial
	r.connMu.Unlock()
	return r.list.Load().refuse(id, serial)
}

// sweep closes the live connections whose peers l revokes.
func (r *revocations) sweep(l *revList) {
	type victim struct {
		c      *trackedConn
		node   int
		serial *big.Int
	}
	var cut []victim
	r.connMu.Lock()
	for c := range r.live {
		if c.serial != nil {
			if _, ok := l.lookup(c.serial); ok {
				cut = append(cut, victim{c, c.node, c.serial})
			}
		}
	}
	r.connMu.Unlock()
	for _, v := range cut {
		r.log.Load().Warn("tls: closing the connection of a revoked certificate",
			slog.Int("node", v.node), slog.String("serial", SerialText(v.serial)), slog.String("remote", v.c.RemoteAddr().String()))
		v.c.Close()
	}
}
