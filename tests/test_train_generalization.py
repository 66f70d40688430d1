"""Generalization options of training: the step budget, the encoder anchor, mention
augmentation in the data set and in a run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from binder_core.contract.errors import ConfigError
from binder_core.data.mentions import MentionAugmenter
from binder_core.training.generalization import (
    encoder_anchors,
    encoder_lr,
    mention_augmenter,
    pull_towards,
    step_budget,
)
from tests.test_train_loop import LABELS, one_thread, run_to_end, tiny_config, write_tiny_data

__all__ = ["one_thread"]


def test_step_budget_takes_the_least_limit() -> None:
    # 10 micro-batches, accumulation 3 -> ceil(10 / 3) = 4 steps a pass
    assert step_budget(10, 3, epochs=3, max_steps=None, max_passes=None) == 12
    assert step_budget(10, 3, epochs=None, max_steps=100, max_passes=2.5) == 10  # ceil(4 * 2.5)
    assert step_budget(10, 3, epochs=None, max_steps=7, max_passes=2.5) == 7
    assert step_budget(10, 1, epochs=3, max_steps=None, max_passes=0.01) == 1  # at least one
    with pytest.raises(ConfigError, match="step limit"):
        step_budget(10, 1, epochs=None, max_steps=None, max_passes=None)


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.text_encoder = nn.Linear(2, 1, bias=False)
        self.head = nn.Linear(1, 1, bias=False)


def test_pull_towards_moves_encoder_weights_back_by_the_rate() -> None:
    model = _Tiny()
    with torch.no_grad():
        model.text_encoder.weight.copy_(torch.tensor([[1.0, -2.0]]))
    anchors = encoder_anchors(model)
    assert [p is model.text_encoder.weight for p, _ in anchors] == [True]  # heads are free
    with torch.no_grad():
        model.text_encoder.weight.copy_(torch.tensor([[3.0, 2.0]]))
    pull_towards(anchors, 0.25)  # w - 0.25 (w - w0) = (3 - 0.5, 2 - 1)
    assert model.text_encoder.weight.tolist() == [[2.5, 1.0]]
    pull_towards(anchors, 0.0)
    assert model.text_encoder.weight.tolist() == [[2.5, 1.0]]
    pull_towards(anchors, 5.0)  # a rate above 1 stops at the anchor
    assert model.text_encoder.weight.tolist() == [[1.0, -2.0]]


def test_encoder_lr_reads_the_encoder_group() -> None:
    model = _Tiny()
    optimizer = torch.optim.SGD(
        [{"params": model.head.parameters(), "lr": 0.1, "name": "heads"},
         {"params": model.text_encoder.parameters(), "lr": 0.01, "name": "encoder"}]
    )  # fmt: skip
    assert encoder_lr(optimizer) == 0.01


def test_mention_augmenter_is_built_only_when_asked_for() -> None:
    class Tok:
        mask_token = None
        unk_token = "[UNK]"

    assert mention_augmenter(0.0, 0.0, Tok(), None, 1) is None
    augment = mention_augmenter(0.0, 0.5, Tok(), None, 1)
    assert augment == MentionAugmenter({}, 0.0, 0.5, "[UNK]", 1)
    with pytest.raises(ConfigError, match="--mention-dictionary"):
        mention_augmenter(0.5, 0.0, Tok(), {}, 1)


def test_train_config_checks_the_generalization_options(tiny_bert: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="needs --mention-dictionary"):
        tiny_config(tiny_bert, tmp_path, replace_mentions=0.3)
    with pytest.raises(ConfigError, match="at most 1"):
        tiny_config(tiny_bert, tmp_path, replace_mentions=0.6, mask_mentions=0.6,
                    mention_dictionary="d.dict")  # fmt: skip
    with pytest.raises(ConfigError, match=r"max_passes must be > 0"):
        tiny_config(tiny_bert, tmp_path, max_passes=0.0)
    with pytest.raises(ConfigError, match=r"encoder_anchor must be >= 0"):
        tiny_config(tiny_bert, tmp_path, encoder_anchor=-1.0)


def test_dataset_masks_every_mention_of_a_window(tiny_bert: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from binder_core.data.dataset import ParquetWindowDataset

    tokenizer = AutoTokenizer.from_pretrained(tiny_bert)
    data = write_tiny_data(tmp_path / "data")
    augment = MentionAugmenter(mask_rate=1.0, mask_token=tokenizer.mask_token)
    dataset = ParquetWindowDataset(data, tokenizer, labels=LABELS, max_span_width_tokens=8,
                                   shuffle=False, document_transform=augment)  # fmt: skip
    windows = list(dataset.iter_windows())
    spans = [(w.input_ids, s) for w in windows for s in w.gold_spans]
    assert len(spans) == 9  # every gold mention is still a span, one [MASK] token wide
    assert all(s[1] == s[2] and ids[s[1]] == tokenizer.mask_token_id for ids, s in spans)


def test_train_with_a_full_anchor_leaves_the_encoder_pretrained(
    tiny_bert: Path, tmp_path: Path
) -> None:
    """lr 3e-3 x anchor 1000 = 3 >= 1: each step ends back at the pretrained encoder; the pass
    budget (2 passes of one step each) stops the run long before max_steps."""
    from transformers import AutoModel

    config = tiny_config(tiny_bert, tmp_path, encoder_anchor=1000.0, max_passes=2.0,
                         max_steps=30, mask_mentions=0.5, dev_dir=None)  # fmt: skip
    events = run_to_end(config)
    assert events[-1].step == 2  # 4 windows / batch 4 = 1 step a pass
    model = events[-1].model
    pretrained = AutoModel.from_pretrained(tiny_bert).state_dict()
    trained = model.text_encoder.state_dict()
    assert len(trained) > 10
    for name, value in trained.items():
        assert torch.equal(value, pretrained[name]), name
