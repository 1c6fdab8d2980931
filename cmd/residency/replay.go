package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/residency-dev/residency/shared/local"
	"github.com/residency-dev/residency/shared/record"
	"github.com/residency-dev/residency/shared/trigger"
)

// replayFile is one payload to replay, with its event time.
type replayFile struct {
	path string
	at   time.Time
	data []byte
}

// collect reads each file of paths (a folder: its .json files) once: the
// event files it returns in the order of their times, then of their paths;
// the fixture files, their S3 objects in file order.
func collect(paths []string) ([]replayFile, []record.Object, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".json") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	var out []replayFile
	var objects []record.Object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		if objs := fixtureObjects(data); len(objs) > 0 {
			objects = append(objects, objs...)
			continue
		}
		at, err := eventTime(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, replayFile{path: f, at: at, data: data})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].at.Equal(out[j].at) {
			return out[i].at.Before(out[j].at)
		}
		return out[i].path < out[j].path
	})
	return out, objects, nil
}

// fixtureObjects is the S3 objects of a fixture file ({"objects": [...]}),
// none when data is not one.
func fixtureObjects(data []byte) []record.Object {
	var f struct {
		Objects []record.Object `json:"objects"`
	}
	if json.Unmarshal(data, &f) != nil {
		return nil
	}
	return f.Objects
}

// eventTime reads when an event happened, by its kind, to replay in order.
func eventTime(data []byte) (time.Time, error) {
	kind, err := trigger.Detect(data)
	if err != nil {
		return time.Time{}, err
	}
	var p struct {
		Time    time.Time `json:"time"`
		Records []struct {
			EventTime  time.Time `json:"eventTime"`
			MessageID  string    `json:"messageId"`
			Attributes struct {
				SentTimestamp string
			} `json:"attributes"`
			DynamoDB struct {
				ApproximateCreationDateTime float64
			} `json:"dynamodb"`
		} `json:"Records"`
		RequestContext struct {
			TimeEpoch int64 `json:"timeEpoch"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return time.Time{}, err
	}
	switch kind {
	case trigger.EventBridge, trigger.Schedule:
		return p.Time, nil
	case trigger.HTTP:
		return time.UnixMilli(p.RequestContext.TimeEpoch), nil
	}
	if len(p.Records) == 0 {
		return time.Time{}, nil
	}
	r := p.Records[0]
	switch kind {
	case trigger.DynamoDBStream:
		return time.Unix(int64(r.DynamoDB.ApproximateCreationDateTime), 0), nil
	case trigger.S3:
		return r.EventTime, nil
	case trigger.SQS:
		sent := r.Attributes.SentTimestamp
		if sent == "" {
			// No SentTimestamp (a hand-written event): at the epoch.
			return time.UnixMilli(0), nil
		}
		ms, err := strconv.ParseInt(sent, 10, 64)
		if err != nil {
			name := "Records[0]"
			if r.MessageID != "" {
				name = "SQS message " + r.MessageID
			}
			return time.Time{}, fmt.Errorf("%s: SentTimestamp %q is not milliseconds since the Unix epoch", name, sent)
		}
		return time.UnixMilli(ms), nil
	}
	return time.Time{}, nil
}

// loadFixtures puts the fixtures' S3 objects in the stack's store.
func loadFixtures(ctx context.Context, s *local.Stack, objects []record.Object) error {
	for _, o := range objects {
		if err := s.Store.PutObject(ctx, o); err != nil {
			return err
		}
	}
	return nil
}
