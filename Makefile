# Residency: see README.md.
GO       ?= go
DB       ?= residency.db
NOW      ?=
ARGS     ?=
STATICCHECK_VERSION ?= v0.8.2
TEMPL_VERSION ?= v0.3.1118
CDK       ?= npx --yes aws-cdk@2.1148.1
FUNCTIONS := tagger router ledger retention reports
REGION    ?=
SOURCE    ?=
MODE      ?= scan
SEGMENTS  ?= 8
MANIFEST  ?=

.PHONY: help run serve test lint generate bench fuzz clean build synth diff deploy nag lint-cfn report-screenshot report-1m backfill bench-run

help: ## list the targets
	@grep -E '^[a-z0-9%-]+:.*## ' $(MAKEFILE_LIST) | sed 's|$$(DB)|$(DB)|g' | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

run: ## build, then replay events/samples through the local stacks and print the report
	@rm -rf $(DB) $(DB)-wal $(DB)-shm $(DB).digests
	@mkdir -p $(dir $(DB))
	@$(GO) build -o bin/residency ./cmd/residency
	@./bin/residency run --db $(DB) $(if $(NOW),--now $(NOW)) $(ARGS)

serve: ## build, then serve the local stack on 127.0.0.1:9000 (Lambda Invoke API, reports API, hourly sweep) over $(DB)
	@mkdir -p $(dir $(DB))
	@$(GO) build -o bin/residency ./cmd/residency
	@./bin/residency serve --db $(DB) $(if $(NOW),--now $(NOW)) $(ARGS)

report-screenshot: ## the HTML report of the samples, screenshot in headless Chromium: .residency/report.png (SYNTHETIC=20000 for a synthetic year)
	scripts/screenshot-report.sh

report-1m: ## reports over 1,000,000 synthetic ledger entries: seconds and peak memory per format (N=, FORMATS=, DB=)
	scripts/report-1m.sh

test: ## gofmt, vet, and every test (unit, golden, store, end to end)
	@out=$$(gofmt -s -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt -s needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@scripts/asl-interpreter.sh || echo "make test: could not install the ASL interpreter (npm); the backfill state machine run test will skip" >&2
	$(GO) test -count=1 ./...

generate: ## compile the HTML report's markup (shared/report/report.templ) with templ
	$(GO) run github.com/a-h/templ/cmd/templ@$(TEMPL_VERSION) generate -path shared/report

lint: ## gofmt, vet, staticcheck, go mod tidy diff, generated code current
	@out=$$(gofmt -s -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt -s needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	@# -e: the module proxy refuses one test-only dependency of modernc.org/sqlite
	@$(GO) mod tidy -e -diff 2>/dev/null || { echo "go.mod/go.sum are not tidy: run go mod tidy -e"; exit 1; }
	@$(GO) run github.com/a-h/templ/cmd/templ@$(TEMPL_VERSION) generate -path shared/report >/dev/null 2>&1 && git diff --quiet -- shared/report/report_templ.go shared/report/exposure_templ.go || { echo "shared/report/report_templ.go or exposure_templ.go is not current: run make generate"; exit 1; }

bench: ## benchmarks of the hot paths
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-run: ## generated loads through residency run: records/s end to end at 0%, 10%, 100% misplaced (N=, BATCH=, MISPLACED=)
	@scripts/bench-run.sh

fuzz: ## a short fuzzing round on every decoder of outside input (FUZZTIME=30s)
	@for spec in $$($(GO) test -list '^Fuzz' ./... 2>/dev/null | awk '/^ok/ {pkg=$$2} /^Fuzz/ {print pkg":"$$1}'); do \
		pkg=$${spec%%:*}; fn=$${spec##*:}; echo "== $$pkg $$fn"; \
		$(GO) test -run '^$$' -fuzz "^$$fn$$" -fuzztime $${FUZZTIME:-30s} $$pkg || exit 1; done

build: ## arm64 bootstrap per function in bin/<function>/
	@for fn in $(FUNCTIONS); do echo "build $$fn"; \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' -o bin/$$fn/bootstrap ./functions/$$fn/lambda || exit 1; done
	@ls -l bin/*/bootstrap | awk '{printf "  %-28s %5.1f MB\n", $$NF, $$5/1048576}'

synth: build ## CloudFormation templates of every region in cdk.out/ (cdk-nag runs in every synth)
	$(CDK) synth --quiet

diff: build ## what a deploy would change (REGION=... for one region)
	$(CDK) diff $(if $(REGION),-c residency:regions=$(REGION) Residency-$(REGION))

deploy: build ## deploy one region: make deploy REGION=eu-central-1
	@test -n "$(REGION)" || { echo "usage: make deploy REGION=<region>"; exit 2; }
	$(CDK) deploy -c residency:regions=$(REGION) Residency-$(REGION)

backfill: ## backfill a watched table or bucket on AWS: make backfill REGION=us-east-1 SOURCE=users [MODE=scan|export SEGMENTS=8] (a bucket: [MODE=list|inventory MANIFEST=inventory/.../manifest.json])
	@test -n "$(REGION)" -a -n "$(SOURCE)" || { echo "usage: make backfill REGION=<region> SOURCE=<watched table or bucket> [MODE=scan|export SEGMENTS=8 | MODE=list|inventory MANIFEST=inventory/<bucket>/<config>/<time>/manifest.json]"; exit 2; }
	@arn=$$(aws cloudformation describe-stacks --region $(REGION) --stack-name Residency-$(REGION) \
		--query "Stacks[0].Outputs[?OutputKey=='BackfillStateMachineArn'].OutputValue" --output text) && test -n "$$arn" -a "$$arn" != None || \
		{ echo "no BackfillStateMachineArn output in stack Residency-$(REGION): deploy it first (make deploy REGION=$(REGION))"; exit 1; }; \
	aws stepfunctions start-execution --region $(REGION) --state-machine-arn "$$arn" \
		--input '{"source": "$(SOURCE)", "mode": "$(MODE)", "segments": $(SEGMENTS), "manifest": "$(MANIFEST)"}'

nag: build ## cdk-nag AwsSolutions: fails on any unsuppressed finding, lists the suppressed ones
	$(CDK) synth --quiet
	@grep -h '"Suppressed"' cdk.out/AwsSolutions-*-NagReport.csv | cut -d, -f1,2 || true

lint-cfn: synth ## cfn-lint on the synthesized templates
	cfn-lint cdk.out/*.template.json

clean: ## remove build output and the local store of make run
	rm -rf bin .residency cdk.out $(DB) $(DB)-wal $(DB)-shm $(DB).digests $(DB).log
