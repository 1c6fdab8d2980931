package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/residency-dev/residency/shared/digest"
)

// cmdProve writes an inclusion proof of one entry against the newest
// signed checkpoint, or (--consistency) a consistency proof between two
// signed tree sizes, as JSON.
func cmdProve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("prove", stderr)
	var region, out string
	var seq, fromSize, toSize int64
	var consistency bool
	fs.StringVar(&region, "region", "", "the chain (region)")
	fs.Int64Var(&seq, "seq", 0, "the entry to prove included")
	fs.BoolVar(&consistency, "consistency", false, "prove --to-size's tree an extension of --from-size's")
	fs.Int64Var(&fromSize, "from-size", 0, "with --consistency: the older signed tree size")
	fs.Int64Var(&toSize, "to-size", 0, "with --consistency: the newer signed tree size (default the newest checkpoint's)")
	fs.StringVar(&out, "out", "", "write the proof to this file (default stdout)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := required("region", region); err != nil {
		return err
	}
	switch {
	case consistency && (fromSize < 1 || toSize < 0 || seq != 0):
		return usagef("--consistency takes --from-size A (>= 1) and optionally --to-size B, not --seq")
	case !consistency && (seq < 1 || fromSize != 0 || toSize != 0):
		return usagef("give --seq N (>= 1), or --consistency --from-size A [--to-size B]")
	}
	p, st, err := c.prover()
	if err != nil {
		return err
	}
	defer st.Close()
	var pr *digest.Proof
	if consistency {
		pr, err = p.ProveConsistency(ctx, region, fromSize, toSize)
	} else {
		pr, err = p.ProveEntry(ctx, region, seq)
	}
	if err != nil {
		return err
	}
	if err := writeJSONOut(out, stdout, pr); err != nil {
		return err
	}
	if out != "" {
		fmt.Fprintf(stdout, "wrote %s (%s proof, %s, tree of %d entries)\n", out, pr.Type, pr.Region, pr.TreeSize)
	}
	return nil
}

// cmdCheckProof checks a proof file with a public key and nothing else:
// no store, no digests, no network. Exit 0 valid, 3 not, with one line.
func cmdCheckProof(args []string, stdout, stderr io.Writer) error {
	fs, _ := newFlags("check-proof", stderr)
	var pubPath string
	fs.StringVar(&pubPath, "public-key", "", "the digest key's public half, PKIX PEM (residency digest-key --public; on AWS the KMS key's)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("use: residency check-proof FILE --public-key K")
	}
	if err := required("public-key", pubPath); err != nil {
		return err
	}
	b, err := os.ReadFile(pos[0])
	if err != nil {
		return err
	}
	pemBytes, err := os.ReadFile(pubPath)
	if err != nil {
		return err
	}
	var cert *digest.Certificate
	var p *digest.Proof
	if digest.IsCertificate(b) {
		if cert, err = digest.ParseCertificate(b); err != nil {
			return exitError{exitBroken, fmt.Errorf("%s: %w", pos[0], err)}
		}
		if len(cert.Receipts) > 0 && cert.Receipts[0] != nil {
			p = cert.Receipts[0]
		} else {
			p = &digest.Proof{}
		}
	} else if p, err = digest.ParseProof(b); err != nil {
		return exitError{exitBroken, fmt.Errorf("%s: %w", pos[0], err)}
	}
	keys := digest.Keys{}
	// An ed25519 key's id derives from the key, so a proof of another key
	// shows as untrusted; an ECDSA (KMS) key is taken under the proof's key
	// id, its ARN, and its signatures decide.
	keyID := p.KeyID
	if blk, _ := pem.Decode(pemBytes); blk != nil {
		if pub, err := x509.ParsePKIXPublicKey(blk.Bytes); err == nil {
			if _, ok := pub.(ed25519.PublicKey); ok {
				keyID = ""
			}
		}
	}
	if err := keys.AddPEM(keyID, pemBytes); err != nil {
		return fmt.Errorf("%s: %w", pubPath, err)
	}
	if cert != nil {
		if err := digest.CheckCertificate(cert, keys); err != nil {
			return exitError{exitBroken, err}
		}
		fmt.Fprintf(stdout, "valid: erasure request %s of %s: %d deletion %s in %s, each in its region's tree signed by %s\n",
			cert.RequestID, cert.SubjectRef, len(cert.Receipts), plural(len(cert.Receipts), "receipt"), strings.Join(cert.Regions, ", "), p.KeyID)
		return nil
	}
	if err := digest.CheckProof(p, keys); err != nil {
		return exitError{exitBroken, err}
	}
	switch p.Type {
	case digest.ProofInclusion:
		fmt.Fprintf(stdout, "valid: %s seq %d (%s) is in the tree of %d entries signed by %s\n", p.Region, p.Entry.Seq, p.Entry.Kind, p.TreeSize, p.KeyID)
	default:
		fmt.Fprintf(stdout, "valid: %s's tree of %d entries extends its tree of %d entries, both signed by %s\n", p.Region, p.TreeSize, p.FromSize, p.KeyID)
	}
	return nil
}

// cmdDigestKey prints the local digest key's public half (PKIX PEM), what
// an auditor needs to check proofs.
func cmdDigestKey(args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("digest-key", stderr)
	var public bool
	fs.BoolVar(&public, "public", false, "print the public key (PKIX PEM)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if !public {
		return usagef("use: residency digest-key --public (the private key never leaves its file)")
	}
	c.verifyOnly = true
	signer, keys, err := c.digestKeys()
	if err != nil {
		return err
	}
	if signer == nil {
		if len(keys) == 0 {
			return errors.New("no digest key at " + c.signingKeyPath() + " or its .pub")
		}
		b, err := os.ReadFile(digest.PublicKeyPath(c.signingKeyPath()))
		if err != nil {
			return err
		}
		_, err = stdout.Write(b)
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(signer.Public())
	if err != nil {
		return err
	}
	fp, _ := digest.Fingerprint(signer.Public())
	fmt.Fprintf(stderr, "key id %s, fingerprint %s\n", signer.KeyID(), fp)
	return pem.Encode(stdout, &pem.Block{Type: "PUBLIC KEY", Bytes: der})
}
