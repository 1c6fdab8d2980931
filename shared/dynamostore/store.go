package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/record"
)

// API is the part of the DynamoDB client the store uses.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store is the DynamoDB store of a deployment: one client per region.
type Store struct {
	local        string
	clients      map[string]API
	catalogTable string
	ledgerTable  string
	shards       int
}

// Option configures a Store.
type Option func(*Store)

// WithTables sets the catalog and ledger table names (default awsenv's).
func WithTables(catalogTable, ledgerTable string) Option {
	return func(s *Store) { s.catalogTable, s.ledgerTable = catalogTable, ledgerTable }
}

// WithShards sets how many partitions one day of the due index is spread
// over (default 16), so one day's deletions do not all hit one partition.
func WithShards(n int) Option { return func(s *Store) { s.shards = n } }

// New returns the store of the stack in region local, over clients, one per
// region of the deployment (local's included). Holds and contract ends live
// in the local region's catalog: the stacks' rules deliver those events to
// every region, and no region writes another's catalog.
func New(local string, clients map[string]API, opts ...Option) *Store {
	s := &Store{local: local, clients: clients, catalogTable: awsenv.DefaultCatalogTable, ledgerTable: awsenv.DefaultLedgerTable, shards: 16}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Store) client(region string) (API, error) {
	c, ok := s.clients[region]
	if !ok {
		return nil, fmt.Errorf("no DynamoDB client for region %q (a region of this deployment?)", region)
	}
	return c, nil
}

func isCondFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

// ---- platform tables ----

// GetItem reads an item with a consistent read.
func (s *Store) GetItem(ctx context.Context, region, table string, key record.Key) (record.Item, error) {
	c, err := s.client(region)
	if err != nil {
		return nil, err
	}
	k, err := fromKey(key)
	if err != nil {
		return nil, err
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", region, table, err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("get %s/%s: %w", region, table, record.ErrNotFound)
	}
	return toItem(out.Item)
}

func firstKeyName(key record.Key) string {
	for k := range key {
		return k
	}
	return ""
}

// PutItem writes an item; with ifAbsent it fails with ErrConditionFailed
// when one exists.
func (s *Store) PutItem(ctx context.Context, region, table string, key record.Key, item record.Item, ifAbsent bool) error {
	c, err := s.client(region)
	if err != nil {
		return err
	}
	av, err := fromItem(item)
	if err != nil {
		return fmt.Errorf("put %s/%s: %w", region, table, err)
	}
	in := &dynamodb.PutItemInput{TableName: aws.String(table), Item: av}
	if ifAbsent {
		in.ConditionExpression = aws.String("attribute_not_exists(#k)")
		in.ExpressionAttributeNames = map[string]string{"#k": firstKeyName(key)}
	}
	if _, err := c.PutItem(ctx, in); err != nil {
		if isCondFailed(err) {
			return fmt.Errorf("put %s/%s: %w", region, table, record.ErrConditionFailed)
		}
		return fmt.Errorf("put %s/%s: %w", region, table, err)
	}
	return nil
}

// UpdateTag sets the residency tag of an existing item (ErrNotFound when the
// item is gone: a deleted record is never resurrected).
func (s *Store) UpdateTag(ctx context.Context, region, table string, key record.Key, tag record.Tag) error {
	return s.updateTag(ctx, region, table, record.TagWrite{Key: key, Tag: tag})
}

