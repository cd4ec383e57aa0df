#!/bin/bash
# Transcript: pull, interrupted pull + resume, offline use, against the local hub server.
# Run from anywhere: bash scripts/models-transcript.sh (needs dist/: npx tsc -p .). Uses port 18080.
cd "$(dirname "$0")/.."
T=$(mktemp -d /tmp/zs-tx-XXXX); export ZS_HOME=$T/home
zs() { echo "\$ zs $*"; node dist/cli/bin.js "$@"; echo "[exit $?]"; }
node --import tsx test/helpers/hub-server.ts --port 18080 --log 2>$T/hub1.log >$T/url1 &
S1=$!; sleep 2
export HF_ENDPOINT=$(cat $T/url1)
echo "# HF_ENDPOINT=$HF_ENDPOINT (test/helpers/hub-server.ts), ZS_HOME=$ZS_HOME"
zs models pull zs-test/tiny-random-clip --dtype q8
zs models list
kill $S1; wait $S1 2>/dev/null
echo "# server restarted with --cut-after 500000 --throttle 1000000: it cuts the first big download after 500 kB, and serves 1 MB/s"
node --import tsx test/helpers/hub-server.ts --port 18080 --log --cut-after 500000 --throttle 1000000 2>$T/hub2.log >$T/url2 &
S2=$!; sleep 2
echo "\$ zs models pull zs-test/tiny-random-clip --dtype fp32   # interrupted with Ctrl-C (SIGINT) after 3 s"
node dist/cli/bin.js models pull zs-test/tiny-random-clip --dtype fp32 & P=$!; sleep 3; kill -INT $P; wait $P; echo "[exit $?]"
echo "# partial file kept:"; find $ZS_HOME -name '*.incomplete' -printf '%s bytes %P\n'
zs models pull zs-test/tiny-random-clip --dtype fp32
echo "# the server's log of content requests (CDN):"; grep "/cdn/" $T/hub2.log
kill $S2; wait $S2 2>/dev/null
echo "# server gone, ZS_OFFLINE=1"
export ZS_OFFLINE=1
zs classify --model zs-test/tiny-random-clip --labels "cat,dog" test/fixtures/reference/images/chelsea.png
zs models pull zs-test/tiny-random-vit
unset ZS_OFFLINE
echo "# server gone, not offline: the cached model is used without touching the network"
zs classify --model zs-test/tiny-random-clip --dtype q8 --labels "cat,dog" test/fixtures/reference/images/chelsea.png
