package clustertls

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Key types for CreateCA and CreateNodeCert.
const (
	// ECDSA is ECDSA on the P-256 curve, the default.
	ECDSA = "ecdsa"
	// Ed25519 is an Ed25519 key.
	Ed25519 = "ed25519"
)

// Default validities, as `mfs tls` offers them.
const (
	DefaultCAValidity   = 10 * 365 * 24 * time.Hour
	DefaultNodeValidity = 365 * 24 * time.Hour
)

// MaxNodeID is the largest node id a certificate may name: the namespace's
// limit (namespace.MaxNodeID).
const MaxNodeID = 1<<16 - 1

// Names of the files in a certificate directory.
const (
	CAFile    = "ca.pem"
	CAKeyFile = "ca-key.pem"
)

// NodeFile is the name of node id's certificate in a certificate directory.
func NodeFile(id int) string { return fmt.Sprintf("node-%d.pem", id) }

// NodeKeyFile is the name of node id's private key in a certificate directory.
func NodeKeyFile(id int) string { return fmt.Sprintf("node-%d-key.pem", id) }

// clockSkew is how far in the past a new certificate starts, so that a
// peer whose clock is a little behind accepts it at once.
const clockSkew = 5 * time.Minute

// authority is a CA: its certificate and the key that signs with it.
type authority struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// CreateCA writes a new cluster CA into dir (created if missing, mode
// 0700): DIR/ca.pem and DIR/ca-key.pem (mode 0600), valid for validity
// from now. keyType is ECDSA (also for "") or Ed25519. Existing files are
// never overwritten: either file present is an error and nothing is
// written.
func CreateCA(dir string, validity time.Duration, keyType string) error {
	if validity <= 0 {
		return fmt.Errorf("validity %v: must be positive", validity)
	}
	key, err := newKey(keyType)
	if err != nil {
		return err
	}
	now := time.Now()
	ca, err := newAuthority(key, now.Add(-clockSkew), now.Add(validity))
	if err != nil {
		return err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return writeFiles(dir,
		file{CAKeyFile, keyPEM, 0o600},
		file{CAFile, encodeCert(ca.cert.Raw), 0o644})
}

// CreateNodeCert writes node id's certificate and key, DIR/node-N.pem and
// DIR/node-N-key.pem (mode 0600), signed by the CA in dir and valid for
// validity from now, but not beyond the CA's own end (asking for that is
// an error). keyType is as for CreateCA. Existing files are never
// overwritten.
func CreateNodeCert(dir string, id int, validity time.Duration, keyType string) error {
	if id < 1 || id > MaxNodeID {
		return fmt.Errorf("node id %d: want 1 to %d", id, MaxNodeID)
	}
	if validity <= 0 {
		return fmt.Errorf("validity %v: must be positive", validity)
	}
	ca, err := loadAuthority(dir)
	if err != nil {
		return err
	}
	now := time.Now()
	notAfter := now.Add(validity)
	if now.After(ca.cert.NotAfter) {
		return fmt.Errorf("%s: the CA expired at %s", filepath.Join(dir, CAFile), stamp(ca.cert.NotAfter))
	}
	if notAfter.After(ca.cert.NotAfter) {
		return fmt.Errorf("validity %v: the certificate would outlive the CA, which ends at %s (%v from now)",
			validity, stamp(ca.cert.NotAfter), ca.cert.NotAfter.Sub(now).Truncate(time.Hour))
	}
	key, err := newKey(keyType)
	if err != nil {
		return err
	}
	der, err := ca.issueNode(id, key.Public(), now.Add(-clockSkew), notAfter)
	if err != nil {
		return err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return err
	}
	return writeFiles(dir,
		file{NodeKeyFile(id), keyPEM, 0o600},
		file{NodeFile(id), encodeCert(der), 0o644})
}

// newKey generates a private key of keyType.
func newKey(keyType string) (crypto.Signer, error) {
	switch keyType {
	case "", ECDSA:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("key type %q: want %s or %s", keyType, ECDSA, Ed25519)
}

// serial returns a random 128-bit certificate serial number.
func serial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
}

// newAuthority makes a self-signed CA certificate for key, valid from
// notBefore to notAfter. It can sign node certificates only (path length
// zero).
func newAuthority(key crypto.Signer, notBefore, notAfter time.Time) (*authority, error) {
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	// A few hex digits of the serial tell two clusters' CAs apart.
	tag := fmt.Sprintf("%08x", sn)
	tag = tag[len(tag)-8:]
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: "mfs cluster CA " + tag},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &authority{cert: cert, key: key}, nil
}

// issueNode signs a certificate of node id for pub, valid from notBefore
// to notAfter, and returns it DER-encoded.
func (ca *authority) issueNode(id int, pub crypto.PublicKey, notBefore, notAfter time.Time) ([]byte, error) {
	sn, err := serial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          sn,
		Subject:               pkix.Name{CommonName: fmt.Sprintf("mfs-node-%d", id)},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:                  []*url.URL{nodeURI(id)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate of node %d: %w", id, err)
	}
	return der, nil
}

// loadAuthority reads the CA certificate and key in dir and checks that
// they belong together.
func loadAuthority(dir string) (*authority, error) {
	certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	cert, err := readCert(certPath)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, fmt.Errorf("%s: not a CA certificate", certPath)
	}
	key, err := readKey(keyPath)
	if err != nil {
		return nil, err
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("%s: not the key of %s", keyPath, certPath)
	}
	return &authority{cert: cert, key: key}, nil
}

// encodeCert returns a DER certificate as PEM.
func encodeCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// encodeKey returns a private key as PKCS #8 PEM.
func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// readPEM reads the first PEM block of type typ from path.
func readPEM(path, typ string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("%s: no %s in PEM", path, typ)
		}
		if blk.Type == typ {
			return blk.Bytes, nil
		}
	}
}

// readCert reads the certificate in path.
func readCert(path string) (*x509.Certificate, error) {
	der, err := readPEM(path, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cert, nil
}

// readKey reads the PKCS #8 private key in path.
func readKey(path string) (crypto.Signer, error) {
	der, err := readPEM(path, "PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: unsupported key type %T", path, k)
	}
	return s, nil
}

// file is one file for writeFiles.
type file struct {
	name string
	data []byte
	mode os.FileMode
}

// writeFiles writes every file into dir, or none: it refuses if any of
// them exists, and removes those it wrote when a later one fails.
func writeFiles(dir string, files ...file) (err error) {
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s: %w; refusing to overwrite it", p, fs.ErrExist)
		}
	}
	var written []string
	defer func() {
		if err != nil {
			for _, p := range written {
				os.Remove(p)
			}
		}
	}()
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := writeNew(p, f.data, f.mode); err != nil {
			return err
		}
		written = append(written, p)
	}
	return nil
}

// writeNew creates path with mode (never replacing a file) and writes data.
func writeNew(path string, data []byte, mode os.FileMode) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s: %w; refusing to overwrite it", path, fs.ErrExist)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		os.Remove(path)
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := fh.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// unwrapPath drops the operation and path of an *fs.PathError: callers
// name the file themselves.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// stamp formats a certificate time for messages.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
