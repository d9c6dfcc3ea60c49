#!/usr/bin/env bash
# Throughput benchmark of `nudge run` over generated traffic (issue 3's figures).
#
# Usage: benches/throughput.sh [EVENTS] [USERS] [PRODUCTS]
#   defaults: 5,000,000 events, 1,000,000 users, 100,000 products.
# Prints, measured in the same run on the same file:
#   - events/s of a decode-only pass (read, decode, order by event time; no matching),
#   - events/s of the patterns-only program (the rules that read no operator) and of the
#     full patterns/ program, each with 1 shard and with 2 shards,
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

# The patterns-only program: the rules of patterns/ that read no operator (session,
# covisit, trending, profile, vectors, model).
only="$dir/patterns-only"
rm -rf "$only"
mkdir -p "$only"
for f in patterns/*.nudge; do
  if ! grep -qE '^(session|covisit|trending|profile|vectors|model) ' "$f"; then
    cp "$f" "$only/"
  fi
done
sed -i 's#"../examples/#"../../../examples/#' "$only"/*.nudge

measure() {
  # measure NAME PROGRAM ARGS...: prints "NAME seconds max_rss_kb"
  local name=$1 program=$2
  shift 2
  local t
  t=$( { /usr/bin/time -f "%e %M" "$nudge" run "$program" --input "$data" --output "$dir/out-$name.jsonl" "$@" 2>&1 >/dev/null; } | tail -n 1)
  echo "$name $t"
}

results=$(
  measure decode-only patterns/ --decode-only
  measure patterns-1 "$only" --shards 1
  measure patterns-2 "$only" --shards 2
  measure shards-1 patterns/ --shards 1
  measure shards-2 patterns/ --shards 2
)
echo "$results" | awk -v n="$events" '
  { secs[$1] = $2; rss[$1] = $3 }
  END {
    for (k in secs) rate[k] = n / secs[k]
    printf "%-12s %10s %14s %12s\n", "pass", "seconds", "events/s", "max RSS MB"
    split("decode-only patterns-1 patterns-2 shards-1 shards-2", order, " ")
    for (i = 1; i <= 5; i++) { k = order[i]; printf "%-12s %10.2f %14.0f %12.0f\n", k, secs[k], rate[k], rss[k] / 1024 }
    printf "patterns-only, 1 shard / decode-only: %.2f\n", rate["patterns-1"] / rate["decode-only"]
    printf "patterns-only, 2 shards / 1 shard:    %.2f\n", rate["patterns-2"] / rate["patterns-1"]
    printf "full program, 1 shard / decode-only:  %.2f\n", rate["shards-1"] / rate["decode-only"]
    printf "full program, 2 shards / 1 shard:     %.2f\n", rate["shards-2"] / rate["shards-1"]
    printf "full / patterns-only, 1 shard:        %.2f\n", rate["shards-1"] / rate["patterns-1"]
  }'
