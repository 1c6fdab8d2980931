// Package ddbjson converts between the typed attribute values of DynamoDB
// stream records (as aws-lambda-go decodes them) and the plain JSON items
// Residency works with. Numbers stay exact (json.Number); binary values
// become base64 strings; sets become arrays.
//
// DecodeStream reads a whole stream batch in one pass, and AppendImage
// writes a stored item as DynamoDB JSON without decoding it: both are on the
// hot path of every batch, where aws-lambda-go's reflection costs most of
// the time. They agree with aws-lambda-go (see the fuzz tests).
package ddbjson
