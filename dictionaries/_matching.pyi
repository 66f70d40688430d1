from collections.abc import Callable, Sequence

def boundary_hits(
    folded: str,
    raw: list[tuple[int, int, int]],
    values: Sequence[int],
    case_bit: int,
    longest: bool,
    case_ok: Callable[[int, int, int, int], bool] | None,
) -> list[tuple[int, int, int]]: ...
def emit(
    hits: list[tuple[int, int, int]],
    memo: dict[int, tuple[tuple[str, tuple[str, str, str, float, str, bool, float]], ...]],
    starts: list[int] | None,
    ends: list[int] | None,
    make_tails: Callable[[int], object],
    case_ok: Callable[[int, int, str], bool],
    match_type: type,
) -> list: ...
def fold_ascii(text: str) -> str: ...