// updateTag writes w's tag, and its TTL attribute if it has one.
func (s *Store) updateTag(ctx context.Context, region, table string, w record.TagWrite) error {
	c, err := s.client(region)
	if err != nil {
		return err
	}
	k, err := fromKey(w.Key)
	if err != nil {
		return err
	}
	tv, err := fromValue(w.Tag.Map())
	if err != nil {
		return err
	}
	in := &dynamodb.UpdateItemInput{
		TableName: aws.String(table), Key: k,
		UpdateExpression:          aws.String("SET #r = :t"),
		ConditionExpression:       aws.String("attribute_exists(#k)"),
		ExpressionAttributeNames:  map[string]string{"#r": record.TagAttribute, "#k": firstKeyName(w.Key)},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": tv},
	}
	if w.TTLAttribute != "" {
		in.ExpressionAttributeNames["#x"] = w.TTLAttribute
		if w.TTL != 0 {
			in.UpdateExpression = aws.String("SET #r = :t, #x = :x")
			in.ExpressionAttributeValues[":x"] = nv(w.TTL)
		} else {
			in.UpdateExpression = aws.String("SET #r = :t REMOVE #x")
		}
	}
	_, err = c.UpdateItem(ctx, in)
	if isCondFailed(err) {
		return fmt.Errorf("tag %s/%s: %w", region, table, record.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("tag %s/%s: %w", region, table, err)
	}
	return nil
}

// UpdateTags sets the tags of a batch of records, one conditional update
// each (DynamoDB has no batch update); per-record errors are in the slice.
func (s *Store) UpdateTags(ctx context.Context, region, table string, writes []record.TagWrite) ([]error, error) {
	errs := make([]error, len(writes))
	for i, w := range writes {
		if err := s.updateTag(ctx, region, table, w); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs[i] = err
		}
	}
	return errs, nil
}

// DeleteItem deletes an item; with retainUntil, only if its tag still
// carries that retain_until (ErrConditionFailed otherwise). ErrNotFound when
// it is gone.
func (s *Store) DeleteItem(ctx context.Context, region, table string, key record.Key, retainUntil string) error {
	c, err := s.client(region)
	if err != nil {
		return err
	}
	k, err := fromKey(key)
	if err != nil {
		return err
	}
	in := &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: k,
		ConditionExpression: aws.String("attribute_exists(#k)"), ExpressionAttributeNames: map[string]string{"#k": firstKeyName(key)}}
	if retainUntil != "" {
		in.ConditionExpression = aws.String("#r.#u = :u")
		in.ExpressionAttributeNames = map[string]string{"#r": record.TagAttribute, "#u": "retain_until"}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":u": sv(retainUntil)}
	}
	// A failed condition returns the item as it is, if there is one: gone
	// and changed are told apart without reading it again.
	in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	_, err = c.DeleteItem(ctx, in)
	var cf *types.ConditionalCheckFailedException
	if errors.As(err, &cf) {
		if len(cf.Item) == 0 {
			return fmt.Errorf("delete %s/%s: %w", region, table, record.ErrNotFound)
		}
		return fmt.Errorf("delete %s/%s: %w", region, table, record.ErrConditionFailed)
	}
	if err != nil {
		return fmt.Errorf("delete %s/%s: %w", region, table, err)
	}
	return nil
}

// ---- catalog ----

func entryPK(source string, key record.Key) string { return "REC#" + source + "#" + key.String() }

const entrySK = "ENTRY"

func (s *Store) shard(source, key string) int {
	h := fnv.New32a()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return int(h.Sum32() % uint32(s.shards))
}

func duePK(day string, shard int) string { return fmt.Sprintf("DUE#%s#%02d", day, shard) }

func dueSK(until time.Time, source, key string) string {
	return record.FormatTime(until) + "#" + source + "#" + key
}

