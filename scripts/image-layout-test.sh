#!/usr/bin/env bash
# Does a publish folder work laid out as the Dockerfile lays it out (/app, root-owned and read-only, run by a
# non-root numeric UID with HOME unwritable and TMPDIR elsewhere)? Checks that `reaseq --help` exits 0 and prints the
# usage, that nothing was written into the app folder, and that the native libraries (libtorch, ONNX Runtime,
# librdkafka) resolve against this machine's system libraries (the libstdc++ symbol-version patch, see
# build/LibStdCxxCompat.targets, is exactly what this catches), and that `reaseq broker` (librdkafka's in-process mock
# cluster) starts and serves under the same conditions.
#
#   dotnet publish src/Host/ReaSeq.Host.csproj -c Release -r linux-x64 --self-contained false -o /tmp/reaseq-publish
#   scripts/image-layout-test.sh /tmp/reaseq-publish
#
# Options (environment): IMAGE_UID (default 10001, the image's user), IMAGE_LAYOUT_KEEP=1 keeps the temp folder.
# As root, the program runs as IMAGE_UID via setpriv (or `nobody` via runuser), inside a private mount namespace with
# /app bind-mounted read-only when unshare allows it. As a non-root user it runs as that user.
set -euo pipefail

say() { printf 'image-layout-test: %s\n' "$*" >&2; }
die() { printf 'image-layout-test: FAILED: %s\n' "$*" >&2; exit 1; }

publish=${1:-}
[[ -n $publish ]] || die "usage: $0 PUBLISH_DIR   (from: dotnet publish src/Host/ReaSeq.Host.csproj -c Release -r linux-x64 --self-contained false -o PUBLISH_DIR)"
[[ -d $publish ]] || die "$publish is not a folder"
publish=$(cd "$publish" && pwd)
[[ -f $publish/reaseq ]] || die "$publish/reaseq is missing: the executable must be named reaseq (AssemblyName) and published with an apphost"
[[ -f $publish/reaseq.dll ]] || die "$publish/reaseq.dll is missing"
[[ -f $publish/appsettings.json ]] || die "$publish/appsettings.json is missing (the host reads it from its base directory)"

uid=${IMAGE_UID:-10001}
tmp=$(mktemp -d /tmp/reaseq-image-layout.XXXXXX)
cleanup() { [[ ${IMAGE_LAYOUT_KEEP:-0} == 1 ]] && say "kept $tmp" || rm -rf "$tmp"; }
trap cleanup EXIT
chmod 0755 "$tmp"

# --- lay out /app as the Dockerfile does: root-owned, 0755, nothing writable by the app user -------------------------
app=$tmp/app
cp -a "$publish" "$app"
if [[ $(id -u) -eq 0 ]]; then chown -R 0:0 "$app"; fi
chmod -R a+rX,go-w "$app"
chmod 0755 "$app/reaseq"
mkdir -p "$tmp/state" "$tmp/tmp"
chmod 1777 "$tmp/tmp"
if [[ $(id -u) -eq 0 ]]; then chown "$uid:$uid" "$tmp/state"; fi
(cd "$app" && find . -type f -printf '%p %s %T@\n' | sort) > "$tmp/before.txt"

# --- native libraries: present and resolvable ------------------------------------------------------------------------
find_native() { # name -> path in the publish root (-r linux-x64) or under runtimes/linux-x64/native (no -r)
  local f
  for f in "$app/$1" "$app/runtimes/linux-x64/native/$1"; do [[ -e $f ]] && { echo "$f"; return 0; }; done
  return 1
}
native_dirs="$app:$app/runtimes/linux-x64/native"
resolves() { # path -> 0 when ldd finds every dependency and symbol version
  command -v ldd >/dev/null 2>&1 || return 0
  local out
  out=$(LD_LIBRARY_PATH=$native_dirs ldd "$1" 2>&1 || true)
  if grep -q 'not found' <<<"$out"; then grep 'not found' <<<"$out" | sed "s|^|  $(basename "$1"): |" >>"$tmp/ldd.txt"; return 1; fi
}
missing=()
# Each entry: alternatives separated by "|"; one of them must be present and resolve. librdkafka.so of the
# librdkafka.redist package links libsasl2.so.3 (RHEL's soname; Debian and Ubuntu ship libsasl2.so.2), and
# Confluent.Kafka then falls back to centos8-librdkafka.so, which links its dependencies statically.
for alts in libLibTorchSharp.so libtorch.so libtorch_cpu.so libc10.so libonnxruntime.so "librdkafka.so|centos8-librdkafka.so"; do
  ok=0 present=0
  IFS='|' read -r -a names <<<"$alts"
  for lib in "${names[@]}"; do
    path=$(find_native "$lib") || continue
    present=1
    if resolves "$path"; then ok=1; break; fi
  done
  if ((present == 0)); then missing+=("$alts"); continue; fi
  ((ok == 1)) || { cat "$tmp/ldd.txt" >&2 2>/dev/null; die "$alts: unresolved dependencies or symbol versions on this machine (for libLibTorchSharp.so and GLIBCXX see build/LibStdCxxCompat.targets)"; }
