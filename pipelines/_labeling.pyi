from dictionaries import Match
from dictionaries.abbreviations import Abbreviation

def short_form_spans(
    text: str,
    spans: list[Match],
    pairs: list[Abbreviation],
    exact: bool,
    heldout: str,
    abbreviation: str,
    match_type: type[Match],
) -> tuple[int, list[Match]]: ...
