"""BINDER bi-encoder NER: schema (torch-free), data, model, losses, decoding, training, prediction.

Importing this package does not import torch; the torch-backed modules are imported explicitly
(``binder_core.model``, ``binder_core.train`` ...).
"""
