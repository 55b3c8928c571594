#!/usr/bin/env bash
# Builds the project and runs its unit suite under Node 24 LTS, the documented target, on a
# machine whose own Node is older. The npm registry's node-<platform>-<arch>@24 package (what
# `npm install node@24` picks) carries the Node binary; it is installed under .stockmesh/node24
# (not into the project's node_modules) and reused.
#
#   bash infra/node24/run.sh            build + unit suite
#   bash infra/node24/run.sh node -v    any command with Node 24 first on PATH
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

prefix=".stockmesh/node24"
bin="$prefix/node_modules/.bin"
if [[ ! -x "$bin/node" ]] || [[ "$("$bin/node" --version)" != v24.* ]]; then
  # The registry's `node` package only picks this platform's build in a preinstall script that
  # runs a nested npm install (which has been seen to hang on a stalled download, with no
  # timeout); the build itself is the package node-<platform>-<arch> (no install scripts), so
  # that is what is installed, with fetch timeouts and retries, and the whole step bounded.
  platform_package="node-$(node -p 'process.platform')-$(node -p 'process.arch')@24"
  echo "node24: installing the npm registry's $platform_package under $prefix"
  rm -rf "$prefix"
  mkdir -p "$prefix"
  printf '%s\n' '{ "private": true }' >"$prefix/package.json"
  installed=""
  for attempt in 1 2 3; do
    if timeout 300 npm install --prefix "$prefix" --no-save --no-audit --no-fund --no-package-lock \
      --fetch-timeout=60000 --fetch-retries=3 "$platform_package" >/dev/null; then
      installed=yes
      break
    fi
    echo "node24: npm install $platform_package failed or timed out (attempt $attempt of 3)" >&2
  done
  [[ -n "$installed" ]] || { echo "node24: ERROR: could not install $platform_package from the npm registry" >&2; exit 1; }
fi
export PATH="$PWD/$bin:$PATH"
echo "node24: using $(command -v node) $(node --version)"

if [[ $# -gt 0 ]]; then
  exec "$@"
fi
echo "node24: npm run -s build"
npm run -s build
echo "node24: npm run -s test:unit"
npm run -s test:unit
