from collections.abc import Sequence
from typing import Any

def span_buffers(
    rows: Sequence[Sequence[Sequence[Any]]], layout: str
) -> tuple[bytes, tuple[bytes | tuple[bytes, bytes], ...]]: ...
