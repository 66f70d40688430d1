"""Where the model runs and in which precision: one home for the device and autocast choices.

Training, evaluation and prediction all ask here, so the rule is stated once: reduced precision
(bf16, or fp16 with a GradScaler) is an autocast over fp32 weights on CUDA; a CPU run is fp32.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch

from binder_core.config import AMP_CHOICES
from binder_core.errors import ConfigError


def pick_device(device: str | None = None) -> torch.device:
    """``device`` if given, else CUDA when available, else CPU."""
    if device:
        try:
            return torch.device(device)
        except RuntimeError:
            raise ConfigError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from None
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype, or None for full fp32. Reduced precision needs CUDA."""
    if amp not in AMP_CHOICES:
        raise ConfigError(f"amp must be one of {list(AMP_CHOICES)}, got {amp!r}")
    if device.type != "cuda":
        if amp in ("bf16", "fp16"):
            raise ConfigError(f"--amp {amp} needs a CUDA device; use --amp no on CPU")
        return None
    if amp == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16, "no": None}[amp]


def autocast_context(device: torch.device, amp_dtype: torch.dtype | None) -> Any:
    """``torch.autocast`` with a reduced dtype on the device; a no-op for fp32."""
    if amp_dtype is None or device.type != "cuda":
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda", dtype=amp_dtype)
