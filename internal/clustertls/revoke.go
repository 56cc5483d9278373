package clustertls

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Revocation is what Revoke did.
type Revocation struct {
	Serial  *big.Int // the certificate revoked
	Node    int      // the node it names; 0 when revoked by serial alone
	Already bool     // the list named it already: nothing changed
	Count   int      // certificates the list names now
	Number  *big.Int // the list's CRL number now
	Path    string   // DIR/crl.pem
}

// RevokeCert revokes the certificate in certPath, which the cluster CA in
// dir must have signed (a certificate of another CA is an error: it is
// refused anyway, and revoking it is likely a mistake of directory) and
// which must name node wantID, unless wantID is 0.
func RevokeCert(dir, certPath string, wantID int) (Revocation, error) {
	cert, err := readCert(certPath)
	if err != nil {
		return Revocation{}, err
	}
	ca, err := loadAuthority(dir)
	if err != nil {
		return Revocation{}, err
	}
	if err := cert.CheckSignatureFrom(ca.cert); err != nil {
		return Revocation{}, fmt.Errorf("%s: not signed by the CA %s: %w", certPath, filepath.Join(dir, CAFile), err)
	}
	id, err := nodeID(cert)
	if err != nil {
		return Revocation{}, fmt.Errorf("%s: %w", certPath, err)
	}
	if wantID != 0 && id != wantID {
		return Revocation{}, fmt.Errorf("%s: certificate names node %d, not %d; nothing revoked", certPath, id, wantID)
	}
	r, err := revoke(dir, ca, cert.SerialNumber)
	r.Node = id
	return r, err
}

// RevokeSerial revokes the certificate of serial number serial, signed by
// the cluster CA in dir: for a certificate whose file is gone.
func RevokeSerial(dir string, serial *big.Int) (Revocation, error) {
	ca, err := loadAuthority(dir)
	if err != nil {
		return Revocation{}, err
	}
	return revoke(dir, ca, serial)
}

// ParseSerial reads a certificate serial number in hexadecimal, as
// `openssl x509 -serial -noout` prints it ("serial=1F…", the prefix
// optional), as `openssl x509 -text` shows it (with colons), or with 0x.
func ParseSerial(s string) (*big.Int, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "serial=")
	t = strings.TrimPrefix(strings.TrimPrefix(t, "0x"), "0X")
	t = strings.ReplaceAll(t, ":", "")
	n, ok := new(big.Int).SetString(t, 16)
	if !ok || t == "" || strings.ContainsAny(t, "+-_") || n.Sign() <= 0 {
		return nil, fmt.Errorf("serial %q: want a positive hexadecimal number, as openssl x509 -serial prints it", s)
	}
	return n, nil
}

// revoke signs a new DIR/crl.pem with ca: the entries of the list there
// (which ca must have signed; a bad list is an error, never silently
// replaced), plus serial revoked now, numbered one past the old list. The
// new file replaces the old by rename, so a node never reads it half
// written.
func revoke(dir string, ca *authority, serial *big.Int) (Revocation, error) {
	path := filepath.Join(dir, CRLFile)
	res := Revocation{Serial: serial, Path: path}
	var old *x509.RevocationList
	if data, err := os.ReadFile(path); err == nil {
		if _, err := parseCRL(data, ca.cert); err != nil {
			return res, fmt.Errorf("%s: %w; refusing to replace it", path, err)
		}
		der := data
		if blk, _ := pem.Decode(data); blk != nil {
			der = blk.Bytes
		}
		if old, err = x509.ParseRevocationList(der); err != nil {
			return res, fmt.Errorf("%s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return res, fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	now := time.Now()
	if !now.Before(ca.cert.NotAfter) {
		return res, fmt.Errorf("%s: the CA expired at %s", filepath.Join(dir, CAFile), stamp(ca.cert.NotAfter))
	}
	var entries []x509.RevocationListEntry
	number := big.NewInt(1)
	if old != nil {
		entries = old.RevokedCertificateEntries
		if old.Number != nil {
			number.Add(old.Number, number)
		}
		for _, e := range entries {
			if e.SerialNumber.Cmp(serial) == 0 {
				res.Already, res.Count, res.Number = true, len(entries), old.Number
				return res, nil
			}
		}
	}
	entries = append(entries, x509.RevocationListEntry{SerialNumber: serial, RevocationTime: now})
	// A list is good until the CA ends: nodes do not refuse a list for
	// its age (there is no server to fetch a fresh one from); they
	// take each newer one as it comes.
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    number,
		ThisUpdate:                now,
		NextUpdate:                ca.cert.NotAfter,
		RevokedCertificateEntries: entries,
	}, ca.cert, ca.key)
	if err != nil {
		return res, fmt.Errorf("sign %s: %w", path, err)
	}
	if err := replaceFile(path, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der}), 0o644); err != nil {
		return res, err
	}
	res.Count, res.Number = len(entries), number
	return res, nil
}

// replaceFile writes data to path through a temporary file in the same
// directory, renamed over path once complete.
func replaceFile(path string, data []byte, mode os.FileMode) error {
	fh, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	tmp := fh.Name()
	_, err = fh.Write(data)
	if err == nil {
		err = fh.Chmod(mode)
	}
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
