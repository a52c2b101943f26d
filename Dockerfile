# syntax=docker/dockerfile:1.7
#
# ReaSeq: one image, every role (`reaseq run --roles <role>`); the Helm chart in helm/reaseq runs one Deployment per role.
#
#   docker build -t reaseq:dev .
#   docker run --rm reaseq:dev                       # prints the usage (CMD --help)
#   docker run --rm --read-only --tmpfs /tmp -v reaseq-state:/var/lib/reaseq \
#     -e REASEQ__Kafka__BootstrapServers=kafka:9092 -e REASEQ__Postgres__ConnectionString=... \
#     reaseq:dev run --roles ingest --replay none
#
# Base images. .NET 10's images are Ubuntu 24.04 "noble" (Microsoft ships no Debian images for .NET 10), so both stages
# name the same distro explicitly: build and runtime must share one libstdc++ (see the note on the patch below).
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0-noble
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/runtime:10.0-noble

# ---------------------------------------------------------------------------------------------------------------------
FROM ${SDK_IMAGE} AS build
WORKDIR /src
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1 \
    DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# The whole context (see .dockerignore) is copied at once rather than project file by project file: the project layout
# under src/ changes, and the NuGet cache mount keeps restores cheap anyway.
COPY . .

# libLibTorchSharp.so and libstdc++: TorchSharp's native shim names one symbol version (GLIBCXX_3.4.32) that it never
# calls. build/LibStdCxxCompat.targets patches the copy in the publish folder when, and only when, the libstdc++ of the
# machine that publishes lacks that version (Debian 12 stops at 3.4.30). The decision is made against THIS stage's
# /usr/lib/x86_64-linux-gnu/libstdc++.so.6, and the publish output carries the patched (or untouched) copy into the
# runtime stage. Ubuntu 24.04 has 3.4.33, so no patch is needed here; an image built on, or deployed to, a Debian 12
# based runtime needs the patched copy, which is why the runtime stage must use a libstdc++ at least as new as the build
# stage's: change SDK_IMAGE and RUNTIME_IMAGE together.
RUN --mount=type=cache,id=reaseq-nuget,target=/root/.nuget/packages \
    dotnet restore src/Host/ReaSeq.Host.csproj -r linux-x64
RUN --mount=type=cache,id=reaseq-nuget,target=/root/.nuget/packages \
    dotnet publish src/Host/ReaSeq.Host.csproj \
        -c Release -r linux-x64 --self-contained false --no-restore \
        -p:DebugType=None -p:DebugSymbols=false \
        -o /out \
 && find /out -name '*.dbg' -delete \
 && test -x /out/reaseq \
 && ls /out/libLibTorchSharp.so /out/libtorch*.so* /out/libonnxruntime.so >/dev/null

# ---------------------------------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime

ARG UID=10001
ARG GID=10001

LABEL org.opencontainers.image.title="reaseq" \
      org.opencontainers.image.description="ReaSeq real-time feature platform: ingest, knowledge, sequence, dllm, trainer and api roles in one executable" \
      org.opencontainers.image.source="https://example.invalid/reaseq"

# jemalloc for libtorch, as `make run` starts it: with glibc's allocator (or jemalloc's default page decay) a fresh
# multi-MB tensor page-faults again on every op, which measured 2.6-7x slower DLLM and CTR training and DLLM inference on
# 2 cores. Kept pages are the trade: the process holds its peak.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libjemalloc2 \
 && rm -rf /var/lib/apt/lists/*
ENV LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
    MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1

# A numeric, non-root user (Kubernetes' runAsNonRoot can only verify numeric ids). Its home is the state volume.
RUN groupadd --system --gid "${GID}" reaseq \
 && useradd --system --uid "${UID}" --gid "${GID}" --home-dir /var/lib/reaseq --no-create-home \
            --shell /usr/sbin/nologin reaseq \
 && install -d -o "${UID}" -g "${GID}" -m 0750 /var/lib/reaseq

# Made for a read-only root filesystem: everything the process writes goes under /var/lib/reaseq (state: the relative
# ".state/..." paths resolve against the working directory; models; the embedded vector index) or /tmp. Mount a volume
# (emptyDir/PVC) on /var/lib/reaseq and a tmpfs/emptyDir on /tmp.
ENV HOME=/var/lib/reaseq \
    TMPDIR=/tmp \
    DOTNET_CLI_TELEMETRY_OPTOUT=1 \
    DOTNET_NOLOGO=1 \
    DOTNET_EnableDiagnostics_Debugger=0 \
    DOTNET_EnableDiagnostics_Profiler=0

# The publish output, libtorch (libtorch*.so, libc10.so, libLibTorchSharp.so), ONNX Runtime (libonnxruntime.so) and
# librdkafka included, owned by root and read-only to the app user. (librdkafka.so of librdkafka.redist wants RHEL's
# libsasl2.so.3; Confluent.Kafka then loads centos8-librdkafka.so, which carries its dependencies.)
COPY --from=build --chown=0:0 --chmod=0755 /out /app

VOLUME ["/var/lib/reaseq"]
WORKDIR /var/lib/reaseq
USER ${UID}:${GID}

# 8080: the api role's HTTP API; 9464: every role's management port (/healthz, /readyz, /metrics).
EXPOSE 8080 9464

ENTRYPOINT ["/app/reaseq"]
CMD ["--help"]
