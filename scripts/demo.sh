#!/bin/sh
# demo.sh: the demo behind `make demo`; runs the most complete pipeline
# Sluice has, with everything local (no network, no keys).
set -eu
cd "$(dirname "$0")/.."
./build/sluice --version
./build/sluice -f examples/demo.sql
