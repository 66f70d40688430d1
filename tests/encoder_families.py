"""Tiny random encoders of the families users bring, each with a tokenizer of its own kind.

Every tokenizer is trained here with the ``tokenizers`` library on :data:`FIXTURE_TEXT`, in the
shape the real checkpoints have, then handed to the ``transformers`` class that loads those
checkpoints (so ``AutoTokenizer`` builds it exactly as it builds theirs):

==============  ===============================================  =================================
family          tokenizer                                        as in
==============  ===============================================  =================================
bert, electra   WordPiece, lower-cased, [CLS] x [SEP]            MiniLM, PubMedBERT, ELECTRA
roberta         byte-level BPE ('Ġ' marks a space), <s> x </s>   RoBERTa, BioMed-RoBERTa
xlm-roberta     Unigram + Metaspace ('▁'), <s> x </s>            XLM-R (SentencePiece)
deberta-v2      Unigram + Metaspace ('▁'), [CLS] x [SEP]         DeBERTa-v3 (SentencePiece)
modernbert      byte-level BPE, [CLS] x [SEP]                    ModernBERT (OLMo's BPE)
==============  ===============================================  =================================

The models are 2 layers of width 32 with random weights (seeded), saved with
``save_pretrained`` so they load through ``AutoModel`` like any local checkpoint; nothing is
downloaded. Each config keeps what sets its family apart: ELECTRA's embedding projection
(embeddings narrower than the hidden states), RoBERTa's and XLM-R's position ids offset past
the padding id, DeBERTa-v2's relative positions in log buckets with no absolute positions, and
ModernBERT's rotary positions with alternating global and sliding-window attention (a window
narrower than the test windows, so it matters).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import TINY_CORPUS, TYPE_PHRASES
from tests.test_train_loop import DESCRIPTIONS

FAMILY_DOCS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "Famotidine-associated delirium was reported in six patients.",
        [("Famotidine", "Chemical"), ("delirium", "Disease")],
    ),
    (
        "Cisplatin induced nephrotoxicity and hearing loss in mice.",
        [("Cisplatin", "Chemical"), ("nephrotoxicity", "Disease"), ("hearing loss", "Disease")],
    ),
    (  # leading spaces: a byte-level BPE gives a bare 'Ġ' token; "'s" is one token there
        "  Alzheimer's disease and Parkinson's disease were excluded.",
        [("Alzheimer's disease", "Disease"), ("Parkinson's disease", "Disease")],
    ),
    (  # two spaces inside a mention (DeBERTa's normalizer folds them); a dotted capital I
        "Lithium carbonate can cause diabetes  insipidus in İstanbul.",
        [("Lithium carbonate", "Chemical"), ("diabetes  insipidus", "Disease")],
    ),
    (  # a mention that starts with a two-byte character; an accent outside any mention
        "β-blockers and café au lait caused bradycardia.",
        [("β-blockers", "Chemical"), ("bradycardia", "Disease")],
    ),
]
"""Training documents with the offsets that tell tokenizer families apart."""

FIXTURE_TEXT: tuple[str, ...] = tuple(
    dict.fromkeys([*TINY_CORPUS, *TYPE_PHRASES, *(text for text, _ in FAMILY_DOCS),
                   *DESCRIPTIONS.values()])
)  # fmt: skip
"""What the tokenizers are trained on: the texts and type descriptions the tests use."""

HIDDEN = 32
LAYERS = 2
HEADS = 2
INTERMEDIATE = 64
MAX_POSITIONS = 128
"""Absolute positions (where a family has them): far more than the tests' 32-token windows."""


