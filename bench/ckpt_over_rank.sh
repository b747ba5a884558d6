#!/bin/sh
# ckpt_over_rank.sh: what checkpoints cost a job with an OVER aggregate or a
# window Top-N (bench/RESULTS.md, "Checkpoints of OVER and window Top-N
# state"). Usage: [N=rows] sh bench/ckpt_over_rank.sh over|topn ['interval']
# (no interval: checkpoints off). Prints wall, CPU and max RSS.
set -eu
cd "$(dirname "$0")/.."
N=${N:-300000}
Q=$1
IV=${2:-}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [ "$Q" = over ]; then
    SEL="SELECT id, k, SUM(v) OVER w, MIN(v) OVER w FROM src WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)"
    COLS="id BIGINT, k STRING, s BIGINT, m BIGINT"
else
    SEL="SELECT window_start, rownum, id, v FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY v DESC) AS rownum FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(ts), INTERVAL '1' SECOND))) WHERE rownum <= 3"
    COLS="ws TIMESTAMP(3), r BIGINT, id BIGINT, v BIGINT"
fi
CK=""
[ -n "$IV" ] && CK="SET 'state.dir' = '$TMP/state'; SET 'execution.checkpointing.interval' = '$IV'; SET 'pipeline.name' = 'b';"
cat > "$TMP/bench.sql" <<EOS
$CK
CREATE TABLE src (id BIGINT, k AS 'k' || CAST(MOD(id, 1000) AS STRING), v AS CAST(MOD(id * 37, 101) AS BIGINT), ts AS CAST(TO_TIMESTAMP_LTZ(1704067200000 + id * 10 + MOD(id * 53, 29) * 10, 3) AS TIMESTAMP(3)), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH ('connector'='datagen', 'rows-per-second'='100000000', 'fields.id.kind'='sequence', 'fields.id.start'='1', 'fields.id.end'='$N');
CREATE TABLE dst ($COLS) WITH ('connector'='blackhole');
INSERT INTO dst $SEL;
EOS
/usr/bin/time -f "$Q checkpoints=${IV:-off}: %e s wall, %U s user, %S s sys, %M KB max RSS" build/sluice -f "$TMP/bench.sql"
if [ -n "$IV" ]; then
    sqlite3 "$TMP"/state/*/state.db "SELECT 'checkpoints taken: ' || value FROM meta WHERE key = 'checkpoint_id'"
fi
uptime