func (s *Store) entryItem(e catalog.Entry) map[string]types.AttributeValue {
	k := e.Key.String()
	m := map[string]types.AttributeValue{
		awsenv.CatalogPK: sv(entryPK(e.Source, e.Key)), awsenv.CatalogSK: sv(entrySK),
		"region": sv(e.Region), "source": sv(e.Source), "source_kind": sv(e.SourceKind), "record_key": sv(k),
		"category": sv(e.Category), "origin_region": sv(e.OriginRegion), "home_region": sv(e.HomeRegion),
		"jurisdiction": sv(e.Jurisdiction), "status": sv(e.Status), "policy_version": sv(e.PolicyVersion),
		"tagged_at": sv(e.TaggedAt.UTC().Format(time.RFC3339Nano)),
	}
	// Index key attributes must not be empty strings: leave them out.
	if e.SubjectRef != "" {
		m[awsenv.SubjectIndexPK] = sv(e.SubjectRef)
	}
	if e.Contract != "" {
		m[awsenv.ContractIndexPK] = sv(e.Contract)
	}
	if e.Erasure != "" {
		m["erasure"] = sv(e.Erasure)
	}
	if !e.RetainUntil.IsZero() {
		m["retain_until"] = sv(record.FormatTime(e.RetainUntil))
		m[awsenv.DueIndexPK] = sv(duePK(e.RetainUntil.UTC().Format(time.DateOnly), s.shard(e.Source, k)))
		m[awsenv.DueIndexSK] = sv(dueSK(e.RetainUntil, e.Source, k))
	}
	return m
}

func entryOf(m map[string]types.AttributeValue) (catalog.Entry, error) {
	e := catalog.Entry{
		Region: str(m, "region"), Source: str(m, "source"), SourceKind: str(m, "source_kind"), SubjectRef: str(m, awsenv.SubjectIndexPK),
		Category: str(m, "category"), Contract: str(m, awsenv.ContractIndexPK), OriginRegion: str(m, "origin_region"),
		HomeRegion: str(m, "home_region"), Jurisdiction: str(m, "jurisdiction"), Status: str(m, "status"), PolicyVersion: str(m, "policy_version"),
		Erasure: str(m, "erasure"),
	}
	var err error
	if e.Key, err = record.ParseKey(str(m, "record_key")); err != nil {
		return e, err
	}
	e.TaggedAt, _ = time.Parse(time.RFC3339Nano, str(m, "tagged_at"))
	if u := str(m, "retain_until"); u != "" {
		e.RetainUntil, _ = time.Parse(time.RFC3339, u)
	}
	return e, nil
}

// PutEntries writes catalog entries (BatchWriteItem, 25 at a time, retrying
// unprocessed items with backoff).
func (s *Store) PutEntries(ctx context.Context, entries []catalog.Entry) error {
	byRegion, order := writesByRegion(entries, func(e catalog.Entry) types.WriteRequest {
		return types.WriteRequest{PutRequest: &types.PutRequest{Item: s.entryItem(e)}}
	})
	earliest := map[string]string{}
	for _, e := range entries {
		if e.RetainUntil.IsZero() {
			continue
		}
		if d := e.RetainUntil.UTC().Format(time.DateOnly); earliest[e.Region] == "" || d < earliest[e.Region] {
			earliest[e.Region] = d
		}
	}
	for _, r := range order {
		// The mark first: an entry is never in a bucket the sweep skips.
		if d := earliest[r]; d != "" {
			if err := s.lowerDueMark(ctx, r, d); err != nil {
				return err
			}
		}
		if err := s.batchWrite(ctx, r, s.catalogTable, byRegion[r]); err != nil {
			return fmt.Errorf("put catalog entries in %s: %w", r, err)
		}
	}
	return nil
}

// writesByRegion makes each entry's write request, grouped by the entry's
// region (the catalog it lives in), with the regions in order of first
// appearance.
func writesByRegion(entries []catalog.Entry, req func(catalog.Entry) types.WriteRequest) (map[string][]types.WriteRequest, []string) {
	byRegion := map[string][]types.WriteRequest{}
	var order []string
	for _, e := range entries {
		if _, ok := byRegion[e.Region]; !ok {
			order = append(order, e.Region)
		}
		byRegion[e.Region] = append(byRegion[e.Region], req(e))
	}
	return byRegion, order
}

