#!/usr/bin/env bash
# Render and check the Helm chart helm/reaseq without a cluster.
#
#   scripts/helm-test.sh            # installs what it needs from Debian's apt (as root or with sudo) when missing
#
# 1. builds tests/helm (a Go renderer: text/template + sprig + the Helm built-ins the chart uses) with Debian's Go
#    packages (golang-go, golang-github-masterminds-sprig-dev, golang-gopkg-yaml.v3-dev) in GOPATH mode: no module
#    downloads;
# 2. renders the chart with the default values and with tests/helm/values-production.yaml and checks the manifests
#    (and values.schema.json); then checks that invalid values are refused;
# 3. when a `helm` binary is on PATH, also runs `helm lint` and `helm template` (with the schema) on both value sets.
# Rendered manifests are left in .state/helm-test/ for inspection. Exits non-zero on any failure.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
chart="$repo/helm/reaseq"
prod_values="$repo/tests/helm/values-production.yaml"
work="${HELM_TEST_DIR:-$repo/.state/helm-test}"
gopath=/usr/share/gocode

say() { printf 'helm-test: %s\n' "$*" >&2; }
die() { printf 'helm-test: FAILED: %s\n' "$*" >&2; exit 1; }

# --- prerequisites -------------------------------------------------------------------------------------------------
need_pkgs=()
command -v go >/dev/null 2>&1 || need_pkgs+=(golang-go)
[[ -f $gopath/src/github.com/Masterminds/sprig/functions.go ]] || need_pkgs+=(golang-github-masterminds-sprig-dev)
[[ -f $gopath/src/gopkg.in/yaml.v3/yaml.go ]] || need_pkgs+=(golang-gopkg-yaml.v3-dev)
if ((${#need_pkgs[@]})); then
  if [[ $(id -u) -eq 0 ]]; then sudo=()
  elif command -v sudo >/dev/null 2>&1; then sudo=(sudo)
  else die "missing packages ${need_pkgs[*]} and neither root nor sudo to install them"; fi
  command -v apt-get >/dev/null 2>&1 || die "missing packages ${need_pkgs[*]} and no apt-get (Debian/Ubuntu expected)"
  say "installing ${need_pkgs[*]} (apt)"
  "${sudo[@]}" apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null \
    || die "apt-get install ${need_pkgs[*]} failed"
fi

# --- build the checker ---------------------------------------------------------------------------------------------
mkdir -p "$work"
export GO111MODULE=off GOPATH="$gopath" GOFLAGS= GOCACHE="${GOCACHE:-$work/go-cache}"
say "building tests/helm ($(go version | awk '{print $3}'))"
(cd "$repo/tests/helm" && go vet . && go build -o "$work/helmcheck" .) || die "tests/helm does not build"

# --- render and check ----------------------------------------------------------------------------------------------
failures=()
run() { # name, command...
  local name=$1; shift
  if "$@"; then :; else failures+=("$name"); say "$name: failed"; fi
}
rm -rf "$work/default" "$work/production"
run "render default values" "$work/helmcheck" -chart "$chart" -out "$work/default"
run "render production values" "$work/helmcheck" -chart "$chart" -f "$prod_values" -out "$work/production"
run "negative cases" "$work/helmcheck" -chart "$chart" -negative

# --- helm itself, when present -------------------------------------------------------------------------------------
if command -v helm >/dev/null 2>&1; then
  say "helm found ($(helm version --short 2>/dev/null || echo unknown)): helm lint and helm template"
  run "helm lint" helm lint --strict "$chart"
  run "helm lint (production values)" helm lint --strict "$chart" -f "$prod_values"
  run "helm template" sh -c 'helm template reaseq "$1" --namespace reaseq > "$2"' _ "$chart" "$work/helm-default.yaml"
  run "helm template (production values)" sh -c 'helm template reaseq "$1" --namespace reaseq -f "$2" > "$3"' _ \
      "$chart" "$prod_values" "$work/helm-production.yaml"
  for f in helm-default helm-production; do
    if [[ -s $work/$f.yaml ]]; then
      n_helm=$(grep -c '^kind: ' "$work/$f.yaml" || true)
      n_ours=$(grep -c '^kind: ' "$work/${f#helm-}/all.yaml" || true)
      [[ $n_helm == "$n_ours" ]] || { failures+=("$f: helm renders $n_helm objects, tests/helm $n_ours"); say "${failures[-1]}"; }
    fi
  done
else
  say "no helm binary: skipped helm lint / helm template (the Go renderer covered the chart)"
fi

if ((${#failures[@]})); then
  die "$(printf '%s; ' "${failures[@]}")(manifests in $work)"
fi
say "OK (manifests in $work)"
