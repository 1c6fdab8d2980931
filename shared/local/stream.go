package local

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/residency-dev/residency/shared/ddbjson"
	"github.com/residency-dev/residency/shared/sqlitestore"
)

// streamBatchSize is the most stream records the pump delivers in one
// invocation, as an event source mapping's BatchSize.
const streamBatchSize = 1000

// applyStream writes a replayed stream batch's changes to the local tables,
// in one transaction and without new stream records, and returns the
// batch's region and its number of records. A record the tagger will
// report as malformed is not applied.
func (s *Stack) applyStream(ctx context.Context, payload []byte) (string, int, error) {
	b, err := decodeReplayedStream(payload)
	if err != nil {
		return "", 0, err
	}
	return b.region, b.records, s.applyWrites(ctx, b.writes)
}

func (s *Stack) applyWrites(ctx context.Context, writes []sqlitestore.ReplayedWrite) error {
	if err := s.Store.ReplayWrites(ctx, writes); err != nil {
		return fmt.Errorf("apply stream batch: %w", err)
	}
	return nil
}

// replayedStream is a replayed stream batch, decoded: its region, its
// number of records, and the writes to apply to the local tables.
type replayedStream struct {
	region  string
	records int
	writes  []sqlitestore.ReplayedWrite
}

// decodeReplayedStream decodes a replayed stream batch into the writes
// applyStream applies (a record the tagger will report as malformed is
// left out).
func decodeReplayedStream(payload []byte) (replayedStream, error) {
	recs, err := ddbjson.DecodeStreamRaw(payload)
	if err != nil {
		return replayedStream{}, fmt.Errorf("decode stream event: %w", err)
	}
	var items []byte // the new images, one after the other
	region := ""
	writes := make([]sqlitestore.ReplayedWrite, 0, len(recs))
	for i := range recs {
		rec := &recs[i]
		parts := strings.SplitN(rec.EventSourceARN, ":", 6)
		if len(parts) < 6 || !strings.HasPrefix(parts[5], "table/") {
			return replayedStream{}, fmt.Errorf("stream record %d: eventSourceARN %q names no table", i, rec.EventSourceARN)
		}
		r := parts[3]
		table, _, _ := strings.Cut(strings.TrimPrefix(parts[5], "table/"), "/")
		if region == "" {
			region = r
		} else if r != region {
			return replayedStream{}, fmt.Errorf("stream record %d: a batch comes from one region's stream, found %s and %s", i, region, r)
		}
		if rec.Err != nil || len(rec.Keys) == 0 {
			continue // the tagger reports the malformed record
		}
		w := sqlitestore.ReplayedWrite{Region: r, Table: table, Key: rec.Keys}
		if rec.EventName != "REMOVE" {
			start := len(items)
			var ok bool
			if items, ok, err = rec.AppendNewImage(items); err != nil || !ok {
				continue // the tagger reports the malformed record
			}
			w.Item = items[start:len(items):len(items)]
		}
		writes = append(writes, w)
	}
	return replayedStream{region: region, records: len(recs), writes: writes}, nil
}

// pumpStream delivers stream records to their region's tagger in batches of
// one (region, table), as an event source mapping would. Only the watched
// tables' records go: on AWS, Residency's own tables (the quarantine) have
// no mapping to the tagger.
func (s *Stack) pumpStream(ctx context.Context, all []sqlitestore.RawStreamRecord) error {
	var recs []sqlitestore.RawStreamRecord
	for _, r := range all {
		if src, ok := s.Policy.SourceByName(r.Table); ok && src.Table != "" {
			recs = append(recs, r)
		}
	}
	var payload []byte
	for start := 0; start < len(recs); {
		end := start + 1
		for end < len(recs) && recs[end].Region == recs[start].Region && recs[end].Table == recs[start].Table {
			end++
		}
		// DynamoDB JSON takes about twice the plain JSON's size.
		size := 0
		for _, r := range recs[start:end] {
			size += 2*(len(r.Key)+len(r.Old)+len(r.New)) + 400
		}
		payload = slices.Grow(payload[:0], size)
		mid := (end - start) / 2
		var (
			decoded []ddbjson.StreamRecord
			err     error
		)
		if payload, decoded, err = encodeAndDecode(payload, recs[start:end], mid); err != nil {
			return err
		}
		region := recs[start].Region
		h, err := s.handler("tagger", region)
		if err != nil {
			return err
		}
		if decoded != nil {
			h = s.decodedTagger(region, decoded)
		}
		s.Stats.StreamRecords += end - start
		for _, r := range recs[start:end] {
			s.Stats.StreamFromWrites[r.Event]++
		}
		if _, err := s.invoke(ctx, "tagger", h, payload); err != nil {
			s.failedWith(ctx, "tagger", region, "stream batch", slices.Clone(payload), err)
		}
		if err := s.Store.MarkDelivered(ctx, recs[end-1].Seq); err != nil {
			return err
		}
		start = end
	}
	if len(recs) < len(all) {
		// The others are passed over, once the watched ones are delivered.
		return s.Store.MarkDelivered(ctx, all[len(all)-1].Seq)
	}
	return nil
}

