// Package ddbjson converts between the typed attribute values of DynamoDB
// stream records (as aws-lambda-go decodes them) and the plain JSON items
// Residency works with. Numbers stay exact (json.Number); binary values
// become base64 strings; sets become arrays.
package ddbjson
