#!/usr/bin/env bash
# `npm run build`: compiles into a fresh folder beside dist/ (dist.build-<time>-<pid>) and
# then points the symlink dist at it with one rename(2). Whatever runs from this checkout
# meanwhile (a `kfn dev` started by `npm start`, its replicas, the CLI) sees the old build
# or the new one, whole, never dist/ missing or half written. A failed build changes nothing.
#
# Builds are not removed while they may be used: a kfn dev claims the build it runs from
# (a file named by its pid in <build>/.kfn-dev/, pkg/dev/build-claim.ts) and its replicas
# run that build's runtime; the build dist pointed at until now is kept as well, for
# anything that resolved it just before the swap. Every other build is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
out="dist.build-$(date -u +%Y%m%dT%H%M%S)-$$"
next="dist.next-$$"
cleanup_failed() { rm -rf "$out" "$next"; }
trap cleanup_failed ERR INT TERM
node node_modules/typescript/bin/tsc -p tsconfig.json --outDir "$out"

previous=
if [ -L dist ]; then
  previous=$(readlink dist)
elif [ -e dist ]; then
  # A dist/ folder from an older build script: moved aside once (the only moment dist is
  # missing, for as long as one rename takes) and kept as the previous build.
  previous="dist.build-legacy-$$"
  mv dist "$previous"
fi
ln -s "$out" "$next"
# rename(2) replaces the old symlink atomically (mv -T would too, but not on macOS).
node -e 'require("node:fs").renameSync(process.argv[1], "dist")' "$next"
trap - ERR INT TERM

alive() { kill -0 "$1" 2>/dev/null; }
for d in dist.build-* dist.next-*; do
  [ -e "$d" ] || [ -L "$d" ] || continue
  case "$d" in "$out" | "$previous") continue ;; esac
  if [ -L "$d" ]; then rm -f "$d"; continue; fi
  # Another build still writing this one (its pid ends the name).
  builder=${d##*-}
  if [[ "$builder" =~ ^[0-9]+$ ]] && alive "$builder"; then continue; fi
  used=
  for claim in "$d"/.kfn-dev/*; do
    [ -e "$claim" ] || continue
    if alive "${claim##*/}"; then used=1; break; fi
  done
  [ -n "$used" ] || rm -rf "$d"
done
