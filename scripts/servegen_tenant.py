#!/usr/bin/env python3
"""One ServeGen customer's first day as strait tenant settings.

Usage (from the crate root):
    python3 scripts/servegen_tenant.py [MODEL] [CLIENT] [UTC_OFFSET_HOURS] [DATA_DIR]
Defaults: m-large, client 61 (the largest customer of the largest language model, 16% of its
requests), UTC offset 8 (the data's clock is taken to start at local midnight in China — an
assumption: ServeGen does not publish the time of day of its windows), ../shared/data/alibaba_servegen.

Prints, for day 1 (windows 0 … 86,400 s):
  rate_windows  the mean rate of each local hour (six 600-s windows; a window absent from the
                file had rate 0), as `from` times of day in UTC;
  cv            the request-weighted mean of the windows' inter-arrival CVs (windows with more
                requests weigh more), and the median over windows;
  tokens        medians over the client's 6-h length windows of the input and output p50 and p99,
                for lognormal { median, p99 } fits, and the mean of the window means.
Data: Alibaba ServeGen (Xiang et al., NSDI 2026), github.com/alibaba/ServeGen, Apache-2.0.
Standard library only.
"""
import csv
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WINDOW_S = 600


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else "m-large"
    client = sys.argv[2] if len(sys.argv) > 2 else "61"
    utc_offset = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    data = sys.argv[4] if len(sys.argv) > 4 else os.path.join(ROOT, "..", "shared", "data", "alibaba_servegen")

    rates = {}
    cvs = []
    with open(os.path.join(data, "servegen_client_rates.csv")) as f:
        for row in csv.DictReader(f):
            if row["model"] != model or row["client_id"] != client:
                continue
            start = int(float(row["window_start_s"]))
            if start >= 86_400:
                continue
            rate = float(row["rate_rps"])
            rates[start // WINDOW_S] = rate
            cvs.append((rate, float(row["cv"])))
    hourly = []
    for hour in range(24):
        windows = [rates.get(hour * 6 + k, 0.0) for k in range(6)]
        hourly.append(sum(windows) / 6)
    order = sorted(range(24), key=lambda h: (h - utc_offset) % 24)
    starts = [f'"{(h - utc_offset) % 24}h"' for h in order]
    values = [f'"{hourly[h]:.2f}/s"' for h in order]
    print(f"# {model} client {client}, day 1, local hour h -> UTC hour (h - {utc_offset}) mod 24")
    print(f"rate_windows = {{ from = [{', '.join(starts)}], rate = [{', '.join(values)}] }}")
    print(f"# daily mean {sum(hourly) / 24:.2f}/s, peak hour {max(hourly):.2f}/s, quietest {min(hourly):.2f}/s")
    weighted = sum(r * c for r, c in cvs) / sum(r for r, _ in cvs)
    print(f"# inter-arrival CV day 1: request-weighted {weighted:.2f}, median over windows {statistics.median(c for _, c in cvs):.2f}")

    fields = {}
    with open(os.path.join(data, "servegen_client_lengths.csv")) as f:
        for row in csv.DictReader(f):
            if row["model"] == model and row["client_id"] == client:
                fields.setdefault(row["field"], []).append(row)
    for field in ("input_tokens", "output_tokens"):
        rows = fields.get(field, [])
        if not rows:
            print(f"# {field}: no length data")
            continue
        p50 = statistics.median(float(r["p50"]) for r in rows)
        p99 = statistics.median(float(r["p99"]) for r in rows)
        mean = statistics.mean(float(r["mean"]) for r in rows)
        print(f"# {field}: median p50 {p50:.0f}, median p99 {p99:.0f}, mean of window means {mean:.1f} ({len(rows)} windows)")


if __name__ == "__main__":
    main()
