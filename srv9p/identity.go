package srv9p

import (
	"errors"
	"fmt"
	"net"

	"github.com/hugelgupf/p9/linux"
	"github.com/hugelgupf/p9/p9"
	"golang.org/x/sys/unix"
)

// Proof is what a transport proved about the other end of a connection.
// A claim of identity (a Tattach's uname or n_uname) is believed only as
// far as the proof goes.
type Proof uint8

// Proofs, weakest first.
const (
	// ProofNone: nothing. Claims are not believed; the connection is the
	// anonymous user.
	ProofNone Proof = iota
	// ProofUnix: the kernel's SO_PEERCRED on a unix socket; Peer.UID is
	// the peer process's uid. Root may claim any uid, anyone else only
	// itself; with no claim the connection is Peer.UID.
	ProofUnix
	// ProofPrivPort: a TCP connection from a source port below 1024,
	// which only root on the client host can bind (NFS's "secure"). Claims
	// are believed; with none the connection is root.
	ProofPrivPort
	// ProofMember: a cluster member's certificate; Peer.Node is its id.
	// Claims are believed, as NFS believes a client host's AUTH_SYS; with
	// none the connection is anonymous.
	ProofMember
	// ProofTrusted: the listener was told to believe every claim (a port
	// only a VM or another trusted program can reach); with none the
	// connection is root.
	ProofTrusted
)

// String names the proof for logs.
func (p Proof) String() string {
	switch p {
	case ProofUnix:
		return "unix peer credentials"
	case ProofPrivPort:
		return "privileged port"
	case ProofMember:
		return "cluster certificate"
	case ProofTrusted:
		return "trusted listener"
	}
	return "none"
}

// Peer is what the transport proved.
type Peer struct {
	Proof Proof
	UID   uint32 // ProofUnix: the peer's uid
	Node  int    // ProofMember: the node id its certificate names
}

// Identify returns what the kernel proves about nc: SO_PEERCRED for a unix
// socket, the source port for TCP (ProofPrivPort below 1024, else
// ProofNone), ProofNone for anything else.
func Identify(nc net.Conn) (Peer, error) {
	switch c := nc.(type) {
	case *net.UnixConn:
		raw, err := c.SyscallConn()
		if err != nil {
			return Peer{}, err
		}
		var cred *unix.Ucred
		var serr error
		if err := raw.Control(func(fd uintptr) {
			cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		}); err != nil {
			return Peer{}, err
		}
		if serr != nil {
			return Peer{}, fmt.Errorf("SO_PEERCRED: %w", serr)
		}
		return Peer{Proof: ProofUnix, UID: cred.Uid}, nil
	case *net.TCPConn:
		if a, ok := c.RemoteAddr().(*net.TCPAddr); ok && a.Port > 0 && a.Port < 1024 {
			return Peer{Proof: ProofPrivPort}, nil
		}
	}
	return Peer{}, nil
}

// Squash says whose claims become the anonymous user, as NFS's
// root_squash and all_squash.
type Squash uint8

// Squash settings.
const (
	SquashNone Squash = iota
	SquashRoot
	SquashAll
)

// ParseSquash reads "none", "root" or "all".
func ParseSquash(s string) (Squash, error) {
	switch s {
	case "none":
		return SquashNone, nil
	case "root":
		return SquashRoot, nil
	case "all":
		return SquashAll, nil
	}
	return 0, fmt.Errorf("squash %q: want none, root or all", s)
}

// Default anonymous identity (nobody, nogroup).
const (
	DefaultAnonUID = 65534
	DefaultAnonGID = 65534
)

// errClaim is an attach whose claim the transport forbids.
var errClaim = errors.New("claim not allowed on this connection")

// resolve turns a Tattach's claim into the uid the attach runs as, by the
// rules of Proof, then squash. A claim is n_uname when set, else uname (a
// user name looked up in the node's passwd database, or a decimal uid); a
// name that does not resolve claims the anonymous user.
func (s *Server) resolve(p Peer, uname string, nuname p9.UID) (uint32, error) {
	claim, claimed := uint32(0), false
	switch {
	case nuname.Ok():
		claim, claimed = uint32(nuname), true
	case uname != "":
		claim, claimed = s.lookupName(uname), true
	}
	var uid uint32
	switch p.Proof {
	case ProofUnix:
		uid = p.UID
		if claimed {
			if p.UID != 0 && claim != p.UID {
				return 0, errClaim
			}
			uid = claim
		}
	case ProofPrivPort, ProofTrusted:
		uid = 0
		if claimed {
			uid = claim
		}
	case ProofMember:
		uid = s.anonUID
		if claimed {
			uid = claim
		}
	default:
		uid = s.anonUID
	}
	switch {
	case s.squash == SquashAll, s.squash == SquashRoot && uid == 0:
		uid = s.anonUID
	}
	return uid, nil
}

// lookupName returns the uid of a user name, or of a decimal uid, or the
// anonymous uid (through the cache that names owners in stats).
func (s *Server) lookupName(name string) uint32 {
	if v, ok := s.names.userID(name); ok {
		return v
	}
	return s.anonUID
}

// refuse is the errno of a refused claim.
var refuse = linux.EPERM
