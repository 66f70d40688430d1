"""Training a model.

``config`` (the run's options), ``loop`` (the training loop, a generator of events),
``batches`` (types, step counts and the batch stream), ``step`` (one optimizer step),
``checkpoint`` (atomic checkpoints for ``--resume``), ``distributed`` (torchrun plumbing),
``selection`` (which dev score picks the best checkpoint), ``run_folder`` and ``plots``.
"""
