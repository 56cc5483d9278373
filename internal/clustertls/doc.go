// Package clustertls makes and loads the certificates of an mfs cluster and
// builds the TLS configurations its nodes use between each other.
//
// A cluster has one certificate authority (DIR/ca.pem, DIR/ca-key.pem) and
// one certificate per node, signed by it (DIR/node-N.pem,
// DIR/node-N-key.pem). A node certificate names its node by a URI SAN
// mfs://node/N (and, for humans, the common name mfs-node-N); it is good
// for both ends of a connection, since a node serves its export and dials
// its peers' with the same certificate. Only the node's pair and ca.pem
// are needed to run a node; ca-key.pem stays where certificates are made.
//
// Connections are mutual TLS 1.3: a node's export listens through
// Node.NewListener, and its peers dial it with Node.ClientConfig of the
// id gossip advertised there. The serving side accepts any client whose
// certificate the cluster CA signed and that names a node; the dialling
// side checks the server's chain against the CA (never a host name: nodes
// are known by number) and that the certificate names exactly the node
// gossip advertised at that address. Chains are verified by this package
// rather than by crypto/tls so that a refusal reads as what it is in the
// logs ("certificate of node 3 expired at …", "certificate names node 2,
// gossip says 3").
//
// Both sides also refuse a certificate that the cluster's revocation list
// names: DIR/crl.pem, an X.509 CRL signed by the CA (RevokeCert and
// RevokeSerial make it). A node looks at the file at every handshake (one stat) and
// every PollInterval under Watch, reads it again when it changed, and
// closes the connections of certificates a new list revokes; a list that
// does not read is ignored for the last good one (see revocations). Watch
// also warns when the node's certificate or the CA is about to end.
package clustertls
