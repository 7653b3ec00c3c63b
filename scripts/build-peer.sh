#!/usr/bin/env bash
# Builds the Go test peer tests/peer -> <outdir>/ringwatch-peer, offline, in GOPATH mode,
# from Debian's Go packages only (/usr/share/gocode). Idempotent: does nothing when the
# binary is newer than every source file; otherwise go's build cache keeps rebuilds fast.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ] || { [ $# -eq 2 ] && [ "$2" != "--test" ]; }; then
  echo "usage: $0 <outdir> [--test]   (--test also runs the peer's Go unit tests)" >&2
  exit 2
fi
run_tests=$([ "${2:-}" = "--test" ] && echo 1 || echo 0)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$here/tests/peer"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
bin="$out/ringwatch-peer"

if [ "$run_tests" = 0 ] && [ -x "$bin" ] && [ -z "$(find "$src" "${BASH_SOURCE[0]}" -newer "$bin" -print -quit)" ]; then
  exit 0
fi

command -v go >/dev/null || { echo "build-peer: go not found (scripts/install-deps.sh installs golang-go)" >&2; exit 1; }
[ -d /usr/share/gocode/src/github.com/hashicorp/memberlist ] || {
  echo "build-peer: memberlist sources missing (golang-github-hashicorp-memberlist-dev)" >&2; exit 1; }

# Private GOPATH entry first so nothing is ever written under /usr/share/gocode.
export GOPATH="$out/.gopath:/usr/share/gocode"
export GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local CGO_ENABLED=0
export GOCACHE="${GOCACHE:-$out/.gocache}"
mkdir -p "$out/.gopath"

cd "$src"
if [ "$run_tests" = 1 ]; then
  go vet .
  go test -count=1 .
fi
go build -o "$bin.tmp" .
mv -f "$bin.tmp" "$bin"
echo "build-peer: built $bin"
