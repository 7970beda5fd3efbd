"""The figures in README.md and docs/results.md, rendered from their results files.

    python benchmarks/report.py           # rewrite every generated table in place
    python benchmarks/report.py --check   # exit 1 and name the tables that differ (tests run this)

A generated table sits between ``<!-- figures:NAME -->`` and ``<!-- /figures -->``; everything
inside is rewritten from the JSON it names, so a table cannot drift from its source. Prose around
the tables is written by hand and must not quote figures that are not in a table.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOCS = (ROOT / "README.md", ROOT / "docs" / "results.md")
BLOCK = re.compile(r"(<!-- figures:(?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- /figures -->)", re.DOTALL)


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf8"))


def _header(*columns: str) -> list[str]:
    """A Markdown table's header and rule lines."""
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def _prf(d: dict[str, Any], bold: bool = True) -> str:
    f = f"**{d['f']:.2f}**" if bold else f"{d['f']:.2f}"
    return f"{d['p']:.2f} / {d['r']:.2f} / {f}"


RELEASED = ROOT / "spacy_llmner" / "released"


def _default_release() -> str:
    """``DEFAULT_RELEASE`` as catalog.py spells it, read without importing the package."""
    match = re.search(r'^DEFAULT_RELEASE = "([^"]+)"', (RELEASED / "catalog.py").read_text(encoding="utf8"), re.M)
    assert match, "catalog.py defines DEFAULT_RELEASE"
    return match.group(1)


def _release_record(name: str | None = None) -> dict[str, Any] | None:
    path = RELEASED / (name or _default_release()) / "RELEASE.json"
    return _load(path) if path.exists() else None


CORPUS_NAMES = {
    "test.spacy": "generated test split: held-out templates and document kinds",
    "dev.jsonl": "WNUT-17 dev tweets (person, location, corporation)",
    "clinical_style.jsonl": "25 hand-written clinical notes (nursing, ICU, social work)",
}


def release() -> str:
    """The released model on each corpus, under the Safe Harbor policy it ships with."""
    record = _release_record()
    if record is None:
        return "_No released model is installed._\n"
    rows = _header("corpus", "docs", "typed exact-span P / R / F1", "PII characters P / R / F1", "docs/s")
    filtered = record.get("span_filters", {})
    for name, corpus in filtered.items():
        row = corpus["rows"].get("safe_harbor") or corpus["rows"]["sanity"]
        rows.append(f"| {CORPUS_NAMES.get(name, name)} | {corpus['docs']} | {_prf(row['typed'])} | "
                    f"{_prf(row['chars'])} | {corpus['docs_per_s']:.2f} |")
    for name, rep in record.get("scores", {}).items():
        if name.startswith("wnut"):
            rows.append(f"| {CORPUS_NAMES['dev.jsonl']} | {rep['docs']} | {_prf(rep['overall'])} | "
                        f"{_prf(rep['chars'])} | {rep['docs_per_s']:.2f} |")
    train = record["training"]
    done = f"{train['steps']} of {train.get('planned_steps', train['steps'])} steps"
    rows.append("")
    rows.append(f"Trained {done} ({record['corpus'].get('n_train')} generated documents, seed "
                f"{record['corpus'].get('seed')}), {train.get('wall_seconds', 0) / 3600:.1f} h of CPU; "
                f"dev loss {train.get('eval_loss', float('nan')):.3f}. Base {record['base']['hub_id']} "
                f"({record['base'].get('license', '?')}).")
    return "\n".join(rows) + "\n"


def releases() -> str:
    """Every installed release at its full budget, side by side: what the default is chosen by."""
    paths = sorted(RELEASED.glob("*/RELEASE.json"))
    if not paths:
        return "_No released model is installed._\n"
    default = _default_release()
    rows = _header("release", "base (licence)", "steps, CPU h, s/step", "dev loss", "test typed F1 / chars R",
                   "clinical typed F1 / chars P", "WNUT-17 typed F1", "test docs/s")
    for path in paths:
        name, record = path.parent.name, _load(path)
        train, base = record["training"], record["base"]
        test = record["span_filters"]["test.spacy"]
        clinical = record["span_filters"]["clinical_style.jsonl"]["rows"]["safe_harbor"]
        t = test["rows"]["safe_harbor"]
        wnut = next(rep for key, rep in record["scores"].items() if key.startswith("wnut"))
        label = f"`{name}`" + (" (default)" if name == default else "")
        rows.append(f"| {label} | {base['hub_id']} ({base.get('license', '?')}) | {train['steps']}, "
                    f"{train.get('wall_seconds', 0) / 3600:.1f}, {train['seconds_per_step']:.0f} | "
                    f"{train['eval_loss']:.4f} | {t['typed']['f']:.2f} / {t['chars']['r']:.2f} | "
                    f"{clinical['typed']['f']:.2f} / {clinical['chars']['p']:.2f} | {wnut['overall']['f']:.2f} | "
                    f"{test['docs_per_s']:.2f} |")
    return "\n".join(rows) + "\n"


