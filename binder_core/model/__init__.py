"""The BINDER bi-encoder.

``config`` (model and loss options), ``bi_encoder`` (two encoders, heads, scores),
``type_inputs`` (tokenized type descriptions), ``losses`` (pure), ``negatives`` (which
unlabelled candidates are negatives), ``device`` (device and precision), ``model_dir`` (the
torch-free saved-model contract) and ``saved_model`` (writing and loading weights).
"""
