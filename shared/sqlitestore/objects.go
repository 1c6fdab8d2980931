package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
		return fmt.Errorf("put object in s3://%s: %w", o.Bucket, err)
	}
	return nil
}

// contentTable makes the table of the objects' bytes, tags and content
// type, which the router's copies carry. It is made on first use, beside
// the objects table and apart from the schema's versions: a store made
// before it had no object bytes to keep (fixtures are metadata only).
func (s *Store) contentTable(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS object_content (
		region TEXT NOT NULL, bucket TEXT NOT NULL, k TEXT NOT NULL, body BLOB NOT NULL, tags TEXT NOT NULL,
		content_type TEXT NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (region, bucket, k)) WITHOUT ROWID`)
	if err != nil {
		return fmt.Errorf("object content table: %w", err)
	}
	return nil
}

// ObjectContent reads an object whole: its metadata, and the bytes, tags
// and content type it was written with (none for a fixture's object); or
// ErrNotFound.
func (s *Store) ObjectContent(ctx context.Context, region, bucket, key string) (record.ObjectContent, error) {
	o, err := s.HeadObject(ctx, region, bucket, key)
	if err != nil {
		return record.ObjectContent{}, err
	}
	if err := s.contentTable(ctx); err != nil {
		return record.ObjectContent{}, err
	}
	c := record.ObjectContent{Metadata: o.Metadata, Body: []byte{}, LastModified: o.LastModified}
	var tags string
	err = s.db.QueryRowContext(ctx, `SELECT body,tags,content_type FROM object_content WHERE region=? AND bucket=? AND k=?`,
		region, bucket, key).Scan(&c.Body, &tags, &c.ContentType)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return c, nil
	case err != nil:
		return record.ObjectContent{}, fmt.Errorf("get object in s3://%s: %w", bucket, err)
	}
	if err := json.Unmarshal([]byte(tags), &c.Tags); err != nil {
		return record.ObjectContent{}, fmt.Errorf("get object in s3://%s: stored tags are corrupt: %w", bucket, err)
	}
	return c, nil
}

// PutObjectContent writes an object whole, with its SHA-256 checksum; with
// ifAbsent it never overwrites one (an error wrapping ErrConditionFailed).
func (s *Store) PutObjectContent(ctx context.Context, region, bucket, key string, c record.ObjectContent, ifAbsent bool) error {
	if err := s.contentTable(ctx); err != nil {
		return err
	}
	meta, err := json.Marshal(c.Metadata)
	if err != nil {
		return err
	}
	tags, err := json.Marshal(c.Tags)
	if err != nil {
		return err
	}
	// In the store's transaction (s.tx), which joins an Atomic one.
	return s.tx(ctx, func(tx *sql.Tx) error {
		if ifAbsent {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM objects WHERE region=? AND bucket=? AND k=?`, region, bucket, key).Scan(&n); err != nil {
				return fmt.Errorf("put object in s3://%s: %w", bucket, err)
			}
			if n > 0 {
				return fmt.Errorf("put object in s3://%s: %w", bucket, ErrConditionFailed)
			}
		}
		body := c.Body
		if body == nil {
			body = []byte{}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO objects(region,bucket,k,metadata,last_modified) VALUES(?,?,?,?,?)
		ON CONFLICT(region,bucket,k) DO UPDATE SET metadata=excluded.metadata, last_modified=excluded.last_modified`,
			region, bucket, key, string(meta), ts(time.Now())); err != nil {
			return fmt.Errorf("put object in s3://%s: %w", bucket, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO object_content(region,bucket,k,body,tags,content_type,sha256) VALUES(?,?,?,?,?,?,?)
		ON CONFLICT(region,bucket,k) DO UPDATE SET body=excluded.body, tags=excluded.tags, content_type=excluded.content_type, sha256=excluded.sha256`,
			region, bucket, key, body, string(tags), c.ContentType, c.Checksum()); err != nil {
			return fmt.Errorf("put object in s3://%s: %w", bucket, err)
		}
		return nil
	})
}

// ObjectChecksum returns the SHA-256 checksum of an object's bytes (base64,
// as S3 stores it); or ErrNotFound.
func (s *Store) ObjectChecksum(ctx context.Context, region, bucket, key string) (string, error) {
	if _, err := s.HeadObject(ctx, region, bucket, key); err != nil {
		return "", err
	}
	if err := s.contentTable(ctx); err != nil {
		return "", err
	}
	var sum string
	err := s.db.QueryRowContext(ctx, `SELECT sha256 FROM object_content WHERE region=? AND bucket=? AND k=?`, region, bucket, key).Scan(&sum)
	if errors.Is(err, sql.ErrNoRows) {
		return record.Checksum(nil), nil // a fixture's object: no bytes
	}
	if err != nil {
		return "", fmt.Errorf("head object in s3://%s: %w", bucket, err)
	}
	return sum, nil
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
	if err := s.contentTable(ctx); err != nil {
		return 0, err
	}
	if _, err := s.db.ExecContext(ctx, `DELETE FROM object_content WHERE region=? AND bucket=? AND k=?`, region, bucket, key); err != nil {
		return 0, fmt.Errorf("delete s3://%s: %w", bucket, err)
	}
	res, err := s.db.ExecContext(ctx, `DELETE FROM objects WHERE region=? AND bucket=? AND k=?`, region, bucket, key)
	if err != nil {
		return 0, fmt.Errorf("delete s3://%s: %w", bucket, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, fmt.Errorf("delete an object of s3://%s in %s: %w", bucket, region, ErrNotFound)
	}
	return 1, nil
}

// ListObjects returns up to limit keys of bucket's objects in region under
// prefix, in key order after the key token (from the first without one),
// and the token of the next page ("" after the last page): the local
// buckets' ListObjectsV2 pages (s3objects.Objects.ListObjects). The local
// buckets keep one version of each key, the current one.
func (s *Store) ListObjects(ctx context.Context, region, bucket, prefix, token string, limit int) ([]string, string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT k FROM objects WHERE region=? AND bucket=? AND k>? AND instr(k,?)=1 ORDER BY k LIMIT ?`,
		region, bucket, token, prefix, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list objects in s3://%s in %s: %w", bucket, region, err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, "", fmt.Errorf("list objects in s3://%s in %s: %w", bucket, region, err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list objects in s3://%s in %s: %w", bucket, region, err)
	}
	if len(keys) > limit {
		return keys[:limit], keys[limit-1], nil
	}
	return keys, "", nil
}
