"""Build the two prompting pipelines of the textcat-llm workflow (seed 003's methods 1 and 2).

    python scripts/textcat_prompt_pipelines.py BASE corpus/textcat/thucnews/train.spacy training/textcat

``spacy_llmner.TextCat.v1`` on the untuned base, the THUCNews labels described by their Chinese
names: ``pipeline_zeroshot`` (labels and rules only) and ``pipeline_demos10`` (the 10 training
titles most similar to the text as demonstrations, the most similar last). Writes pipelines,
never text to logs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import spacy
from spacy.tokens import DocBin

# THUCNews' own Chinese category names, as label descriptions in the prompt.
DESCRIPTIONS = {"education": "教育", "entertainment": "娱乐", "finance": "财经", "game": "游戏",
                "politics": "时政", "realty": "房产", "science": "科技", "society": "社会",
                "sports": "体育", "stocks": "股票"}


def main(base: str, train: Path, out_dir: Path) -> None:
    vocab = spacy.blank("zh").vocab
    pool = [{"text": doc.text, "label": max(doc.cats, key=doc.cats.__getitem__)}
            for doc in DocBin().from_disk(train).get_docs(vocab)]
    for name, n_demos in (("zeroshot", 0), ("demos10", 10)):
        nlp = spacy.blank("zh")
        nlp.add_pipe("llm_textcat", config={
            "task": {"@llm_tasks": "spacy_llmner.TextCat.v1", "labels": DESCRIPTIONS,
                     "examples": pool if n_demos else None, "n_demos": n_demos},
            "model": {"@llm_models": "spacy_llmner.HF.v1", "name": base, "batch_size": 10},
        })
        nlp.to_disk(out_dir / f"pipeline_{name}")
        print(f"{name}: {n_demos} demonstrations from a pool of {len(pool)} -> {out_dir / f'pipeline_{name}'}")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
