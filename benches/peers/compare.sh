#!/usr/bin/env bash
# strait against SimPy (and, when benches/mmc_floor.rs exists, a minimal hand-written Rust
# binary-heap M/M/c loop) on the same M/M/c model: same lambda, mu, c, warm-up and seed.
#
#   bash benches/peers/compare.sh [--rate 90] [--mean-service-ms 100] [--servers 10]
#       [--duration-s 18000] [--warmup-s 600] [--simpy-duration-s SECONDS] [--seed 1]
#       [--no-build] [--no-floor] [--pgo]
#
# Defaults: lambda = 90/s, mean service 100 ms (mu = 10/s), c = 10 (rho = 0.9, Erlang C
# Wq = 66.87 ms), 5 simulated hours = about 1.62 M requests for every simulator. SimPy takes
# about 20 s for that here; on a slower machine give it a shorter run with
# --simpy-duration-s. The fair measure is requests per wall-second (the wall-time ratio is
# printed only when both ran the same duration). The floor loop runs as many requests as
# strait generated.
#
# strait is the plain release build (`cargo build --release`), or with --pgo the profile-guided
# build for this processor (`scripts/build-pgo`, about 4 minutes; target/pgo/strait), the one
# the README recommends for long runs. Results are the same; only the speed differs.
#
# Wall times: strait's is its simulation only (timing.json; reading the scenario and writing
# the output are excluded), SimPy's is env.run only, the floor's is whatever it reports. The
# whole strait process is timed too and shown on its own row.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

rate=90
mean_service_ms=100
servers=10
duration_s=18000
warmup_s=600
simpy_duration_s=""
seed=1
build=1
floor=1
pgo=0

usage() { sed -n '2,22p' "$here/compare.sh" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --rate|--mean-service-ms|--servers|--duration-s|--warmup-s|--simpy-duration-s|--seed)
            if [ $# -lt 2 ]; then echo "compare.sh: $1 needs a value" >&2; exit 2; fi ;;&
        --rate) rate="$2"; shift 2 ;;
        --mean-service-ms) mean_service_ms="$2"; shift 2 ;;
        --servers) servers="$2"; shift 2 ;;
        --duration-s) duration_s="$2"; shift 2 ;;
        --warmup-s) warmup_s="$2"; shift 2 ;;
        --simpy-duration-s) simpy_duration_s="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        --no-floor) floor=0; shift ;;
        --pgo) pgo=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "compare.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
simpy_duration_s="${simpy_duration_s:-$duration_s}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

bash "$here/install.sh"

if [ "$pgo" -eq 1 ]; then
    if [ "$build" -eq 1 ]; then
        echo "building strait (scripts/build-pgo) ..." >&2
        "$root/scripts/build-pgo" >/dev/null
    fi
    strait="$root/target/pgo/strait"
else
    if [ "$build" -eq 1 ]; then
        echo "building strait (cargo build --release) ..." >&2
        cargo build --release --quiet
    fi
    strait="$root/target/release/strait"
fi
if [ ! -x "$strait" ]; then
    echo "compare.sh: $strait not found; run without --no-build" >&2
    exit 1
fi

echo "strait: lambda=${rate}/s, mean service ${mean_service_ms} ms, c=${servers}, ${duration_s} s simulated (warm-up ${warmup_s} s) ..." >&2
# The whole process is timed as well as the simulation that timing.json reports.
python3 - "$tmp/strait-process.json" "$strait" run scenarios/mmc.toml \
    --set "tenant.clients.rate=${rate}/s" \
    --set "deployment.station.service.mean=${mean_service_ms}ms" \
    --set "deployment.station.replicas=${servers}" \
    --set "run.duration=${duration_s}s" \
    --set "run.warmup=${warmup_s}s" \
    --set "run.seed=${seed}" \
    --out "$tmp/strait" --quiet <<'PY'
import json, subprocess, sys, time
started = time.perf_counter()
subprocess.run(sys.argv[2:], check=True)
json.dump({"process_wall_s": time.perf_counter() - started}, open(sys.argv[1], "w"))
PY
strait_generated="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["requests"]["generated"])' "$tmp/strait/summary.json")"

echo "SimPy: same model, ${simpy_duration_s} s simulated ..." >&2
python3 "$here/mmc_simpy.py" --rate "$rate" --mean-service-ms "$mean_service_ms" \
    --servers "$servers" --duration-s "$simpy_duration_s" --warmup-s "$warmup_s" \
    --seed "$seed" > "$tmp/simpy.json"

