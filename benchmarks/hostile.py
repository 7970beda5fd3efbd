"""Decoding cost of hostile input: passes per character against plain text of the same length.

Every input of ``spacy_llmner.data.hostile.HOSTILE_SET`` (markup, CDATA, comments, literal tags,
control bytes, ANSI escapes, injection, right-to-left, zero-width, emoji, ...) and prose of the
same length (``plain_like``) are decoded one at a time by the fast decoder; forward passes are
counted (deterministic: no timing), with the draft tokens accepted and why each pass ended. The
worst ratio of hostile to plain passes is the figure the issue's target bounds (<= 2). Where the
model tags entities in an input, a third twin (``plain_with``) is prose holding those same
entities: its ratio counts what the markup costs, apart from the tags.

    python benchmarks/hostile.py --base assets/base --json benchmarks/results/hostile.json
    python benchmarks/hostile.py --base assets/base --draft-bytes 0      # the old draft budget
    python benchmarks/hostile.py --base assets/base --lora-std 0.3       # a model that tags
    python benchmarks/hostile.py --base assets/base --adapter training/release/adapter  # the release

``--lora-std`` perturbs the base with a random LoRA (as ``tests/test_real_base.py`` does) so it
opens tags: an untuned base tags almost nothing, and tags are where passes go.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any


def load(base: str, lora_std: float, device: str = "cpu", adapter: str | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) of ``base`` with a trained ``adapter`` merged in, or perturbed by a
    random LoRA of ``lora_std`` if non-zero."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(base)
    if adapter:
        from spacy_llmner.models.loading import load_model

        return load_model(base, adapter, torch.device(device), torch.float32, False, True, tokenizer=tok), tok
    model = AutoModelForCausalLM.from_pretrained(base).to(device).eval()
    if lora_std:
        from peft import LoraConfig, get_peft_model

        torch.manual_seed(0)
        config = LoraConfig(r=4, target_modules=["q_proj", "v_proj", "o_proj", "down_proj"], init_lora_weights=False)
        peft_model = get_peft_model(model, config)
        with torch.no_grad():
            for name, param in peft_model.named_parameters():
                if "lora_B" in name:
                    param.normal_(0.0, lora_std)
        model = peft_model.merge_and_unload().eval()
    return model, tok


def measure(model: Any, tok: Any, texts: dict[str, str], labels: str = "hipaa", copy_tokens: str = "canonical",
            max_draft: int = 16, draft_bytes: int | None = None, shared_prefix: str = "auto",
            template: str = "v2") -> dict[str, Any]:
    """Per input: passes (prefill included), output tokens, entities and pass ends, for the input,
    for plain text of its length and for plain text holding the entities found in it; and the
    worst ratio of their passes."""
    import spacy

    from spacy_llmner.data.hostile import plain_like, plain_with
    from spacy_llmner.decoding import Constraint, FastDecoder, FastOptions, Vocab
    from spacy_llmner.prompting import build_messages, document_ids, eos_ids, prompt_frame, resolve_labels

    label_set = resolve_labels(labels)
    framed = prompt_frame(tok, build_messages(label_set, version=template))
    frame, prefix = framed.frame, framed.prefix_ids
    vocab = Vocab.from_tokenizer(tok, eos_ids(tok, frame))
    options = FastOptions(copy_tokens=copy_tokens, max_draft=max_draft, shared_prefix=shared_prefix)
    if draft_bytes is not None:
        options = options.with_changes(draft_bytes=draft_bytes)
    dec = FastDecoder(model, vocab, tok, options=options)
    nlp = spacy.blank("en")
    rows: dict[str, Any] = {}

    def run(t: str) -> tuple[dict[str, Any], list[str]]:
        spans = [(x.idx, x.idx + len(x)) for x in nlp(t) if not x.is_space]
        cons = Constraint.build(t, list(label_set), spans, vocab.lead)
        dec.stats.pass_ends.clear()
        res = dec.decode(prefix, [document_ids(tok, frame, t)], [cons], batch_size=1)[0]
        found = [t[s:e] for s, e, _ in res.spans]
        return {
            "passes": res.n_forward,
            "tokens": len(res.token_ids),
            "entities": len(res.spans),
            "tokens_per_pass": len(res.token_ids) / max(res.n_forward - 1, 1),
            "pass_ends": dict(dec.stats.pass_ends),
        }, found

    for name, text in texts.items():
        row: dict[str, Any] = {"chars": len(text)}
        row["hostile"], found = run(text)
        row["plain"], _ = run(plain_like(text))
        # The entity-matched twin: prose holding the entities the model found in the input, so
        # that the ratio counts the markup, not the tags (the same as plain where none is found).
        row["matched"] = run(plain_with(text, found))[0] if found else row["plain"]
        row["ratio"] = row["hostile"]["passes"] / row["plain"]["passes"]
        row["ratio_matched"] = row["hostile"]["passes"] / row["matched"]["passes"]
        rows[name] = row
    worst = max(rows, key=lambda n: rows[n]["ratio"])
    worst_matched = max(rows, key=lambda n: rows[n]["ratio_matched"])
    total_h = sum(r["hostile"]["passes"] for r in rows.values())
    total_p = sum(r["plain"]["passes"] for r in rows.values())
    chars = sum(r["chars"] for r in rows.values())
    return {
        "inputs": rows,
        "worst": worst,
        "worst_ratio": rows[worst]["ratio"],
        "worst_matched": worst_matched,
        "worst_matched_ratio": rows[worst_matched]["ratio_matched"],
        "hostile_passes_per_char": total_h / chars,
        "plain_passes_per_char": total_p / chars,
        "options": {"copy_tokens": copy_tokens, "max_draft": max_draft, "draft_bytes": options.draft_bytes,
                    "cascade": dec.cascade},
    }


def report(result: dict[str, Any]) -> str:
    """The table: passes and tokens per pass for each input and its plain twin, and the ratio."""
    lines = [f"{'input':<16}{'chars':>6}{'passes':>8}{'plain':>7}{'ratio':>7}{'matched':>9}{'ratio':>7}"
             f"{'tok/pass':>10}{'ents':>6}  pass ends"]
    for name, r in result["inputs"].items():
        h, p, m = r["hostile"], r["plain"], r["matched"]
        ends = ",".join(f"{k}{v}" for k, v in sorted(h["pass_ends"].items()))
        lines.append(f"{name:<16}{r['chars']:>6}{h['passes']:>8}{p['passes']:>7}{r['ratio']:>7.2f}"
                     f"{m['passes']:>9}{r['ratio_matched']:>7.2f}"
                     f"{h['tokens_per_pass']:>10.1f}{h['entities']:>6}  {ends}")
    lines.append(f"passes/char: hostile {result['hostile_passes_per_char']:.3f}, "
                 f"plain {result['plain_passes_per_char']:.3f}; worst ratio {result['worst_ratio']:.2f} "
                 f"({result['worst']}); against entity-matched twins "
                 f"{result['worst_matched_ratio']:.2f} ({result['worst_matched']}); options {result['options']}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="assets/base", help="a causal LM directory (the default base)")
    ap.add_argument("--adapter", default=None, help="a trained adapter to merge (e.g. training/release/adapter)")
    ap.add_argument("--lora-std", type=float, default=0.0, help="random LoRA perturbation (0: the base as is)")
    ap.add_argument("--labels", default="hipaa", help="a preset or comma-separated labels")
    ap.add_argument("--template", default="v2", help="prompt template version (the release's: v2)")
    ap.add_argument("--copy-tokens", choices=["any", "canonical"], default="canonical")
    ap.add_argument("--max-draft", type=int, default=16)
    ap.add_argument("--draft-bytes", type=int, default=None, help="the draft's byte budget (default: the decoder's)")
    ap.add_argument("--names", default="", help="comma-separated subset of the hostile set")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", dest="json_path", default=None)
    args = ap.parse_args()
    if not Path(args.base).exists():
        sys.exit(f"No model at {args.base}: pass --base DIR (e.g. the materialized default base).")
    import torch

    from spacy_llmner.data.hostile import HOSTILE_SET

    torch.set_num_threads(args.threads or int(os.environ.get("OMP_NUM_THREADS", "0")) or torch.get_num_threads())
    names = [n for n in args.names.split(",") if n] or list(HOSTILE_SET)
    model, tok = load(args.base, args.lora_std, args.device, args.adapter)
    result = measure(model, tok, {n: HOSTILE_SET[n] for n in names}, args.labels,
                     args.copy_tokens, args.max_draft, args.draft_bytes, template=args.template)
    result["base"], result["lora_std"], result["adapter"] = args.base, args.lora_std, args.adapter
    print(report(result))
    if args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
