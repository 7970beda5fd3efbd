"""Memory and speed of one shared base with two adapters vs two private copies of the base.

A pipeline of ``llm_ner`` (XMLNER.v1) + ``llm_textcat`` (TextCat.v1), both on ``spacy_llmner.HF.v1``
with the same base and each with its own LoRA adapter, run three ways, each in its own process
(so resident memory is that setup's alone):

- ``separate``: two private copies of the base, adapters merged (the default, ``share_base = false``);
- ``separate_unmerged``: two private copies, adapters kept as LoRA layers (``merge_adapter = false``):
  the same per-token compute as sharing, to separate the cost of unmerged LoRA from that of sharing;
- ``shared``: ``share_base = true``: one base, both adapters on it, switched per call.

Reported: RSS after the pipeline has loaded and run one warm-up pass, peak RSS (``ru_maxrss``), and
docs/s over the timed documents (both components: NER + classification per doc).

    python benchmarks/shared_base.py /path/to/base [--ner-adapter DIR] [--cat-adapter DIR] \
        [--n-docs 16] [--json benchmarks/results/shared_base.json]

Without adapters it writes two untrained LoRA adapters (r=16, all linear layers, random B
matrices so they change the weights) for the base: enough for memory and speed, meaningless for
accuracy.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NER_LABELS = "hipaa"
CATS = ["personal data", "no personal data"]
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


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _run(args: dict[str, Any], queue: Any) -> None:
    import spacy
    import torch

    import spacy_llmner  # noqa: F401 - registers the task and model names

    torch.set_num_threads(args["threads"])
    mode = args["mode"]
    model = {"@llm_models": "spacy_llmner.HF.v1", "name": args["base"]}
    if mode == "shared":
        model["share_base"] = True
    elif mode == "separate_unmerged":
        model["merge_adapter"] = False
    nlp = spacy.blank("en")
    nlp.add_pipe("llm_ner", config={
        "task": {"@llm_tasks": "spacy_llmner.XMLNER.v1", "labels": NER_LABELS},
        "model": {**model, "adapter": args["ner_adapter"]},
        "save_io": False,
    })
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
        "mode": mode,
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
    parser.add_argument("--n-docs", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--modes", default="separate,separate_unmerged,shared")
    parser.add_argument("--json", type=Path, default=None)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ner = ns.ner_adapter or str(make_adapter(
            ns.base, Path(tmp) / "ner", 0, {"labels": _hipaa(), "template_version": "v1"}
        ))
        cat = ns.cat_adapter or str(make_adapter(
            ns.base, Path(tmp) / "cat", 1, {"labels": {c: "" for c in CATS}, "template_version": "textcat1"}
        ))
        ctx = mp.get_context("spawn")
        rows = []
        for mode in ns.modes.split(","):
            queue = ctx.Queue()
            args = {"mode": mode, "base": ns.base, "ner_adapter": ner, "cat_adapter": cat,
                    "n_docs": ns.n_docs, "threads": ns.threads}
            proc = ctx.Process(target=_run, args=(args, queue))
            proc.start()
            rows.append(queue.get())
            proc.join()
    print(f"{'mode':<20}{'RSS loaded MB':>15}{'peak RSS MB':>13}{'docs/s':>9}{'bases loaded':>14}")
    for r in rows:
        print(f"{r['mode']:<20}{r['rss_loaded_mb']:>15}{r['peak_rss_mb']:>13}{r['docs_per_s']:>9}"
              f"{r['bases_loaded_by_registry']:>14}")
    if ns.json:
        import torch

        record = {
            "base": ns.base,
            "adapters": "given" if ns.ner_adapter and ns.cat_adapter else "untrained LoRA r=16 all-linear (random B)",
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


def _hipaa() -> dict[str, str]:
    from spacy_llmner.prompting import resolve_labels

    return resolve_labels(NER_LABELS)


if __name__ == "__main__":
    main()
