"""The documents benchmark (``scripts/bench_documents.py``): one module per part.

``instance`` makes a throw-away instance (SQLite file or PostgreSQL database), ``seed`` fills
it with funded applications, ``documents`` times one packet and one audit record against
WeasyPrint alone, ``batch`` times a batch of records on real RQ workers, ``report`` prints.
"""