// appendStreamEvent appends the DynamoDB Streams event Lambda would deliver
// for recs (NEW_AND_OLD_IMAGES), writing the stored JSON straight into
// DynamoDB JSON.
func appendStreamEvent(dst []byte, recs []sqlitestore.RawStreamRecord) ([]byte, error) {
	dst = append(dst, streamEventStart...)
	for i, r := range recs {
		if i > 0 {
			dst = append(dst, ',')
		}
		seq := strconv.FormatInt(r.Seq, 10)
		dst = append(dst, `{"eventID":"`...)
		dst = append(dst, seq...)
		dst = append(dst, `","eventName":"`...)
		dst = append(dst, r.Event...)
		dst = append(dst, `","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":`...)
		dst = strconv.AppendQuote(dst, r.Region)
		dst = append(dst, `,"eventSourceARN":`...)
		dst = strconv.AppendQuote(dst, "arn:aws:dynamodb:"+r.Region+":000000000000:table/"+r.Table+"/stream/local")
		dst = append(dst, `,"dynamodb":{"ApproximateCreationDateTime":`...)
		dst = strconv.AppendInt(dst, r.At.Unix(), 10)
		dst = append(dst, `,"Keys":`...)
		var err error
		if dst, err = ddbjson.AppendImage(dst, []byte(r.Key)); err != nil {
			return nil, fmt.Errorf("stream seq %d: key: %w", r.Seq, err)
		}
		if r.New != "" {
			dst = append(dst, `,"NewImage":`...)
			if dst, err = ddbjson.AppendImage(dst, []byte(r.New)); err != nil {
				return nil, fmt.Errorf("stream seq %d: new image: %w", r.Seq, err)
			}
		}
		if r.Old != "" {
			dst = append(dst, `,"OldImage":`...)
			if dst, err = ddbjson.AppendImage(dst, []byte(r.Old)); err != nil {
				return nil, fmt.Errorf("stream seq %d: old image: %w", r.Seq, err)
			}
		}
		dst = append(dst, `,"SequenceNumber":"`...)
		dst = fmt.Appendf(dst, "%021d", r.Seq)
		dst = append(dst, `","SizeBytes":`...)
		dst = strconv.AppendInt(dst, int64(len(r.Key)+len(r.New)+len(r.Old)), 10)
		dst = append(dst, `,"StreamViewType":"NEW_AND_OLD_IMAGES"}}`...)
	}
	return append(dst, "]}"...), nil
}

// streamEventStart opens the event appendStreamEvent writes.
const streamEventStart = `{"Records":[`

// splitDecodeMin is the fewest records encodeAndDecode decodes in two
// halves at once; below it a second goroutine costs more than it saves.
const splitDecodeMin = 64

// encodeAndDecode appends to dst the stream event of recs and returns it
// with its records decoded as the tagger's Invoke decodes them: the second
// half is encoded and decoded on a goroutine of its own while this one does
// the first, and the two events are then joined, so that the pump's tagger
// invocations are made ready on both of the machine's cores. The records
// are nil when recs are few or a half does not decode (Invoke, given the
// payload, then reports why), and when mid does not part recs in two.
func encodeAndDecode(dst []byte, recs []sqlitestore.RawStreamRecord, mid int) ([]byte, []ddbjson.StreamRecord, error) {
	if len(recs) < splitDecodeMin || mid <= 0 || mid >= len(recs) {
		out, err := appendStreamEvent(dst, recs)
		return out, nil, err
	}
	type half struct {
		payload     []byte
		recs        []ddbjson.StreamRecord
		err, decErr error
	}
	second := make(chan half, 1) // the goroutine never waits
	go func() {
		var h half
		if h.payload, h.err = appendStreamEvent(make([]byte, 0, (cap(dst)-len(dst))/2+1024), recs[mid:]); h.err == nil {
			h.recs, h.decErr = ddbjson.DecodeStream(h.payload)
		}
		second <- h
	}()
	out, err := appendStreamEvent(dst, recs[:mid])
	var rs []ddbjson.StreamRecord
	var decErr error
	if err == nil {
		rs, decErr = ddbjson.DecodeStream(out[len(dst):])
	}
	h := <-second
	if err == nil {
		err = h.err
	}
	if err != nil {
		return nil, nil, err
	}
	// The first event without its "]}", a comma, the second's records.
	out = append(append(out[:len(out)-2], ','), h.payload[len(streamEventStart):]...)
	if decErr != nil || h.decErr != nil {
		return out, nil, nil
	}
	return out, append(rs, h.recs...), nil
}
