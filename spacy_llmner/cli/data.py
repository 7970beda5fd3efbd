"""``generate`` (synthetic corpus) and ``convert`` (JSONL -> .spacy) commands.

Both print counts only, never document text: corpora may hold personal data.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer

from ._app import app


def _label_table(counts: dict[str, Counter[str]], docs: dict[str, int], empty: dict[str, int]) -> str:
    """A plain-text table: one row per label, one column per split (documents containing it)."""
    splits = list(counts)
    labels = sorted({label for c in counts.values() for label in c})
    width = max([len("no entity"), *map(len, labels)])
    rows = [f"{'label':<{width}}  " + "  ".join(f"{s:>7}" for s in splits)]
    rows += [f"{label:<{width}}  " + "  ".join(f"{counts[s][label]:>7}" for s in splits) for label in labels]
    rows.append(f"{'no entity':<{width}}  " + "  ".join(f"{empty[s]:>7}" for s in splits))
    rows.append(f"{'documents':<{width}}  " + "  ".join(f"{docs[s]:>7}" for s in splits))
    return "\n".join(rows)


@app.command("generate")
def generate_command(
    out_dir: Path = typer.Argument(..., help="Directory for train.spacy, dev.spacy and test.spacy."),
    n_train: int = typer.Option(2000, "--n-train", min=0, help="Training documents."),
    n_dev: int = typer.Option(200, "--n-dev", min=0, help="Development documents."),
    n_test: int = typer.Option(200, "--n-test", min=0, help="Test documents."),
    seed: int = typer.Option(0, "--seed", help="Seed; each split derives its own from it."),
    heldout: bool = typer.Option(
        True, "--heldout/--no-heldout",
        help="Keep held-out templates out of train/dev and put one in every test document.",
    ),
) -> None:
    """Generate a synthetic HIPAA PII corpus and print per-label document counts per split."""
    from ..data.docbin import corpus_docs, to_docbin
    from ..data.heldout import HELDOUT_KINDS, HELDOUT_TEMPLATES, all_templates

    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, Counter[str]] = {}
    sizes: dict[str, int] = {}
    empty: dict[str, int] = {}
    for split, docs in corpus_docs(n_train, n_dev, n_test, seed, heldout=heldout).items():
        to_docbin(docs).to_disk(out_dir / f"{split}.spacy")
        counts[split] = Counter(label for d in docs for label in {s[2] for s in d.spans})
        sizes[split] = len(docs)
        empty[split] = sum(1 for d in docs if not d.spans)
    typer.echo(f"Wrote {', '.join(f'{s}.spacy' for s in counts)} to {out_dir} (seed {seed}).")
    if heldout:
        typer.echo(f"Held out for test: {len(HELDOUT_TEMPLATES)} of {len(all_templates())} templates, "
                   f"kinds {', '.join(sorted(HELDOUT_KINDS))}.")
    else:
        typer.echo("No held-out templates: every split draws from all templates.")
    typer.echo("Documents containing each label:")
    typer.echo(_label_table(counts, sizes, empty))


@app.command("convert")
def convert_command(
    input_path: Path = typer.Argument(..., help='JSONL file: {"text": ..., "spans": [{"start", "end", "label"}]}.'),
    output_path: Path = typer.Argument(..., help="Output .spacy file."),
    label_map: str | None = typer.Option(
        None, "--label-map", help="JSON file or 'old=new,other=' (empty target drops the label)."
    ),
    lang: str = typer.Option("en", "--lang", help="Tokenizer language for spacy.blank (e.g. en, zh)."),
    alignment_mode: str = typer.Option(
        "strict", "--alignment-mode", help="strict (drop misaligned spans), contract or expand."
    ),
) -> None:
    """Convert span JSONL to a spaCy DocBin and print conversion statistics."""
    from ..data.jsonl import jsonl_to_docbin, parse_label_map

    mapping = parse_label_map(label_map) if label_map else None
    db, stats = jsonl_to_docbin(input_path, mapping, alignment_mode=alignment_mode, lang=lang)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(output_path)
    typer.echo(f"Wrote {stats.docs} documents to {output_path}.")
    typer.echo(json.dumps(stats.to_dict(), indent=2))
