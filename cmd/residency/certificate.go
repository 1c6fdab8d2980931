package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/residency-dev/residency/shared/digest"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// cmdCertificate writes the erasure certificate of a request: every
// deletion receipt that names it, each with its inclusion proof against its
// region's newest signed checkpoint. check-proof checks it with the public
// key alone.
func cmdCertificate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := newFlags("certificate", stderr)
	var request, out string
	fs.StringVar(&request, "request", "", "the erasure request's id (Erasure Requested's request_id)")
	fs.StringVar(&out, "out", "", "write the certificate to this file (default stdout)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if err := required("request", request); err != nil {
		return err
	}
	p, st, err := c.prover()
	if err != nil {
		return err
	}
	defer st.Close()
	receipts, err := digest.ErasureReceipts(ctx, st, request)
	if err != nil {
		return err
	}
	now, err := c.clock()
	if err != nil {
		return err
	}
	cert, err := p.Certify(ctx, request, receipts, now())
	if err != nil {
		return err
	}
	if err := writeJSONOut(out, stdout, cert); err != nil {
		return err
	}
	if out != "" {
		fmt.Fprintf(stdout, "wrote %s (erasure request %s: %d %s in %d %s)\n", out, request, len(cert.Receipts), plural(len(cert.Receipts), "receipt"),
			len(cert.Regions), plural(len(cert.Regions), "region"))
	}
	return nil
}

// prover opens the store (which must exist) and the digest keys, for the
// commands that prove: prove and certificate.
func (c *common) prover() (*digest.Prover, *sqlitestore.Store, error) {
	if _, err := os.Stat(c.db); err != nil {
		return nil, nil, fmt.Errorf("no embedded store at %s (--db): %w", c.db, err)
	}
	c.verifyOnly = true
	_, keys, err := c.digestKeys()
	if err != nil {
		return nil, nil, err
	}
	st, err := sqlitestore.Open(c.db)
	if err != nil {
		return nil, nil, err
	}
	return &digest.Prover{Source: digest.Dir{Path: c.digestDir()}, Chain: st, Keys: keys}, st, nil
}

// writeJSONOut writes v as indented JSON to the file out, or to stdout when
// out is empty.
func writeJSONOut(out string, stdout io.Writer, v any) error {
	if out == "" {
		return writeJSON(stdout, v)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := writeJSON(f, v); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
