package local

import (
	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/residency-dev/residency/events"
)

// target is a function the bus delivers an event to, in these regions.
type target struct {
	function string
	regions  []string
	queued   bool
}

// targets routes an event as the stack's rules do (events.Routes): to the
// function of the event's region, or, for the events the platform publishes
// on every region's bus (holds, contract ends and erasure requests concern
// records in every region), to the function of every region.
func (s *Stack) targets(ev lambdaevents.EventBridgeEvent) []target {
	var ts []target
	for _, fn := range Targets(ev.Source, ev.DetailType) {
		t := target{function: fn.Function, regions: []string{ev.Region}, queued: fn.Queued}
		if fn.EveryRegion {
			t.regions = s.Policy.Regions
		}
		ts = append(ts, t)
	}
	return ts
}

// Targets returns the routes (events.Routes) the local bus delivers an event
// of source and detailType by, as the stack's rules do; none for the events
// Residency publishes for the platform's own consumers.
func Targets(source, detailType string) []events.Route {
	var rs []events.Route
	for _, r := range events.Routes {
		if r.Matches(source, detailType) {
			rs = append(rs, r)
		}
	}
	return rs
}

// violationQueued reports whether the bus delivers an event to function
// through the router's violations queue (a Queued route), as on AWS the
// violations rule targets the queue rather than the router.
func violationQueued(t target) bool { return t.queued && t.function == "router" }