def span_filters() -> str:
    """What the sanity filter and the policy do to the released model's scores."""
    record = _release_record()
    if record is None or "span_filters" not in record:
        return "_Not measured._\n"
    rows = _header("corpus", "spans as decoded", "+ sanity", "+ Safe Harbor policy")
    for name, corpus in record["span_filters"].items():
        r = corpus["rows"]
        cells = [f"typed F1 {r[k]['typed']['f']:.3f}, chars P {r[k]['chars']['p']:.3f} R {r[k]['chars']['r']:.3f}"
                 for k in ("raw", "sanity", "safe_harbor") if k in r]
        rows.append(f"| {CORPUS_NAMES.get(name, name)} | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def base_compare() -> str:
    """The two bases on the same data and training budget (benchmarks/base_compare.py)."""
    path = RESULTS / "base_compare.json"
    if not path.exists():
        return "_Not measured._\n"
    d = _load(path)
    rows = _header("base", "training, s/step", "corpus", "docs", "typed F1", "PII chars P / R / F1", "docs/s")
    for name, row in d.items():
        train = row["train"]
        step = f"{train['steps']} steps, {train['seconds_per_step']:.0f}"
        for corpus, rep in row["scores"]["corpora"].items():
            r = rep["rows"]["safe_harbor"]
            rows.append(f"| {name} | {step} | {CORPUS_NAMES.get(corpus, corpus)} | {rep['docs']} | "
                        f"{r['typed']['f']:.2f} | {_prf(r['chars'], False)} | {rep['docs_per_s']:.2f} |")
            step = ""
    return "\n".join(rows) + "\n"


def main_job() -> str:
    """The main job (`spacy project run all`) from a clean clone, per machine."""
    rows = _header("CPU (2 cores)", "precision", "wall time, setup included", "training", "typed F1", "PII chars F1")
    for name, cpu in (("workflow_smollm2.json", "AVX512-BF16"), ("workflow_smollm2_avx2.json", "AVX2 only")):
        d = _load(RESULTS / name)
        test = d["test_heldout"]
        chars = test.get("chars")
        rows.append(f"| {cpu} | {'bf16' if d['train'].get('bf16', True) else 'float32'} | {d['wall_time'].split(' with')[0]} | "
                    f"{d['train']['steps']} steps, {d['train']['seconds'] / 60:.1f} min | {test['overall']['f']:.2f} | "
                    f"{chars['f']:.2f} |" if chars else f"| {cpu} | … |")
    return "\n".join(rows) + "\n"


def presidio() -> str:
    """Our analyzer against Presidio's default analyzer."""
    rows = _header("corpus", "ours P / R / F1", "Presidio default P / R / F1", "docs/s ours / Presidio")
    for name, label in (("presidio_compare.json", "held-out test split"), ("presidio_compare_wnut17.json", "WNUT-17 dev")):
        d = _load(RESULTS / name)
        ours, theirs = d["systems"]["spacy_llmner"], d["systems"]["presidio_default"]
        rows.append(f"| {label}, first {d['n_docs']} docs | {_prf(ours['micro'])} | {_prf(theirs['micro'], False)} | "
                    f"{ours['docs_per_s']:.2f} / {theirs['docs_per_s']:.0f} |")
    return "\n".join(rows) + "\n"


def decode() -> str:
    """The copy-constrained fast path against Hugging Face generate."""
    rows = _header("pipeline", "docs/s", "passes/doc", "entities/doc", "× generate batch 1", "× generate batched")
    for name, label in (("cpu_release.json", "phi-smollm2 release (SmolLM2-135M, CPU fp32)"),
                        ("cpu_smollm2.json", "main job's (SmolLM2-135M, CPU fp32)")):
        if (RESULTS / name).exists():
            d = _load(RESULTS / name)
            rows.append(f"| {label} | {d['docs_per_s']:.2f} | {d['passes_per_doc']:.1f} | {d['entities_per_doc']:.2f} | "
                        f"{d['speedup_vs_generate_b1']:.1f} | {d['speedup_vs_generate_batched']:.1f} |")
    return "\n".join(rows) + "\n"


def speed() -> str:
    """The released pipeline's decoder variants side by side, and long notes against short ones."""
    d = _load(RESULTS / "cpu_release.json")
    names = {"fast": "fast (default: label trees, fp32)", "fast_linear": "linear drafts (`tree_labels = 0`)",
             "fast_int8": "int8 linear layers (`quantize = \"int8\"`)", "generate_b1": "HF generate, batch 1",
             "generate_batched": "HF generate, batched"}
    rows = _header("decoder", "docs/s", "passes/doc", "GFLOP/doc", "share of fp32 matmul rate", "raw typed F1",
                   "output = default")
    for key, label in names.items():
        r = d["rows"].get(key)
        if r is None:
            continue
        passes = f"{r['passes'] / r['docs']:.1f}" if r.get("passes") else "–"
        f1 = f"{r['f1']:.3f}" if r.get("f1") is not None else "–"
        same = f"{r['identical_to_fast']}/{r['docs']}" if "identical_to_fast" in r else "–"
        gflop = f"{r['gflop_per_doc']:.0f}" if r.get("gflop_per_doc") is not None else "–"
        share = f"{r['fraction_of_matmul']:.0%}" if r.get("fraction_of_matmul") is not None else "–"
        rows.append(f"| {label} | {r['docs'] / r['seconds']:.2f} | {passes} | {gflop} | {share} | {f1} | {same} |")
    out = "\n".join(rows) + "\n"
    return out + long_docs()


def long_docs() -> str:
    """Long notes against the same text as short documents, one table row pair per run length."""
    runs = sorted((_load(path) for path in RESULTS.glob("long_docs*.json")), key=lambda g: g["chars"])
    if not runs:
        return ""
    out = "\n| run | characters | seconds | typed F1 | note / short documents |\n|---|---|---|---|---|\n"
    for g in runs:
        out += (f"| {g['pieces']} short documents | {g['chars']:,} | {g['short_seconds']:.0f} | {g['short_f1']:.3f} | |\n"
                f"| the same text as one note ({g['shards']} shards) | {g['chars']:,} | {g['long_seconds']:.0f} | "
                f"{g['long_f1']:.3f} | {g['ratio_long_to_short']:.2f}× |\n")
        if "one_row_seconds" in g:
            out += (f"| its first {g['one_row_chars']:,} characters as one shard | {g['one_row_chars']:,} | "
                    f"{g['one_row_seconds']:.0f} | {g['one_row_f1']:.3f} | |\n")
    return out


def tree_labels() -> str:
    """Label trees against linear drafts, repeated rounds in fresh processes (the default's test)."""
    path = RESULTS / "tree_labels_release.json"
    if not path.exists():
        return ""
    d = _load(path)
    rows = _header("decoder", "seconds per round", "median docs/s", "passes/doc", "GFLOP/doc", "output = default")
    for key, label in (("fast", "label trees (`tree_labels = 3`, the default)"),
                       ("fast_linear", "linear drafts (`tree_labels = 0`)")):
        r = d["rows"].get(key)
        if r is None:
            continue
        rounds = ", ".join(f"{x:.1f}" for x in r["seconds_all"])
        same = f"{r['identical_to_fast']}/{r['docs']}" if "identical_to_fast" in r else "–"
        rows.append(f"| {label} | {rounds} | {r['docs'] / r['seconds']:.3f} | {r['passes'] / r['docs']:.1f} | "
                    f"{r['gflop_per_doc']:.0f} | {same} |")
    return "\n".join(rows) + "\n"


def seeds() -> str:
    """Seeds 002 and 003: the headline rows."""
    c = _load(RESULTS / "cluener.json")["ours"]
    t = _load(RESULTS / "textcat.json")["ours"]
    rows = [*_header("experiment", "ours", "baseline"),
            "| CLUENER experiment, dev F1, Gemma 3 270M + LoRA, XML tags, 300 docs | "
            f"{c['xml']['strings']['overall']['f']:.2f} | "
            f"spaCy CNN on all 10,748 docs: {c['spacy_full']['spans']['overall']['f']:.2f} |",
            "| text-classification study, THUCNews accuracy, head + LoRA on Gemma 3 270M | "
            f"{t['llm_head']['accuracy']:.3f} | "
            f"spaCy bag of n-grams: {t['bow']['accuracy']:.3f} |"]
    return "\n".join(rows) + "\n"


def _minutes(seconds: float | None) -> str:
    return "–" if not seconds else (f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.1f} min")


def cluener() -> str:
    """The CLUENER experiment: every CLUENER row we measured, and the seed's own."""
    c = _load(RESULTS / "cluener.json")
    ours, curve = c["ours"], c["curve"]
    rows = _header("model, method, answer", "training docs", "training time", "dev span P / R / F1")

    def row(name: str, entry: dict[str, Any], docs: Any, seconds: float | None) -> None:
        rows.append(f"| {name} | {docs} | {_minutes(seconds)} | {_prf(entry['spans']['overall'])} |")

    row("Gemma 3 270M, LoRA, XML tags, copy-constrained", curve["xml_1000"], "1,000", curve["xml_1000"]["train_wall_s"])
    for key, name in (("xml", "Gemma 3 270M, LoRA, XML tags, copy-constrained"),
                      ("json", "Gemma 3 270M, LoRA, the seed's JSON answer, free decoding"),
                      ("json_constrained", "the same JSON adapter under the JSON copy constraint"),
                      ("prefix", "Gemma 3 270M, prefix tuning (the seed's P-tuning v2), JSON"),
                      ("smollm2_xml", "SmolLM2-135M (English-centred), LoRA, XML tags")):
        entry = ours[key]
        row(name, entry, 300, (entry.get("training") or {}).get("seconds"))
    row("spaCy CNN NER (`spacy train`)", ours["spacy"], 300, None)
    row("spaCy CNN NER (`spacy train`)", curve["spacy_1000"], "1,000", curve["spacy_1000"]["train_wall_s"])
    row("spaCy CNN NER (`spacy train`)", ours["spacy_full"], "10,748", None)
    for seed in c["seed"]:
        prf = f"{seed['p']:.2f} / {seed['r']:.2f} / **{seed['f']:.2f}**" if "p" in seed else f"– / – / **{seed['f']:.2f}**"
        rows.append(f"| seed: {seed['model']}, {seed['method']}, {seed['answer']} | {seed['train_docs']:,} | "
                    f"{seed['hardware']} | {prf} |")
    return "\n".join(rows) + "\n"


def textcat() -> str:
    """The text-classification study: every THUCNews method on the same test titles."""
    t = _load(RESULTS / "textcat.json")["ours"]
    rows = _header("method (the study's numbering)", "test titles", "accuracy", "macro-F1", "rare-class F1", "docs/s",
                   "training")
    for key, name in (("llm_head", "4. LLM + classification head + LoRA (`llm_textcat_head`)"),
                      ("llm_sft", "3. LoRA SFT, the LLM answers with the label"),
                      ("llm_demos10_embed", "2. prompting, 10 demonstrations retrieved by the base's embeddings"),
                      ("llm_demos10", "2. the same, retrieved by character n-gram TF-IDF"),
                      ("llm_zeroshot", "1. prompting alone"),
                      ("bow", "spaCy textcat, bag of character n-grams"),
                      ("cnn", "spaCy textcat, CNN"),
                      ("minilm_3ep", "all-MiniLM-L6-v2 + head, 3 epochs")):
        e = t[key]
        seconds = e.get("train_seconds") or (e.get("training") or {}).get("seconds")
        rows.append(f"| {name} | {e['docs']} | {e['accuracy']:.3f} | {e['macro_f1']:.3f} | {e['rare_f1']:.3f} | "
                    f"{e['docs_per_s']:,.2f} | {_minutes(seconds)} |")
    return "\n".join(rows) + "\n"


RENDERERS: dict[str, Callable[[], str]] = {
    "cluener": cluener, "textcat": textcat,
    "release": release, "releases": releases, "span_filters": span_filters, "base_compare": base_compare,
    "main_job": main_job, "presidio": presidio,
    "decode": decode, "speed": speed, "tree_labels": tree_labels, "seeds": seeds,
}


def render(text: str) -> str:
    def sub(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in RENDERERS:
            raise SystemExit(f"unknown figures block {name!r} (known: {sorted(RENDERERS)})")
        return match.group(1) + RENDERERS[name]() + match.group(4)

    return BLOCK.sub(sub, text)


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path in DOCS:
        if not path.exists():
            continue
        text = path.read_text(encoding="utf8")
        new = render(text)
        if new != text:
            stale.append(path.relative_to(ROOT))
            if not check:
                path.write_text(new, encoding="utf8")
    if check and stale:
        print(f"figures differ from benchmarks/results in: {', '.join(map(str, stale))}; run python benchmarks/report.py")
        return 1
    print("figures up to date" if not stale else f"rewrote {', '.join(map(str, stale))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
