#!/usr/bin/env bash
# Throughput benchmark of `nudge run` over generated traffic (issue 3's figures).
#
# Usage: benches/throughput.sh [EVENTS] [USERS] [PRODUCTS]
#   defaults: 5,000,000 events, 1,000,000 users, 100,000 products.
# Prints, measured in the same run on the same file:
#   - events/s of a decode-only pass (read, decode, order by event time; no matching),
#   - events/s of the full patterns/ program with 1 shard and with 2 shards,
#   - the ratios (1 shard / decode-only, 2 shards / 1 shard) and peak memory (max RSS).
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-5000000}
users=${2:-1000000}
products=${3:-100000}
dir=target/bench
mkdir -p "$dir"
cargo build --release --quiet
nudge=target/release/nudge
data="$dir/gen-$events-$users-$products.jsonl"
if [ ! -s "$data" ]; then
  echo "generating $events events ($users users, $products products) into $data"
  "$nudge" gen --events "$events" --users "$users" --products "$products" --seed 1 >"$data"
fi

measure() {
  # measure NAME ARGS...: prints "NAME seconds max_rss_kb"
  local name=$1
  shift
  local t
  t=$( { /usr/bin/time -f "%e %M" "$nudge" run patterns/ --input "$data" --output "$dir/out-$name.jsonl" "$@" 2>&1 >/dev/null; } | tail -n 1)
  echo "$name $t"
}

results=$(
  measure decode-only --decode-only
  measure shards-1 --shards 1
  measure shards-2 --shards 2
)
echo "$results" | awk -v n="$events" '
  { secs[$1] = $2; rss[$1] = $3 }
  END {
    for (k in secs) rate[k] = n / secs[k]
    printf "%-12s %10s %14s %12s\n", "pass", "seconds", "events/s", "max RSS MB"
    split("decode-only shards-1 shards-2", order, " ")
    for (i = 1; i <= 3; i++) { k = order[i]; printf "%-12s %10.2f %14.0f %12.0f\n", k, secs[k], rate[k], rss[k] / 1024 }
    printf "1 shard / decode-only: %.2f\n", rate["shards-1"] / rate["decode-only"]
    printf "2 shards / 1 shard:    %.2f\n", rate["shards-2"] / rate["shards-1"]
  }'
