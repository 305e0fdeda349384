#!/usr/bin/env bash
# Instructions per pair under callgrind: repeatable where timings on a shared machine are not.
#
#   native-sim/host/callgrind_pairs.sh FHR_BENCH [N] [PROFILE] [OPERATION...]
#
# For each operation (default: pooled named malloc) runs `FHR_BENCH --only OP --threads 1 --runs 1 --warmup W N` and the
# same with 2N pairs under `valgrind --tool=callgrind`, reads each run's total Ir (instructions executed, every thread,
# start-up included) from the "summary:" line of its callgrind.out, and prints (Ir(2N) - Ir(N)) / N: the instructions
# of one pair, with start-up, warm-up (a fixed count) and shut-down cancelled out. Repeated runs agree to about 1 Ir
# per pair. N defaults to 100,000 (1-5 s per run); PROFILE to desktop. Set CALLGRIND_KEEP=DIR to keep the
# callgrind.out files there (callgrind_annotate reads them). Exits non-zero when a run fails.
#
# Where the instructions go: set FHR_SYMBOLS to a file with the library's symbol table (the publish folder's
# libflight_hal_resources.so.dbg, moved aside; the .so itself has none) and each operation is followed by its top
# functions per pair (self cost, Ir(2N) - Ir(N) per function / N; needs nm and python3). Callgrind reports the library's
# code as bare addresses; `FHR_BENCH --library-base` under valgrind gives the load address to subtract.
#
# Valgrind 3.19 cannot read the DWARF 5 of libflight_hal_resources.so.dbg: move that file out of the library's folder
# first (as .ci/run does). DOTNET_GCHeapHardLimit keeps the runtime's address-space reservation within what valgrind
# maps (see native-sim/README.md).
set -uo pipefail

if [ $# -lt 1 ] || [ ! -x "$1" ]; then
  echo "usage: $0 FHR_BENCH [N] [PROFILE] [pooled|named|malloc ...]" >&2
  exit 2
fi
bench=$1
n=${2:-100000}
profile=${3:-desktop}
shift $(( $# < 3 ? $# : 3 ))
operations=("$@")
[ ${#operations[@]} -gt 0 ] || operations=(pooled named malloc)
warmup=1000
command -v valgrind >/dev/null || { echo "$0: valgrind not found" >&2; exit 2; }
case $n in ''|*[!0-9]*|0) echo "$0: N must be a count > 0" >&2; exit 2;; esac

out=${CALLGRIND_KEEP:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${CALLGRIND_KEEP:-}" ] || trap 'rm -rf "$out"' EXIT

# Total Ir of one run: callgrind's "summary:" line (its "totals:" line when there is none).
total_ir() { # operation, pairs
  local file="$out/callgrind.out.$profile.$1.$2"
  DOTNET_GCHeapHardLimit=20000000 valgrind --tool=callgrind --callgrind-out-file="$file" \
    "$bench" --profile "$profile" --only "$1" --threads 1 --runs 1 --warmup "$warmup" "$2" \
    > "$file.stdout" 2> "$file.log" || { echo "$0: $1 with $2 pairs failed:" >&2; grep -v '^==' "$file.log" | tail -n 5 >&2; return 1; }
  local ir
  ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$file" | head -n 1)
  [ -n "$ir" ] || ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$file" | head -n 1)
  [ -n "$ir" ] || { echo "$0: no Ir total in $file" >&2; return 1; }
  echo "$ir"
}

# The top functions of one operation by instructions per pair, named from FHR_SYMBOLS.
breakdown() { # operation
  local base
  base=$(DOTNET_GCHeapHardLimit=20000000 valgrind -q --tool=none "$bench" --library-base) || return 1
  nm --defined-only "$FHR_SYMBOLS" | awk '$2 ~ /^[tTwW]$/ { print $1, $3 }' > "$out/symbols"
  callgrind_annotate --threshold=100 "$out/callgrind.out.$profile.$1.$n" > "$out/annotate.1"
  callgrind_annotate --threshold=100 "$out/callgrind.out.$profile.$1.$((2 * n))" > "$out/annotate.2"
  python3 - "$out" "$base" "$n" <<'PY'
import bisect, re, sys
out, base, n = sys.argv[1], int(sys.argv[2], 16), int(sys.argv[3])
symbols = sorted((int(a, 16), name) for a, name in (line.split(None, 1) for line in open(out + "/symbols")))
starts = [a for a, _ in symbols]
def costs(path):
    found = {}
    for line in open(path):
        m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(.*)$", line)
        if m and "PROGRAM TOTALS" not in line:
            found[m.group(2)] = int(m.group(1).replace(",", ""))
    return found
def name(function):
    m = re.match(r"\?\?\?:0x([0-9a-f]+) \[(.*)\]$", function)
    if not m or not (m.group(2) == "???" or "libflight_hal_resources" in m.group(2)):
        return function
    address = int(m.group(1), 16) - (base if m.group(2) == "???" else 0)   # bare addresses are absolute
    i = bisect.bisect_right(starts, address) - 1
    return function if i < 0 else symbols[i][1].strip() + ("" if address == starts[i] else "+0x%x" % (address - starts[i]))
one, two = costs(out + "/annotate.1"), costs(out + "/annotate.2")
rows = sorted(((two.get(k, 0) - one.get(k, 0)) / n, k) for k in set(one) | set(two))[::-1]
for per_pair, function in rows[:15]:
    if per_pair >= 1:
        print("  %8.1f  %s" % (per_pair, name(function)[:110]))
PY
}

echo "instructions per pair under callgrind: profile $profile, 1 thread, N = $n and 2N pairs after $warmup warm-up"
printf '%-8s %15s %15s %12s\n' operation "Ir(N)" "Ir(2N)" "Ir/pair"
status=0
for op in "${operations[@]}"; do
  one=$(total_ir "$op" "$n") && two=$(total_ir "$op" $((2 * n))) || { status=1; continue; }
  printf '%-8s %15s %15s %12s\n' "$op" "$one" "$two" "$(awk -v a="$one" -v b="$two" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }')"
  if [ -n "${FHR_SYMBOLS:-}" ]; then breakdown "$op" || status=1; fi
done
exit $status