done
((${#missing[@]} == 0)) || die "native libraries missing from the publish output: ${missing[*]} (TorchSharp-cpu / ONNX Runtime / librdkafka packages)"
say "native libraries present and resolvable: libLibTorchSharp, libtorch, libc10, libonnxruntime, librdkafka"

# --- how to run it as non-root -----------------------------------------------------------------------------------------
dotnet_root=${DOTNET_ROOT:-}
if [[ -z $dotnet_root ]] && command -v dotnet >/dev/null 2>&1; then dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")"); fi
as_user=()
who="$(id -un) (uid $(id -u))"
if [[ $(id -u) -eq 0 ]]; then
  if command -v setpriv >/dev/null 2>&1; then
    as_user=(setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all --no-new-privs)
    who="uid $uid (setpriv)"
  elif command -v runuser >/dev/null 2>&1; then
    as_user=(runuser -u nobody --)
    who="nobody (runuser)"
    chown nobody "$tmp/state"
  else
    die "running as root and neither setpriv nor runuser is available to drop to a non-root user"
  fi
  if [[ -n $dotnet_root ]] && ! "${as_user[@]}" test -x "$dotnet_root/dotnet"; then
    die "the .NET runtime at $dotnet_root is not reachable by $who (e.g. installed under /root); install it system-wide (/usr/share/dotnet) or set DOTNET_ROOT to a readable one"
  fi
fi

# A private mount namespace with /app read-only, when this machine allows it (root with CAP_SYS_ADMIN).
ro_wrap=()
ro_note="app folder read-only by permissions"
if [[ $(id -u) -eq 0 ]] && command -v unshare >/dev/null 2>&1 \
   && unshare --mount sh -c "mount --bind '$app' '$app' && mount -o remount,bind,ro '$app'" 2>/dev/null; then
  ro_wrap=(unshare --mount sh -c 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && shift && exec "$@"' "$app" --)
  ro_note="app folder bind-mounted read-only"
fi

# --- run `reaseq --help` ------------------------------------------------------------------------------------------------
env_vars=(PATH=/usr/local/bin:/usr/bin:/bin HOME=/nonexistent TMPDIR="$tmp/tmp" LANG=C.UTF-8
          DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1)
[[ -n $dotnet_root ]] && env_vars+=(DOTNET_ROOT="$dotnet_root")
say "running $app/reaseq --help as $who, HOME=/nonexistent, TMPDIR=$tmp/tmp, cwd $tmp/state ($ro_note)"
set +e
(cd "$tmp/state" && timeout 120 "${ro_wrap[@]}" "${as_user[@]}" env -i "${env_vars[@]}" "$app/reaseq" --help) \
  >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
set -e
if [[ $rc -ne 0 ]]; then
  say "stdout:"; sed 's/^/  /' "$tmp/stdout" >&2
  say "stderr:"; sed 's/^/  /' "$tmp/stderr" >&2
  [[ $rc -eq 124 ]] && die "reaseq --help did not finish within 120 s"
  die "reaseq --help exited $rc"
fi
for want in "reaseq run" "--roles" "REASEQ__"; do
  grep -qF -- "$want" "$tmp/stdout" || { sed 's/^/  /' "$tmp/stdout" >&2; die "the usage text lacks \"$want\""; }
done
(cd "$app" && find . -type f -printf '%p %s %T@\n' | sort) > "$tmp/after.txt"
if ! diff -q "$tmp/before.txt" "$tmp/after.txt" >/dev/null; then
  diff "$tmp/before.txt" "$tmp/after.txt" >&2 || true
  die "reaseq wrote into its app folder (the image's /app is read-only)"
fi
say "--help: exit 0, usage printed, app folder untouched"

# --- native code really loads: the embedded broker (librdkafka's mock cluster, in-process) ---------------------------
say "starting reaseq broker --brokers 1 --partitions 1 the same way (librdkafka must load and serve)"
(cd "$tmp/state" && exec timeout -k 5 60 "${ro_wrap[@]}" "${as_user[@]}" env -i "${env_vars[@]}" "$app/reaseq" broker --brokers 1 --partitions 1) \
  >"$tmp/broker.out" 2>"$tmp/broker.err" &
broker_pid=$!
served=0
for _ in $(seq 1 120); do
  if grep -qE '^[0-9a-zA-Z.-]+:[0-9]+$' "$tmp/broker.out"; then served=1; break; fi
  kill -0 "$broker_pid" 2>/dev/null || break
  sleep 0.5
done
kill -TERM "$broker_pid" 2>/dev/null || true
wait "$broker_pid" 2>/dev/null || true
if ((served == 0)); then
  say "broker stdout:"; sed 's/^/  /' "$tmp/broker.out" >&2
  say "broker stderr:"; tail -20 "$tmp/broker.err" | sed 's/^/  /' >&2
  die "reaseq broker did not print its bootstrap address (librdkafka did not load or start)"
fi
say "broker: served at $(head -1 "$tmp/broker.out")"
(cd "$app" && find . -type f -printf '%p %s %T@\n' | sort) > "$tmp/after2.txt"
diff -q "$tmp/before.txt" "$tmp/after2.txt" >/dev/null || die "reaseq broker wrote into its app folder"
say "OK: --help (exit 0, usage) and the embedded broker work as a non-root user on a read-only /app"
