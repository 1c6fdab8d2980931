package digest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// A checkpoint is a chain's tree head in the C2SP tlog-checkpoint format
// (c2sp.org/tlog-checkpoint): the text "<origin>\n<tree size>\n<base64 root
// hash>\n", a signed note (c2sp.org/signed-note, golang.org/x/mod/sumdb/note)
// signed by the digest key under its key id as the key name. Locally the
// signature is Ed25519 (type 0x01), which any signed-note verifier checks;
// on AWS it is the KMS key's ECDSA P-256 over SHA-256 of the text, ASN.1
// DER (type 0x02, the key ID the first four bytes of the SHA-256 of the
// key's PKIX DER, as signed-note specifies for it).

// Checkpoint is a parsed checkpoint text.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// Origin names a region's log in checkpoints: "<deployment>/<region>".
func Origin(deployment, region string) string {
	if deployment == "" {
		deployment = DefaultDeployment
	}
	return deployment + "/" + region
}

// DefaultDeployment is the deployment of an origin when none is named.
const DefaultDeployment = "residency"

// Text is the checkpoint's note text.
func (c Checkpoint) Text() string {
	return c.Origin + "\n" + strconv.FormatInt(c.Size, 10) + "\n" + base64.StdEncoding.EncodeToString(c.Root[:]) + "\n"
}

// ParseCheckpoint reads a checkpoint's note text (extension lines after
// the root are allowed and ignored).
func ParseCheckpoint(text string) (Checkpoint, error) {
	var c Checkpoint
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 {
		return c, errors.New("checkpoint: want origin, tree size and root hash lines")
	}
	c.Origin = lines[0]
	if c.Origin == "" {
		return c, errors.New("checkpoint: empty origin")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return c, fmt.Errorf("checkpoint: tree size %q is not a decimal number", lines[1])
	}
	c.Size = n
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return c, fmt.Errorf("checkpoint: root hash %q is not %d bytes of base64", lines[2], tlog.HashSize)
	}
	copy(c.Root[:], root)
	return c, nil
}

// Signature type identifiers of c2sp.org/signed-note.
const (
	noteEd25519 = 0x01
	noteECDSA   = 0x02
)

// noteKeyHash is the signed-note key ID of pub under name.
func noteKeyHash(name string, pub crypto.PublicKey) (uint32, error) {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		h := sha256.New()
		h.Write([]byte(name + "\n"))
		h.Write([]byte{noteEd25519})
		h.Write(p)
		return binary.BigEndian.Uint32(h.Sum(nil)), nil
	case *ecdsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(p)
		if err != nil {
			return 0, err
		}
		sum := sha256.Sum256(der)
		return binary.BigEndian.Uint32(sum[:]), nil
	}
	return 0, fmt.Errorf("key of type %T: checkpoints are signed with ed25519 or ECDSA P-256", pub)
}

// noteSigner signs a checkpoint with a digest Signer.
type noteSigner struct {
	ctx  context.Context
	s    Signer
	hash uint32
}

func (n *noteSigner) Name() string                    { return n.s.KeyID() }
func (n *noteSigner) KeyHash() uint32                 { return n.hash }
func (n *noteSigner) Sign(msg []byte) ([]byte, error) { return n.s.Sign(n.ctx, msg) }

// SignCheckpoint signs c with s and returns the signed note.
func SignCheckpoint(ctx context.Context, s Signer, c Checkpoint) (string, error) {
	pub, err := s.PublicKey(ctx)
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	h, err := noteKeyHash(s.KeyID(), pub)
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	b, err := note.Sign(&note.Note{Text: c.Text()}, &noteSigner{ctx: ctx, s: s, hash: h})
	if err != nil {
		return "", fmt.Errorf("checkpoint: sign with %s: %w", s.KeyID(), err)
	}
	return string(b), nil
}

// ecdsaNoteVerifier verifies signed-note ECDSA signatures (type 0x02).
type ecdsaNoteVerifier struct {
	name string
	hash uint32
	pub  *ecdsa.PublicKey
}

func (v *ecdsaNoteVerifier) Name() string    { return v.name }
func (v *ecdsaNoteVerifier) KeyHash() uint32 { return v.hash }
func (v *ecdsaNoteVerifier) Verify(msg, sig []byte) bool {
	sum := sha256.Sum256(msg)
	return ecdsa.VerifyASN1(v.pub, sum[:], sig)
}

// noteVerifier is the signed-note verifier of the key named keyID.
func noteVerifier(keyID string, pub crypto.PublicKey) (note.Verifier, error) {
	switch p := pub.(type) {
	case ed25519.PublicKey:
		vkey, err := note.NewEd25519VerifierKey(keyID, p)
		if err != nil {
			return nil, err
		}
		return note.NewVerifier(vkey)
	case *ecdsa.PublicKey:
		h, err := noteKeyHash(keyID, p)
		if err != nil {
			return nil, err
		}
		return &ecdsaNoteVerifier{name: keyID, hash: h, pub: p}, nil
	}
	return nil, fmt.Errorf("key of type %T: checkpoints are signed with ed25519 or ECDSA P-256", pub)
}

// OpenCheckpoint verifies a signed checkpoint with the key keyID of k and
// parses it.
func (k Keys) OpenCheckpoint(signed, keyID string) (Checkpoint, error) {
	pub, ok := k[keyID]
	if !ok {
		return Checkpoint{}, fmt.Errorf("checkpoint: signed with key %q, which is not a trusted digest key", keyID)
	}
	v, err := noteVerifier(keyID, pub)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	n, err := note.Open([]byte(signed), note.VerifierList(v))
	if err != nil {
		var unknown *note.UnverifiedNoteError
		if errors.As(err, &unknown) {
			return Checkpoint{}, fmt.Errorf("checkpoint: no signature of key %q (another key signed it)", keyID)
		}
		return Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	return ParseCheckpoint(n.Text)
}

// Fingerprint names a public key by content: "sha256:" and the hex SHA-256
// of its PKIX (SubjectPublicKeyInfo) DER encoding, which
// `openssl pkey -pubin -in key.pub -outform DER | sha256sum` prints for its
// PEM file (and `sha256sum` for the DER bytes KMS's GetPublicKey returns).
// Proofs and reports name their key by it.
func Fingerprint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