def _wordpiece(specials: list[str]) -> dict[str, int]:
    """A WordPiece vocabulary: BPE pieces learnt on the lower-cased BERT words, each also as a
    "##" continuation. (WordPieceTrainer learns the same merges, but breaks ties between equal
    counts differently in every process; given its alphabet, the BPE trainer does not.)"""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    alphabet = sorted({c for line in FIXTURE_TEXT for c in normalizer.normalize_str(line)})
    trainer = trainers.BpeTrainer(vocab_size=250, special_tokens=specials,
                                  initial_alphabet=alphabet, show_progress=False)  # fmt: skip
    tokenizer.train_from_iterator(FIXTURE_TEXT, trainer)
    vocab = tokenizer.get_vocab()
    pieces = [p for p in sorted(vocab, key=vocab.__getitem__) if p not in specials]
    tokens = [*specials, *pieces, *(f"##{p}" for p in pieces)]
    return {token: i for i, token in enumerate(tokens)}


def _byte_level_bpe(specials: list[str]) -> Any:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=500, special_tokens=specials, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )  # fmt: skip
    tokenizer.train_from_iterator(FIXTURE_TEXT, trainer)
    return tokenizer


def _unigram(specials: list[str], unk: str) -> list[tuple[str, float]]:
    """A SentencePiece-style Unigram vocabulary: (piece, log-probability) pairs, specials first."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    trainer = trainers.UnigramTrainer(
        vocab_size=300, special_tokens=specials, unk_token=unk, show_progress=False,
        initial_alphabet=sorted({c for line in FIXTURE_TEXT for c in line}),
    )  # fmt: skip
    tokenizer.train_from_iterator(FIXTURE_TEXT, trainer)
    vocab = json.loads(tokenizer.to_str())["model"]["vocab"]
    # The pieces are the same in every process, but not their scores: the last digits vary,
    # and the characters the trainer appends (scored a step of 1e-4 apart) come in hash order.
    # Rounded to 0.01 and sorted, every process gets the same ids and scores.
    pieces = sorted(
        ((str(piece), round(float(score), 2)) for piece, score in vocab if piece not in specials),
        key=lambda item: (-item[1], item[0]),
    )
    return [(special, 0.0) for special in specials] + pieces


def _bpe_parts(tokenizer: Any) -> tuple[dict[str, int], list[Any]]:
    model = json.loads(tokenizer.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return dict(model["vocab"]), merges


def bert_tokenizer() -> Any:
    from transformers import BertTokenizer

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    return BertTokenizer(vocab=_wordpiece(specials), do_lower_case=True)


def roberta_tokenizer() -> Any:
    from transformers import RobertaTokenizer

    vocab, merges = _bpe_parts(_byte_level_bpe(["<s>", "<pad>", "</s>", "<unk>", "<mask>"]))
    return RobertaTokenizer(vocab=vocab, merges=merges)


def xlm_roberta_tokenizer() -> Any:
    from transformers import XLMRobertaTokenizer

    return XLMRobertaTokenizer(vocab=_unigram(["<s>", "<pad>", "</s>", "<unk>", "<mask>"], "<unk>"))


def deberta_v2_tokenizer() -> Any:
    from transformers import DebertaV2Tokenizer

    specials = ["[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"]
    return DebertaV2Tokenizer(vocab=_unigram(specials, "[UNK]"))


def modernbert_tokenizer() -> Any:
    """ModernBERT ships a plain ``tokenizer.json``: byte-level BPE with a [CLS]/[SEP] template."""
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    tokenizer = _byte_level_bpe(["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"])
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls_id), ("[SEP]", sep_id)],
    )  # fmt: skip
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
        unk_token="[UNK]", mask_token="[MASK]",
    )  # fmt: skip


NO_DROPOUT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}
"""Dropout off (ModernBERT ships so), so that a few steps overfit the same way every run."""

CONFIGS: dict[str, dict[str, Any]] = {
    "bert": {**NO_DROPOUT, "max_position_embeddings": MAX_POSITIONS},
    # embeddings narrower than the hidden states, projected up (as in ELECTRA-small)
    "electra": {**NO_DROPOUT, "max_position_embeddings": MAX_POSITIONS, "embedding_size": 24},
    # position ids start after the padding id, as in the real checkpoints (514 for 512 tokens)
    "roberta": {**NO_DROPOUT, "max_position_embeddings": MAX_POSITIONS + 2,
                "type_vocab_size": 1},
    "xlm-roberta": {**NO_DROPOUT, "max_position_embeddings": MAX_POSITIONS + 2,
                    "type_vocab_size": 1},
    # DeBERTa-v3's settings; 8 position buckets put the log buckets to work beyond distance 4
    "deberta-v2": {**NO_DROPOUT, "max_position_embeddings": MAX_POSITIONS,
                   "relative_attention": True, "position_buckets": 8,
                   "max_relative_positions": -1, "pos_att_type": ["p2c", "c2p"],
                   "position_biased_input": False, "norm_rel_ebd": "layer_norm",
                   "share_att_key": True, "type_vocab_size": 0},
    # layer 0 global, layer 1 sliding-window attention over 8 tokens (4 either side)
    "modernbert": {"max_position_embeddings": MAX_POSITIONS, "local_attention": 8,
                   "global_attn_every_n_layers": 2},
}  # fmt: skip
"""What sets each family's tiny config apart, besides the shared shape."""


