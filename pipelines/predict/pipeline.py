"""Corpus-scale prediction: corpus files -> a model inside Beam -> Parquet shards of predictions.

::

    files ─ ReadCorpus ─┬─ RunInference(TagDocumentsHandler) ─ EncodeShards ─┐
                        └─ dead letters ──────────────────────────────────── WriteSilver
                                      (Parquet shards, _dead_letters/, _manifest.json) ◄───┘

The corpus is read exactly as ``binder silver build`` reads it (:class:`pipelines.silver.transforms
.ReadCorpus`, the same readers and dead letters), and the output is written by the same shard
writer: contract Parquet whose spans have ``origin = "model"``, sharded by a hash of ``doc_id``
and sorted within each shard. Predicting on the corpus a silver set was built from, with the
same ``--shards``, gives the documents in the silver set's order, which is what ``binder silver
augment SILVER PREDICTIONS OUT`` reads. Every input record is a row or a dead letter, and the
manifest says so.

The model runs in Beam's ``RunInference``: :class:`TagDocumentsHandler` loads it once per
worker (:func:`binder_core.inference.backends.load_predictor`: an export folder on onnxruntime,
which needs no torch on the workers, or a torch model folder), and each batch of documents from the
reader is tagged in one call, its windows batched through the model.

Run it through ``binder silver predict``, or from Python with :func:`predict_corpus` and an
:class:`~pipelines.runners.execution.Execution`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import ModelHandler, RunInference

from binder_core.contract.errors import ConfigError, InputError
from binder_core.contract.outputs import EXPORT_CONFIG_NAME
from binder_core.contract.schema import (
    SCHEMA_VERSION,
    SPAN_FIELDS,
    Origin,
    document_schema,
    shard_name,
)
from binder_core.model.model_dir import CONFIG_NAME
from pipelines.corpus.readers import expand_inputs
from pipelines.predict.config import PredictConfig
from pipelines.runners.execution import (
    Execution,
)
from pipelines.silver import shards as out
from pipelines.silver.batches import Batch
from pipelines.silver.dictionary_files import is_local
from pipelines.silver.transforms import METRICS_NAMESPACE, EncodeShardsFn, ReadCorpus, WriteSilver

logger = logging.getLogger(__name__)

MODEL_CONFIG_FILES = (EXPORT_CONFIG_NAME, CONFIG_NAME)
"""What marks a model folder: an export (``binder export``) or a saved torch model."""


def read_model_info(path: str) -> dict[str, Any]:
    """``{"labels", "decoding", "kind"}`` of the model folder at ``path`` (local or remote),
    from its config file (no weights are read), once the folder has passed the checks the
    workers would make first (:func:`check_model_folder`)."""
    from binder_core.model.model_dir import BEST_DIR, ModelInfo

    folders = [path] if not is_local(path) else [path, os.path.join(path, BEST_DIR)]
    for folder in folders:
        for name in MODEL_CONFIG_FILES:
            config_path = FileSystems.join(folder, name)
            if not FileSystems.exists(config_path):
                continue
            with FileSystems.open(
                config_path, compression_type=CompressionTypes.UNCOMPRESSED
            ) as handle:
                meta = json.loads(handle.read().decode("utf-8"))
            kind = "onnx" if name == MODEL_CONFIG_FILES[0] else "torch"
            check_model_folder(folder, meta, kind)
            info = ModelInfo.from_dict(meta.get("extra") or {})
            return {"labels": list(info.labels), "decoding": info.decoding, "kind": kind}
    raise InputError(
        "no model here (looked for binder_export.json and binder_config.json); pass an export "
        "folder (`binder export`) or a model folder (`binder train`)",
        path=path,
    )


def check_model_folder(folder: str, meta: Any, kind: str) -> None:
    """What a worker checks first when it loads the model, checked here, before the pipeline:
    the format version and the files the folder must hold (all of a local folder's checks)."""
    if is_local(folder):
        if kind == "onnx":
            from binder_core.inference.export_dir import read_export

            read_export(folder)
        else:
            from binder_core.model.model_dir import read_model_meta

            read_model_meta(folder)
        return
    from binder_core.inference import export_dir
    from binder_core.model import model_dir

    needed: tuple[str, ...] = (model_dir.WEIGHTS_NAME,)
    version = model_dir.FORMAT_VERSION
    if kind == "onnx":
        version, needed = export_dir.EXPORT_FORMAT_VERSION, export_dir.EXPORT_FILES
    found = meta.get("format_version") if isinstance(meta, dict) else None
    if found != version:
        raise ConfigError(
            f"{folder}: {kind} model format version {found!r}, this binder-ner reads version "
            f"{version}; export or train it again with this version"
        )
    for name in needed:
        if not FileSystems.exists(FileSystems.join(folder, name)):
            raise InputError(f"incomplete model folder: {name} is missing", path=folder)


def check_link_dictionary(path: str, labels: Sequence[str]) -> None:
    """Refuse, before any worker starts, a link dictionary that is not a compiled dictionary
    (its header is read where the file is local) or that holds none of the model's types."""
    if not is_local(path):
        return
    from dictionaries.artifact import load_info

    info = load_info(path)
    if not set(info.labels) & set(labels):
        raise ConfigError(
            f"{path}: the link dictionary's types {list(info.labels)} are none of the model's "
            f"({list(labels)}); no span could be linked"
        )


def local_model_folder(path: str, scratch: str) -> str:
    """``path`` itself when local; a remote model folder is copied into ``scratch`` first."""
    if is_local(path):
        return path
    target = os.path.join(scratch, "model")
    os.makedirs(target, exist_ok=True)
    (found,) = FileSystems.match([FileSystems.join(path, "*")])
    for item in found.metadata_list:
        name = item.path.rstrip("/").rsplit("/", 1)[-1]
        with (
            FileSystems.open(item.path, compression_type=CompressionTypes.UNCOMPRESSED) as src,
            open(os.path.join(target, name), "wb") as dst,
        ):
            shutil.copyfileobj(src, dst)
    return target


def tag_batch(
    predictor: Any, docs: Sequence[Any], config: PredictConfig, linker: Any = None
) -> Batch:
    """A batch of documents -> a batch of rows ``(doc_id, text, source, spans)``, the spans as
    tuples in schema field order (what :class:`pipelines.silver.transforms.EncodeShardsFn`
    takes). With ``linker`` (a ``(text, spans) -> spans`` hook), the spans get concept ids."""
    from binder_core.inference.engine import to_span

    predictions = predictor.predict_spans(
        [doc.text for doc in docs], config.decoding, config.batch_size, config.labels
    )
    rows = []
    for doc, predicted in zip(docs, predictions, strict=True):
        spans = [to_span(p) for p in predicted]
        if linker is not None:
            spans = linker(doc.text, spans)
        rows.append(
            (doc.doc_id, doc.text, doc.source, [tuple(s[f] for f in SPAN_FIELDS) for s in spans])
        )
    return Batch(rows)


@dataclass(frozen=True)
class LoadedTagger:
    """What a worker loads once: the model, and the linker of ``--link-dict`` (or None). A
    class, not a tuple: ``RunInference`` keeps a weak reference to it."""

    predictor: Any
    linker: Any


class TagDocumentsHandler(ModelHandler[Batch, Batch, Any]):
    """``RunInference``'s model handler: loads the model once per worker; each example is a
    batch of documents from the reader and its prediction a batch of rows."""

    def __init__(self, config: PredictConfig) -> None:
        super().__init__(min_batch_size=1, max_batch_size=1)
        self._config = config
        self._scratch: str | None = None

    def load_model(self) -> Any:
        from binder_core.inference.backends import load_predictor

        c = self._config
        if not is_local(c.model):
            self._scratch = tempfile.mkdtemp(prefix="binder-model-")
        local = local_model_folder(c.model, self._scratch or "")
        logger.info("loading %s (%s) on a worker", c.model, c.backend)
        predictor = load_predictor(local, backend=c.backend, threads=c.threads)
        linker = None
        if c.link_dictionary is not None:
            from dictionaries.linking.spans import span_linker
            from pipelines.silver.dictionary_files import load_dictionary

            linker = span_linker(c.link_dictionary, load_dictionary(c.link_dictionary))
        return LoadedTagger(predictor, linker)

    def run_inference(
        self, batch: Sequence[Batch], model: Any, inference_args: dict[str, Any] | None = None
    ) -> Iterable[Batch]:
        return [tag_batch(model.predictor, docs, self._config, model.linker) for docs in batch]

    def get_num_bytes(self, batch: Sequence[Batch]) -> int:
        return sum(len(doc.text.encode("utf-8")) for docs in batch for doc in docs)

    def get_metrics_namespace(self) -> str:
        return METRICS_NAMESPACE + ".predict"


class PredictDocuments(beam.PTransform):
    """Batches of documents -> ``(shard, piece path)`` of tagged rows, staged under
    ``<output>/_staging``."""

    def __init__(self, config: PredictConfig, schema: Any, staging: str) -> None:
        super().__init__()
        # inside the folder being built, never the final output: a killed run leaves nothing there
        self._config, self._schema, self._staging = config, schema, staging

    def expand(self, docs: Any) -> Any:
        c = self._config
        rows = docs | "RunModel" >> RunInference(TagDocumentsHandler(c)).with_output_types(Batch)
        counted = rows | "CountDocuments" >> beam.ParDo(_CountFn())
        return counted | "EncodeShards" >> beam.ParDo(
            EncodeShardsFn(c.shards, self._schema, self._staging)
        )


class _CountFn(beam.DoFn):
    def __init__(self) -> None:
        self._documents = Metrics.counter(METRICS_NAMESPACE, "predicted_documents")

    def process(self, rows: Batch) -> Iterator[Batch]:
        self._documents.inc(len(rows))
        yield rows


def _absolute(path: str) -> str:
    return os.path.abspath(path) if is_local(path) else path


def predict_corpus(
    config: PredictConfig, execution: Execution, *, overwrite: bool = False
) -> dict[str, Any]:
    """Run the prediction pipeline to completion and return its manifest.

    Paths are made absolute first, since workers may not share this process's directory.
    The output replaces an earlier prediction in the same folder, whole
    (:func:`pipelines.silver.shards.pipeline_output`); a folder holding other files is refused
    unless ``overwrite``.
    """
    config = PredictConfig(
        **{
            **{f: getattr(config, f) for f in config.__dataclass_fields__},
            "inputs": tuple(_absolute(p) for p in config.inputs),
            "model": _absolute(config.model),
            "output": _absolute(config.output),
            "link_dictionary": config.link_dictionary and _absolute(config.link_dictionary),
        }
    )
    if config.link_dictionary is not None:
        check_link_dictionary(config.link_dictionary, read_model_info(config.model)["labels"])
    files = expand_inputs(config.inputs)
    inputs = [f.path for f in files] + [config.model]
    out.check_pipeline_output(config.output, "prediction", inputs, overwrite)
    model = read_model_info(config.model)
    labels = tuple(config.labels or model["labels"])
    unknown = sorted(set(labels) - set(model["labels"]))
    if unknown:
        raise ConfigError(f"--labels {unknown} are not types of the model ({model['labels']})")
    decoding = config.decoding or model["decoding"]
    extra = {**config.options(), "origin": Origin.MODEL.value, "model": config.model}
    schema = document_schema(labels, extra=extra)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "kind": "prediction",
        "inputs": [f.path for f in files],
        "options": config.options(),
        "labels": list(labels),
        "model": {**model, "path": config.model, "decoding": decoding},
        "shards": [shard_name(i, config.shards) for i in range(config.shards)],
        "dead_letters": f"{out.DEAD_LETTER_DIR}/{out.DEAD_LETTER_FILE}",
        "runner": execution.description,
    }
    logger.info(
        "predicting %d file(s) with %s on %s", len(files), config.model, execution.description
    )
    with (
        out.pipeline_output(config.output, "prediction", inputs, overwrite) as target,
        beam.Pipeline(runner=execution.runner, options=execution.options) as pipeline,
    ):
        docs, dead, read_counts = pipeline | "ReadCorpus" >> ReadCorpus(
            files, config.read, execution.workers, spread=not execution.in_process
        )
        pieces = docs | "PredictDocuments" >> PredictDocuments(
            config, schema, out.staging_path(target)
        )
        no_counts = pipeline | "NoLabelingCounts" >> beam.Create([])
        _ = (pieces, dead, read_counts, no_counts) | "WritePredictions" >> WriteSilver(
            target, config.shards, schema, manifest
        )
    return out.read_manifest(config.output)
