#!/usr/bin/env python3
"""Fit token-length presets from the Azure LLM inference traces (2023) and write
src/distribution/presets.rs.

Usage (from the crate root):  python3 scripts/token_presets.py [DATA_DIR]
DATA_DIR defaults to ../shared/data/azure_llm_2023 (relative to the crate root).

For each trace (conv, code) and column (ContextTokens -> input, GeneratedTokens -> output)
the script takes the empirical quantiles at q = 0, 0.005, 0.01, ..., 1 (201 values): the exact
order statistic sorted[round(q * (n - 1))] (Python's round = round-half-to-even). It prints, per
column: rows, exact mean, median, p99 (same order-statistic rule), and the mean of the
distribution obtained by sampling the table with linear interpolation between adjacent
quantiles (u ~ U(0,1), value = linear interpolation of the table at u): that mean is exactly
the average over the 200 segments of (q_i + q_{i+1}) / 2. Standard library only.
"""
import csv
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(ROOT, "..", "shared", "data", "azure_llm_2023")
OUT = os.path.join(ROOT, "src", "distribution", "presets.rs")
STEPS = 200  # 0.5 % steps -> 201 quantiles

TRACES = [("conv", "AzureLLMInferenceTrace_conv.csv"), ("code", "AzureLLMInferenceTrace_code.csv")]
COLUMNS = [("input", "ContextTokens"), ("output", "GeneratedTokens")]


def order_stat(sorted_vals, q):
    return sorted_vals[round(q * (len(sorted_vals) - 1))]


def stats(values):
    s = sorted(values)
    n = len(s)
    table = [order_stat(s, i / STEPS) for i in range(STEPS + 1)]
    table_mean = sum((table[i] + table[i + 1]) / 2 for i in range(STEPS)) / STEPS
    return {
        "rows": n,
        "mean": sum(s) / n,
        "median": order_stat(s, 0.5),
        "p99": order_stat(s, 0.99),
        "min": s[0],
        "max": s[-1],
        "table": table,
        "table_mean": table_mean,
        "table_median": table[100],
        "table_p99": table[198],
    }


def rust_array(values, per_line=10):
    lines = []
    for i in range(0, len(values), per_line):
        lines.append("    " + " ".join(f"{v}," for v in values[i : i + per_line]))
    return "\n".join(lines)


def main():
    data_dir = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_DATA
    results = {}
    for trace, fname in TRACES:
        path = os.path.join(data_dir, fname)
        cols = {c: [] for _, c in COLUMNS}
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                for _, c in COLUMNS:
                    cols[c].append(int(row[c]))
        for kind, c in COLUMNS:
            results[(trace, kind)] = (c, stats(cols[c]))

    print(f"{'column':<22} {'rows':>6} {'mean':>9} {'median':>7} {'p99':>6} {'max':>6} {'table mean':>11} {'diff':>7}")
    for (trace, kind), (col, st) in results.items():
        diff = (st["table_mean"] - st["mean"]) / st["mean"] * 100
        print(
            f"{trace + ' ' + kind + ' (' + col + ')':<22} {st['rows']:>6} {st['mean']:>9.2f} {st['median']:>7} "
            f"{st['p99']:>6} {st['max']:>6} {st['table_mean']:>11.2f} {diff:>+6.2f}%"
        )

    doc = [
        "//! Token-length presets fitted from the Azure LLM inference traces (2023).",
        "//!",
        "//! Source: `AzureLLMInferenceTrace_conv.csv` and `AzureLLMInferenceTrace_code.csv` from",
        "//! <https://github.com/Azure/AzurePublicDataset> (files last changed in commit",
        "//! 790921015d50dd6aae7f7e47f39ba0e235ad6b08), one hour of requests each, collected",
        "//! 2023-11-16. Licence: CC-BY-4.0 (Microsoft Azure); attribution: Patel et al., \"Splitwise:",
        "//! Efficient Generative LLM Inference Using Phase Splitting\", ISCA 2024. Only derived",
        "//! quantiles are included here, not the trace itself.",
        "//!",
        "//! How the tables were made: `python3 scripts/token_presets.py` (reads the CSVs from",
        "//! `../shared/data/azure_llm_2023/`, rewrites this file). Each table holds the empirical",
        "//! quantiles at 0, 0.5, 1, ..., 99.5, 100 % (201 values): the exact order statistic",
        "//! `sorted[round(q × (n − 1))]` of the column (`ContextTokens` = input, `GeneratedTokens` =",
        "//! output).",
        "//!",
        "//! Sampling a table by inverse transform with linear interpolation between adjacent",
        "//! quantiles (u ~ U(0, 1), 200 equal-probability segments) gives a distribution whose mean",
        "//! is the average over the segments of (q_i + q_{i+1}) / 2; its median and p99 are the",
        "//! table entries at 50 % and 99 %. File vs table:",
        "//!",
        "//! | column | rows | file mean | table mean | file median | table median | file p99 | table p99 | max |",
        "//! |---|---|---|---|---|---|---|---|---|",
    ]
    for (trace, kind), (col, st) in results.items():
        doc.append(
            f"//! | {trace} {kind} (`{col}`) | {st['rows']:,} | {st['mean']:.1f} | {st['table_mean']:.1f} | "
            f"{st['median']:,} | {st['table_median']:,} | {st['p99']:,} | {st['table_p99']:,} | {st['max']:,} |"
        )
    doc += [
        "//!",
        "//! The table's tail above the 99.5 % quantile is one linear segment up to the file's",
        "//! maximum, so the table mean can differ slightly from the file mean (see above).",
        "",
        "/// Number of entries in every quantile table (0 % to 100 % in steps of 0.5 %).",
        f"pub const QUANTILE_POINTS: usize = {STEPS + 1};",
        "",
    ]
    names = {
        ("conv", "input"): "AZURE_CONV_INPUT_QUANTILES",
        ("conv", "output"): "AZURE_CONV_OUTPUT_QUANTILES",
        ("code", "input"): "AZURE_CODE_INPUT_QUANTILES",
        ("code", "output"): "AZURE_CODE_OUTPUT_QUANTILES",
    }
    label = {"conv": "conversation", "code": "code"}
    for (trace, kind), (col, st) in results.items():
        doc += [
            f"/// Azure {label[trace]} trace (2023), {kind} tokens (`{col}`): quantiles at 0, 0.5, ..., 100 %.",
            "///",
            f"/// Source column: {st['rows']:,} rows, mean {st['mean']:.1f}, median {st['median']:,}, "
            f"p99 {st['p99']:,}, min {st['min']:,}, max {st['max']:,}.",
            f"/// Mean when sampled with linear interpolation: {st['table_mean']:.1f}.",
            "/// Ten values a row: row r holds the quantiles at 5r, 5r + 0.5, ..., 5r + 4.5 %.",
            "#[rustfmt::skip]",
            f"pub const {names[(trace, kind)]}: [u32; {STEPS + 1}] = [",
            rust_array(st["table"]),
            "];",
            "",
        ]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(doc))
    print(f"wrote {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
