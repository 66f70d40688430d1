"""Where the model runs and in which precision: one home for the device and autocast choices.

Training, evaluation and prediction all ask here, so the rule is stated once. Reduced precision
is an autocast over fp32 weights (losses and decoding upcast to fp32):

- CUDA: bf16 where the GPU supports it, else fp16 (training then scales the loss).
- CPU: bf16 only, and ``auto`` picks it only where the CPU computes bf16 natively (AMX or
  AVX512-BF16, read from the CPU's feature flags); elsewhere bf16 is emulated and slower than
  fp32, so ``auto`` stays fp32 and an explicit ``bf16`` is still honoured.
"""

from __future__ import annotations

import contextlib
import functools
import sys
from pathlib import Path
from typing import Any

import torch

from binder_core.contract.errors import ConfigError
from binder_core.model.config import AMP_CHOICES

CPU_BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})
"""CPU features that make bf16 matrix products faster than fp32 ones."""

CPU_AUTO_BF16 = False
"""Whether ``amp auto`` trains and predicts in bf16 on a CPU with native bf16."""


def pick_device(device: str | None = None) -> torch.device:
    """``device`` if given, else CUDA when available, else CPU."""
    if device:
        try:
            return torch.device(device)
        except RuntimeError:
            raise ConfigError(f"unknown device {device!r}; use cpu, cuda or cuda:N") from None
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux ``/proc/cpuinfo``; empty elsewhere)."""
    if not sys.platform.startswith("linux"):
        return frozenset()
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def cpu_has_native_bf16() -> bool:
    return bool(cpu_flags() & CPU_BF16_FLAGS)


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``amp`` on ``device``, or None for full fp32."""
    if amp not in AMP_CHOICES:
        raise ConfigError(f"amp must be one of {list(AMP_CHOICES)}, got {amp!r}")
    if amp == "no":
        return None
    if device.type == "cuda":
        if amp == "auto":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return {"bf16": torch.bfloat16, "fp16": torch.float16}[amp]
    if device.type == "cpu":
        if amp == "fp16":
            raise ConfigError("--amp fp16 needs a CUDA device; use --amp bf16 or no on CPU")
        if amp == "bf16" or (CPU_AUTO_BF16 and cpu_has_native_bf16()):
            return torch.bfloat16
        return None
    if amp in ("bf16", "fp16"):
        raise ConfigError(f"--amp {amp} is not supported on {device.type}; use --amp no")
    return None


def autocast_context(device: torch.device, amp_dtype: torch.dtype | None) -> Any:
    """``torch.autocast`` with a reduced dtype on the device; a no-op for fp32."""
    if amp_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=amp_dtype)
