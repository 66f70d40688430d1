"""Shared fixtures: the path to ../shared/data and a tiny random BERT built offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# One intra-op thread per process: the tiny models in these tests are far faster without thread
# contention on small CI machines, and the DDP tests start one process per rank anyway.
os.environ.setdefault("OMP_NUM_THREADS", "1")

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
TYPE_PHRASES = [
    "a person entity",
    "a chemical substance or drug",
    "a disease or disorder",
    "an organization",
    "a location",
    "the protein or gene",
]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or $BINDER_SHARED_DATA); tests that need it skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer, 64-d random BERT with a deterministic WordPiece vocab built from TINY_CORPUS.

    Saved with ``save_pretrained`` so it loads through ``AutoModel``/``AutoTokenizer`` like any
    Hugging Face checkpoint (fast tokenizer with offsets), with no download.
    """
    import torch
    from tokenizers import normalizers, pre_tokenizers
    from transformers import BertConfig, BertModel, BertTokenizer

    out = tmp_path_factory.mktemp("tiny_bert")
    # A deterministic WordPiece vocab: specials, every character (alone and as "##" suffix) and
    # every whole word of the corpus, in sorted order, so the model is the same in every session.
    pre = pre_tokenizers.BertPreTokenizer()
    norm = normalizers.BertNormalizer(lowercase=True)
    corpus = [*TINY_CORPUS, *TYPE_PHRASES]
    words = sorted(
        {w for line in corpus for w, _ in pre.pre_tokenize_str(norm.normalize_str(line))}
    )
    chars = sorted({c for w in words for c in w})
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]
    tokens += [w for w in words if w not in set(tokens)]
    vocab = {t: i for i, t in enumerate(tokens)}
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


SERVING_LABELS = ("Chemical", "Disease")
SERVING_DESCRIPTIONS = {
    "Chemical": "a chemical substance or drug",
    "Disease": "a disease or disorder",
}


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_bert: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained BINDER model directory on the tiny BERT (windows of 16 tokens, spans of up
    to 4). Random vectors put many spans above their thresholds: plenty to compare backends on.
    """
    import torch
    from transformers import AutoTokenizer

    from binder_core.data.config import DataConfig
    from binder_core.model.bi_encoder import BinderModel
    from binder_core.model.config import ModelConfig
    from binder_core.model.model_dir import ModelInfo
    from binder_core.model.saved_model import save_pretrained

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("serving_model") / "model"
    model = BinderModel.from_pretrained_encoder(
        ModelConfig(encoder=str(tiny_bert), projection_dim=16, width_embedding_dim=8,
                    max_span_width_tokens=4)
    )  # fmt: skip
    info = ModelInfo(
        labels=SERVING_LABELS,
        type_descriptions=SERVING_DESCRIPTIONS,
        data_config=DataConfig(max_seq_length=16, window_overlap_tokens=4),
    )
    save_pretrained(model, AutoTokenizer.from_pretrained(tiny_bert), info, out)
    return out


@pytest.fixture(scope="session")
def tiny_export_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tiny_model_dir`` exported to ONNX (fp32); skipped where onnxruntime is missing."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from binder_core.serving.export import export_onnx

    out = tmp_path_factory.mktemp("serving_export") / "export"
    export_onnx(tiny_model_dir, out)
    return out