floor_json=""
if [ "$floor" -eq 1 ] && [ -f "$root/benches/mmc_floor.rs" ]; then
    echo "floor: benches/mmc_floor.rs, ${strait_generated} requests ..." >&2
    cargo bench --quiet --bench mmc_floor -- --rate "$rate" --mean-service-ms "$mean_service_ms" \
        --servers "$servers" --requests "$strait_generated" > "$tmp/floor.out"
    # The last line of its output that is a JSON object is the result.
    grep '^[[:space:]]*{' "$tmp/floor.out" | tail -n 1 > "$tmp/floor.json" || true
    if [ ! -s "$tmp/floor.json" ]; then
        echo "compare.sh: mmc_floor printed no JSON line; its output was:" >&2
        cat "$tmp/floor.out" >&2
        exit 1
    fi
    floor_json="$tmp/floor.json"
elif [ "$floor" -eq 1 ]; then
    echo "floor: benches/mmc_floor.rs does not exist yet; skipped" >&2
fi

python3 - "$here" "$tmp" "$rate" "$mean_service_ms" "$servers" "$duration_s" "$simpy_duration_s" "$floor_json" <<'PY'
import json, os, sys

here, tmp, rate, mean_ms, servers, duration_s, simpy_duration_s, floor_path = sys.argv[1:9]
rate, mean_ms, servers = float(rate), float(mean_ms), int(servers)
sys.path.insert(0, here)
from mmc_simpy import erlang_c_wait_ms

theory = erlang_c_wait_ms(rate, mean_ms, servers)
summary = json.load(open(os.path.join(tmp, "strait", "summary.json")))
timing = json.load(open(os.path.join(tmp, "strait", "timing.json")))
process = json.load(open(os.path.join(tmp, "strait-process.json")))
simpy = json.load(open(os.path.join(tmp, "simpy.json")))
floor = json.load(open(floor_path)) if floor_path else None

generated = summary["requests"]["generated"]
strait_wait = summary["latency_ms"]["queue_wait"]["mean"]
rows = [
    ("strait", generated, summary["simulated_s"], timing["wall_s"], timing["requests_per_s"], strait_wait),
    ("strait (whole process)", generated, summary["simulated_s"], process["process_wall_s"],
     generated / max(process["process_wall_s"], 1e-9), strait_wait),
    ("SimPy " + simpy["simpy_version"], simpy["generated"], simpy["simulated_s"], simpy["wall_s"],
     simpy["requests_per_s"], simpy["mean_queue_wait_ms"]),
]
if floor is not None:
    rows.append(("floor (benches/mmc_floor.rs)", floor["requests"], None, floor["wall_s"],
                 floor["requests_per_s"], floor.get("mean_queue_wait_ms")))

def num(value, digits):
    return "-" if value is None else f"{value:,.{digits}f}"

rho = rate * mean_ms / 1000.0 / servers
print(f"M/M/{servers}: lambda = {rate:g}/s, mean service = {mean_ms:g} ms, rho = {rho:.3f}, "
      f"Erlang C Wq = {num(theory, 3)} ms")
header = ("simulator", "requests", "simulated s", "wall s", "requests/s", "mean wait ms", "theory ms")
table = [header] + [
    (name, f"{req:,}", num(sim, 0), num(wall, 3), num(rps, 0), num(wait, 3), num(theory, 3))
    for name, req, sim, wall, rps, wait in rows
]
widths = [max(len(row[i]) for row in table) for i in range(len(header))]
for index, row in enumerate(table):
    cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
    print("  ".join(cells).rstrip())
    if index == 0:
        print("  ".join("-" * width for width in widths))

print()
print("Requests per wall-second is the fair measure (simulators may run different request counts).")
process_rps = generated / max(process["process_wall_s"], 1e-9)
speedup = timing["requests_per_s"] / max(simpy["requests_per_s"], 1e-9)
print(f"strait / SimPy requests/s: {speedup:.1f}x   (issue 6 target: at least 35x; "
      f"whole strait process: {process_rps / max(simpy['requests_per_s'], 1e-9):.1f}x)")
if float(duration_s) == float(simpy_duration_s):
    print(f"SimPy wall / strait wall (same simulated duration): {simpy['wall_s'] / max(timing['wall_s'], 1e-9):.1f}x")
else:
    print(f"(SimPy ran {float(simpy_duration_s):g} s simulated, strait {float(duration_s):g} s: "
          "the wall-time ratio is not comparable, requests/s is)")
if floor is not None:
    ratio = floor["requests_per_s"] / max(process_rps, 1e-9)
    print(f"floor / strait requests/s, whole strait process: {ratio:.2f}x   (issue 6 target: at most 3x)")
    ratio = floor["requests_per_s"] / max(timing["requests_per_s"], 1e-9)
    print(f"floor / strait requests/s, strait simulation only: {ratio:.2f}x")
else:
    print("floor / strait: - (benches/mmc_floor.rs not run)")
print("Wall times: strait = simulation only (timing.json) or the whole process, SimPy = env.run only, "
      "floor = as it reports; the machine is shared, so figures vary from run to run.")
PY
