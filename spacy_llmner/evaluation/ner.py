"""Score a pipeline: typed exact-span precision/recall/F1 per label, speed, and plots.

A predicted entity counts only if its start, end and label all match a gold entity (character
offsets), the strictest NER measure. The pipeline sees only the texts. Output: a JSON report
(overall, per label, docs/s), a bar chart of per-label F1 and a loss curve from the training log.
Nothing here logs or stores document text.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..data.spans import read_span_records
from ..errors import Errors, LLMNERError
from ..tagging import CharSpan
from ..training.sft import doc_spans, read_docbin

Example = tuple[str, list[CharSpan]]


def prf(tp: int, fp: int, fn: int, digits: int = 6) -> dict[str, float | int]:
    """Precision, recall and F1 from counts, with the counts kept so reports can be merged.

    The one P/R/F1 formula of the package: NER, the CLUENER string measure and text
    classification (``textcat/scoring.py``, which reports 4 digits) all score with it."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(p, digits), "r": round(r, digits), "f": round(f, digits), "tp": tp, "fp": fp, "fn": fn,
            "support": tp + fn}


def score_labelled_sets(
    gold: Sequence[Iterable[tuple[Any, ...]]], predicted: Sequence[Iterable[tuple[Any, ...]]]
) -> dict[str, Any]:
    """Micro-averaged and per-label P/R/F1 over per-document sets of items whose last element
    is the label: exact spans ``(start, end, label)`` here, ``(string, label)`` for CLUENER's
    string measure, so both count matches the same way."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for gold_items, pred_items in zip(gold, predicted, strict=True):
        g, p = set(gold_items), set(pred_items)
        tp.update(item[-1] for item in g & p)
        fp.update(item[-1] for item in p - g)
        fn.update(item[-1] for item in g - p)
    labels = sorted(set(tp) | set(fp) | set(fn))
    return {
        "overall": prf(sum(tp.values()), sum(fp.values()), sum(fn.values())),
        "per_label": {lab: prf(tp[lab], fp[lab], fn[lab]) for lab in labels},
    }


def score_spans(
    gold: Sequence[Iterable[CharSpan]], predicted: Sequence[Iterable[CharSpan]]
) -> dict[str, Any]:
    """Micro-averaged and per-label P/R/F1 over exact typed character spans."""
    return score_labelled_sets(gold, predicted)


def score_chars(
    texts: Sequence[str], gold: Sequence[Iterable[CharSpan]], predicted: Sequence[Iterable[CharSpan]]
) -> dict[str, float | int]:
    """PII-vs-not over non-space characters, labels ignored: how much personal text is covered.

    Kinder than exact spans to boundary disagreements between corpora (``Dr. Smith`` vs
    ``Smith``), and what matters for redaction: a character left visible is a leak.
    """
    tp = fp = fn = 0
    for text, gold_spans, pred_spans in zip(texts, gold, predicted, strict=True):
        g = {i for s, e, _ in gold_spans for i in range(s, e) if not text[i].isspace()}
        p = {i for s, e, _ in pred_spans for i in range(s, e) if not text[i].isspace()}
        tp += len(g & p)
        fp += len(p - g)
        fn += len(g - p)
    return prf(tp, fp, fn)


def _overlaps(a: CharSpan, b: CharSpan) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def error_kinds(gold: Sequence[Iterable[CharSpan]], predicted: Sequence[Iterable[CharSpan]]) -> dict[str, Any]:
    """What the exact-span errors are, as counts: where the F1 is lost.

    Each gold entity not matched exactly is one of ``wrong_label`` (same span, other label),
    ``boundary`` (an overlapping prediction of its label), ``boundary_and_label`` (overlapping,
    other label) or ``missed`` (nothing overlaps it); a prediction that overlaps no gold entity
    is ``spurious``. ``confusions`` counts ``GOLD->PREDICTED`` for the wrong-label cases.
    """
    kinds: Counter[str] = Counter()
    confusions: Counter[str] = Counter()
    for gold_spans, pred_spans in zip(gold, predicted, strict=True):
        g, p = set(gold_spans), set(pred_spans)
        wrong_p = p - g
        for span in sorted(g - p):
            near = [q for q in wrong_p if _overlaps(span, q)]
            same_span = [q for q in near if q[:2] == span[:2]]
            if same_span:
                kinds["wrong_label"] += 1
                confusions[f"{span[2]}->{same_span[0][2]}"] += 1
            elif any(q[2] == span[2] for q in near):
                kinds["boundary"] += 1
            elif near:
                kinds["boundary_and_label"] += 1
            else:
                kinds["missed"] += 1
        kinds["spurious"] += sum(1 for q in wrong_p if not any(_overlaps(q, span) for span in g))
    names = ("wrong_label", "boundary", "boundary_and_label", "missed", "spurious")
    return {**{k: kinds[k] for k in names}, "confusions": dict(confusions.most_common())}


def keep_labels(spans: Iterable[CharSpan], labels: Iterable[str] | None) -> list[CharSpan]:
    """Only the spans of ``labels`` (all when None): to score a corpus annotated for fewer types."""
    if labels is None:
        return list(spans)
    wanted = set(labels)
    return [span for span in spans if span[2] in wanted]


def apply_label_map(examples: Iterable[Example], label_map: Mapping[str, str | None]) -> list[Example]:
    """Rename gold labels to the model's (a label mapped to None is dropped)."""
    out: list[Example] = []
    for text, spans in examples:
        mapped = [(s, e, label_map.get(lab, lab)) for s, e, lab in spans]
        out.append((text, [(s, e, lab) for s, e, lab in mapped if lab]))
    return out