def encoder_config(family: str, tokenizer: Any) -> Any:
    """The tiny random config of ``family``, with the tokenizer's vocabulary and special ids."""
    from transformers import AutoConfig

    specials = {
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.cls_token_id,
        "eos_token_id": tokenizer.sep_token_id,
    }
    if family == "modernbert":
        specials |= {"cls_token_id": tokenizer.cls_token_id,
                     "sep_token_id": tokenizer.sep_token_id}  # fmt: skip
    return AutoConfig.for_model(
        family, vocab_size=len(tokenizer), hidden_size=HIDDEN, num_hidden_layers=LAYERS,
        num_attention_heads=HEADS, intermediate_size=INTERMEDIATE, **specials, **CONFIGS[family],
    )  # fmt: skip


TOKENIZERS: dict[str, Callable[[], Any]] = {
    "bert": bert_tokenizer,
    "roberta": roberta_tokenizer,
    "deberta-v2": deberta_v2_tokenizer,
    "electra": bert_tokenizer,
    "xlm-roberta": xlm_roberta_tokenizer,
    "modernbert": modernbert_tokenizer,
}
"""family (the checkpoint's ``model_type``) -> its tokenizer builder."""


def available_families() -> tuple[str, ...]:
    """The families this ``transformers`` has (ModernBERT arrived in 4.48)."""
    from transformers import CONFIG_MAPPING

    return tuple(family for family in TOKENIZERS if family in CONFIG_MAPPING)


def build_tiny_encoder(family: str, out: Path) -> Path:
    """Write a tiny random ``family`` encoder and its tokenizer to ``out`` (returned)."""
    import torch
    from transformers import AutoModel

    tokenizer = TOKENIZERS[family]()
    tokenizer.save_pretrained(out)
    torch.manual_seed(0)
    AutoModel.from_config(encoder_config(family, tokenizer)).save_pretrained(out)
    return out


def build_tiny_decoder(out: Path) -> Path:
    """A tiny random GPT-2 (a decoder-only model) with its byte-level BPE, at ``out``."""
    import torch
    from transformers import AutoModel, GPT2Config, GPT2Tokenizer

    vocab, merges = _bpe_parts(_byte_level_bpe(["<|endoftext|>"]))
    tokenizer = GPT2Tokenizer(vocab=vocab, merges=merges)
    tokenizer.save_pretrained(out)
    torch.manual_seed(0)
    end = tokenizer.eos_token_id
    config = GPT2Config(vocab_size=len(tokenizer), n_embd=HIDDEN, n_layer=LAYERS, n_head=HEADS,
                        n_positions=MAX_POSITIONS, bos_token_id=end, eos_token_id=end)  # fmt: skip
    AutoModel.from_config(config).save_pretrained(out)
    return out