func (s *Store) batchWrite(ctx context.Context, region, table string, reqs []types.WriteRequest) error {
	c, err := s.client(region)
	if err != nil {
		return err
	}
	for len(reqs) > 0 {
		chunk := reqs[:min(25, len(reqs))]
		reqs = reqs[len(chunk):]
		pending := map[string][]types.WriteRequest{table: chunk}
		for attempt := 0; len(pending[table]) > 0; attempt++ {
			if attempt > 0 {
				if attempt > 8 {
					return fmt.Errorf("batch write: %d items still unprocessed after %d attempts", len(pending[table]), attempt)
				}
				if err := sleep(ctx, backoff(attempt)); err != nil {
					return err
				}
			}
			out, err := c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return err
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

func backoff(attempt int) time.Duration {
	d := time.Duration(25<<min(attempt, 6)) * time.Millisecond
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// dueToken is where a read of the due index stopped: a day, a shard, and
// the last key read in that bucket.
type dueToken struct {
	Day   string            `json:"d"`
	Shard int               `json:"s"`
	Last  map[string]string `json:"k,omitempty"`
	// The low-water mark as the read found it at its start, for SweepDone.
	Mark    string `json:"m,omitempty"`
	MarkGen int64  `json:"g,omitempty"`
}

// DueEntries reads the due index bucket by bucket (each day from the
// earliest one holding entries, each shard), returning up to limit entries
// due at now and the cursor to continue from. Every item it reads is a due
// entry it returns.
func (s *Store) DueEntries(ctx context.Context, region string, now time.Time, after catalog.Cursor, limit int) ([]catalog.Entry, catalog.Cursor, error) {
	c, err := s.client(region)
	if err != nil {
		return nil, after, err
	}
	tok := dueToken{}
	if after.Token != "" {
		b, err := base64.RawURLEncoding.DecodeString(after.Token)
		if err == nil {
			err = json.Unmarshal(b, &tok)
		}
		if err != nil {
			return nil, after, fmt.Errorf("due entries: bad cursor: %w", err)
		}
	} else {
		if tok.Mark, tok.MarkGen, err = s.dueMark(ctx, c, region); err != nil {
			return nil, after, err
		}
		tok.Day = tok.Mark
	}
	today := now.UTC().Format(time.DateOnly)
	nowSK := record.FormatTime(now) + "#\uffff"
	var out []catalog.Entry
	for tok.Day != "" && tok.Day <= today && len(out) < limit {
		in := &dynamodb.QueryInput{
			TableName: aws.String(s.catalogTable), IndexName: aws.String(awsenv.DueIndex),
			KeyConditionExpression:    aws.String("#p = :p AND #s <= :now"),
			ExpressionAttributeNames:  map[string]string{"#p": awsenv.DueIndexPK, "#s": awsenv.DueIndexSK},
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv(duePK(tok.Day, tok.Shard)), ":now": sv(nowSK)},
			Limit:                     aws.Int32(int32(limit - len(out))),
		}
		if tok.Last != nil {
			in.ExclusiveStartKey = map[string]types.AttributeValue{}
			for k, v := range tok.Last {
				in.ExclusiveStartKey[k] = sv(v)
			}
		}
		res, err := c.Query(ctx, in)
		if err != nil {
			return nil, after, fmt.Errorf("due entries in %s: %w", region, err)
		}
		for _, it := range res.Items {
			e, err := entryOf(it)
			if err != nil {
				return nil, after, fmt.Errorf("due entries in %s: %w", region, err)
			}
			out = append(out, e)
		}
		if res.LastEvaluatedKey != nil {
			tok.Last = map[string]string{}
			for k := range res.LastEvaluatedKey {
				tok.Last[k] = str(res.LastEvaluatedKey, k)
			}
			continue
		}
		tok.Last = nil
		tok.Shard++
		if tok.Shard == s.shards {
			tok.Shard = 0
			d, _ := time.Parse(time.DateOnly, tok.Day)
			tok.Day = d.AddDate(0, 0, 1).Format(time.DateOnly)
		}
	}
	b, _ := json.Marshal(tok)
	return out, catalog.Cursor{Token: base64.RawURLEncoding.EncodeToString(b)}, nil
}

// The due index's low-water mark (item DUEMARK of each region's catalog) is
// the earliest day bucket that may hold entries: a sweep starts there, not
// at the first day there ever was. PutEntries lowers it before writing an
// entry in an earlier bucket; a sweep that found everything before some day
// deleted raises it to that day (SweepDone). The two cannot race into an
// entry the sweeps skip: an entry written in a bucket up to today (already
// due) also counts the mark's generation up, and a raise only happens if
// the mark and its generation are still as the sweep found them.

// dueMark returns the mark ("" when nothing is catalogued with a retention)
// and its generation.
func (s *Store) dueMark(ctx context.Context, c API, region string) (string, int64, error) {
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.catalogTable), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{awsenv.CatalogPK: sv("DUEMARK"), awsenv.CatalogSK: sv("DUEMARK")}})
	if err != nil {
		return "", 0, fmt.Errorf("due mark in %s: %w", region, err)
	}
	return str(out.Item, "day"), num(out.Item, "gen"), nil
}

