package events

// Out is an event a function publishes on its region's bus: the bus adapter
// wraps it in an EventBridge entry with source Source.
type Out struct {
	DetailType string
	Detail     Detail
}
