#!/usr/bin/env bash
# Learning curve of the spaCy bow textcat baseline on THUCNews (the textcat-curve command):
#   bash scripts/textcat_curve.sh INPUT N_DEV N_TEST SEED RARE SIZE [SIZE ...]
# For each training size: balanced stratified splits (same seed, so the same test and dev
# splits for every size, and nested training splits), `spacy train` timed, test scored.
# RARE (comma-separated) only names the labels whose mean F1 is reported as rare-class F1:
# training stays balanced here, so the rows show those labels' F1 when they are not rare.
set -euo pipefail
input=$1 n_dev=$2 n_test=$3 seed=$4 rare=$5
shift 5
py=${PYTHON:-python}
for n in "$@"; do
  corpus=corpus/textcat/thucnews_n$n
  "$py" -m spacy_llmner convert-thucnews "$input" "$corpus" --n-train "$n" --n-dev "$n_dev" \
    --n-test "$n_test" --seed "$seed" > /dev/null
  "$py" benchmarks/textcat.py timed --output "metrics/textcat/train_bow_n$n.json" \
    --train-data "$corpus/train.spacy" -- "$py" -m spacy train configs/textcat_bow.cfg \
    --output "training/textcat/bow_n$n" --paths.train "$corpus/train.spacy" \
    --paths.dev "$corpus/dev.spacy" --system.seed "$seed" > /dev/null
  "$py" benchmarks/textcat.py score "training/textcat/bow_n$n/model-last" "$corpus/test.spacy" \
    --name "bow_n$n" --output "metrics/textcat/bow_n$n.json" --rare "$rare"
done
