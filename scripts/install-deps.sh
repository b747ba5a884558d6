#!/bin/sh
# install-deps.sh: install every build, test and demo dependency of Sluice
# from Debian's packages. Idempotent and quiet when everything is present;
# works as root or through sudo. `--check` only reports (exit 1 if missing).
set -eu

PACKAGES="build-essential cmake pkg-config git
libsqlite3-dev librdkafka-dev libcurl4-openssl-dev libjansson-dev libpcre2-dev
libcriterion-dev libedit-dev libyaml-dev tmux kcat curl python3 clang clang-format
libclang-rt-dev valgrind lemon libxgboost-dev python3-xgboost nodejs openssl"

# npm: s3rver, the S3-compatible server the checkpoint-store tests start on
# 127.0.0.1 (tests/unit/test_checkpoint.c), into the git-ignored .cache/npm/.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" != "--check" ] && command -v npm >/dev/null 2>&1 &&
    [ ! -x "$ROOT/.cache/npm/node_modules/.bin/s3rver" ]; then
    npm install --prefix "$ROOT/.cache/npm" --no-audit --no-fund \
        s3rver@3.7.1 >/dev/null 2>&1 ||
        echo "install-deps.sh: npm install s3rver failed" >&2
fi

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

if [ "${1:-}" = "--check" ]; then
    [ -z "$missing" ] && exit 0
    echo "missing packages:$missing"
    exit 1
fi

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps.sh: need root or sudo to install:$missing" >&2
    exit 1
fi

echo "install-deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