def read_examples(path: str | Path) -> list[Example]:
    """Gold examples from a ``.spacy`` DocBin or a JSONL file of ``{"text", "spans"}``."""
    path = Path(path)
    if path.suffix == ".spacy":
        return [(doc.text, doc_spans(doc)) for doc in read_docbin(path)]
    return read_jsonl(path)


def read_jsonl(path: str | Path) -> list[Example]:
    """``{"text": ..., "spans": [...]}`` per line, read by the one span-corpus reader
    (``data/spans.py``: Presidio's key names too, coded errors naming the line)."""
    return [(text, spans) for _, text, spans in read_span_records(path)]


def predict(nlp: Any, texts: Sequence[str], batch_size: int = 16) -> tuple[list[list[CharSpan]], float]:
    """Entities the pipeline finds in each text, and the wall time it took."""
    if not nlp.pipe_names:
        raise LLMNERError(Errors.E308.format(path=getattr(nlp, "path", None) or "<blank pipeline>"))
    start = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=batch_size))
    seconds = time.perf_counter() - start
    return [doc_spans(doc) for doc in docs], seconds


def pipeline_policy(nlp: Any) -> str | None:
    """The de-identification policy of the pipeline's tagging task (``None`` when it has none)."""
    for _, component in getattr(nlp, "pipeline", ()):
        policy = getattr(getattr(component, "task", None), "policy", None)
        if policy not in (None, "none"):
            return str(policy)
    return None


def evaluate(
    nlp: Any, examples: Sequence[Example], batch_size: int = 16, labels: Sequence[str] | None = None
) -> dict[str, Any]:
    """Run the pipeline over the texts and score its entities against the gold spans.

    ``labels``: score only these (gold and predicted), for a corpus annotated for fewer types.
    A pipeline with a de-identification policy (``"safe_harbor"``) is scored against gold under
    the same policy: what the rule does not remove is not a miss.
    """
    from ..policy import apply_policy

    texts = [text for text, _ in examples]
    predicted, seconds = predict(nlp, texts, batch_size)
    predicted = [keep_labels(spans, labels) for spans in predicted]
    policy = pipeline_policy(nlp)
    gold = [keep_labels(apply_policy(text, spans, policy), labels) for text, spans in examples]
    report = score_spans(gold, predicted)
    report["chars"] = score_chars(texts, gold, predicted)
    report["errors"] = error_kinds(gold, predicted)
    report.update(
        policy=policy,
        docs=len(texts),
        seconds=round(seconds, 3),
        docs_per_s=round(len(texts) / seconds, 3) if seconds > 0 else None,
        chars_per_s=round(sum(map(len, texts)) / seconds, 1) if seconds > 0 else None,
    )
    return report


