"""Type-description files for common data sets (see :mod:`binder_core.data.type_descriptions`)."""
