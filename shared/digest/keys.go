package digest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Ed25519Signer signs digests locally with an ed25519 key.
type Ed25519Signer struct {
	key   ed25519.PrivateKey
	keyID string
}

// NewEd25519Signer signs with key.
func NewEd25519Signer(key ed25519.PrivateKey) *Ed25519Signer {
	pub := key.Public().(ed25519.PublicKey)
	return &Ed25519Signer{key: key, keyID: KeyID(pub)}
}

// Algorithm implements Signer.
func (s *Ed25519Signer) Algorithm() string { return AlgEd25519 }

// KeyID implements Signer.
func (s *Ed25519Signer) KeyID() string { return s.keyID }

// Sign implements Signer.
func (s *Ed25519Signer) Sign(_ context.Context, msg []byte) ([]byte, error) {
	return ed25519.Sign(s.key, msg), nil
}

// PublicKey implements Signer.
func (s *Ed25519Signer) PublicKey(context.Context) (crypto.PublicKey, error) { return s.Public(), nil }

// Public returns the signer's public key.
func (s *Ed25519Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// KeyID names a local public key: "ed25519:" and the first 16 bytes of the
// SHA-256 of its PKIX (SubjectPublicKeyInfo) encoding, in hex.
func KeyID(pub ed25519.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub) // cannot fail for an ed25519 key
	sum := sha256.Sum256(der)
	return AlgEd25519 + ":" + hex.EncodeToString(sum[:16])
}

// LoadSigningKey reads the local signing key, a PKCS #8 PEM file holding an
// ed25519 private key (`openssl genpkey -algorithm ed25519` makes one).
// When the file does not exist it creates one (mode 0600), and writes the
// public key beside it as path's name with ".pub" (PKIX PEM), for auditors.
func LoadSigningKey(path string) (*Ed25519Signer, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return createSigningKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %s: not a PEM \"PRIVATE KEY\" (PKCS #8) file", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: a %T, expected an ed25519 key", path, k)
	}
	return NewEd25519Signer(ek), nil
}

func createSigningKey(path string) (*Ed25519Signer, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate signing key %s: %w", path, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("generate signing key %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create signing key %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadSigningKey(path) // another process made it first
	}
	if err != nil {
		return nil, fmt.Errorf("create signing key %s: %w", path, err)
	}
	werr := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("write signing key %s: %w", path, werr)
	}
	s := NewEd25519Signer(key)
	pubDER, _ := x509.MarshalPKIXPublicKey(s.Public())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	if err := os.WriteFile(PublicKeyPath(path), pubPEM, 0o644); err != nil {
		return nil, fmt.Errorf("write public key: %w", err)
	}
	return s, nil
}

// PublicKeyPath is where LoadSigningKey writes the public key of the key
// at path.
func PublicKeyPath(path string) string { return path + ".pub" }

// Keys are the public keys that verify digests, by key id.
type Keys map[string]crypto.PublicKey

// AddPEM adds a PKIX PEM public key (ed25519, or ECDSA P-256 as KMS's
// GetPublicKey returns it in DER). keyID names it in digests; empty means
// the local ed25519 key id (KeyID).
func (k Keys) AddPEM(keyID string, pemBytes []byte) error {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return errors.New("not a PEM \"PUBLIC KEY\" file")
	}
	return k.AddDER(keyID, blk.Bytes)
}

// AddDER adds a PKIX DER public key; see AddPEM.
func (k Keys) AddDER(keyID string, der []byte) error {
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return fmt.Errorf("public key: %w", err)
	}
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if keyID == "" {
			keyID = KeyID(p)
		}
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return fmt.Errorf("public key: ECDSA on %s; digests are signed on P-256", p.Curve.Params().Name)
		}
		if keyID == "" {
			return errors.New("public key: an ECDSA key needs its key id (the KMS key ARN)")
		}
	default:
		return fmt.Errorf("public key: a %T; digests are signed with ed25519 or ECDSA P-256", pub)
	}
	k[keyID] = pub
	return nil
}

// KeyInfo names a digest key for people: its id, algorithm and
// fingerprint.
type KeyInfo struct {
	ID          string `json:"id"`
	Algorithm   string `json:"algorithm"`   // AlgEd25519 or AlgECDSASHA256
	Fingerprint string `json:"fingerprint"` // "sha256:<hex>", see Fingerprint
}

// List describes the keys, by id.
func (k Keys) List() ([]KeyInfo, error) {
	out := make([]KeyInfo, 0, len(k))
	for id, pub := range k {
		fp, err := Fingerprint(pub)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		alg := ""
		switch pub.(type) {
		case ed25519.PublicKey:
			alg = AlgEd25519
		case *ecdsa.PublicKey:
			alg = AlgECDSASHA256
		}
		out = append(out, KeyInfo{ID: id, Algorithm: alg, Fingerprint: fp})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Verify checks d's signature with the key it names.
func (k Keys) Verify(d *Digest) error {
	pub, ok := k[d.KeyID]
	if !ok {
		return fmt.Errorf("signed with key %q, which is not a trusted digest key", d.KeyID)
	}
	sig, err := base64.StdEncoding.DecodeString(d.Signature)
	if err != nil || len(sig) == 0 {
		return errors.New("the signature is not base64")
	}
	msg := d.SigningInput()
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if d.Algorithm != AlgEd25519 {
			return fmt.Errorf("signing algorithm %q does not match the key (ed25519)", d.Algorithm)
		}
		if !ed25519.Verify(p, msg, sig) {
			return errors.New("the signature does not verify: the digest was altered or not signed by this key")
		}
	case *ecdsa.PublicKey:
		if d.Algorithm != AlgECDSASHA256 {
			return fmt.Errorf("signing algorithm %q does not match the key (%s)", d.Algorithm, AlgECDSASHA256)
		}
		sum := sha256.Sum256(msg)
		if !ecdsa.VerifyASN1(p, sum[:], sig) {
			return errors.New("the signature does not verify: the digest was altered or not signed by this key")
		}
	default:
		return fmt.Errorf("key %q: unsupported key type %T", d.KeyID, pub)
	}
	return nil
}
