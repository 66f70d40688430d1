"""Serving a trained model elsewhere.

``export`` (a model as a self-contained ONNX folder), ``export_dir`` (its layout, torch-free),
``onnx_runtime`` (the export on onnxruntime, no torch) and ``spacy_component`` (``binder_ner``).
"""
