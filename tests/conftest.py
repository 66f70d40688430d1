"""Shared fixtures: the path to ../shared/data and a tiny random BERT built offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("BINDER_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))

TINY_CORPUS = [
    "Famotidine-associated delirium was reported in six patients.",
    "Cisplatin induced nephrotoxicity and hearing loss in mice.",
    "The patient received aspirin and developed gastric ulcer.",
    "Acute renal failure after treatment with gentamicin.",
    "Lithium carbonate can cause diabetes insipidus.",
    "Haloperidol-induced dyskinesia was not observed.",
    "BRCA1 mutations increase the risk of breast cancer.",
    "Hypertension and hypokalemia are common side effects.",
    "Naloxone reversed the effects of morphine in rats.",
    "Caffeine (1,3,7-trimethylxanthine) is a stimulant; Straße café İstanbul.",
]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or $BINDER_SHARED_DATA); tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 64-d random BERT with a WordPiece vocab trained on TINY_CORPUS.

    Saved with ``save_pretrained`` so it loads through ``AutoModel``/``AutoTokenizer`` like any
    Hugging Face checkpoint (fast tokenizer with offsets), with no download.
    """
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertModel, BertTokenizer

    out = tmp_path_factory.mktemp("tiny_bert")
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=400, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    )
    corpus = TINY_CORPUS * 3 + [
        "a person entity", "a chemical substance or drug", "a disease or disorder",
        "an organization", "a location", "the protein or gene",
    ]
    tok.train_from_iterator(corpus, trainer=trainer)
    vocab = tok.get_vocab()
    BertTokenizer(vocab=vocab, do_lower_case=True).save_pretrained(out)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(out)
    return out
