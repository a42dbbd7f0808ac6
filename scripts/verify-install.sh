#!/usr/bin/env bash
# Proves that the packages install and work outside the workspace, as a newcomer gets them:
#   build (tsc -b) → pnpm -r pack → check each tarball's manifest → in a new project outside the workspace
#   (`npm init -y`), the README's install lines as written (the tarballs in place of the @fleetguard/*
#   names) → nothing of @effect/platform-node's cluster, rpc, sql → the README's first example, run as
#   getting-started.md says (tsx; tsc with its tsconfig, then node) → the install lines of getting-started.md
#   and effect-ai.md → one copy of effect → plain `node` ESM smoke test → `@fleetguard/testing/contract`
#   resolves and loads up to its optional peers (vitest) → tsc against the published .d.ts
#   under NodeNext and Bundler (effect-ai's with the DOM lib) → `npx fleetguard --help` → the
#   `fake-anthropic` bin (start, one request, stop).
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

# A newcomer's project: `npm init -y`, then what the docs say, as written (follow.ts), the tarballs in
# place of the @fleetguard/* names.
follow() { (cd "$root" && node --import tsx scripts/verify-install/follow.ts "$@"); }
app="$work/app"
mkdir "$app"
(cd "$app" && npm init -y >/dev/null)

step "the README's install lines, as written, in $app"
t0=$SECONDS
follow README.md Install "$app" "$work/tarballs" || fail "the README's install lines"
echo "installed in $((SECONDS - t0))s: $(cd "$app" && npm ls --all --parseable 2>/dev/null | tail -n +2 | sort -u | wc -l) packages"
for heavy in @effect/platform-node @effect/cluster @effect/rpc @effect/sql @effect/workflow @parcel/watcher; do
  [[ ! -e "$app/node_modules/$heavy" ]] || fail "the README's install brings $heavy (npm ls: $(cd "$app" && npm ls "$heavy" --all 2>&1 | tr '\n' ' '))"
done
echo "none of @effect/platform-node, cluster, rpc, sql, workflow"

step "the README's first example, run as getting-started.md says (tsx, then tsc and node)"
follow --example README.md "A first example" "$app/example.ts"
follow docs/getting-started.md "Running an example" "$app" "$work/tarballs" 'spent $0.12 of $10' ||
  fail "the README's first example, run as getting-started.md says"

step "the other install lines of getting-started.md and effect-ai.md, as written"
t0=$SECONDS
follow docs/getting-started.md Install "$app" "$work/tarballs" || fail "getting-started.md's install lines"
follow docs/effect-ai.md Install "$app" "$work/tarballs" || fail "effect-ai.md's install lines"
echo "installed in $((SECONDS - t0))s: $(cd "$app" && npm ls --all --parseable 2>/dev/null | tail -n +2 | sort -u | wc -l) packages"
cp "$here"/smoke.mjs "$here"/contract.mjs "$here"/consumer*.ts "$here"/tsconfig.*.json "$app/"

step "one copy of effect"
copies=$(cd "$app" && find node_modules -type d -path '*node_modules/effect' | wc -l)
[[ "$copies" -eq 1 ]] || { (cd "$app" && npm ls effect --all) || true; fail "$copies copies of effect"; }
echo "node_modules holds one effect"

step "node smoke.mjs (plain ESM, no TypeScript)"
(cd "$app" && node smoke.mjs)

step "@fleetguard/testing/contract from the tarball (node contract.mjs)"
(cd "$app" && node contract.mjs) || fail "@fleetguard/testing/contract"

step "tsc against the published types"
for resolution in nodenext bundler; do
  (cd "$app" && ./node_modules/.bin/tsc -p "tsconfig.$resolution.json") || fail "consumer.ts under $resolution"
  echo "consumer.ts type-checks under moduleResolution $resolution"
  (cd "$app" && ./node_modules/.bin/tsc -p "tsconfig.effect-ai.$resolution.json") ||
    fail "consumer-effect-ai.ts under $resolution"
  echo "consumer-effect-ai.ts type-checks under moduleResolution $resolution (with the DOM lib @effect/ai's declarations need)"
done

step "npx fleetguard --help"
help=$(cd "$app" && npx --no -- fleetguard --help) || fail "fleetguard --help exited $?"
echo "$help"
[[ "${help,,}" == *usage* ]] || fail "fleetguard --help printed no usage"
status=0
(cd "$app" && npx --no -- fleetguard no-such-command) >/dev/null 2>&1 || status=$?
[[ "$status" -eq 2 ]] || fail "fleetguard no-such-command exited $status, not 2"

step "fake-anthropic, the bin of @fleetguard/testing: start it, one request, stop it"
log="$work/fake-anthropic.log"
(cd "$app" && exec ./node_modules/.bin/fake-anthropic --port 0) >"$log" 2>&1 &
fake=$!
for _ in $(seq 300); do grep -q 'Ctrl-C' "$log" && break; sleep 0.1; done
url=$(sed -n 's/^FakeAnthropic listening on //p' "$log")
key=$(sed -n 's/^API key: //p' "$log")
[[ -n "$url" && -n "$key" ]] || { kill "$fake" 2>/dev/null; cat "$log" >&2; fail "fake-anthropic printed no URL and key"; }
answer=$(URL="$url" KEY="$key" node -e '
  fetch(`${process.env.URL}/v1/messages`, {
    method: "POST",
    headers: { "x-api-key": process.env.KEY, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] })
  }).then(async (r) => console.log(r.status, (await r.json()).type), (e) => { console.error(e); process.exit(1) })') ||
  { kill "$fake"; fail "no answer from fake-anthropic"; }
kill -INT "$fake"
# Bounded: a server that ignores SIGINT is killed after 10 s and fails the check.
for _ in $(seq 100); do kill -0 "$fake" 2>/dev/null || break; sleep 0.1; done
kill -0 "$fake" 2>/dev/null && { kill -KILL "$fake"; fail "fake-anthropic did not stop within 10 s of SIGINT"; }
status=0
wait "$fake" || status=$?
echo "fake-anthropic on $url answered: $answer; stopped by SIGINT with status $status"
[[ "$answer" == "200 message" ]] || fail "fake-anthropic answered $answer"
[[ "$status" -eq 0 ]] || { cat "$log" >&2; fail "fake-anthropic exited $status on SIGINT"; }

step "ok: every package installs and runs from its tarball"
echo "verify-install took $((SECONDS - started))s"