var dueMarkKey = map[string]types.AttributeValue{awsenv.CatalogPK: sv("DUEMARK"), awsenv.CatalogSK: sv("DUEMARK")}

// lowerDueMark moves the low-water mark down to day if it is later. An
// entry in a bucket up to today (tomorrow, for clocks a little apart) also
// moves the generation on, so a sweep that began before it does not raise
// the mark past it.
func (s *Store) lowerDueMark(ctx context.Context, region, day string) error {
	c, err := s.client(region)
	if err != nil {
		return err
	}
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.catalogTable), Key: dueMarkKey,
		UpdateExpression:          aws.String("SET #d = :d"),
		ConditionExpression:       aws.String("attribute_not_exists(#d) OR #d > :d"),
		ExpressionAttributeNames:  map[string]string{"#d": "day"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": sv(day)},
	})
	if err != nil && !isCondFailed(err) {
		return fmt.Errorf("due mark in %s: %w", region, err)
	}
	if day > time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly) {
		return nil
	}
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.catalogTable), Key: dueMarkKey,
		UpdateExpression:          aws.String("ADD #g :one"),
		ExpressionAttributeNames:  map[string]string{"#g": "gen"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": nv(1)},
	})
	if err != nil {
		return fmt.Errorf("due mark in %s: %w", region, err)
	}
	return nil
}

// SweepDone raises region's low-water mark after a complete sweep, whose
// last read of the due index returned cursor: to the day of keepFrom, the
// earliest retain-until of the entries the sweep left in place (held,
// changed), or with none left, to now's day. It does nothing if the mark
// moved since the sweep began.
func (s *Store) SweepDone(ctx context.Context, region string, cursor catalog.Cursor, now, keepFrom time.Time) error {
	var tok dueToken
	if b, err := base64.RawURLEncoding.DecodeString(cursor.Token); err != nil || json.Unmarshal(b, &tok) != nil {
		return fmt.Errorf("due mark in %s: bad cursor", region)
	}
	to := now.UTC().Format(time.DateOnly)
	if !keepFrom.IsZero() {
		to = min(to, keepFrom.UTC().Format(time.DateOnly))
	}
	if tok.Mark == "" || to <= tok.Mark {
		return nil
	}
	c, err := s.client(region)
	if err != nil {
		return err
	}
	cond := "#d = :m AND attribute_not_exists(#g)"
	vals := map[string]types.AttributeValue{":m": sv(tok.Mark), ":to": sv(to)}
	if tok.MarkGen != 0 {
		cond = "#d = :m AND #g = :g"
		vals[":g"] = nv(tok.MarkGen)
	}
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.catalogTable), Key: dueMarkKey,
		UpdateExpression: aws.String("SET #d = :to"), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: map[string]string{"#d": "day", "#g": "gen"}, ExpressionAttributeValues: vals,
	})
	if err != nil && !isCondFailed(err) {
		return fmt.Errorf("due mark in %s: %w", region, err)
	}
	return nil
}

