#!/usr/bin/env bash
# Keeps the Dockerfile true without a container engine: its build stage uses the same
# install script as CI, its runtime stage installs a Debian package for every shared
# library the built binary needs (beyond the base image's required packages), and it
# runs as non-root with the ports and health check ringwatch actually uses.
# Usage: dockerfile_test.sh <source dir> <ringwatch binary>
set -euo pipefail
src=$1
bin=$2
dockerfile="$src/Dockerfile"
fail=0
check() { if ! eval "$1"; then echo "FAIL: $2"; fail=1; fi; }

build_stage=$(awk '/^FROM .* AS build/{f=1;next} /^FROM /{f=0} f' "$dockerfile")
runtime_stage=$(awk '/^FROM /{n++} n==2' "$dockerfile")

check 'grep -q "scripts/install-deps.sh" <<<"$build_stage"' "build stage does not run scripts/install-deps.sh"
check 'grep -q "^FROM debian:bookworm AS build" "$dockerfile"' "build stage is not debian:bookworm"
check 'grep -q -- "--target ringwatch" <<<"$build_stage"' "build stage does not build the ringwatch target"
check 'grep -qE "^FROM debian:bookworm(-slim)?$" <<<"$runtime_stage"' "runtime stage is not debian:bookworm(-slim)"
check 'grep -qE "^USER [a-z]" <<<"$runtime_stage" && ! grep -qE "^USER (root|0)$" <<<"$runtime_stage"' "runtime stage runs as root"
check 'grep -qE "^EXPOSE .*7946/tcp" <<<"$runtime_stage" && grep -qE "^EXPOSE .*7946/udp" <<<"$runtime_stage"' \
  "gossip port 7946 (tcp and udp) not exposed"
http_port=$("$bin" -help | grep -A1 -- '-web.listen-address' | grep -o 'default :[0-9]*' | grep -o '[0-9]*' || true)
check '[ -n "$http_port" ] && grep -qE "^EXPOSE .*${http_port}/tcp" <<<"$runtime_stage"' "HTTP port ${http_port:-?} not exposed"
check 'grep -qE "^HEALTHCHECK .*127.0.0.1:${http_port}/-/healthy" <<<"$runtime_stage"' "no HEALTHCHECK on /-/healthy"
check '! grep -qE "(-dev|build-essential|cmake|golang)" <<<"$runtime_stage"' "runtime stage installs build packages"

# Every shared library of the binary comes from a package the runtime stage installs,
# unless the base image has it: required or essential packages, and the C and C++
# runtimes and zlib that debian:bookworm-slim carries for dpkg and apt.
base_image_packages="libc6 libgcc-s1 libstdc++6 zlib1g"
runtime_packages=$(sed -n '/apt-get install/,/rm -rf/p' <<<"$runtime_stage" | tr ' \\' '\n\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' || true)
while read -r lib; do
  real=$(readlink -f "$lib")
  pkg=$(dpkg -S "$real" 2>/dev/null || dpkg -S "/usr$real" 2>/dev/null || dpkg -S "${real#/usr}" 2>/dev/null || true)
  pkg=${pkg%%:*}
  if [ -z "$pkg" ]; then echo "FAIL: no Debian package owns $lib"; fail=1; continue; fi
  priority=$(dpkg-query -W -f='${Priority}/${Essential}' "$pkg")
  case "$priority" in required/*|*/yes) continue ;; esac
  case " $base_image_packages " in *" $pkg "*) continue ;; esac
  check 'grep -qx "$pkg" <<<"$runtime_packages"' "runtime stage lacks $pkg (for $(basename "$lib"))"
done < <(ldd "$bin" | awk '/=>/{print $3}')

if [ "$fail" = 0 ]; then echo "Dockerfile consistent with scripts/install-deps.sh and $(basename "$bin")"; fi
exit "$fail"
