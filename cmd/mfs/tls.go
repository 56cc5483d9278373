package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"mfs/internal/clierr"
	"mfs/internal/clustertls"
	"mfs/namespace"
)

// tlsCommand makes the cluster's certificates, as `consul tls ca create`
// and `consul tls cert create`: a CA once, then one certificate per node.
func tlsCommand() *cli.Command {
	return &cli.Command{
		Name:      "tls",
		Usage:     "make the cluster's TLS certificates: a CA, then one certificate per node; revoke one",
		UsageText: "mfs tls ca --dir DIR [--valid D] [--key ecdsa|ed25519]\nmfs tls cert --dir DIR --id N [--valid D] [--key ecdsa|ed25519]\nmfs tls revoke --dir DIR (--id N | --cert FILE | --serial HEX)",
		Description: `Nodes started with --tls-dir DIR talk to each other over mutual TLS 1.3:
each node's export serves only clients holding a certificate signed by
DIR/ca.pem, and a node dialling a peer checks that the peer's certificate
names the node id gossip advertised. A node needs DIR/ca.pem and its own
DIR/node-N.pem and DIR/node-N-key.pem; keep DIR/ca-key.pem where you make
certificates, not on the nodes. Existing files are never overwritten.
A certificate that must be withdrawn (a node retired, a key stolen) is
revoked: mfs tls revoke adds it to DIR/crl.pem, a CRL signed with the
CA key; copy crl.pem into every node's --tls-dir and they refuse it
within seconds, without a restart.

Examples:
  mfs tls ca --dir /etc/mfs/tls
  mfs tls cert --dir /etc/mfs/tls --id 1
  mfs tls cert --dir /etc/mfs/tls --id 2 --valid 720h --key ed25519
  mfs tls revoke --dir /etc/mfs/tls --id 2`,
		OnUsageError: clierr.OnUsageError("tls"),
		Subcommands:  []*cli.Command{tlsCACommand(), tlsCertCommand(), tlsRevokeCommand()},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return clierr.In("tls", clierr.Usagef("unknown subcommand %q: want ca, cert or revoke (see mfs tls --help)", c.Args().First()))
			}
			return clierr.In("tls", clierr.Usagef("missing subcommand: ca, cert or revoke (see mfs tls --help)"))
		},
	}
}

// tlsFlags are the flags both subcommands take.
func tlsFlags(valid time.Duration) []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "dir", EnvVars: []string{"MFS_TLS_DIR"}, Usage: "directory of the certificates (required)"},
		&cli.DurationFlag{Name: "valid", Value: valid, Usage: "validity from now"},
		&cli.StringFlag{Name: "key", Value: clustertls.ECDSA, Usage: "key type: ecdsa (P-256) or ed25519"},
	}
}

// tlsCACommand is `mfs tls ca`.
func tlsCACommand() *cli.Command {
	return &cli.Command{
		Name:         "ca",
		Usage:        "create the cluster CA: DIR/ca.pem and DIR/ca-key.pem",
		UsageText:    "mfs tls ca --dir DIR [--valid 87600h] [--key ecdsa|ed25519]",
		OnUsageError: clierr.OnUsageError("tls ca"),
		Flags:        tlsFlags(clustertls.DefaultCAValidity),
		Action: func(c *cli.Context) error {
			dir, valid, key, err := tlsArgs(c)
			if err != nil {
				return clierr.In("tls ca", err)
			}
			if err := clustertls.CreateCA(dir, valid, key); err != nil {
				return clierr.In("tls ca", err)
			}
			fmt.Fprintf(c.App.Writer, "wrote %s and %s (%s, valid until %s)\nkeep %s to yourself: whoever holds it can make cluster members\n",
				filepath.Join(dir, clustertls.CAFile), filepath.Join(dir, clustertls.CAKeyFile), key,
				time.Now().Add(valid).UTC().Format(time.DateOnly), clustertls.CAKeyFile)
			return nil
		},
	}
}

// tlsCertCommand is `mfs tls cert`.
func tlsCertCommand() *cli.Command {
	return &cli.Command{
		Name:         "cert",
		Usage:        "create node N's certificate, signed by the CA in DIR: DIR/node-N.pem and DIR/node-N-key.pem",
		UsageText:    "mfs tls cert --dir DIR --id N [--valid 8760h] [--key ecdsa|ed25519]",
		OnUsageError: clierr.OnUsageError("tls cert"),
		Flags: append(tlsFlags(clustertls.DefaultNodeValidity),
			&cli.IntFlag{Name: "id", Usage: "the node's number, as its --id (required)"}),
		Action: func(c *cli.Context) error {
			dir, valid, key, err := tlsArgs(c)
			if err != nil {
				return clierr.In("tls cert", err)
			}
			id := c.Int("id")
			if !c.IsSet("id") {
				return clierr.In("tls cert", clierr.Usagef("--id is required: the node's number"))
			}
			if id < 1 || id > namespace.MaxNodeID {
				return clierr.In("tls cert", clierr.Usagef("--id %d: want a node number from 1 to %d", id, namespace.MaxNodeID))
			}
			if err := clustertls.CreateNodeCert(dir, id, valid, key); err != nil {
				return clierr.In("tls cert", err)
			}
			n, err := clustertls.Load(dir, id)
			if err != nil {
				return clierr.In("tls cert", err)
			}
			fmt.Fprintf(c.App.Writer, "wrote %s and %s (%s, valid until %s)\nnode %d needs them and %s: mfs node --id %d --tls-dir %s\n",
				filepath.Join(dir, clustertls.NodeFile(id)), filepath.Join(dir, clustertls.NodeKeyFile(id)), key,
				n.NotAfter().UTC().Format(time.DateOnly), id, clustertls.CAFile, id, dir)
			return nil
		},
	}
}

