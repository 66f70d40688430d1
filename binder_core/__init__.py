"""The BINDER bi-encoder: from contract Parquet to a trained, evaluated, served model.

Sub-packages, each importable on its own, imports pointing down this list:

- ``contract``: torch-free, what ``dictionaries``, ``pipelines`` and ``cli`` may use: the Parquet
  schema, the user-facing errors, span metrics, atomic writes and output folders, the option
  machinery (every default, bound and help text declared once).
- ``data``: documents to model inputs: tokenization, sliding windows, the streaming window data
  set, collation, entity-type descriptions (torch-free except collation and the data set).
- ``model``: the bi-encoder, its configuration, losses, negatives, the device rule and the
  saved-model contract.
- ``training``: the training loop (a generator of events), its configuration, batches, step,
  checkpoints, data-parallel plumbing, model selection and the run folder.
- ``inference``: the backend-neutral engine (windows -> batches -> encoder -> decode), the torch
  backend, decoding, the hybrid with a dictionary, evaluation and prediction.
- ``serving``: the ONNX export folder and its runtime (no torch), and the spaCy component.

Importing this package, or any sub-package, does not import torch; the torch-backed modules are
imported explicitly (``binder_core.model.bi_encoder``, ``binder_core.training.loop`` ...).
"""
