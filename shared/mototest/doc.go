// Package mototest starts moto_server (the AWS protocol mock installed on
// the machine image) on a free loopback port for a test binary and gives
// SDK configurations that talk to it. Tests skip with a clear reason when
// moto_server is missing on a developer's machine; under CI (CI=true) a
// missing moto_server is a failure, never a skip.
package mototest