// tlsArgs reads the flags both subcommands take; its errors are usage
// errors.
func tlsArgs(c *cli.Context) (dir string, valid time.Duration, key string, err error) {
	if c.Args().Present() {
		return "", 0, "", clierr.Usagef("unexpected argument %q", c.Args().First())
	}
	dir, valid, key = c.String("dir"), c.Duration("valid"), c.String("key")
	switch {
	case dir == "":
		return "", 0, "", clierr.Usagef("--dir is required: the directory of the certificates")
	case valid <= 0:
		return "", 0, "", clierr.Usagef("--valid %v: must be positive", valid)
	case key != clustertls.ECDSA && key != clustertls.Ed25519:
		return "", 0, "", clierr.Usagef("--key %q: want %s or %s", key, clustertls.ECDSA, clustertls.Ed25519)
	}
	return dir, valid, key, nil
}

// tlsRevokeCommand is `mfs tls revoke`.
func tlsRevokeCommand() *cli.Command {
	return &cli.Command{
		Name:  "revoke",
		Usage: "revoke a node's certificate: add it to DIR/crl.pem, signed with the CA key in DIR",
		UsageText: `mfs tls revoke --dir DIR --id N           (the certificate DIR/node-N.pem)
mfs tls revoke --dir DIR --cert FILE      (a certificate file)
mfs tls revoke --dir DIR --serial HEX     (a serial, as openssl x509 -serial prints it)`,
		Description: `Nodes look at crl.pem in their --tls-dir at every TLS handshake and read
it again when it changes: they refuse the revoked certificate both as a
client of their export and as the export they dial, and close its live
connections within seconds. Copy DIR/crl.pem to every node.`,
		OnUsageError: clierr.OnUsageError("tls revoke"),
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", EnvVars: []string{"MFS_TLS_DIR"}, Usage: "directory of the CA and its key (required)"},
			&cli.IntFlag{Name: "id", Usage: "revoke DIR/node-N.pem"},
			&cli.StringFlag{Name: "cert", Usage: "revoke the certificate in this file"},
			&cli.StringFlag{Name: "serial", Usage: "revoke the certificate of this serial number (hexadecimal)"},
		},
		Action: func(c *cli.Context) error {
			r, err := tlsRevoke(c)
			if err != nil {
				return clierr.In("tls revoke", err)
			}
			who := "certificate"
			if r.Node != 0 {
				who = fmt.Sprintf("node %d's certificate", r.Node)
			}
			if r.Already {
				fmt.Fprintf(c.App.Writer, "%s (serial %s) is already revoked in %s; nothing changed\n", who, clustertls.SerialText(r.Serial), r.Path)
				return nil
			}
			fmt.Fprintf(c.App.Writer, "revoked %s (serial %s): %s now lists %d certificate(s)\ncopy it into every node's --tls-dir; nodes read it again without a restart\n",
				who, clustertls.SerialText(r.Serial), r.Path, r.Count)
			return nil
		},
	}
}

// tlsRevoke reads the flags of `mfs tls revoke` and revokes.
func tlsRevoke(c *cli.Context) (clustertls.Revocation, error) {
	var none clustertls.Revocation
	if c.Args().Present() {
		return none, clierr.Usagef("unexpected argument %q", c.Args().First())
	}
	dir, id, certFile, serial := c.String("dir"), c.Int("id"), c.String("cert"), c.String("serial")
	if dir == "" {
		return none, clierr.Usagef("--dir is required: the directory of the CA and its key")
	}
	if c.IsSet("id") && (id < 1 || id > namespace.MaxNodeID) {
		return none, clierr.Usagef("--id %d: want a node number from 1 to %d", id, namespace.MaxNodeID)
	}
	if certFile != "" && serial != "" {
		return none, clierr.Usagef("--cert and --serial: give one")
	}
	switch {
	case serial != "":
		sn, err := clustertls.ParseSerial(serial)
		if err != nil {
			return none, clierr.Usagef("--serial: %v", err)
		}
		r, err := clustertls.RevokeSerial(dir, sn)
		r.Node = id
		return r, err
	case certFile != "":
	case c.IsSet("id"):
		certFile = filepath.Join(dir, clustertls.NodeFile(id))
		if _, err := os.Stat(certFile); errors.Is(err, fs.ErrNotExist) {
			return none, clierr.Usagef("%s: no such file: give the certificate (--cert FILE) or its serial (--serial HEX, as openssl x509 -serial -noout -in FILE prints it)", certFile)
		}
	default:
		return none, clierr.Usagef("what to revoke: give --id N (DIR/node-N.pem), --cert FILE or --serial HEX")
	}
	return clustertls.RevokeCert(dir, certFile, id)
}
