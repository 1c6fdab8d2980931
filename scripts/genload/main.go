// Command genload writes a generated load for `residency run`: DynamoDB
// stream batch files of profile INSERTs in us-east-1 (package loadgen), a
// chosen share of them French subjects' records, misplaced.
//
//	go run ./scripts/genload --out DIR [--n 20000] [--batch 1000] [--misplaced 10]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/residency-dev/residency/shared/local/loadgen"
)

func main() {
	out := flag.String("out", "", "folder to write the batch files to (made if missing)")
	n := flag.Int("n", 20000, "records")
	batch := flag.Int("batch", 1000, "records per stream batch file")
	misplaced := flag.Int("misplaced", 10, "percent of the records misplaced (0 to 100)")
	flag.Parse()
	if *out == "" || *n <= 0 || *batch <= 0 || *misplaced < 0 || *misplaced > 100 {
		fmt.Fprintln(os.Stderr, "genload: --out is required; --n and --batch above 0; --misplaced from 0 to 100")
		os.Exit(2)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "genload:", err)
		os.Exit(1)
	}
	for i, b := range loadgen.StreamBatches(*n, *batch, *misplaced) {
		name := filepath.Join(*out, fmt.Sprintf("dynamodb-stream-%05d.json", i))
		if err := os.WriteFile(name, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "genload:", err)
			os.Exit(1)
		}
	}
}
