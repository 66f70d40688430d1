"""BinderModel on the tiny random BERT: shapes, heads, separate encoders, save/load, options."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from transformers import AutoTokenizer

from binder_core.contract.errors import BinderError, ConfigError
from binder_core.model.bi_encoder import (
    BinderModel,
    Scores,
    TypeVectors,
    build_optimizer,
    build_optimizer_param_groups,
    fused_adamw_supported,
)
from binder_core.model.config import ModelConfig
from binder_core.model.losses import binder_loss

TEXTS = ["Cisplatin induced nephrotoxicity in mice.", "Lithium can cause diabetes insipidus."]
DESCRIPTIONS = ["a chemical substance or drug", "a disease or disorder", "the protein or gene"]


def _word_embeddings(encoder: Any) -> torch.Tensor:
    return encoder.get_input_embeddings().weight


def _config(tiny_bert: Path, **kwargs: object) -> ModelConfig:
    options: dict[str, object] = {
        "encoder": str(tiny_bert),
        "projection_dim": 16,
        "width_embedding_dim": 8,
        "max_span_width_tokens": 4,
    }
    options.update(kwargs)
    return ModelConfig(**options)  # type: ignore[arg-type]


def _inputs(tiny_bert: Path) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    text = tokenizer(TEXTS, padding=True, return_tensors="pt")
    types = tokenizer(DESCRIPTIONS, padding=True, return_tensors="pt")
    return dict(text), dict(types)


def _scores(model: BinderModel, tiny_bert: Path) -> Scores:
    text, types = _inputs(tiny_bert)
    vectors = model.encode_types(types["input_ids"], types["attention_mask"])
    return model(text["input_ids"], text["attention_mask"], vectors)


@pytest.fixture(scope="module")
def model(tiny_bert: Path) -> BinderModel:
    torch.manual_seed(0)
    return BinderModel.from_pretrained_encoder(_config(tiny_bert)).eval()


def test_binder_model_scores_have_contract_shapes(model: BinderModel, tiny_bert: Path) -> None:
    text, _ = _inputs(tiny_bert)
    b, length = text["input_ids"].shape
    with torch.no_grad():
        scores = _scores(model, tiny_bert)
    assert scores.start.shape == (b, 3, length)
    assert scores.end.shape == (b, 3, length)
    assert scores.span.shape == (b, 3, length, 4)  # the band: W = max_span_width_tokens


def test_binder_model_type_vectors_are_unit_length(model: BinderModel, tiny_bert: Path) -> None:
    _, types = _inputs(tiny_bert)
    with torch.no_grad():
        vectors = model.encode_types(types["input_ids"], types["attention_mask"])
    assert isinstance(vectors, TypeVectors)
    for v in vectors:
        assert v.shape == (3, 16)
        torch.testing.assert_close(v.norm(dim=-1), torch.ones(3))


def test_binder_model_scores_are_scaled_cosines_bounded_by_the_scale(
    model: BinderModel, tiny_bert: Path
) -> None:
    scale = 1 / 0.07
    with torch.no_grad():
        scores = _scores(model, tiny_bert)
    for s in scores:
        assert s.abs().max().item() <= scale * (1 + 1e-5)


def test_binder_model_scales_start_at_log_inverse_temperature(model: BinderModel) -> None:
    for scale in (model.start_logit_scale, model.end_logit_scale, model.span_logit_scale):
        assert scale.item() == pytest.approx(math.log(1 / 0.07))
        assert scale.requires_grad


def test_binder_model_encoders_share_no_weights(model: BinderModel) -> None:
    text_ptrs = {p.data_ptr() for p in model.text_encoder.parameters()}
    type_ptrs = {p.data_ptr() for p in model.type_encoder.parameters()}
    assert text_ptrs.isdisjoint(type_ptrs)
    # Same checkpoint, so same starting values ...
    text_emb = _word_embeddings(model.text_encoder)
    type_emb = _word_embeddings(model.type_encoder)
    assert torch.equal(text_emb, type_emb)


def test_binder_model_updating_text_encoder_leaves_type_encoder(tiny_bert: Path) -> None:
    m = BinderModel.from_pretrained_encoder(_config(tiny_bert))
    type_before = _word_embeddings(m.type_encoder).detach().clone()
    with torch.no_grad():
        _word_embeddings(m.text_encoder).add_(1.0)
    assert torch.equal(_word_embeddings(m.type_encoder), type_before)


def test_binder_model_span_vectors_equal_the_concatenated_linear_map(
    model: BinderModel, tiny_bert: Path
) -> None:
    # span_head([h_i ; h_j ; w(j - i + 1)]) computed naively for one (i, j) pair, at [i, j - i].
    hidden = torch.randn(1, 6, 64)
    with torch.no_grad():
        spans = model.span_vectors(hidden)
        i, j = 1, 3
        concat = torch.cat([hidden[0, i], hidden[0, j], model.width_embedding.weight[j - i]])
        expected = F.normalize(model.span_head(concat), dim=-1)
    assert spans.shape == (1, 6, 4, 16)
    torch.testing.assert_close(spans[0, i, j - i], expected)


def test_binder_model_band_span_vectors_equal_the_full_grid_on_the_band(
    model: BinderModel,
) -> None:
    # The full (B, L, L, d) grid computed directly from the concatenation, cell by cell; the
    # band holds (i, j) at [i, j - i] for every j - i < W with j < L.
    torch.manual_seed(3)
    hidden = torch.randn(2, 7, 64)
    width = model.config.max_span_width_tokens
    with torch.no_grad():
        band = model.span_vectors(hidden)
        cells = 0
        for b in range(2):
            for i in range(7):
                for j in range(i, min(i + width, 7)):
                    w = model.width_embedding.weight[j - i]
                    direct = model.span_head(torch.cat([hidden[b, i], hidden[b, j], w]))
                    torch.testing.assert_close(band[b, i, j - i], F.normalize(direct, dim=-1))
                    cells += 1
    assert band.shape == (2, 7, width, 16)
    assert cells == 2 * (7 * 4 - (1 + 2 + 3))  # the cells past the window's end are padding


def test_binder_model_span_scores_are_band_vectors_times_scaled_types(
    model: BinderModel, tiny_bert: Path
) -> None:
    text, types = _inputs(tiny_bert)
    with torch.no_grad():
        vectors = model.encode_types(types["input_ids"], types["attention_mask"])
        scores = model(text["input_ids"], text["attention_mask"], vectors)
        band = model.text_span_vectors(text["input_ids"], text["attention_mask"])
        scaled = model.scaled_types(vectors)
    torch.testing.assert_close(scaled.span, vectors.span / 0.07)
    expected = torch.einsum("biwd,kd->bkiw", band, vectors.span) / 0.07
    torch.testing.assert_close(scores.span, expected)


def test_binder_model_forward_does_not_reencode_types(model: BinderModel, tiny_bert: Path) -> None:
    text, types = _inputs(tiny_bert)
    calls: list[int] = []
    handle = model.type_encoder.register_forward_hook(lambda *args: calls.append(1))
    try:
        with torch.no_grad():
            vectors = model.encode_types(types["input_ids"], types["attention_mask"])
            model(text["input_ids"], text["attention_mask"], vectors)
            model(text["input_ids"], text["attention_mask"], vectors)
    finally:
        handle.remove()
    assert calls == [1]


def test_binder_model_missing_encoder_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(BinderError, match="cannot load encoder"):
        BinderModel.from_pretrained_encoder(ModelConfig(encoder=str(tmp_path / "no-such-model")))


def _loss_and_grads(model: BinderModel, tiny_bert: Path) -> tuple[float, torch.Tensor]:
    text, types = _inputs(tiny_bert)
    b, length = text["input_ids"].shape
    torch.manual_seed(1)
    scores = model(
        text["input_ids"],
        text["attention_mask"],
        model.encode_types(types["input_ids"], types["attention_mask"]),
    )
    token = text["attention_mask"].bool().clone()
    token[:, 0] = False
    k = 3
    gold = torch.zeros(b, k, length, dtype=torch.bool)
    gold[0, 0, 1] = True
    span_gold = torch.zeros(b, k, length, 4, dtype=torch.bool)
    span_gold[0, 0, 1, 0] = True  # span (1, 1)
    ends = torch.arange(length)[:, None] + torch.arange(4)[None, :]  # (L, W): i + w
    band = token[:, :, None] & token[:, ends.clamp(max=length - 1)] & (ends < length)
    batch = {
        "start_mask": token,
        "end_mask": token,
        "span_mask": band,
        "start_labels": gold,
        "end_labels": gold,
        "span_labels": span_gold,
        "start_uncertain": torch.zeros_like(gold),
        "end_uncertain": torch.zeros_like(gold),
        "span_uncertain": torch.zeros_like(span_gold),
    }
    loss = binder_loss(scores, batch).total
    loss.backward()
    grad = _word_embeddings(model.text_encoder).grad
    assert grad is not None
    return loss.item(), grad.clone()


def test_binder_model_gradient_checkpointing_gives_same_gradients(tiny_bert: Path) -> None:
    torch.manual_seed(0)
    plain = BinderModel.from_pretrained_encoder(_config(tiny_bert)).train()
    torch.manual_seed(0)
    checkpointed = BinderModel.from_pretrained_encoder(
        _config(tiny_bert, gradient_checkpointing=True)
    ).train()
    assert checkpointed.text_encoder.is_activation_checkpointing
    assert checkpointed.type_encoder.is_activation_checkpointing
    assert not plain.text_encoder.is_activation_checkpointing
    loss_a, grad_a = _loss_and_grads(plain, tiny_bert)
    loss_b, grad_b = _loss_and_grads(checkpointed, tiny_bert)
    assert loss_a == pytest.approx(loss_b, rel=1e-6)
    torch.testing.assert_close(grad_a, grad_b)
    assert grad_a.abs().sum().item() > 0


def test_build_optimizer_param_groups_splits_lr_and_decay(model: BinderModel) -> None:
    groups = build_optimizer_param_groups(model, lr=2e-5, head_lr=1e-3, weight_decay=0.01)
    by_name = {g["name"]: g for g in groups}
    assert set(by_name) == {"encoder", "encoder_no_decay", "heads", "heads_no_decay"}
    assert by_name["encoder"]["lr"] == 2e-5 and by_name["encoder"]["weight_decay"] == 0.01
    assert by_name["encoder_no_decay"]["weight_decay"] == 0.0
    assert by_name["heads"]["lr"] == 1e-3 and by_name["heads"]["weight_decay"] == 0.01
    head_no_decay = {id(p) for p in by_name["heads_no_decay"]["params"]}
    assert by_name["heads_no_decay"]["lr"] == 1e-3
    for scale in (model.start_logit_scale, model.end_logit_scale, model.span_logit_scale):
        assert id(scale) in head_no_decay
    assert id(model.span_head.bias) in head_no_decay
    assert id(model.span_head.weight) in {id(p) for p in by_name["heads"]["params"]}
    grouped = [id(p) for g in groups for p in g["params"]]
    assert sorted(grouped) == sorted(id(p) for p in model.parameters())
    torch.optim.AdamW(groups)  # accepted as is


def test_build_optimizer_param_groups_rejects_bad_lr(model: BinderModel) -> None:
    with pytest.raises(ConfigError, match="head_lr must be positive"):
        build_optimizer_param_groups(model, lr=1e-5, head_lr=0.0, weight_decay=0.0)


def test_build_optimizer_is_fused_adamw_over_the_param_groups(model: BinderModel) -> None:
    optimizer = build_optimizer(model, lr=2e-5, head_lr=1e-3, weight_decay=0.01)
    assert isinstance(optimizer, torch.optim.AdamW)
    names = [g["name"] for g in optimizer.param_groups]
    assert names == ["encoder", "encoder_no_decay", "heads", "heads_no_decay"]
    assert all(g["fused"] is True for g in optimizer.param_groups)  # torch >= 2.4 on CPU
    assert fused_adamw_supported("cuda")
