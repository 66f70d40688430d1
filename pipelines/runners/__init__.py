"""Where a pipeline runs.

``execution`` (the local FnApiRunner or a remote runner, and their options), ``worker_pool``
(local workers forked from a warm template), ``template_dictionaries`` and ``template_logging``
(what the template imports first).
"""
