#!/bin/sh
# demo.sh: the demo behind `make demo`: the most complete pipeline Sluice
# runs, all local (no network, no keys): generated transactions produced
# into Kafka (embedded broker), scored by an in-process XGBoost model
# (ML_PREDICT), scores written to Kafka, flagged ones printed.
set -eu
cd "$(dirname "$0")/.."
./build/sluice --version
echo "== examples/demo.sql"
./build/sluice -f examples/demo.sql
