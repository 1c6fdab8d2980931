package main

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/residency-dev/residency/events"
	"github.com/residency-dev/residency/shared/local"
)

// The stack's bus rules and the local stack's bus route every event alike:
// both are made from events.Routes.
func TestEventRulesAgreeWithTheLocalBus(t *testing.T) {
	sources := map[bool]string{true: events.Source, false: "platform.users"}
	for _, r := range testRegions {
		t.Run(r, func(t *testing.T) {
			// GIVEN the region's template
			fnByID := map[string]string{}
			for _, fn := range Functions {
				fnByID[logicalID(t, r, "AWS::Lambda::Function", "FunctionName", FunctionName(fn))] = fn
			}
			// A queued route's rule targets the queue its function consumes.
			fnByID[logicalID(t, r, "AWS::SQS::Queue", "QueueName", violationsQueueName)] = "router"
			// WHEN its rules are read as (source, detail type) -> functions
			type key struct {
				residency  bool
				detailType string
			}
			stack := map[key][]string{}
			for id, res := range resources(r, "AWS::Events::Rule") {
				p := props(res)
				pattern, _ := p["EventPattern"].(map[string]any)
				residency, err := sourceOfPattern(pattern["source"])
				if err != nil {
					t.Fatalf("rule %s: %v", id, err)
				}
				targets, _ := p["Targets"].([]any)
				for _, dt := range pattern["detail-type"].([]any) {
					for _, tg := range targets {
						arn, _ := tg.(map[string]any)["Arn"].(map[string]any)
						att, _ := arn["Fn::GetAtt"].([]any)
						if len(att) == 0 || fnByID[fmt.Sprint(att[0])] == "" {
							t.Fatalf("rule %s: expect a function of the stack as target, got %v", id, tg)
						}
						k := key{residency, dt.(string)}
						stack[k] = append(stack[k], fnByID[fmt.Sprint(att[0])])
					}
				}
			}
			// THEN every detail type, from either source, reaches the same
			// functions on the local bus
			for _, dt := range slices.Concat(events.Published, events.Consumed) {
				for _, residency := range []bool{true, false} {
					var got []string
					for _, route := range local.Targets(sources[residency], dt) {
						got = append(got, route.Function)
					}
					want := stack[key{residency, dt}]
					slices.Sort(got)
					slices.Sort(want)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%q from %s: expect the local bus to deliver to the stack's targets, got (-stack +local):\n%s", dt, sources[residency], diff)
					}
					delete(stack, key{residency, dt})
				}
			}
			if len(stack) > 0 {
				t.Errorf("expect rules only for the events of package events, got %v", stack)
			}
		})
	}
}

// sourceOfPattern reads a rule's source pattern: ["residency"] (Residency's
// own events) or [{"anything-but": ["residency"]}] (the platform's).
func sourceOfPattern(v any) (residency bool, err error) {
	src, _ := v.([]any)
	if len(src) != 1 {
		return false, fmt.Errorf("expect one source pattern, got %v", v)
	}
	if src[0] == events.Source {
		return true, nil
	}
	if m, ok := src[0].(map[string]any); ok && cmp.Equal(m["anything-but"], []any{events.Source}) {
		return false, nil
	}
	return false, fmt.Errorf("expect %q or anything but it, got %v", events.Source, v)
}
