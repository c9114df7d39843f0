#!/usr/bin/env bash
# Downstream check for native-ws: runs real projects' own test suites with ws
# (baseline) and with native-ws as their ws engine, and prints pass/fail counts.
#
#   ./run.sh <path-to-native-ws-checkout> [project ...]
#
# projects: engine.io engine.io-eio3 socket.io graphql-ws fastify-websocket rpc-websockets undici (default: all)
# modes per project:
#   ws      the suite as released, on the ws version its lockfile/CI used
#   engine  server side only: every require("ws") made by the server package
#           (engine.io's build/server.js, @fastify/websocket's index.js) resolves
#           to native-ws — i.e. `wsEngine: require("native-ws").Server`; the tests'
#           own clients stay on ws.  (Not available for graphql-ws: its test
#           fixtures import WebSocketServer from "ws" themselves.)
#   alias   node_modules/ws (every copy in the tree) replaced by a symlink to the
#           native-ws checkout — what `"overrides": {"ws": "file:…"}` does: servers,
#           clients, socket.io-adapter's Sender.frame, jsdom … all get native-ws.
#   ws-8.23 (only with MODES="ws-8.23 …") the same swap, to ws 8.23.1: the ws that
#           native-ws targets, to tell ws-version effects from native-ws ones.
#
# Sources come from the stored GitHub snapshots (the `fetch` tool puts them under
# /work/.mirror); dev dependencies from npm.  Set-up is done once per project dir.
# Results: results/<project>-<mode>.{log,json} and results/summary.txt.
set -u
HERE="$(cd "$(dirname "$0")" && pwd)"
NWS="$(cd "${1:?usage: run.sh <native-ws checkout> [project ...]}" && pwd)"
shift
PROJECTS=("$@")
[ ${#PROJECTS[@]} -eq 0 ] && PROJECTS=(engine.io engine.io-eio3 socket.io graphql-ws fastify-websocket rpc-websockets undici)
MODES_SET=${MODES:-}
MODES=(${MODES:-ws engine alias})
[ -f "$NWS/native-ws.node" ] || { echo "no native-ws.node in $NWS: run npm install there first" >&2; exit 2; }
MIRROR=${MIRROR:-/work/.mirror}
RES="$HERE/results"; mkdir -p "$RES"
PRELOAD="$HERE/harness/ws-engine-preload.js"
SUMMARY="$RES/summary$( [ -n "${MODES_SET:-}" ] && echo "-${MODES_SET// /_}").txt"
NPMI="npm install --no-audit --no-fund --loglevel=error"

# --- set-up -------------------------------------------------------------------
# git archive stops at blobs missing from a snapshot, so files are copied one by one.
extract() { # <git dir> <tag> <subdir or .> <dest>
  local gd=$1 tag=$2 sub=$3 dest=$4
  mkdir -p "$dest"
  git --git-dir="$gd" ls-tree -r "$tag" ${sub:+"$sub"} | while read -r _ _ sha path; do
    local rel=${path#"$sub"/}; [ "$sub" = . ] && rel=$path
    mkdir -p "$dest/$(dirname "$rel")"
    git --git-dir="$gd" cat-file blob "$sha" > "$dest/$rel" 2>/dev/null || { rm -f "$dest/$rel"; echo "  (missing from snapshot: $rel)"; }
  done
}
setdev() { # <dir> <node expression applied to package.json object p>
  (cd "$1" && [ -f package.json.orig ] || cp package.json package.json.orig
   node -e "const fs=require('fs');const p=JSON.parse(fs.readFileSync('package.json.orig'));$2;fs.writeFileSync('package.json',JSON.stringify(p,null,2))" )
}

setup_engine_io() {
  local d="$HERE/engine.io"; [ -d "$d/build" ] && return
  echo "setting up engine.io@6.6.9"
  extract "$MIRROR/socketio+socket.io/repo" engine.io@6.6.9 packages/engine.io "$d"
  # dev dependencies of the socket.io monorepo that the engine.io tests use; ws as the monorepo pins it (8.21)
  setdev "$d" 'p.devDependencies={"mocha":"^10.6.0","expect.js":"^0.3.1","superagent":"^9.0.2","helmet":"^7.1.0","express-session":"^1.18.0","engine.io-client":"6.6.5","engine.io-client-v3":"npm:engine.io-client@^3.5.2","typescript":"^5.5.3"};p.overrides={"ws":"$ws"}'
  (cd "$d" && $NPMI && npx tsc >/dev/null; ls build/server.js >/dev/null)  # tsc complains about uWebSockets.js typings but emits
}
setup_socket_io() {
  local d="$HERE/socket.io"; [ -d "$d/dist" ] && return
  echo "setting up socket.io@4.8.3"
  extract "$MIRROR/socketio+socket.io/repo" socket.io@4.8.3 packages/socket.io "$d"
  setdev "$d" 'p.devDependencies={"mocha":"^10.6.0","tsx":"~4.20.6","expect.js":"^0.3.1","supertest":"^7.0.0","superagent":"^9.0.2","socket.io-client":"4.8.3","socket.io-client-v2":"npm:socket.io-client@^2.5.0","typescript":"^5.5.3","@types/node":"18.15.3","@types/mocha":"^10.0.7","@types/expect.js":"^0.3.32","ws":"~8.21.0"};p.overrides={"ws":"$ws"}'
  # two binary fixtures are missing from the snapshot: deterministic stand-ins of the same kind and size class
  (cd "$d" && node -e '
    const fs=require("fs"),c=require("crypto");
    if(!fs.existsSync("test/fixtures/big.json")){const a=[];for(let i=0;i<8000;i++)a.push({id:i,name:"item "+i,tags:["a"+i%7,"b"+i%13],nested:{x:i*1.5,y:"y".repeat(i%40),ok:i%2===0}});fs.writeFileSync("test/fixtures/big.json",JSON.stringify(a));}
    if(!fs.existsSync("test/fixtures/big.jpg")){const o=[];let s=Buffer.from("big.jpg");for(let n=0;n<65536;n++){s=c.createHash("sha256").update(s).digest();o.push(s);}fs.writeFileSync("test/fixtures/big.jpg",Buffer.concat(o));}')
  (cd "$d" && $NPMI && npx tsc >/dev/null; ls dist/index.js >/dev/null)
}
setup_graphql_ws() {
  local d="$HERE/graphql-ws"; [ -d "$d/node_modules/vitest" ] && return
  echo "setting up graphql-ws@6.2.0"
  extract "$MIRROR/enisdenjo+graphql-ws/repo" v6.2.0 . "$d"
  rm -f "$d/yarn.lock" "$d/.yarnrc.yml"
  # versions as in the release's yarn.lock; uWebSockets.js is GitHub-only (not installable here)
  setdev "$d" 'p.devDependencies={"vitest":"2.1.8","fastify":"5.2.1","@fastify/websocket":"11.0.2","crossws":"0.3.5","graphql":"16.10.0","jsdom":"26.0.0","ws":"8.18.0","@types/ws":"^8.5.13","@tsconfig/strictest":"^2.0.5","typescript":"^5.7.3"};delete p.packageManager;p.overrides={"ws":"$ws"}'
  (cd "$d" && $NPMI)
  # stand-in so tests/utils/tservers.ts can be imported; the uWS and crossws(uws) groups are filtered out
  mkdir -p "$d/node_modules/uWebSockets.js"
  echo '{"name":"uWebSockets.js","version":"0.0.0-stub","main":"index.js"}' > "$d/node_modules/uWebSockets.js/package.json"
  echo 'const u=()=>{throw new Error("uWebSockets.js is not installable here")};module.exports={App:u,SSLApp:u,us_listen_socket_close:u,DISABLED:0,SHARED_COMPRESSOR:1};' > "$d/node_modules/uWebSockets.js/index.js"
}
setup_rpc_websockets() {
  local d="$HERE/rpc-websockets"; [ -d "$d/node_modules/mocha" ] && return
  echo "setting up rpc-websockets@7.9.0 (the newest tag in the snapshot; dist/ is committed)"
  extract "$MIRROR/elpheria+rpc-websockets/repo" v7.9.0 . "$d"
  rm -f "$d/package-lock.json"
  # ws as in the release's package-lock (8.7.0); tests run on the committed dist/ (no babel/tsc build)
  setdev "$d" 'p.devDependencies={"mocha":"^10.0.0","chai":"^4.3.6","async":"^3.2.3"};delete p.optionalDependencies;delete p.scripts.pretest;p.dependencies.ws="8.7.0";p.overrides={"ws":"$ws"}'
  (cd "$d" && $NPMI)
}
setup_undici() {
  local d="$HERE/undici"; [ -d "$d/node_modules/ws" ] && return
  echo "setting up undici@7.29.0 (newest v7 tag in the snapshot; v8 needs Node >= 22.19): its WebSocket client tests, whose peer is a ws server"
  mkdir -p "$d" && git --git-dir="$MIRROR/nodejs+undici/repo" archive v7.29.0 index.js index-fetch.js index.d.ts lib types package.json test/websocket test/utils | tar x -C "$d"
  # ws 8.21.1: the newest ws when v7.29.0 was tagged (undici keeps no lockfile)
  setdev "$d" 'p.devDependencies={"ws":"8.21.1","@metcoder95/https-pem":"^1.0.0","@matteo.collina/tspl":"^0.2.0"};delete p.scripts;p.overrides={"ws":"$ws"}'
  (cd "$d" && $NPMI)
}
setup_ws_latest() {
  [ -d "$HERE/ws-8.23/node_modules/ws" ] && return
  mkdir -p "$HERE/ws-8.23" && (cd "$HERE/ws-8.23" && echo "{\"private\":true}" > package.json && $NPMI ws@8.23.1 >/dev/null)
}
setup_fastify_websocket() {
  local d="$HERE/fastify-websocket"; [ -d "$d/node_modules/fastify" ] && return
  echo "setting up @fastify/websocket@11.3.0"
  extract "$MIRROR/fastify+fastify-websocket/repo" v11.3.0 . "$d"
  # ws pinned to 8.21.0, the ws of the release's CI (July 2026); see WS_LATEST below for ws 8.23
  setdev "$d" 'p.devDependencies={"fastify":"^5.0.0","split2":"^4.2.0","@fastify/type-provider-typebox":"^6.1.0","typebox":"^1.1.33"};p.dependencies.ws=process.env.FWS_WS||"8.21.0";p.overrides={"ws":"$ws"}'
  (cd "$d" && $NPMI)
}

# --- running -------------------------------------------------------------------
WS_DIRS=()
alias_on() { # replace every node_modules/**/ws package by a symlink to native-ws (or to $2)
  local target=${2:-$NWS}
  mapfile -t WS_DIRS < <(find "$1/node_modules" -type d -name ws -path '*/node_modules/ws' -prune 2>/dev/null)
  for w in "${WS_DIRS[@]}"; do mv "$w" "$w.real-ws" && ln -s "$target" "$w"; done
}
alias_off() {
  for w in "${WS_DIRS[@]}"; do [ -L "$w" ] && rm "$w" && mv "$w.real-ws" "$w"; done
  WS_DIRS=()
}
trap 'alias_off' EXIT INT TERM

mocha_counts() { node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));const s=r.stats;console.log(`pass=${s.passes} fail=${s.failures} pending=${s.pending} total=${s.tests}`);for(const f of r.failures)console.log(`  FAIL ${f.fullTitle} :: ${(f.err.message||"").split("\n")[0].slice(0,200)}`)' "$1" 2>/dev/null || echo "no result (see log)"; }
vitest_counts() { node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(`pass=${r.numPassedTests} fail=${r.numFailedTests} pending=${r.numPendingTests+r.numTodoTests} total=${r.numTotalTests}`);for(const f of r.testResults){if(f.status==="failed"&&!f.assertionResults.some(a=>a.status==="failed"))console.log(`  FILE FAILED ${f.name} :: ${(f.message||"").split("\n")[0]}`);for(const a of f.assertionResults)if(a.status==="failed")console.log(`  FAIL ${a.fullName} :: ${(a.failureMessages[0]||"").split("\n")[0].slice(0,200)}`)}' "$1" 2>/dev/null || echo "no result (see log)"; }
nodetest_counts() { local l=$1; local g; g() { grep -E "^ℹ $1 " "$l" | awk '{print $3}'; }
  echo "pass=$(g pass) fail=$(g fail) cancelled=$(g cancelled) skipped=$(g skipped) total=$(g tests)"
  sed -n '/^✖ failing tests:/,$p' "$l" | grep -E '^✖ ' | grep -v 'failing tests' | sed 's/^✖ /  FAIL /' | sort -u; }

proj_dir() { case $1 in engine.io*) echo engine.io ;; *) echo "$1" ;; esac; }
run_one() { # <project> <mode>
  local p=$1 m=$2 out="$RES/$1-$2" pre=() env=()
  [ "$m" = engine ] && pre=(-r "$PRELOAD")
  if [ "$m" = ws-8.23 ]; then setup_ws_latest; alias_on "$HERE/$(proj_dir "$p")" "$HERE/ws-8.23/node_modules/ws"; fi
  case $p in
    engine.io|engine.io-eio3)
      local d="$HERE/engine.io"
      [ $p = engine.io-eio3 ] && env+=(EIO_CLIENT=3)
      [ "$m" = engine ] && env+=(NATIVE_WS_SCOPE=/engine.io/build/)
      [ "$m" = alias ] && alias_on "$d"
      # the package's test:default / test:compat-v3 without --bail; test/webtransport.mjs needs a native
      # HTTP/3 module fetched from GitHub and does not involve ws, so only the test/*.js files run
      (cd "$d" && env "${env[@]}" NATIVE_WS_PATH="$NWS" npx mocha "${pre[@]}" --exit --reporter json --reporter-option output="$out.json" test/*.js) > "$out.log" 2>&1
      alias_off; mocha_counts "$out.json" ;;
    socket.io)
      local d="$HERE/socket.io"
      [ "$m" = engine ] && env+=(NATIVE_WS_SCOPE=/node_modules/engine.io/build/)
      [ "$m" = alias ] && alias_on "$d"
      # test/index.ts's list minus ./uws (uWebSockets.js is GitHub-only); the package's test:unit without --bail/nyc
      (cd "$d" && env "${env[@]}" NATIVE_WS_PATH="$NWS" npx mocha "${pre[@]}" --import=tsx --exit --timeout 10000 --reporter json --reporter-option output="$out.json" \
        test/server-attachment.ts test/handshake.ts test/close.ts test/namespaces.ts test/socket.ts test/messaging-many.ts test/middleware.ts \
        test/socket-middleware.ts test/v2-compatibility.ts test/socket-timeout.ts test/utility-methods.ts test/connection-state-recovery.ts) > "$out.log" 2>&1
      alias_off; mocha_counts "$out.json" ;;
    graphql-ws)
      local d="$HERE/graphql-ws"
      [ "$m" = engine ] && { echo "n/a (tests import ws's server themselves)"; return; }
      [ "$m" = alias ] && alias_on "$d"
      (cd "$d" && npx vitest run --no-file-parallelism -t '^(?!uWebSockets\.js |crossws )' --reporter=json --outputFile="$out.json") > "$out.log" 2>&1
      alias_off; vitest_counts "$out.json" ;;
    fastify-websocket)
      local d="$HERE/fastify-websocket"
      [ "$m" = engine ] && env+=(NATIVE_WS_SCOPE=/fastify-websocket/index.js)
      [ "$m" = alias ] && alias_on "$d"
      # the package's test:unit (`c8 --100 node --test`) without the coverage gate
      (cd "$d" && env "${env[@]}" NATIVE_WS_PATH="$NWS" node "${pre[@]}" --test --test-concurrency=1 --test-reporter=spec test/) > "$out.log" 2>&1
      alias_off; nodetest_counts "$out.log" ;;
    rpc-websockets)
      local d="$HERE/rpc-websockets"
      [ "$m" = engine ] && env+=(NATIVE_WS_SCOPE=/rpc-websockets/dist/lib/server.js)
      [ "$m" = alias ] && alias_on "$d"
      (cd "$d" && env "${env[@]}" NATIVE_WS_PATH="$NWS" npx mocha "${pre[@]}" --exit --reporter json --reporter-option output="$out.json" test/client.spec.js test/server.spec.js) > "$out.log" 2>&1
      alias_off; mocha_counts "$out.json" ;;
    undici)
      local d="$HERE/undici"
      [ "$m" = engine ] && { echo "n/a (ws is only the tests' server peer: see alias)"; return; }
      [ "$m" = alias ] && alias_on "$d"
      # the package's test:websocket (borp over test/websocket/**/*.js), one file at a time
      (cd "$d" && shopt -s globstar && node --test --test-concurrency=1 --test-reporter=spec test/websocket/**/*.js) > "$out.log" 2>&1
      alias_off; nodetest_counts "$out.log" ;;
  esac
}

echo "native-ws: $NWS ($(git -C "$NWS" log --oneline -1 2>/dev/null))" | tee "$SUMMARY"
for p in "${PROJECTS[@]}"; do
  case $p in
    engine.io|engine.io-eio3) setup_engine_io ;; socket.io) setup_socket_io ;;
    graphql-ws) setup_graphql_ws ;; fastify-websocket) setup_fastify_websocket ;; rpc-websockets) setup_rpc_websockets ;; undici) setup_undici ;;
    *) echo "unknown project $p" >&2; continue ;;
  esac
  for m in "${MODES[@]}"; do
    printf '%-18s %-6s ' "$p" "$m" | tee -a "$SUMMARY"
    run_one "$p" "$m" 2>&1 | tee -a "$SUMMARY"
  done
done
