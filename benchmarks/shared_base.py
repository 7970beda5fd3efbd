"""Memory and speed of one shared base with two adapters vs two private copies of the base.

Pair ``textcat``: a pipeline of ``llm_ner`` (XMLNER.v1) + ``llm_textcat`` (TextCat.v1), both on
``spacy_llmner.HF.v1`` with the same base and each with its own LoRA adapter, run three ways, each
in its own process (so resident memory is that setup's alone):

- ``separate``: two private copies of the base, adapters merged (the default, ``share_base = false``);
- ``separate_unmerged``: two private copies, adapters kept as LoRA layers (``merge_adapter = false``):
  the same per-token compute as sharing, to separate the cost of unmerged LoRA from that of sharing;
- ``shared``: ``share_base = true``: one base, both adapters on it, switched per call.

Pair ``head``: ``llm_ner`` (HF.v1) + ``llm_textcat_head`` (the LLM's last hidden state → a
linear head, LoRA on the LLM) on the same base, two ways: ``separate`` (private copies, both
adapters merged: the defaults) and ``shared`` (``share_base = true`` on both). The head has no
``merge_adapter`` setting, so ``separate_unmerged`` is run for the ``textcat`` pair only.

Reported per setup: RSS after the pipeline has loaded and run one warm-up pass, peak RSS
(``ru_maxrss``), the bytes of the distinct parameter tensors the components hold (a shared base
counts once; LoRA layers included), and docs/s over the timed documents (both components: NER +
classification per doc).

    python benchmarks/shared_base.py /path/to/base [--ner-adapter DIR] [--cat-adapter DIR] \
        [--head-adapter DIR] [--pairs textcat,head] [--n-docs 16] \
        [--json benchmarks/results/shared_base.json]

Without adapters it writes untrained LoRA adapters (r=16, all linear layers, random B matrices so
they change the weights) for the base, and for the head a directory with such a LoRA adapter and
a small random head: enough for memory and speed, meaningless for accuracy.
"""

from __future__ import annotations

import argparse
import copy
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast

NER_LABELS = "hipaa"
CATS = ["personal data", "no personal data"]
PAIRS = ("textcat", "head")
MODES = ("separate", "separate_unmerged", "shared")
_NAMES = ["John Doe", "Mary Smith", "Wei Zhang", "Ana Lopez"]
_PLACES = ["42 Main Street, Springfield", "Boston", "12 Elm Road", "Chicago"]


def documents(n: int) -> list[str]:
    """Short clinical-style notes, some with identifiers and some without."""
    out = []
    for i in range(n):
        if i % 3 == 2:
            out.append(f"The follow-up visit went well and the dose stays at {5 + i} mg daily.")
        else:
            out.append(
                f"Patient {_NAMES[i % 4]} was seen on 03/{10 + i % 18}/2021 at {_PLACES[i % 4]}; "
                f"call 555-{100 + i:03d}-4567 with questions."
            )
    return out


def make_adapter(base: str, out: Path, seed: int, meta: dict[str, Any]) -> Path:
    """An untrained LoRA adapter with random (non-zero) B matrices, saved as safetensors."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules="all-linear"))
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=gen) * 1e-3)
    model.save_pretrained(out)
    (out / "spacy_llmner.json").write_text(json.dumps(meta), encoding="utf8")
    return out


def make_head(base: str, out: Path, seed: int) -> Path:
    """An untrained ``train-textcat``-style head directory: random LoRA (as ``make_adapter``) plus
    a small random linear head over the base's hidden size for ``CATS``."""
    from transformers import AutoConfig

    from spacy_llmner.textcat.head import HeadMeta, new_head, save_head

    make_adapter(base, out, seed, {})
    (out / "spacy_llmner.json").unlink()  # a head directory carries head.json instead
    config = AutoConfig.from_pretrained(base)
    config = config.get_text_config() if hasattr(config, "get_text_config") else config
    meta = HeadMeta(
        kind="textcat_head", base_model=base, labels=CATS, exclusive_classes=True, pooling="last", temperature=1.0,
    )
    return save_head(new_head(int(config.hidden_size), len(CATS), seed=seed), out, meta)


