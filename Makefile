# ReaSeq — the README's commands. `make run` runs the platform on the embedded defaults; `make test` runs every test.
SHELL := /bin/bash
CONFIG ?= Release
BIN := src/Host/bin/$(CONFIG)/net10.0/linux-x64/reaseq
TOOLS := src/Tools/bin/$(CONFIG)/net10.0/linux-x64/reaseq-tools
ROLES ?= ingest,knowledge,sequence,dllm,trainer,api
REPLAY ?= auto
# Share of replayed impressions the trainer role trains on in `make run` (a deployment trains on all): keeps it in pace on 2 cores.
TRAIN_FRACTION ?= 0.01
# The benchmarks `make bench` runs (each writes bench/results/NAME.json).
BENCH ?= ingest knowledge sequence dllm trainer api scaling
# The api role's gen0 budget (6 MB). A request's garbage dies young, so a collection's pause grows with the budget, not
# with what survives: at the default (≈ 16 MB here) 13 collections of ≈ 4.5 ms in 15 s at 100 req/s sat in the p99; at 6 MB,
# ≈ 36 of ≈ 2 ms (open-loop p99 7.4-7.9 ms against 10.3-16.4 ms). Not for the stateful roles, whose survivors dominate.
API_GC_GEN0 ?= 0x600000
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1
, := ,
# libtorch on few cores: jemalloc avoids glibc malloc's mmap churn in training steps. Its default decay hands freed pages
# back to the kernel, so every fresh multi-MB tensor (a [64, 64, 512] FFN activation: 8 MB) page-faulted again: a GELU
# took ~70 ms instead of ~3 ms. Without decay the pages stay mapped and are reused (resident memory stays at the peak).
JEMALLOC := /usr/lib/x86_64-linux-gnu/libjemalloc.so.2
TORCH_ENV = $(if $(wildcard $(JEMALLOC)),LD_PRELOAD=$(JEMALLOC) MALLOC_CONF=dirty_decay_ms:-1$(,)muzzy_decay_ms:-1,MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736)
# `make run` trains the dllm role's model small and often, so a run shows fills and a retrained version within minutes
# (the role's defaults, in src/Processors/Dllm, are the paper's shape and an hourly schedule).
DLLM_RUN ?= REASEQ__Dllm__Model__Layers=2 REASEQ__Dllm__Model__ModelDim=64 REASEQ__Dllm__Model__Heads=4 \
	REASEQ__Dllm__Trainer__Steps=100 REASEQ__Dllm__Trainer__BatchSize=64 REASEQ__Dllm__Trainer__CheckIntervalMs=5000 \
	REASEQ__Dllm__Trainer__RetrainIntervalMs=90000 REASEQ__Dllm__Trainer__MinTrainingWindows=16

.PHONY: all deps build run test test-unit test-integration test-helm chaos bench eval pg-stop clean

all: build

deps:
	@scripts/deps.sh

build: deps
	dotnet build ReaSeq.sln -c $(CONFIG) -nologo -clp:ErrorsOnly

# Everything on one machine: local PostgreSQL (own folder and port), embedded Kafka, all roles, default workload.
run: build
	@conn=$$(scripts/pg.sh fresh reaseq_run) && \
	REASEQ__Postgres__ConnectionString="$$conn" REASEQ__Trainer__TrainFraction=$(TRAIN_FRACTION) $(TORCH_ENV) $(DLLM_RUN) $(BIN) run --roles $(ROLES) --replay $(REPLAY) $(ARGS)

# Every tier: unit, integration (broker, PostgreSQL, processes, encoder, torch) and the Helm chart render. See tests/README.md.
# TorchSharp 0.107 frees an implicitly converted Scalar from its finalizer, so a GC during the native call that reads it
# fails the op ("Unknown scalar type"; dotnet/TorchSharp#1434 and #1496 are open). Tests run many threads that allocate,
# so a larger gen0 budget (fewer GCs) narrows that window (LladaTiny passes explicit, disposed Scalars itself).
TEST_ENV := DOTNET_GCgen0size=0x8000000

# The log is kept (TestResults/test.log) and a failing run ends by repeating each failed test's message and name, so the tail of a CI
# log names what failed without scrolling through 580 passes.
test: deps test-helm
	@mkdir -p TestResults
	@set -o pipefail; $(TEST_ENV) dotnet test ReaSeq.sln -c $(CONFIG) -nologo --logger "console;verbosity=normal" 2>&1 \
		| tee TestResults/test.log || { echo "=== failed tests, first lines of each (full log: TestResults/test.log) ==="; \
		awk '/^  Failed /{n=25} /^  (Passed|Skipped) /{n=0} n>0{print; n--}' TestResults/test.log; \
		echo "=== failed:"; grep '^  Failed ' TestResults/test.log; exit 1; }

test-unit:
	$(TEST_ENV) dotnet test ReaSeq.sln -c $(CONFIG) -nologo --filter "Tier!=Integration"

test-integration: deps
	$(TEST_ENV) dotnet test ReaSeq.sln -c $(CONFIG) -nologo --logger "console;verbosity=normal" --filter "Tier=Integration"

test-helm:
	@scripts/helm-test.sh

# The fault-injection suite in full (tests/ReaSeq.Tests/Chaos): >= 20 random SIGKILL points per role, a 30 s broker outage,
# request errors, leader moves, PostgreSQL restarts, SIGTERM under load; writes bench/results/reliability.json.
# `make test` runs the same scenarios short. CHAOS_SEED=N repeats a run's kill points.
chaos: build
	$(TEST_ENV) REASEQ_CHAOS=full $(if $(CHAOS_SEED),REASEQ_CHAOS_SEED=$(CHAOS_SEED)) dotnet test tests/ReaSeq.Tests/ReaSeq.Tests.csproj -c $(CONFIG) --no-build -nologo \
		--logger "console;verbosity=normal" --filter "FullyQualifiedName~ReaSeq.Tests.Chaos"

# Each benchmark runs in a process of its own (none inherits another's heap), the api benchmark with the api role's
# gen0 budget (API_GC_GEN0, as the Helm chart sets it for api pods).
bench: build
	@conn=$$(scripts/pg.sh fresh reaseq_bench) && for b in $(BENCH); do \
		gc=; [ "$$b" = api ] && gc="DOTNET_GCgen0size=$(API_GC_GEN0)"; \
		env $$gc REASEQ__Postgres__ConnectionString="$$conn" $(TORCH_ENV) $(TOOLS) bench $$b || exit 1; done

# Evaluations on Online Retail. EVAL=representations (default): representation quality (paper Table 1), writes
# eval/results/representations.{json,png}. EVAL=gbr: Generative Behavior Reasoning (paper Table 5 and beyond-log recovery),
# writes eval/results/gbr.{json,png} and gbr-recovery.{json,png}.
EVAL ?= representations
eval: build
	$(TORCH_ENV) $(TOOLS) eval $(EVAL) $(ARGS)

pg-stop:
	@scripts/pg.sh stop

clean:
	dotnet clean ReaSeq.sln -c $(CONFIG) -nologo >/dev/null
	rm -rf .state
