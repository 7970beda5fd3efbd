"""The Hugging Face ``Trainer``, taught the segmented batches and a JSON-lines loss log.

Shared by LoRA fine-tuning (``lora.py``) and pre-training the from-scratch base (``tinybase/pretrain.py``):
the loss is ``step.batch_loss`` normalised over the labelled tokens of the whole
gradient-accumulation window (so long answers weigh as much as they should), batches come from
``LengthGroupedBatches`` (one prefix group, similar lengths), and every log line also goes to
``loss.jsonl`` with tokens/s. Evaluation (dev loss) runs at the end of each epoch.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, cast

import torch
from transformers import Trainer, TrainerCallback, TrainingArguments

from .config import TrainSettings
from .sft import Collator, LengthGroupedBatches, SFTDataset
from .step import batch_loss, count_tokens


def training_arguments(settings: TrainSettings, output_dir: str | Path, has_eval: bool) -> TrainingArguments:
    """Map our settings onto ``TrainingArguments``; checkpoints (every ``save_steps``) go to
    ``output_dir`` and only the last two are kept. The caller saves the final adapter itself."""
    eval_strategy = "epoch" if has_eval and settings.eval_each_epoch else "no"
    return TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=settings.epochs,
        max_steps=settings.max_steps,
        learning_rate=settings.lr,
        per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=settings.eval_batch_size,
        gradient_accumulation_steps=settings.grad_accum,
        warmup_steps=settings.warmup_ratio,  # a float < 1 is a ratio in transformers v5
        weight_decay=settings.weight_decay,
        lr_scheduler_type=settings.lr_scheduler,
        max_grad_norm=settings.max_grad_norm,
        logging_steps=settings.logging_steps,
        logging_first_step=True,
        eval_strategy=eval_strategy,
        save_strategy="steps" if settings.save_steps else "no",
        save_steps=settings.save_steps or 500,
        save_total_limit=2,
        report_to="none",
        seed=settings.seed,
        data_seed=settings.seed,
        remove_unused_columns=False,
        prediction_loss_only=True,
        activation_checkpointing=settings.gradient_checkpointing,
        bf16=bool(settings.bf16),  # resolved by lora.with_precision before training
        use_cpu=not torch.cuda.is_available(),
        dataloader_pin_memory=torch.cuda.is_available(),
        optim="adamw_torch",
    )


class SegmentedTrainer(Trainer):
    """``Trainer`` whose batches carry a shared prefix and whose loss is ``step.batch_loss``."""

    # Our loss is already normalised over the accumulation window (see compute_loss).
    loss_is_scaled_for_ga = True

    def __init__(self, *args: Any, settings: TrainSettings, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = settings
        # Makes the Trainer count labelled tokens over the accumulation window for us.
        self.model_accepts_loss_kwargs = True
        self.tokens_seen = 0  # conversation tokens (prefix counted per row): comparable across paths
        self.tokens_run = 0  # tokens actually run through the model
        self._last_log: tuple[float, int, int] | None = None

    def _loader(self, dataset: SFTDataset, batch_size: int, shuffle: bool) -> Any:
        sampler = LengthGroupedBatches(
            dataset,
            batch_size,
            seed=self.settings.seed,
            shuffle=shuffle,
            group_by_length=self.settings.group_by_length,
            max_tokens=self.settings.max_batch_tokens if shuffle else 0,
        )
        loader: Any = torch.utils.data.DataLoader(
            cast(Any, dataset), batch_sampler=sampler, collate_fn=self.data_collator, num_workers=0
        )
        return self.accelerator.prepare(loader)

    def get_train_dataloader(self) -> Any:
        return self._loader(cast(SFTDataset, self.train_dataset), self.settings.batch_size, shuffle=True)

    def get_eval_dataloader(self, eval_dataset: Any = None) -> Any:
        dataset = eval_dataset if eval_dataset is not None else self.eval_dataset
        return self._loader(cast(SFTDataset, dataset), self.settings.eval_batch_size, shuffle=False)

    def compute_loss(
        self,
        model: Any,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        loss_sum, n_items = batch_loss(model, inputs)
        denominator = num_items_in_batch if num_items_in_batch is not None else max(n_items, 1)
        if torch.is_tensor(denominator):
            denominator = denominator.to(loss_sum.device).clamp_min(1)
        loss = loss_sum / denominator
        if model.training:
            seen, run = count_tokens(inputs)
            self.tokens_seen += seen
            self.tokens_run += run
        return (loss, {"loss": loss.detach()}) if return_outputs else loss

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        now = time.perf_counter()
        if "loss" in logs:
            if self._last_log is not None:
                t0, seen0, run0 = self._last_log
                elapsed = max(now - t0, 1e-9)
                logs["tokens_per_s"] = round((self.tokens_seen - seen0) / elapsed, 1)
                logs["run_tokens_per_s"] = round((self.tokens_run - run0) / elapsed, 1)
            self._last_log = (now, self.tokens_seen, self.tokens_run)
        super().log(logs, start_time)

    def train(self, *args: Any, **kwargs: Any) -> Any:
        self._last_log = (time.perf_counter(), self.tokens_seen, self.tokens_run)
        return super().train(*args, **kwargs)


class ReleaseFreedMemory(TrainerCallback):
    """Hand freed heap pages back to the OS after every step (glibc only; a no-op elsewhere).

    Batches differ in length, so each step frees and allocates activation buffers of new
    sizes; glibc keeps the freed pages and the process's resident memory ratchets up with every
    new largest batch. ``malloc_trim`` returns them, for a few milliseconds a step.
    """

    def __init__(self) -> None:
        self._trim: Any = None
        try:
            import ctypes
            import ctypes.util

            name = ctypes.util.find_library("c")
            libc = ctypes.CDLL(name) if name else None
            self._trim = getattr(libc, "malloc_trim", None)
        except OSError:  # pragma: no cover - not glibc
            self._trim = None

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self._trim is not None:
            self._trim(0)


class JsonlLossLog(TrainerCallback):
    """Append every log record (step, loss, eval loss, tokens/s …) to a JSON-lines file."""

    def __init__(self, path: str | Path, append: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not append or not self.path.exists():
            self.path.write_text("", encoding="utf8")
        self.start = time.perf_counter()

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not logs:
            return
        record: dict[str, Any] = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4)}
        record["elapsed_s"] = round(time.perf_counter() - self.start, 2)
        for key, value in logs.items():
            if isinstance(value, (int, float)) and not (isinstance(value, float) and math.isnan(value)):
                record[key] = value
        with self.path.open("a", encoding="utf8") as file:
            file.write(json.dumps(record) + "\n")


STOP_FILE = "STOP"


class StopAfter(TrainerCallback):
    """End training at the first step boundary after ``seconds`` of wall time, or once a file
    named ``STOP`` appears in the checkpoint directory, saving a checkpoint and the adapter.

    A long run then fits in the time a session has: the next run with the same checkpoint
    directory resumes exactly there (same batches, optimizer and schedule). ``touch DIR/STOP``
    ends a run cleanly from outside (the file is removed when the run stops).
    """

    def __init__(self, seconds: float | None, stop_file: Path | None = None) -> None:
        self.seconds = seconds
        self.stop_file = stop_file
        self.start = time.perf_counter()
        self.stopped = False

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        timed_out = self.seconds is not None and time.perf_counter() - self.start >= self.seconds
        asked = self.stop_file is not None and self.stop_file.exists()
        if timed_out or asked:
            control.should_training_stop = True
            control.should_save = True
            self.stopped = True
            if asked and self.stop_file is not None:
                self.stop_file.unlink(missing_ok=True)


def last_checkpoint(directory: str | Path) -> str | None:
    """The newest ``checkpoint-N`` under ``directory`` that holds a trainer state, or ``None``."""
    path = Path(directory)
    if not path.is_dir():
        return None
    found = [
        (int(child.name.split("-")[1]), child)
        for child in path.glob("checkpoint-*")
        if child.name.split("-")[1].isdigit() and (child / "trainer_state.json").exists()
    ]
    return str(max(found)[1]) if found else None


def run(
    model: Any,
    train: SFTDataset,
    dev: SFTDataset | None,
    settings: TrainSettings,
    pad_id: int,
    work_dir: str | Path,
    loss_log: str | Path,
    stop_after_s: float | None = None,
) -> dict[str, Any]:
    """Train ``model`` in place; return a summary (steps, losses, timings, tokens/s).

    With ``settings.save_steps``, checkpoints go to ``work_dir`` and a run that finds one there
    resumes from it (the loss log is then appended to, not restarted). ``stop_after_s`` ends the
    run early at a step boundary with a checkpoint; the summary says ``complete: false``.
    """
    torch.manual_seed(settings.seed)
    resume = last_checkpoint(work_dir) if settings.save_steps else None
    stop_file = Path(work_dir) / STOP_FILE if settings.save_steps else None
    stopper = StopAfter(stop_after_s, stop_file) if stop_after_s or stop_file else None
    collator = Collator(train.prefixes, pad_id=pad_id, shared_prefix=settings.shared_prefix)
    trainer = SegmentedTrainer(
        model=model,
        args=training_arguments(settings, work_dir, has_eval=dev is not None and len(dev) > 0),
        train_dataset=train,
        eval_dataset=dev if dev is not None and len(dev) > 0 else None,
        data_collator=collator,
        callbacks=[JsonlLossLog(loss_log, append=resume is not None), ReleaseFreedMemory()]
        + ([stopper] if stopper else []),
        settings=settings,
    )
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - start
    summary: dict[str, Any] = {
        "steps": int(result.global_step),
        "planned_steps": int(trainer.state.max_steps),
        "complete": int(result.global_step) >= int(trainer.state.max_steps),
        "resumed_from_step": int(resume.rsplit("-", 1)[1]) if resume else 0,
        "train_loss": float(result.training_loss),
        "seconds": round(seconds, 2),
        "seconds_per_step": round(seconds / max(result.global_step - (int(resume.rsplit("-", 1)[1]) if resume else 0), 1), 4),
        "tokens_per_s": round(trainer.tokens_seen / max(seconds, 1e-9), 1),
        "run_tokens_per_s": round(trainer.tokens_run / max(seconds, 1e-9), 1),
        "shared_prefix": settings.shared_prefix,
        "bf16": settings.bf16,
    }
    evals = [rec["eval_loss"] for rec in trainer.state.log_history if "eval_loss" in rec]
    if evals:
        summary["eval_loss"] = float(evals[-1])
    return summary
