// Package jsontext reads JSON text without reflection, for the few hot paths
// that cannot afford encoding/json: decoding DynamoDB stream batches,
// converting stored items to DynamoDB JSON, and setting one member of a
// stored item.
package jsontext
