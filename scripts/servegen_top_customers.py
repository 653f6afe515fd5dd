#!/usr/bin/env python3
"""Top customers of one ServeGen model: share, mean rate, burstiness, fitted family.

Usage (from the crate root):  python3 scripts/servegen_top_customers.py [MODEL] [TOP] [DATA_DIR]
MODEL defaults to m-large (the largest language model in the data), TOP to 5,
DATA_DIR to ../shared/data/alibaba_servegen.

Data: Alibaba ServeGen (Xiang et al., NSDI 2026), github.com/alibaba/ServeGen, Apache-2.0;
re-formatted in ../shared/data/alibaba_servegen (see its README). servegen_client_rates.csv has
one row per client and 600-s window with a non-zero rate: rate_rps, cv (coefficient of variation
of inter-arrival times in that window), iat_dist (the family fitted to the inter-arrival times).
Windows with rate 0 are absent from the file.

Printed per customer:
  share        share of the model's estimated requests (servegen_client_summary.csv)
  mean rate    sum(rate x 600 s) / span, where span covers all windows of the model
               (zero-rate windows count as 0), and the mean over active windows only
  active       fraction of the span's windows with a non-zero rate
  median CV    median over active windows of the inter-arrival CV
  rate-weighted CV  mean of CV weighted by requests in the window
  family       most frequent iat_dist over active windows (with its fraction)
Standard library only.
"""
import collections
import csv
import os
import statistics
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WINDOW_S = 600.0


def main():
    model = sys.argv[1] if len(sys.argv) > 1 else "m-large"
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    data = sys.argv[3] if len(sys.argv) > 3 else os.path.join(ROOT, "..", "shared", "data", "alibaba_servegen")

    summary = [r for r in csv.DictReader(open(os.path.join(data, "servegen_client_summary.csv"))) if r["model"] == model]
    summary.sort(key=lambda r: int(r["rank"]))
    chosen = summary[:top]
    ids = {r["client_id"] for r in chosen}

    windows = collections.defaultdict(list)  # client -> [(rate, cv, dist)]
    last_start = 0.0
    all_starts = set()
    with open(os.path.join(data, "servegen_client_rates.csv"), newline="") as f:
        for r in csv.DictReader(f):
            if r["model"] != model:
                continue
            start = float(r["window_start_s"])
            all_starts.add(start)
            last_start = max(last_start, start)
            if r["client_id"] in ids:
                windows[r["client_id"]].append((float(r["rate_rps"]), float(r["cv"]), r["iat_dist"]))
    span_s = last_start + WINDOW_S
    n_windows = span_s / WINDOW_S
    total_share = sum(float(r["share_of_model"]) for r in chosen)

    print(f"ServeGen model {model}: {len(summary)} clients, span {span_s:,.0f} s "
          f"({span_s / 86400:.1f} days, {n_windows:.0f} windows of 600 s)")
    print(f"top {top} customers by share of estimated requests (together {total_share * 100:.1f}%):")
    print()
    print("| rank | client | share | mean rate (all windows) | mean rate (active windows) | active windows "
          "| median CV | rate-weighted CV | family (share of windows) | mean in/out tokens |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in chosen:
        w = windows[r["client_id"]]
        reqs = sum(rate * WINDOW_S for rate, _, _ in w)
        mean_all = reqs / span_s
        mean_active = statistics.fmean(rate for rate, _, _ in w)
        cvs = [cv for _, cv, _ in w]
        med_cv = statistics.median(cvs)
        wcv = sum(rate * cv for rate, cv, _ in w) / sum(rate for rate, _, _ in w)
        fam, count = collections.Counter(d for _, _, d in w).most_common(1)[0]
        tokens = (
            f"{r['mean_input_tokens_avg_over_windows']} / {r['mean_output_tokens_avg_over_windows']}"
            if r["length_data_missing"] == "0"
            else "n/a (dataset.json missing)"
        )
        print(
            f"| {r['rank']} | {r['client_id']} | {float(r['share_of_model']) * 100:.1f}% | {mean_all:.2f} req/s "
            f"| {mean_active:.2f} req/s | {len(w) / n_windows * 100:.1f}% | {med_cv:.2f} | {wcv:.2f} "
            f"| {fam} ({count / len(w) * 100:.0f}%) | {tokens} |"
        )


if __name__ == "__main__":
    main()
