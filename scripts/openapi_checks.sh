#!/usr/bin/env bash
# The OpenAPI checks of the invoices example, with independent Python tools:
#
#   install   the tools into target/openapi-venv, pinned with hashes by scripts/requirements.lock
#             (done again only when the lock file changes)
#   run       start the example server (target/debug/examples/invoices, built if stale) on a
#             free loopback port with a throw-away database, then
#             1. validate its GET /openapi.json against the OpenAPI 3.1 schema
#                (openapi-spec-validator), and
#             2. run Schemathesis against it with that document, as a user (alice) and as an
#                admin with bearer tokens from POST /login, as a user (bob) with the session
#                cookie, and anonymously: bounded runs (SCHEMATHESIS_EXAMPLES examples per
#                operation, default 100, fixed seed SCHEMATHESIS_SEED) that fail on a 5xx, an
#                undocumented status code, a response that violates its schema or headers,
#                and Schemathesis's other checks (settings: scripts/schemathesis.toml).
#   (none)    install, then run.
#
# Nothing is downloaded outside `install`. To change or update the tools, edit
# scripts/requirements.in and regenerate the lock file with hashes:
#
#   python3 -m venv /tmp/uv && /tmp/uv/bin/pip install uv
#   cd scripts && /tmp/uv/bin/uv pip compile --generate-hashes --python-version 3.11 \
#       --python-platform x86_64-unknown-linux-gnu requirements.in -o requirements.lock
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="$PWD/target/openapi-venv"
LOCK=scripts/requirements.lock
CONFIG="$PWD/scripts/schemathesis.toml"
EXAMPLES="${SCHEMATHESIS_EXAMPLES:-100}"
SEED="${SCHEMATHESIS_SEED:-20261130}"
SECRET="openapi-checks-secret-0f3c9a1e7b5d2c4a6e8f"

install() {
    local stamp="$VENV/.lock.sha256"
    local want
    want=$(sha256sum "$LOCK" | cut -d' ' -f1)
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        echo "openapi tools: up to date in $VENV"
        return
    fi
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-input \
        --require-hashes --no-deps --only-binary :all: -r "$LOCK"
    echo "$want" > "$stamp"
    echo "openapi tools: installed in $VENV ($("$VENV/bin/schemathesis" --version))"
}

SERVER_PID=""
WORK=""
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n "$WORK" ]]; then
        rm -rf "$WORK"
    fi
}

# A bearer token for a demo account (see examples/invoices/db.rs DEMO_USERS).
token() {
    curl -fsS "$BASE/login" -H 'Content-Type: application/json' \
        -d "{\"email\":\"$1@example.com\",\"password\":\"$1-password\"}" |
        "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

# The session cookie (`name=value`) of a form login, as a browser logs in (a JSON login starts
# no session).
session_cookie() {
    curl -sS -o /dev/null -D - "$BASE/login" \
        --data-urlencode "email=$1@example.com" --data-urlencode "password=$1-password" \
        --data-urlencode "next=/dashboard" |
        sed -n 's/^[Ss]et-[Cc]ookie: \([^;]*\);.*/\1/p'
}

run() {
    if [[ ! -x "$VENV/bin/schemathesis" ]]; then
        echo "openapi tools are missing: run scripts/openapi_checks.sh install" >&2
        exit 1
    fi
    # A no-op after `cargo test`, which builds the examples.
    cargo build --quiet --example invoices
    WORK=$(mktemp -d)
    trap cleanup EXIT
    local port
    port=$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    BASE="http://127.0.0.1:$port"
    # Login limits far above what the runs send from one address: Schemathesis posts to
    # /login hundreds of times, and the limits' own answers (429) are documented and tested
    # elsewhere (tests/invoices_example.rs).
    INVOICES_JWT_SECRET="$SECRET" INVOICES_LOGIN_RATES=100000,100000 RUST_LOG=warn \
        target/debug/examples/invoices \
        --addr "127.0.0.1:$port" --db :memory: > "$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -fsS "$BASE/health" > /dev/null 2>&1 && break
        sleep 0.1
    done
    curl -fsS "$BASE/openapi.json" -o "$WORK/openapi.json"

    echo "== openapi-spec-validator: GET /openapi.json against the OpenAPI 3.1 schema"
    "$VENV/bin/openapi-spec-validator" "$WORK/openapi.json"

    local user admin cookie
    user=$(token alice)
    admin=$(token admin)
    cookie=$(session_cookie bob)
    # Who calls: a user and an admin with bearer tokens; a user with the session cookie (as a
    # browser on the same site, so state changes pass the origin check; not POST /logout,
    # which would end the session the run uses); and nobody, with the random bearer tokens
    # and cookies Schemathesis makes up for the security schemes, which meets every refusal.
    # The signed-in runs do not make credentials up: they would replace the real one.
    local -a signed_in=(--generation-with-security-parameters false)
    local -a as_user=(-H "Authorization: Bearer $user" "${signed_in[@]}")
    local -a as_admin=(-H "Authorization: Bearer $admin" "${signed_in[@]}")
    local -a as_cookie=(-H "Cookie: $cookie" -H "Sec-Fetch-Site: same-origin" --exclude-path /logout
        "${signed_in[@]}")
    local -a as_anonymous=()
    # The admin comes last: it may delete the other accounts.
    for who in user cookie anonymous admin; do
        local -n credential="as_$who"
        echo "== schemathesis as $who: $EXAMPLES examples per operation, seed $SEED"
        # From the temporary directory: Schemathesis keeps a cache in its working directory.
        # Every check but object_level_authorization, which needs two accounts in one run
        # (the OwnershipProbe and the invoices tests cover ownership).
        # Not the live feed: it is a WebSocket, which Schemathesis does not speak (every
        # request it can make there is refused as no handshake); tests/security/websocket.rs
        # and the invoices tests open real sockets.
        (cd "$WORK" && "$VENV/bin/schemathesis" --config-file "$CONFIG" run "$BASE/openapi.json" \
            "${credential[@]}" --exclude-path /api/invoices/feed \
            --checks all --exclude-checks object_level_authorization \
            --max-examples "$EXAMPLES" --seed "$SEED" --workers 1 \
            --max-redirects 0 --request-timeout 10 \
            --generation-database none --no-color)
    done
}

case "${1:-all}" in
    install) install ;;
    run) run ;;
    all) install && run ;;
    *)
        echo "usage: scripts/openapi_checks.sh [install|run]" >&2
        exit 2
        ;;
esac
