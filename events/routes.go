package events

import "slices"

// Route is one rule of a region's residency bus: the events of these detail
// types, from Residency itself (source Source) or from the platform (any
// other source), go to a function. The CDK stack makes an EventBridge rule
// of each (infra/triggers.go) and the local stack routes its bus by them
// (shared/local): one table, so they cannot drift apart. DESIGN section 4
// and Appendix C.
type Route struct {
	// ID names the rule (its construct id is ID + "Rule").
	ID          string
	DetailTypes []string
	// Residency: the events Residency publishes; else the platform's.
	Residency bool
	Function  string
	// EveryRegion marks events that concern records in every region: the
	// platform publishes them on the bus of every region (Residency does
	// not forward them), so the local stack, one bus for all regions,
	// delivers them to the function of every region.
	EveryRegion bool
	// Queued: the rule targets the function's SQS queue, which the
	// function consumes in batches (ReportBatchItemFailures), rather than
	// the function; the local stack delivers these events in batches too.
	Queued bool
}

// Routes are the rules of every region's bus.
var Routes = []Route{
	{ID: "PlatformToRouter", DetailTypes: []string{RecordIngest, TransferRequested}, Function: "router"},
	{ID: "ViolationToRouter", DetailTypes: []string{ResidencyViolation}, Residency: true, Function: "router", Queued: true},
	{ID: "DataWrittenToTagger", DetailTypes: []string{DataWritten}, Function: "tagger"},
	{ID: "RetentionEvents", DetailTypes: []string{LegalHoldSet, LegalHoldReleased, ContractEnded, ErasureRequested}, Function: "retention", EveryRegion: true},
}

// Matches reports whether the rule takes an event of source and detailType.
func (r Route) Matches(source, detailType string) bool {
	return (source == Source) == r.Residency && slices.Contains(r.DetailTypes, detailType)
}