def _param_mb(nlp: Any) -> float:
    """MB of the distinct parameter tensors the pipeline's components hold (shared ones once)."""
    from spacy_llmner.textcat.component import TextCatHead

    seen: set[int] = set()
    total = 0
    for _, pipe in nlp.pipeline:
        module = pipe._model if isinstance(pipe, TextCatHead) else pipe._model.hf_model
        for p in module.parameters():
            if p.data_ptr() not in seen:
                seen.add(p.data_ptr())
                total += p.numel() * p.element_size()
    return total / 2**20


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _run(args: dict[str, Any], queue: Any) -> None:
    import spacy
    import torch

    import spacy_llmner  # noqa: F401 - registers the task and model names
    import spacy_llmner.textcat.component  # noqa: F401 - registers llm_textcat_head

    torch.set_num_threads(args["threads"])
    mode, pair = args["mode"], args["pair"]
    model = {"@llm_models": "spacy_llmner.HF.v1", "name": args["base"]}
    if mode == "shared":
        model["share_base"] = True
    elif mode == "separate_unmerged":
        model["merge_adapter"] = False
    nlp = spacy.blank("en")
    ner = copy.deepcopy(args["ner_config"])
    ner["model"].update(model)
    nlp.add_pipe("llm_ner", config=ner)
    if pair == "head":
        nlp.add_pipe("llm_textcat_head", config={
            "base": args["base"], "adapter": args["head_adapter"], "share_base": mode == "shared",
        })
    else:
        nlp.add_pipe("llm_textcat", config={
            "task": {"@llm_tasks": "spacy_llmner.TextCat.v1", "labels": CATS},
            "model": {**model, "adapter": args["cat_adapter"]},
            "save_io": False,
        })
    rss_start = _rss_mb()
    docs = documents(args["n_docs"])
    t0 = time.perf_counter()
    list(nlp.pipe(docs[:2]))  # loads the weights, warms up
    load_s = time.perf_counter() - t0
    rss_loaded = _rss_mb()
    t0 = time.perf_counter()
    out = list(nlp.pipe(docs))
    seconds = time.perf_counter() - t0
    from spacy_llmner.models import shared

    queue.put({
        "pair": pair,
        "mode": mode,
        "param_mb": round(_param_mb(nlp), 1),
        "rss_before_load_mb": round(rss_start, 1),
        "rss_loaded_mb": round(rss_loaded, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "first_pass_s": round(load_s, 2),
        "seconds": round(seconds, 2),
        "docs_per_s": round(len(docs) / seconds, 3),
        "n_docs": len(docs),
        "entities": sum(len(d.ents) for d in out),
        "bases_loaded_by_registry": shared.load_count,
        "cats_first_doc": {k: round(v, 4) for k, v in out[0].cats.items()},
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base", help="Base model: local directory or hub id")
    parser.add_argument("--ner-adapter", default=None)
    parser.add_argument("--cat-adapter", default=None)
    parser.add_argument("--head-adapter", default=None, help="train-textcat output dir (default: an untrained LoRA head)")
    parser.add_argument(
        "--pairs", default="textcat,head",
        help="textcat: llm_ner + llm_textcat; head: llm_ner + llm_textcat_head (comma-separated)",
    )
    parser.add_argument("--n-docs", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--modes", default="separate,separate_unmerged,shared")
    parser.add_argument("--json", type=Path, default=None)
    ns = parser.parse_args()
    pairs, modes = ns.pairs.split(","), ns.modes.split(",")
    for value, known, what in ((pairs, PAIRS, "--pairs"), (modes, MODES, "--modes")):
        if set(value) - set(known):
            parser.error(f"{what}: unknown {sorted(set(value) - set(known))}; choose from {', '.join(known)}")
    with tempfile.TemporaryDirectory() as tmp:
        ner = ns.ner_adapter or str(make_adapter(
            ns.base, Path(tmp) / "ner", 0, {"labels": _hipaa(), "template_version": "v1"}
        ))
        ner_config = _ner_config(ns.base, ner)
        cat = head = None
        if "textcat" in pairs:
            cat = ns.cat_adapter or str(make_adapter(
                ns.base, Path(tmp) / "cat", 1, {"labels": {c: "" for c in CATS}, "template_version": "textcat1"}
            ))
        if "head" in pairs:
            head = ns.head_adapter or str(make_head(ns.base, Path(tmp) / "head", 2))
        ctx = mp.get_context("spawn")
        rows = []
        for pair in pairs:
            for mode in modes:
                if pair == "head" and mode == "separate_unmerged":
                    continue  # the head has no merge_adapter setting
                queue = ctx.Queue()
                args = {"pair": pair, "mode": mode, "base": ns.base, "ner_config": ner_config, "cat_adapter": cat,
                        "head_adapter": head, "n_docs": ns.n_docs, "threads": ns.threads}
                proc = ctx.Process(target=_run, args=(args, queue))
                proc.start()
                rows.append(_result(proc, queue, f"{pair}/{mode}"))
                proc.join()
    print(f"{'pair':<9}{'mode':<20}{'RSS loaded MB':>15}{'peak RSS MB':>13}{'params MB':>11}{'docs/s':>9}"
          f"{'bases loaded':>14}")
    for r in rows:
        print(f"{r['pair']:<9}{r['mode']:<20}{r['rss_loaded_mb']:>15}{r['peak_rss_mb']:>13}{r['param_mb']:>11}"
              f"{r['docs_per_s']:>9}{r['bases_loaded_by_registry']:>14}")
    if ns.json:
        import torch

        record = {
            "base": ns.base,
            "adapters": {
                "ner": ns.ner_adapter or "untrained LoRA r=16 all-linear (random B)",
                "textcat": (ns.cat_adapter or "untrained LoRA r=16 all-linear (random B)") if cat else None,
                "head": (ns.head_adapter or "untrained LoRA r=16 all-linear (random B) + random head") if head else None,
            },
            "conditions": {
                "device": "cpu", "dtype": "float32 (pick_device_dtype's CPU default)",
                "torch_threads": ns.threads, "cpu_count": os.cpu_count(),
                "python": sys.version.split()[0], "torch": torch.__version__, "platform": platform.platform(),
                "note": "each mode in its own spawned process; shared CPUs (other jobs serialised by flock)",
            },
            "rows": rows,
        }
        ns.json.parent.mkdir(parents=True, exist_ok=True)
        ns.json.write_text(json.dumps(record, indent=2), encoding="utf8")


def _result(proc: Any, queue: Any, what: str) -> dict[str, Any]:
    """The worker's row; exits (instead of waiting forever) when the worker died first."""
    import queue as queue_mod

    while True:
        try:
            return cast(dict[str, Any], queue.get(timeout=2))
        except queue_mod.Empty:
            if not proc.is_alive():
                raise SystemExit(f"{what}: the worker exited with code {proc.exitcode} (its traceback is above)") from None


def _ner_config(base: str, adapter: str) -> dict[str, Any]:
    """``llm_ner`` as ``assemble`` builds it from the adapter's metadata (labels, template,
    decoding), so a trained adapter is benchmarked with the prompt it learned."""
    from spacy_llmner.assemble import pipeline_config
    from spacy_llmner.training.lora import read_meta

    meta = read_meta(adapter)
    return pipeline_config(
        base, adapter, dict(meta.get("labels") or _hipaa()), template_version=meta.get("template_version", "v1"),
        peft_method=meta.get("peft_method", "lora"),
    )


def _hipaa() -> dict[str, str]:
    from spacy_llmner.prompting import resolve_labels

    return resolve_labels(NER_LABELS)


if __name__ == "__main__":
    main()
