"""Long documents: one entity-dense note of ~20,000 characters against the same text as short
documents, through the pipeline, side by side in one run.

The long note is the held-out test split's documents joined by blank lines until it passes
``--chars``; the short run decodes those documents one by one (as ``nlp.pipe`` gets them). The
task cuts the long note into shards of at most ``max_shard_bytes`` at paragraph, line and
sentence ends (``tasks/sharding.py``), and the shards decode as rows of one batch. Reports the
seconds of each, their ratio (target <= 2), each run's typed F1 against the split's gold, and how
many entities the two runs agree on. ``--one-row-chars N`` also times the first N characters of
the note decoded as one shard (``max_shard_bytes = 0``), the cost that sharding removes.

    python benchmarks/long_docs.py --pipeline training/release/pipeline --json benchmarks/results/long_docs.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _results import machine  # noqa: E402

Span = tuple[int, int, str]


def build(corpus: Path, chars: int, sep: str = "\n\n") -> tuple[str, list[str], list[Span], list[int]]:
    """(long text, its pieces, gold spans in long-text chars, each piece's offset)."""
    import spacy
    from spacy.tokens import DocBin

    docs = list(DocBin().from_disk(corpus).get_docs(spacy.blank("en").vocab))
    pieces: list[str] = []
    gold: list[Span] = []
    offsets: list[int] = []
    at = 0
    for doc in docs:
        if at >= chars:
            break
        offsets.append(at)
        pieces.append(doc.text)
        gold += [(e.start_char + at, e.end_char + at, e.label_) for e in doc.ents]
        at += len(doc.text) + len(sep)
    return sep.join(pieces), pieces, gold, offsets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pipeline", default="training/release/pipeline", help="a pipeline directory or released model")
    ap.add_argument("--corpus", default="corpus/release/test.spacy")
    ap.add_argument("--chars", type=int, default=20_000)
    ap.add_argument("--one-row-chars", type=int, default=0, help="also decode this prefix of the note as one shard")
    ap.add_argument("--json", dest="json_path", default=None)
    args = ap.parse_args()

    from spacy_llmner.evaluation.ner import score_spans
    from spacy_llmner.pipelines import load_pipeline

    def f1(found: set[Span], gold: set[Span]) -> float:
        """Typed exact-span F1 of the whole note (one document to the scorer)."""
        return float(score_spans([gold], [found])["overall"]["f"])

    nlp = load_pipeline(args.pipeline)
    task = nlp.get_pipe("llm_ner")._task
    text, pieces, gold, offsets = build(Path(args.corpus), args.chars)
    list(nlp.pipe(pieces[:2]))  # weights and prompt prefix loaded before any timing

    t0 = time.perf_counter()
    short_docs = list(nlp.pipe(pieces))
    short_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    long_doc = nlp(text)
    long_s = time.perf_counter() - t0
    assert long_doc.text == text

    short = {(e.start_char + off, e.end_char + off, e.label_) for d, off in zip(short_docs, offsets) for e in d.ents}
    long = {(e.start_char, e.end_char, e.label_) for e in long_doc.ents}
    gold_set = set(gold)
    n_shards = len(list(task.generate_prompts([nlp.make_doc(text)], nlp.get_pipe("llm_ner")._model.context_length))[0][0])
    row: dict[str, Any] = {
        "pipeline": args.pipeline, "chars": len(text), "pieces": len(pieces), "shards": n_shards,
        "max_shard_bytes": task.max_shard_bytes, "gold_entities": len(gold_set),
        "short_seconds": short_s, "long_seconds": long_s, "ratio_long_to_short": long_s / short_s,
        "short_f1": f1(short, gold_set), "long_f1": f1(long, gold_set),
        "agreement_f1": f1(long, short), "command": " ".join(["python", *sys.argv]), "machine": machine(),
    }
    print(f"{'run':<34}{'seconds':>9}{'chars/s':>9}{'typed F1':>10}")
    print(f"{f'{len(pieces)} short documents':<34}{short_s:>9.1f}{len(text) / short_s:>9.0f}{row['short_f1']:>10.3f}")
    print(f"{f'one note, {n_shards} shards':<34}{long_s:>9.1f}{len(text) / long_s:>9.0f}{row['long_f1']:>10.3f}")
    if args.one_row_chars:
        prefix = text[: args.one_row_chars]
        task.max_shard_bytes = 0
        t0 = time.perf_counter()
        one = nlp(prefix)
        one_s = time.perf_counter() - t0
        task.max_shard_bytes = row["max_shard_bytes"]
        in_prefix = {s for s in gold_set if s[1] <= len(prefix)}
        found = {(e.start_char, e.end_char, e.label_) for e in one.ents}
        row.update(one_row_chars=len(prefix), one_row_seconds=one_s, one_row_f1=f1(found, in_prefix))
        print(f"{f'first {len(prefix)} chars as one shard':<34}{one_s:>9.1f}{len(prefix) / one_s:>9.0f}"
              f"{row['one_row_f1']:>10.3f}")
    print(f"long/short time ratio {row['ratio_long_to_short']:.2f} (target <= 2); entities the two runs agree on: "
          f"F1 {row['agreement_f1']:.3f}")
    if args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
