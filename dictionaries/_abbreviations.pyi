from collections.abc import Container

def find(
    text: str, long_ends: Container[int] | None
) -> list[tuple[int, int, int, int]] | None: ...
