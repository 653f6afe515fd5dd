#!/usr/bin/env python3
"""Print the markdown summary table of the LLM performance profiles in profiles/*.toml.

Usage (from the crate root):  python3 scripts/profile_table.py [PROFILE_DIR]

For every profile: decode step at batch 1 and 32, prefill time of 1,000 and 8,000 prompt
tokens, kv_cache_tokens, and the source kind (read from the header comment line
`# source-kind: measured|calibrated|roofline`). Evaluation rules (the engine's):
  decode  formula: base + per_seq × batch
          table:   piecewise-linear in batch, flat below the first point, the last segment's
                   slope beyond the last point
  prefill tokens_per_s: L / rate;  DistServe: base + per_token·L + per_token_squared·L²;
          table: piecewise-linear like decode.
It also checks the schema: only known keys, id equal to the file name, gpu in the known set.
Standard library only (tomllib, Python ≥ 3.11).
"""
import glob
import os
import re
import sys
import tomllib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEYS = {"id", "model", "gpu", "gpus", "kv_cache_tokens", "decode", "prefill"}
GPUS = {"h100", "h200", "a100", "h20"}
UNITS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def dur(text):
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(ns|us|ms|s)\s*", text)
    if not m:
        raise ValueError(f"bad duration {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def piecewise(xs, ys, x):
    if len(xs) != len(ys) or not xs or any(b <= a for a, b in zip(xs, xs[1:])):
        raise ValueError("table needs equal-length, strictly increasing points")
    if x <= xs[0]:
        return ys[0]
    if len(xs) == 1:
        return ys[0]
    for i in range(1, len(xs)):
        if x <= xs[i] or i == len(xs) - 1:
            x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)


def decode_step(d, batch):
    if "batch" in d:
        return piecewise(d["batch"], [dur(s) for s in d["step"]], batch)
    return dur(d["base"]) + dur(d["per_seq"]) * batch


def prefill_time(p, tokens):
    if "tokens_per_s" in p:
        return tokens / p["tokens_per_s"]
    if "tokens" in p:
        return piecewise(p["tokens"], [dur(s) for s in p["time"]], tokens)
    c = dur(p["per_token_squared"]) if "per_token_squared" in p else 0.0
    return dur(p["base"]) + dur(p["per_token"]) * tokens + c * tokens * tokens


def ms(x):
    return f"{x * 1e3:,.1f}"


def main():
    pdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "profiles")
    rows = []
    for path in sorted(glob.glob(os.path.join(pdir, "*.toml"))):
        text = open(path, encoding="utf-8").read()
        prof = tomllib.loads(text)
        name = os.path.basename(path)[: -len(".toml")]
        extra = set(prof) - KEYS
        missing = KEYS - set(prof)
        if extra or missing:
            raise SystemExit(f"{path}: unknown keys {sorted(extra)}, missing keys {sorted(missing)}")
        if prof["id"] != name:
            raise SystemExit(f"{path}: id {prof['id']!r} differs from the file name")
        if prof["gpu"] not in GPUS:
            raise SystemExit(f"{path}: gpu {prof['gpu']!r} not in {sorted(GPUS)}")
        m = re.search(r"^#\s*source-kind:\s*(\w+)", text, re.M)
        kind = m.group(1) if m else "?"
        rows.append(
            f"| `{prof['id']}` | {prof['model']} | {prof['gpu'].upper()} × {prof['gpus']} "
            f"| {ms(decode_step(prof['decode'], 1))} | {ms(decode_step(prof['decode'], 32))} "
            f"| {ms(prefill_time(prof['prefill'], 1000))} | {ms(prefill_time(prof['prefill'], 8000))} "
            f"| {prof['kv_cache_tokens']:,} | {kind} |"
        )
    print("| id | model | GPU × n | decode step, batch 1 (ms) | decode step, batch 32 (ms) "
          "| prefill 1,000 tok (ms) | prefill 8,000 tok (ms) | kv_cache_tokens | source |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
