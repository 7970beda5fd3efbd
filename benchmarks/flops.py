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


def matmul_gflops(dtype: Any, m: int = 2048, k: int = 576, n: int = 1536, reps: int = 20, device: str = "cpu") -> float:
    import torch

    a = torch.randn(m, k, device=device).to(dtype)
    b = torch.randn(k, n, device=device).to(dtype)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    for _ in range(3):
        a @ b
    sync()
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        a @ b
        sync()
        best = min(best, time.perf_counter() - start)
    return 2 * m * k * n / best / 1e9


def model_shape(model: Any) -> dict[str, int]:
    """What FLOP counts need of a causal LM: parameters of the layers every token goes through
    (embeddings and the output head apart), widths, depth and vocabulary."""
    from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear

    cfg = model.config
    body = sum(p.numel() for n, p in model.named_parameters() if "embed" not in n and "lm_head" not in n)
    # int8 linears (quantize = "int8") keep their weights packed outside parameters(); they do
    # the same multiply-adds as the float layer they replace, so they count the same.
    body += sum(m.in_features * m.out_features + (m.out_features if m.bias() is not None else 0)
                for n, m in model.named_modules() if isinstance(m, DynamicInt8Linear) and "lm_head" not in n)
    heads = cfg.num_attention_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
    return {"body_params": int(body), "hidden": int(cfg.hidden_size), "layers": int(cfg.num_hidden_layers),
            "attn_width": int(heads * head_dim), "vocab": int(cfg.vocab_size)}


def forward_flops(shape: dict[str, int], tokens: float, context: float, head_rows: float, head_ids: float = 0.0) -> float:
    """FLOPs of running ``tokens`` through the model: 2 per body parameter per token, attention
    scores and mixing over ``context`` keys on average (4 x layers x width per token and key),
    the full output head on ``head_rows`` positions and a restricted one over ``head_ids``
    (token, id) pairs in all (the constrained decoders score allowed ids only)."""
    body = 2.0 * shape["body_params"] * tokens
    attn = 4.0 * shape["layers"] * shape["attn_width"] * tokens * context
    head = 2.0 * shape["hidden"] * (shape["vocab"] * head_rows + head_ids)
    return body + attn + head


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
        share = out["training_fraction_of_bf16_matmul"]
        print(f"training: {flops / 1e9:.1f} GFLOP/s = {share:.0%} of the bf16 matmul rate (lower bound)")
    if args.decode:
        decode = json.loads(args.decode.read_text())
        flops = 2 * decode["n_params"] * decode["tokens_per_s"]  # the fast path's (decode.py's contract)
        out["decoding_gflops"] = round(flops / 1e9, 1)
        out["decoding_fraction_of_fp32_matmul"] = round(flops / 1e9 / rates["fp32"], 3)
        share = out["decoding_fraction_of_fp32_matmul"]
        print(f"decoding (fast path, fp32): {flops / 1e9:.1f} GFLOP/s = {share:.0%} of the fp32 matmul rate"
              " (tokens written only: lower bound)")
    if args.json_path:
        args.json_path.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
