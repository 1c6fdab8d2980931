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

func collect(paths []string) ([]replayFile, []string, error) {
	var files, fixtures []string
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
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		if isFixture(data) {
			fixtures = append(fixtures, f)
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
	return out, fixtures, nil
}

func isFixture(data []byte) bool {
	var f struct {
		Objects []record.Object `json:"objects"`
	}
	return json.Unmarshal(data, &f) == nil && len(f.Objects) > 0
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
		ms, _ := strconv.ParseInt(r.Attributes.SentTimestamp, 10, 64)
		return time.UnixMilli(ms), nil
	}
	return time.Time{}, nil
}

func loadFixtures(ctx context.Context, s *local.Stack, paths []string) (int, error) {
	n := 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return n, err
		}
		var f struct {
			Objects []record.Object `json:"objects"`
		}
		if err := json.Unmarshal(data, &f); err != nil {
			return n, fmt.Errorf("%s: %w", p, err)
		}
		for _, o := range f.Objects {
			if err := s.Store.PutObject(ctx, o); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
