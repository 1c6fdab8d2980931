package digest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Dir keeps digests as files beside the embedded store: one folder per
// region, one read-only JSON file per digest, named by its time and to_seq
// so that names sort in time order.
type Dir struct{ Path string }

// FileName names d's file inside its region's folder.
func FileName(d *Digest) string {
	return d.Time.UTC().Format("20060102T150405.000000000Z") + "_" + strconv.FormatInt(d.ToSeq, 10) + ".json"
}

// Put implements Store: it writes d to a temporary file and links it into
// place, so a reader never sees half a digest and an existing digest is
// never overwritten.
func (s Dir) Put(_ context.Context, d *Digest) error {
	dir := filepath.Join(s.Path, d.Region)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".digest-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.Write(append(b, '\n'))
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return werr
	}
	if err := os.Chmod(tmp.Name(), 0o444); err != nil {
		return err
	}
	final := filepath.Join(dir, FileName(d))
	if err := os.Link(tmp.Name(), final); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("digest %s already exists", final)
		}
		return err
	}
	return nil
}

// Regions implements Source.
func (s Dir) Regions(context.Context) ([]string, error) {
	return entries(s.Path, os.DirEntry.IsDir)
}

// names lists region's digest files.
func (s Dir) names(region string) ([]string, error) {
	return entries(filepath.Join(s.Path, region), func(e os.DirEntry) bool {
		return !e.IsDir() && strings.HasSuffix(e.Name(), ".json") && !strings.HasPrefix(e.Name(), ".")
	})
}

// entries lists the names of the entries of dir that keep takes, sorted; a
// dir that does not exist has none.
func entries(dir string, keep func(os.DirEntry) bool) ([]string, error) {
	es, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range es {
		if keep(e) {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

func (s Dir) read(region, name string) (Digest, error) {
	var d Digest
	path := filepath.Join(s.Path, region, name)
	b, err := os.ReadFile(path)
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("%w: %s: %v", ErrMalformed, path, err)
	}
	return d, nil
}

// List implements Source.
func (s Dir) List(_ context.Context, region string) ([]Digest, error) {
	names, err := s.names(region)
	if err != nil {
		return nil, err
	}
	out := make([]Digest, 0, len(names))
	for _, n := range names {
		d, err := s.read(region, n)
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Latest implements Store.
func (s Dir) Latest(_ context.Context, region string) (*Digest, error) {
	names, err := s.names(region)
	if err != nil || len(names) == 0 {
		return nil, err
	}
	d, err := s.read(region, names[len(names)-1])
	if err != nil {
		return nil, err
	}
	return &d, nil
}
