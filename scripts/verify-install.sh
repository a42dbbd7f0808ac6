#!/usr/bin/env bash
# Proves that the packages install and work outside the workspace, as a user gets them:
#   build (tsc -b) → pnpm -r pack → check each tarball's manifest → npm install the tarballs into a
#   temporary project outside the workspace → one copy of effect → plain `node` ESM smoke test →
#   tsc against the published .d.ts under NodeNext and Bundler (effect-ai's with the DOM lib) → `npx fleetguard --help`.
# Any failure stops it with a non-zero exit. KEEP=1 keeps the temporary folder to look at.
set -euo pipefail

# Run as a user would, without the npm_* variables that `pnpm run` exports (npm would read them as its
# own configuration, and warn about those it does not know).
if env | grep -q '^npm_'; then
  # shellcheck disable=SC2046 # the names hold no spaces
  exec env $(env | grep -o '^npm_[^=]*' | sed 's/^/-u /') bash "$0" "$@"
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
here="$root/scripts/verify-install"
pnpm=(npx -y pnpm@10.34.9)
work="$(mktemp -d "${TMPDIR:-/tmp}/fleetguard-verify-install.XXXXXX")"
if [[ "${KEEP:-}" == 1 ]]; then trap 'echo "kept $work"' EXIT; else trap 'rm -rf "$work"' EXIT; fi
case "$work/" in "$root/"*) echo "verify-install: $work is inside the workspace" >&2; exit 1 ;; esac

started=$SECONDS
step() { printf '\n== verify-install: %s (%ss)\n' "$*" "$((SECONDS - started))"; }
fail() { echo "verify-install: FAILED: $*" >&2; exit 1; }
version() { node -p "require('$root/${2:-.}/package.json').devDependencies['$1']"; }

step "build"
t0=$SECONDS
(cd "$root" && "${pnpm[@]}" build)
echo "built in $((SECONDS - t0))s"

step "pack every package"
(cd "$root" && "${pnpm[@]}" -r pack --pack-destination "$work/tarballs") >"$work/pack.log" 2>&1 ||
  { cat "$work/pack.log" >&2; fail "pnpm -r pack"; }
expected=$(cd "$root" && node -e '
  const fs = require("node:fs")
  const dirs = fs.readdirSync("packages").filter((d) => fs.existsSync(`packages/${d}/package.json`))
  console.log(dirs.filter((d) => !JSON.parse(fs.readFileSync(`packages/${d}/package.json`, "utf8")).private).length)')
packed=$(find "$work/tarballs" -name '*.tgz' | wc -l)
[[ "$packed" -eq "$expected" ]] || fail "packed $packed tarballs for $expected packages"
for tarball in "$work"/tarballs/*.tgz; do
  printf '%-36s %7s bytes packed, %8s bytes unpacked\n' "$(basename "$tarball")" "$(wc -c <"$tarball")" \
    "$(tar -xOzf "$tarball" | wc -c)"
done
node "$here/check-tarballs.mjs" "$work/tarballs"

step "npm install the tarballs into $work/app"
mkdir "$work/app"
cp "$here"/smoke.mjs "$here"/consumer*.ts "$here"/tsconfig.*.json "$work/app/"
cat >"$work/app/package.json" <<'JSON'
{ "name": "fleetguard-install-check", "private": true, "type": "module" }
JSON
t0=$SECONDS
(cd "$work/app" && npm install --no-audit --no-fund --loglevel=error "$work"/tarballs/*.tgz \
  "effect@$(version effect)" "@effect/platform@$(version @effect/platform)" \
  "@effect/ai@$(version @effect/ai packages/effect-ai)" \
  "typescript@$(version typescript)" "@types/node@$(version @types/node)")
echo "installed in $((SECONDS - t0))s"

step "one copy of effect"
copies=$(cd "$work/app" && find node_modules -type d -path '*node_modules/effect' | wc -l)
[[ "$copies" -eq 1 ]] || { (cd "$work/app" && npm ls effect --all) || true; fail "$copies copies of effect"; }
echo "node_modules holds one effect"

step "node smoke.mjs (plain ESM, no TypeScript)"
(cd "$work/app" && node smoke.mjs)

step "tsc against the published types"
for resolution in nodenext bundler; do
  (cd "$work/app" && ./node_modules/.bin/tsc -p "tsconfig.$resolution.json") || fail "consumer.ts under $resolution"
  echo "consumer.ts type-checks under moduleResolution $resolution"
  (cd "$work/app" && ./node_modules/.bin/tsc -p "tsconfig.effect-ai.$resolution.json") ||
    fail "consumer-effect-ai.ts under $resolution"
  echo "consumer-effect-ai.ts type-checks under moduleResolution $resolution (with the DOM lib @effect/ai's declarations need)"
done

step "npx fleetguard --help"
help=$(cd "$work/app" && npx --no -- fleetguard --help) || fail "fleetguard --help exited $?"
echo "$help"
[[ "${help,,}" == *usage* ]] || fail "fleetguard --help printed no usage"
status=0
(cd "$work/app" && npx --no -- fleetguard no-such-command) >/dev/null 2>&1 || status=$?
[[ "$status" -eq 2 ]] || fail "fleetguard no-such-command exited $status, not 2"

step "ok: every package installs and runs from its tarball"
echo "verify-install took $((SECONDS - started))s"
