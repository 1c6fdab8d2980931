// Package metrics writes the functions' metrics as CloudWatch Embedded
// Metric Format (EMF) lines: JSON log lines from which CloudWatch Logs
// extracts the metrics, with no CloudWatch API call, client or credentials
// in the functions. Specification:
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
//
// Every metric is in namespace Residency with the dimensions region and
// function, and source where a metric concerns one watched source (a
// table or bucket name, never a record). No Go EMF library is kept up
// (prozz/aws-embedded-metrics-golang had its last release in 2021; its
// maintained fork needs Go 1.27), so this is a small writer, tested against
// the specification's JSON Schema and its rules on target members.
package metrics
