// Command infra is Residency's AWS CDK app: one stack, Residency-<region>,
// per region of the deployment (DESIGN section 5).
//
// The app reads cdk.json's context (see the Ctx constants: regions, policy
// file, account, the watched tables' stream ARNs, the watched buckets'
// regions, the functions' binaries, the sweep rate and the digests'
// retention), loads and validates the policy with shared/policy (a policy
// error fails the synthesis with its file:line messages), and builds each
// region's stack with [NewResidencyStack]. Names shared with the Lambda mains
// (environment variables, table names, key schemas, index names) come from
// shared/awsenv.
//
// Each stack holds, in its region only: the catalog, ledger (and, when a
// rule quarantines, quarantine) tables; the HMAC and signing KMS keys; the
// residency event bus and its rules; the ledger FIFO queue and the
// dead-letter queues; the digest bucket (Object Lock, compliance mode) and
// its access-log bucket; the five functions with their roles and log
// groups; the stream and queue event source mappings; the retention
// schedule; the reports HTTP API (AWS_IAM); alarms and outputs.
//
// Least privilege: every IAM statement is written out, with named actions
// (no wildcard) on named resources. EU stays EU: a stack in an EU region
// holds no permission on a resource outside the EU; a non-EU stack's router
// alone may write to the EU home regions' tables (relocation). The tests
// prove both by walking every statement of the synthesized templates, and
// check the cdk-nag AwsSolutions rules and cfn-lint.
package main
