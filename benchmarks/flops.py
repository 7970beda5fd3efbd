"""This machine's matrix-multiply rate, and training / decoding as a fraction of it.

    python benchmarks/flops.py                                  # matmul GFLOP/s, fp32 and bf16
    python benchmarks/flops.py --train metrics/train.json --base assets/base \\
        --decode benchmarks/results/cpu.json

The rate is the best of several timed ``torch.matmul`` calls at the shapes a 135M-576-wide
model runs (tokens × hidden × intermediate), so it is what these layers can reach here, not a
datasheet peak. Training FLOPs are counted as 2 × (decoder parameters) per token forward, plus
2 × (parameters of the adapted layers) per token for the backward pass to the lowest adapted
layer (activation gradients; the frozen weights get none), plus the output head on labelled
tokens (forward and backward). Attention scores and the LoRA matrices are left out: the
fraction is a lower bound. Decoding uses ``decode.py``'s count (2 × parameters × tokens
written).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any


def matmul_gflops(dtype: Any, m: int = 2048, k: int = 576, n: int = 1536, reps: int = 20) -> float:
    import torch

    a = torch.randn(m, k).to(dtype)
    b = torch.randn(k, n).to(dtype)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * m * k * n / best / 1e9


def training_flops_per_s(train: dict[str, Any], base: Path) -> float:
    """Lower-bound FLOP/s of a ``train`` run from its summary (metrics/train.json)."""
    config = json.loads((base / "config.json").read_text())
    layers, hidden = config["num_hidden_layers"], config["hidden_size"]
    vocab, inter = config["vocab_size"], config["intermediate_size"]
    kv = hidden * config.get("num_key_value_heads", config["num_attention_heads"]) // config["num_attention_heads"]
    per_layer = hidden * (2 * hidden + 2 * kv) + 3 * hidden * inter
    top = train.get("top_layers") or layers
    run_tokens = train["run_tokens_per_s"]  # tokens through the model per second (prefix once per batch)
    stats = train["train_stats"]
    label_share = stats["label_tokens"] / max(stats["tokens"], 1)
    forward = 2 * per_layer * layers
    backward = 2 * per_layer * top
    head = 3 * 2 * hidden * vocab * label_share * train["tokens_per_s"] / max(run_tokens, 1e-9)
    return run_tokens * (forward + backward + head)


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", type=Path, help="metrics/train.json of a train run")
    ap.add_argument("--base", type=Path, default=Path("assets/base"), help="the base it trained (config.json)")
    ap.add_argument("--decode", type=Path, help="JSON written by benchmarks/decode.py --json")
    ap.add_argument("--json", dest="json_path", type=Path)
    args = ap.parse_args()

    rates = {"fp32": matmul_gflops(torch.float32), "bf16": matmul_gflops(torch.bfloat16)}
    out: dict[str, Any] = {"threads": torch.get_num_threads(), "matmul_gflops": {k: round(v, 1) for k, v in rates.items()}}
    print(f"threads {out['threads']}")
    print("| dtype | matmul GFLOP/s (2048x576 @ 576x1536) |\n|---|---|")
    for name, rate in rates.items():
        print(f"| {name} | {rate:.1f} |")
    if args.train:
        train = json.loads(args.train.read_text())
        flops = training_flops_per_s(train, args.base)
        out["training_gflops"] = round(flops / 1e9, 1)
        out["training_fraction_of_bf16_matmul"] = round(flops / 1e9 / rates["bf16"], 3)
        print(f"training: {flops / 1e9:.1f} GFLOP/s = {out['training_fraction_of_bf16_matmul']:.0%} of the bf16 matmul rate (lower bound)")
    if args.decode:
        decode = json.loads(args.decode.read_text())
        flops = 2 * decode["n_params"] * decode["tokens_per_s"]  # the fast path's (decode.py's contract)
        out["decoding_gflops"] = round(flops / 1e9, 1)
        out["decoding_fraction_of_fp32_matmul"] = round(flops / 1e9 / rates["fp32"], 3)
        print(f"decoding (fast path, fp32): {flops / 1e9:.1f} GFLOP/s = {out['decoding_fraction_of_fp32_matmul']:.0%} of the fp32 matmul rate (tokens written only: lower bound)")
    if args.json_path:
        args.json_path.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