func (s *Store) queryAll(ctx context.Context, region string, in *dynamodb.QueryInput) ([]catalog.Entry, error) {
	c, err := s.client(region)
	if err != nil {
		return nil, err
	}
	var out []catalog.Entry
	p := dynamodb.NewQueryPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			e, err := entryOf(it)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// EntriesBySubject returns region's entries of one subject reference.
func (s *Store) EntriesBySubject(ctx context.Context, region, subjectRef string) ([]catalog.Entry, error) {
	out, err := s.queryAll(ctx, region, &dynamodb.QueryInput{TableName: aws.String(s.catalogTable), IndexName: aws.String(awsenv.SubjectIndex),
		KeyConditionExpression: aws.String("#p = :p"), ExpressionAttributeNames: map[string]string{"#p": awsenv.SubjectIndexPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv(subjectRef)}})
	if err != nil {
		return nil, fmt.Errorf("entries by subject in %s: %w", region, err)
	}
	return out, nil
}

// EntriesByContract returns region's entries linked to a contract.
func (s *Store) EntriesByContract(ctx context.Context, region, contract string) ([]catalog.Entry, error) {
	out, err := s.queryAll(ctx, region, &dynamodb.QueryInput{TableName: aws.String(s.catalogTable), IndexName: aws.String(awsenv.ContractIndex),
		KeyConditionExpression: aws.String("#p = :p"), ExpressionAttributeNames: map[string]string{"#p": awsenv.ContractIndexPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv(contract)}})
	if err != nil {
		return nil, fmt.Errorf("entries by contract in %s: %w", region, err)
	}
	return out, nil
}

// ---- holds and contracts ----

func holdOnPK(h catalog.Hold) string {
	if h.SubjectRef != "" {
		return "HOLDON#sub#" + h.SubjectRef
	}
	return "HOLDON#rec#" + h.Source + "#" + h.Key.String()
}

// SetHold records a legal hold in the local region's catalog.
func (s *Store) SetHold(ctx context.Context, h catalog.Hold) error {
	on := holdOnPK(h)
	region := s.local
	{
		err := s.batchWrite(ctx, region, s.catalogTable, []types.WriteRequest{
			{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{awsenv.CatalogPK: sv("HOLD#" + h.ID), awsenv.CatalogSK: sv("HOLD"),
				"on": sv(on), "reason": sv(h.Reason), "set_at": sv(h.SetAt.UTC().Format(time.RFC3339))}}},
			{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{awsenv.CatalogPK: sv(on), awsenv.CatalogSK: sv("HOLD#" + h.ID),
				"hold_id": sv(h.ID)}}},
			{PutRequest: &types.PutRequest{Item: holdListItem(h)}},
		})
		if err != nil {
			return fmt.Errorf("set hold %s in %s: %w", h.ID, region, err)
		}
	}
	return nil
}

// ReleaseHold removes a hold; it reports whether it existed.
func (s *Store) ReleaseHold(ctx context.Context, id string) (bool, error) {
	existed := false
	region := s.local
	c, err := s.client(region)
	if err != nil {
		return false, err
	}
	{
		out, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.catalogTable), ReturnValues: types.ReturnValueAllOld,
			Key: map[string]types.AttributeValue{awsenv.CatalogPK: sv("HOLD#" + id), awsenv.CatalogSK: sv("HOLD")}})
		if err != nil {
			return existed, fmt.Errorf("release hold %s in %s: %w", id, region, err)
		}
		on := str(out.Attributes, "on")
		if on == "" {
			return false, nil
		}
		existed = true
		if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.catalogTable),
			Key: map[string]types.AttributeValue{awsenv.CatalogPK: sv("HOLDS"), awsenv.CatalogSK: sv("HOLD#" + id)}}); err != nil {
			return existed, fmt.Errorf("release hold %s in %s: %w", id, region, err)
		}
		if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.catalogTable),
			Key: map[string]types.AttributeValue{awsenv.CatalogPK: sv(on), awsenv.CatalogSK: sv("HOLD#" + id)}}); err != nil {
			return existed, fmt.Errorf("release hold %s in %s: %w", id, region, err)
		}
	}
	return existed, nil
}

