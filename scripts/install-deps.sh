#!/usr/bin/env bash
# Installs, by name from Debian's archive, every package that ringwatch's build, tests,
# Go test peers and end-to-end tests need. Idempotent: packages already present are skipped.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config
  prometheus-cpp-dev libcivetweb-dev libasio-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  libprotobuf-dev protobuf-compiler libsnappy-dev zlib1g-dev libssl-dev libcrypt-dev
  nlohmann-json3-dev
  # tests and benchmarks
  libpcap-dev libgtest-dev libgmock-dev libbenchmark-dev curl openssl iproute2 procps
  # Go test peers (GOPATH mode, Debian's Go packages only)
  golang-go golang-github-hashicorp-memberlist-dev golang-github-golang-snappy-dev
  golang-github-gogo-protobuf-dev
  # fuzzing (scripts/fuzz.sh): clang, libFuzzer and the sanitizer runtimes, llvm-symbolizer
  clang libclang-rt-14-dev llvm
  # rules and end-to-end tests
  prometheus jsonnet
  # status page rendering test (headless)
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
