"""Build the two prompting pipelines of the textcat-llm workflow (the text-classification study's methods 1 and 2).

    python scripts/textcat_prompt_pipelines.py BASE corpus/textcat/thucnews/train.spacy training/textcat

``spacy_llmner.TextCat.v1`` on the untuned base, the THUCNews labels described by their Chinese
names: ``pipeline_zeroshot`` (labels and rules only), ``pipeline_demos10`` (the 10 training
titles most similar to the text as demonstrations, the most similar last; character n-gram
TF-IDF) and ``pipeline_demos10_embed`` (the same, similar by the base's mean-pooled hidden
states, ``spacy_llmner.EmbeddingSimilarity.v1``: the seed's way). Writes pipelines, never text
to logs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import spacy
from spacy.tokens import DocBin
from spacy.training import Example

# THUCNews' own Chinese category names, as label descriptions in the prompt.
DESCRIPTIONS = {"education": "教育", "entertainment": "娱乐", "finance": "财经", "game": "游戏",
                "politics": "时政", "realty": "房产", "science": "科技", "society": "社会",
                "sports": "体育", "stocks": "股票"}


def main(base: str, train: Path, out_dir: Path) -> None:
    nlp0 = spacy.blank("zh")
    docs = list(DocBin().from_disk(train).get_docs(nlp0.vocab))
    examples = [Example(nlp0.make_doc(doc.text), doc) for doc in docs]
    out_dir.mkdir(parents=True, exist_ok=True)
    embed = {"@misc": "spacy_llmner.EmbeddingSimilarity.v1", "name": base}
    for name, n_demos, similarity in (("zeroshot", 0, None), ("demos10", 10, None), ("demos10_embed", 10, embed)):
        nlp = spacy.blank("zh")
        task = {"@llm_tasks": "spacy_llmner.TextCat.v1", "labels": DESCRIPTIONS, "n_demos": n_demos}
        if similarity:
            task["similarity"] = similarity  # the pool is embedded once, at the first document
        nlp.add_pipe("llm_textcat", config={
            "task": task, "model": {"@llm_models": "spacy_llmner.HF.v1", "name": base, "batch_size": 10},
        })
        if n_demos:
            # The pool goes in through initialize, so it is saved with the task (to_disk), not
            # written into config.cfg; weights are not loaded for this.
            nlp.get_pipe("llm_textcat").task.initialize(lambda: examples, n_prompt_examples=-1)
        nlp.to_disk(out_dir / f"pipeline_{name}")
        print(f"{name}: {n_demos} demonstrations per text, pool of {len(examples) if n_demos else 0}")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
