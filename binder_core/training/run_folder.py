"""The run folder a training run writes, and the only code that writes it.

::

    RUN/train_config.json   the TrainConfig of the run
    RUN/metrics.jsonl       one JSON object per logged step ("train"), dev evaluation ("eval")
                            and the closing "summary"
    RUN/curves.png          training loss and dev F1
    RUN/checkpoints/        atomic checkpoints for --resume (binder_core.training.checkpoint)
    RUN/best/               the model with the best dev score (the last one without dev data),
                            a model directory (binder_core.model.saved_model)

Only the main rank writes (``is_main``); on other ranks every method that writes is a no-op.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from binder_core.contract.atomic import write_text_atomic
from binder_core.contract.errors import ConfigError
from binder_core.contract.outputs import RUN_CONFIG_NAME
from binder_core.model.model_dir import BEST_DIR
from binder_core.training.checkpoint import latest_checkpoint
from binder_core.training.config import TrainConfig
from binder_core.training.plots import plot_curves, read_metrics

logger = logging.getLogger(__name__)

METRICS_FILE = "metrics.jsonl"
CONFIG_FILE = RUN_CONFIG_NAME
CURVES_FILE = "curves.png"


class RunFolder:
    """Paths and writers of one run folder."""

    def __init__(self, path: str | os.PathLike[str], *, is_main: bool = True) -> None:
        self.path = Path(path)
        self.is_main = is_main

    @property
    def config_file(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def metrics_file(self) -> Path:
        return self.path / METRICS_FILE

    @property
    def best_dir(self) -> Path:
        return self.path / BEST_DIR

    def resume_checkpoint(
        self, config: TrainConfig, silver: bool, cpu_bf16: bool = False
    ) -> Path | None:
        """The checkpoint to resume from; refuse to overwrite a run without --resume, and to
        resume with settings that a resumed run may not change (``silver``: the kind of the
        training data, and ``cpu_bf16``, which fill the data-dependent defaults of an older saved
        config)."""
        if not config.resume:
            if self.config_file.exists():
                raise ConfigError(
                    f"{self.path} already holds a training run; pass --resume to continue it "
                    "or choose another --out"
                )
            return None
        if self.config_file.exists():
            saved = TrainConfig.from_dict(json.loads(self.config_file.read_text()))
            saved = saved.for_data(silver=silver, cpu_bf16=cpu_bf16)
            changed = saved.resume_conflicts(config)
            if changed:
                raise ConfigError(
                    f"{self.config_file}: --resume with different settings {changed}; resume "
                    "with the same options (only max_steps, epochs, patience, eval/save/log "
                    "intervals and workers may change)"
                )
        checkpoint = latest_checkpoint(self.path)
        if checkpoint is None:
            logger.warning("%s: no checkpoint to resume from; starting from step 0", self.path)
        return checkpoint

    def start(self, config: TrainConfig, step: int) -> None:
        """Write the run's config, and on resume drop the records a killed run wrote after its
        last checkpoint (at ``step``)."""
        if not self.is_main:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.config_file, json.dumps(config.to_dict(), indent=2) + "\n")
        if self.metrics_file.exists():
            kept = [r for r in read_metrics(self.metrics_file) if r["step"] <= step]
            write_text_atomic(self.metrics_file, "".join(json.dumps(r) + "\n" for r in kept))

    def log(self, record: dict[str, Any]) -> None:
        """Append one record to metrics.jsonl."""
        if self.is_main:
            with self.metrics_file.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")

    def plot(self) -> None:
        """Redraw curves.png from metrics.jsonl."""
        if self.is_main and self.metrics_file.exists():
            plot_curves(read_metrics(self.metrics_file), self.path / CURVES_FILE)
