package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/residency-dev/residency/shared/record"
)

// PutObject records an object's metadata.
func (s *Store) PutObject(ctx context.Context, o record.Object) error {
	b, err := json.Marshal(o.Metadata)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO objects(region,bucket,k,metadata,last_modified) VALUES(?,?,?,?,?)
		ON CONFLICT(region,bucket,k) DO UPDATE SET metadata=excluded.metadata, last_modified=excluded.last_modified`,
		o.Region, o.Bucket, o.Key, string(b), ts(o.LastModified))
	if err != nil {
		return fmt.Errorf("put object s3://%s/%s: %w", o.Bucket, o.Key, err)
	}
	return nil
}

// HeadObject returns an object's metadata, or ErrNotFound.
func (s *Store) HeadObject(ctx context.Context, region, bucket, key string) (record.Object, error) {
	var meta, lm string
	err := s.db.QueryRowContext(ctx, `SELECT metadata,last_modified FROM objects WHERE region=? AND bucket=? AND k=?`, region, bucket, key).Scan(&meta, &lm)
	if errors.Is(err, sql.ErrNoRows) {
		return record.Object{}, fmt.Errorf("head object in s3://%s in %s: %w", bucket, region, ErrNotFound)
	}
	if err != nil {
		return record.Object{}, fmt.Errorf("head object in s3://%s: %w", bucket, err)
	}
	o := record.Object{Region: region, Bucket: bucket, Key: key, LastModified: parseTS(lm)}
	if err := json.Unmarshal([]byte(meta), &o.Metadata); err != nil {
		return record.Object{}, fmt.Errorf("head object in s3://%s: stored metadata is corrupt: %w", bucket, err)
	}
	return o, nil
}

// DeleteObject deletes an object (the local buckets keep one version), or
// reports ErrNotFound; it returns how many versions it deleted.
func (s *Store) DeleteObject(ctx context.Context, region, bucket, key string) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM objects WHERE region=? AND bucket=? AND k=?`, region, bucket, key)
	if err != nil {
		return 0, fmt.Errorf("delete s3://%s: %w", bucket, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, fmt.Errorf("delete an object of s3://%s in %s: %w", bucket, region, ErrNotFound)
	}
	return 1, nil
}