def merge_scores(parts: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One report from reports on disjoint parts of a corpus (``overall``, ``per_label``, ``chars``,
    and ``errors`` when every part has it).

    Counts (tp, fp, fn) add up and P/R/F1 are recomputed from the sums, never averaged, so the
    result equals scoring the whole corpus at once.
    """
    parts = list(parts)
    labels: dict[str, Counter[str]] = {}
    chars: Counter[str] = Counter()
    for part in parts:
        for label, scores in part["per_label"].items():
            labels.setdefault(label, Counter()).update({k: scores[k] for k in ("tp", "fp", "fn")})
        chars.update({k: part["chars"][k] for k in ("tp", "fp", "fn")})
    total = Counter[str]()
    for counts in labels.values():
        total.update(counts)
    merged: dict[str, Any] = {
        "overall": prf(total["tp"], total["fp"], total["fn"]),
        "per_label": {lab: prf(c["tp"], c["fp"], c["fn"]) for lab, c in sorted(labels.items())},
        "chars": prf(chars["tp"], chars["fp"], chars["fn"]),
    }
    if parts and all("errors" in part for part in parts):
        kinds: Counter[str] = Counter()
        confusions: Counter[str] = Counter()
        for part in parts:
            kinds.update({k: v for k, v in part["errors"].items() if k != "confusions"})
            confusions.update(part["errors"]["confusions"])
        merged["errors"] = {**dict(kinds), "confusions": dict(confusions.most_common())}
    return merged


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_f1(report: Mapping[str, Any], path: str | Path) -> Path:
    """Horizontal bar chart of per-label F1 (support in the label), overall F1 as a line."""
    plt = _pyplot()
    per_label = report["per_label"]
    labels = sorted(per_label, key=lambda lab: per_label[lab]["f"])
    height = max(2.5, 0.32 * len(labels) + 1.2)
    fig, ax = plt.subplots(figsize=(7, height))
    ax.barh([f"{lab} ({per_label[lab]['support']})" for lab in labels], [per_label[lab]["f"] for lab in labels], color="#4c72b0")
    overall = report["overall"]["f"]
    ax.axvline(overall, color="#c44e52", linestyle="--", label=f"overall F1 = {overall:.3f}")
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1 (exact typed character spans)")
    ax.set_title("Per-label F1 (gold support in brackets)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def read_loss_log(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf8").splitlines() if line.strip()]


def plot_loss(logs: Mapping[str, str | Path], path: str | Path) -> Path | None:
    """Training and dev loss per step, one panel per log (e.g. pre-training and LoRA)."""
    series = {name: read_loss_log(log) for name, log in logs.items()}
    series = {name: recs for name, recs in series.items() if recs}
    if not series:
        return None
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(series), figsize=(5.5 * len(series), 3.8), squeeze=False)
    for ax, (name, records) in zip(axes[0], series.items()):
        train = [(r["step"], r["loss"]) for r in records if "loss" in r]
        dev = [(r["step"], r["eval_loss"]) for r in records if "eval_loss" in r]
        if train:
            ax.plot(*zip(*train), label="train loss", color="#4c72b0")
        if dev:
            ax.plot(*zip(*dev), "o-", label="dev loss", color="#dd8452")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("loss per labelled token")
        ax.set_title(name)
        ax.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
