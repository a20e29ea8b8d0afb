#!/usr/bin/env bash
# Loopback load test (issue 8, goal 4): requests per second of a public route, cache-hit and
# cold guarded routes (HS256 and RS256), and the ratios, with bounded runs on 127.0.0.1 only.
#
# The load generator is in the repository (benches/loadtest.rs: keep-alive HTTP/1.1
# connections on a tokio runtime, in the same process as the servers), so no network tool
# is needed. Defaults: 32 connections, 2 server + 2 client threads, 10 s per scenario after 1 s
# of warm-up, 3 rounds (about 3.5 minutes).
#
#   scripts/loadtest.sh
#   LOADTEST_SECS=5 LOADTEST_ROUNDS=1 scripts/loadtest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export LOADTEST_SECS=${LOADTEST_SECS:-10}
export LOADTEST_ROUNDS=${LOADTEST_ROUNDS:-3}
export LOADTEST_CONNECTIONS=${LOADTEST_CONNECTIONS:-32}
export LOADTEST_THREADS=${LOADTEST_THREADS:-2}
exec cargo bench --bench loadtest
