#!/usr/bin/env bash
# The public API of the published crates, compared with the snapshot checked in next to each:
#
#   scripts/public_api.sh [--check|--bless] [CRATE...]
#
#   --check   (default) print a unified diff and exit 1 if the API of a crate differs from its
#             snapshot (or the snapshot is missing)
#   --bless   rewrite the snapshots from the code
#   CRATE     authgate, authgate-macros, authgate-sqlx, authgate-redis (default: all four)
#
# Each crate's rustdoc JSON is built into target/public-api (its own target dir: the main build
# in target/ is never invalidated) and listed by scripts/public_api.py; see that file for what
# the listing holds. rustdoc's JSON output is unstable: RUSTC_BOOTSTRAP=1 turns it on with the
# stable toolchain, as cargo-semver-checks does. The stores' listings read authgate's JSON too,
# to name authgate's items by their public paths.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,10s/^# \{0,1\}//p' "$0"; exit "$1"; }

mode=check
crates=()
for arg in "$@"; do
    case $arg in
        --check) mode=check ;;
        --bless) mode=bless ;;
        -h|--help) usage 0 ;;
        authgate|authgate-macros|authgate-sqlx|authgate-redis) crates+=("$arg") ;;
        *) echo "unknown argument: $arg" >&2; usage 2 >&2 ;;
    esac
done
[ ${#crates[@]} -gt 0 ] || crates=(authgate authgate-macros authgate-sqlx authgate-redis)

TARGET=target/public-api

snapshot_of() {
    case $1 in
        authgate) echo runtime/public-api.txt ;;
        authgate-macros) echo macros/public-api.txt ;;
        *) echo "$1/public-api.txt" ;;
    esac
}

# One cargo invocation for all of them: dependencies are built once, with one set of features.
# authgate is documented with the features docs.rs documents; the stores need its JSON too.
packages=() features=()
for crate in "${crates[@]}"; do
    case $crate in authgate|authgate-sqlx|authgate-redis)
        features=(--features "authgate/oidc authgate/testing authgate/utoipa authgate/uuid")
        [[ " ${packages[*]} " == *" -p authgate "* ]] || packages+=(-p authgate) ;;
    esac
    [[ " ${packages[*]} " == *" -p $crate "* ]] || packages+=(-p "$crate")
done
echo "== rustdoc JSON of ${crates[*]} (in $TARGET)"
RUSTC_BOOTSTRAP=1 RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -Z unstable-options --output-format json \
--cap-lints allow" cargo doc --quiet --no-deps --lib "${packages[@]}" "${features[@]}" \
    --target-dir "$TARGET"
json_of() { echo "$TARGET/doc/${1//-/_}.json"; }

failed=()
for crate in "${crates[@]}"; do
    deps=()
    case $crate in authgate-sqlx|authgate-redis) deps=("$(json_of authgate)") ;; esac
    snapshot=$(snapshot_of "$crate")
    listing="$TARGET/${crate}.public-api.txt"
    python3 scripts/public_api.py "$(json_of "$crate")" "${deps[@]}" > "$listing"
    if [ "$mode" = bless ]; then
        cp "$listing" "$snapshot"
        echo "wrote $snapshot ($(wc -l < "$listing") lines)"
    elif [ ! -f "$snapshot" ]; then
        echo "missing: $snapshot (the public API of $crate)" >&2
        failed+=("$crate")
    elif ! diff -u --label "$snapshot (checked in)" --label "$snapshot (from the code)" \
            "$snapshot" "$listing"; then
        failed+=("$crate")
    else
        echo "$crate: public API unchanged ($snapshot)"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "The public API of ${failed[*]} differs from its snapshot: if the change is intended," \
        "run scripts/public_api.sh --bless ${failed[*]} and commit the snapshot with it." >&2
    exit 1
fi
