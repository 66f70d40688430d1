"""Documents to model inputs.

``config`` (how documents become windows), ``tokenization`` (one tokenizer interface),
``windows`` (word candidates and sliding windows, torch-free), ``type_descriptions`` (the text
of each entity type), ``dataset`` (the streaming window data set over Parquet shards) and
``collate`` (windows to tensors).
"""
