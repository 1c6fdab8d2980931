package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/residency-dev/residency/shared/awsenv"
	"github.com/residency-dev/residency/shared/catalog"
	"github.com/residency-dev/residency/shared/record"
)

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
