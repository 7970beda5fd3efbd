"""Dev-set metrics of a classifier's logits, and temperature scaling (Guo et al., 2017).

Temperature scaling divides the logits by one scalar T fitted on held-out data to minimise the
negative log-likelihood: the argmax (accuracy, exclusive F1) is unchanged, the probabilities
become honest. ECE (expected calibration error, equal-width confidence bins) measures how far
confidence is from accuracy, before and after. Multi-label logits are scored per (doc, label)
as binary decisions.
"""

from __future__ import annotations

import math
from typing import Any

import torch


def nll(logits: torch.Tensor, targets: torch.Tensor, exclusive: bool, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood of ``targets`` (one-hot or multi-hot rows) under ``logits / T``."""
    scaled = logits.double() / temperature
    targets = targets.double()
    if exclusive:
        return float(-(torch.log_softmax(scaled, -1) * targets).sum(-1).mean())
    return float(torch.nn.functional.binary_cross_entropy_with_logits(scaled, targets))


def fit_temperature(
    logits: torch.Tensor, targets: torch.Tensor, exclusive: bool, bounds: tuple[float, float] = (0.05, 20.0)
) -> float:
    """The T in ``bounds`` that minimises ``nll`` (golden-section search on log T; the NLL of
    temperature-scaled logits is unimodal in log T)."""
    lo, hi = math.log(bounds[0]), math.log(bounds[1])
    ratio = (math.sqrt(5) - 1) / 2

    def f(log_t: float) -> float:
        return nll(logits, targets, exclusive, math.exp(log_t))

    a, b = lo + (1 - ratio) * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = f(a), f(b)
    for _ in range(80):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = lo + (1 - ratio) * (hi - lo)
            fa = f(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = f(b)
    best = (lo + hi) / 2
    return float(math.exp(best)) if f(best) <= f(0.0) else 1.0


def _binary(
    logits: torch.Tensor, targets: torch.Tensor, exclusive: bool, temperature: float, threshold: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(confidence, correct) per decision: per doc (exclusive) or per (doc, label)."""
    scaled = logits.double() / temperature
    if exclusive:
        probs = torch.softmax(scaled, -1)
        conf, pred = probs.max(-1)
        return conf, (pred == targets.argmax(-1)).double()
    probs = torch.sigmoid(scaled).flatten()
    pred = probs >= threshold
    conf = torch.where(pred, probs, 1 - probs)
    return conf, (pred == (targets.flatten() > 0.5)).double()


def expected_calibration_error(
    logits: torch.Tensor, targets: torch.Tensor, exclusive: bool, temperature: float = 1.0, bins: int = 10,
    threshold: float = 0.5,
) -> float:
    """Σ_b |B_b|/N · |accuracy(B_b) − confidence(B_b)| over ``bins`` equal-width bins of confidence."""
    conf, correct = _binary(logits, targets, exclusive, temperature, threshold)
    edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64)
    total = 0.0
    for i in range(bins):
        upper = conf <= edges[i + 1] if i == bins - 1 else conf < edges[i + 1]
        in_bin = (conf >= edges[i]) & upper
        if in_bin.any():
            total += float(in_bin.double().mean()) * abs(float(correct[in_bin].mean()) - float(conf[in_bin].mean()))
    return total


def classification_metrics(
    logits: torch.Tensor, targets: torch.Tensor, exclusive: bool, labels: list[str], threshold: float = 0.5
) -> dict[str, Any]:
    """Accuracy (exclusive: argmax = gold; multi-label: every label right) and macro-F1 over labels."""
    if exclusive:
        pred = torch.nn.functional.one_hot(logits.argmax(-1), len(labels)).bool()
    else:
        pred = torch.sigmoid(logits.double()) >= threshold
    gold = targets > 0.5
    accuracy = float((pred == gold).all(-1).double().mean()) if len(gold) else 0.0
    f1s = {}
    for j, label in enumerate(labels):
        tp = int((pred[:, j] & gold[:, j]).sum())
        fp = int((pred[:, j] & ~gold[:, j]).sum())
        fn = int((~pred[:, j] & gold[:, j]).sum())
        f1s[label] = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return {"accuracy": accuracy, "macro_f1": sum(f1s.values()) / max(len(f1s), 1), "f1_per_label": f1s}


def calibration_report(
    logits: torch.Tensor, targets: torch.Tensor, exclusive: bool, labels: list[str], threshold: float = 0.5
) -> dict[str, Any]:
    """Fit T on these logits; metrics, NLL and ECE (10 bins) before and after scaling."""
    temperature = fit_temperature(logits, targets, exclusive)
    metrics = classification_metrics(logits, targets, exclusive, labels, threshold)
    scaled = classification_metrics(logits / temperature, targets, exclusive, labels, threshold)
    return {
        "temperature": temperature,
        "accuracy": metrics["accuracy"],
        "macro_f1": metrics["macro_f1"],
        "f1_per_label": metrics["f1_per_label"],
        "accuracy_scaled": scaled["accuracy"],
        "macro_f1_scaled": scaled["macro_f1"],
        "nll_before": nll(logits, targets, exclusive),
        "nll_after": nll(logits, targets, exclusive, temperature),
        "ece_before": expected_calibration_error(logits, targets, exclusive, 1.0, threshold=threshold),
        "ece_after": expected_calibration_error(logits, targets, exclusive, temperature, threshold=threshold),
    }


__all__ = [
    "calibration_report", "classification_metrics", "expected_calibration_error", "fit_temperature", "nll",
]