// EndContract records when a contract ended.
func (s *Store) EndContract(ctx context.Context, contract string, endedAt time.Time) error {
	c, err := s.client(s.local)
	if err != nil {
		return err
	}
	{
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.catalogTable), Item: map[string]types.AttributeValue{
			awsenv.CatalogPK: sv("CONTRACT#" + contract), awsenv.CatalogSK: sv("END"), "ended_at": sv(endedAt.UTC().Format(time.RFC3339Nano))}})
		if err != nil {
			return fmt.Errorf("end contract in %s: %w", s.local, err)
		}
	}
	return nil
}

// ContractEnd returns when a contract ended, or the zero time.
func (s *Store) ContractEnd(ctx context.Context, contract string) (time.Time, error) {
	if contract == "" {
		return time.Time{}, nil
	}
	c, err := s.client(s.local)
	if err != nil {
		return time.Time{}, err
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.catalogTable),
		Key: map[string]types.AttributeValue{awsenv.CatalogPK: sv("CONTRACT#" + contract), awsenv.CatalogSK: sv("END")}})
	if err != nil {
		return time.Time{}, fmt.Errorf("contract end in %s: %w", s.local, err)
	}
	if at := str(out.Item, "ended_at"); at != "" {
		t, _ := time.Parse(time.RFC3339Nano, at)
		return t, nil
	}
	return time.Time{}, nil
}

// holdListItem is a hold's entry in the list of holds in force (partition
// "HOLDS"), which the reports list.
func holdListItem(h catalog.Hold) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{awsenv.CatalogPK: sv("HOLDS"), awsenv.CatalogSK: sv("HOLD#" + h.ID), "hold_id": sv(h.ID),
		"reason": sv(h.Reason), "set_at": sv(h.SetAt.UTC().Format(time.RFC3339Nano))}
	if h.SubjectRef != "" {
		m["hold_subject"] = sv(h.SubjectRef)
	}
	if h.Source != "" {
		m["hold_source"] = sv(h.Source)
	}
	if len(h.Key) > 0 {
		m["hold_record"] = sv(h.Key.String())
	}
	return m
}

// ListHolds returns the legal holds in force in the local region, by id.
func (s *Store) ListHolds(ctx context.Context) ([]catalog.Hold, error) {
	c, err := s.client(s.local)
	if err != nil {
		return nil, err
	}
	var out []catalog.Hold
	p := dynamodb.NewQueryPaginator(c, &dynamodb.QueryInput{TableName: aws.String(s.catalogTable), ConsistentRead: aws.Bool(true),
		KeyConditionExpression: aws.String("#p = :p"), ExpressionAttributeNames: map[string]string{"#p": awsenv.CatalogPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sv("HOLDS")}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list holds: %w", err)
		}
		for _, it := range page.Items {
			h := catalog.Hold{ID: str(it, "hold_id"), SubjectRef: str(it, "hold_subject"), Source: str(it, "hold_source"), Reason: str(it, "reason")}
			h.SetAt, _ = time.Parse(time.RFC3339Nano, str(it, "set_at"))
			if k := str(it, "hold_record"); k != "" {
				h.Key, _ = record.ParseKey(k)
			}
			out = append(out, h)
		}
	}
	return out, nil
}
