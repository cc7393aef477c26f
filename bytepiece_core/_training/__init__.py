"""Training, private to ``bytepiece_core`` (the public entry points are ``trainer``,
``analysis``, ``dask`` and ``sizes``).

Stages, in the order a run takes them (``events.Stage``):

- ``corpus``: read documents into one flat array of training chunks (in memory or on disk);
- ``ngrams``: count and prune byte n-grams a length at a time into ``ngram_tables.NgramTables``;
- ``pieces``: segment with the n-gram Viterbi and count the candidate pieces;
- ``prune``: prune the candidates into one vocabulary per size (and ``from_vocab``).

Every counting pass goes through ``passes.Passes``: ``passes.LocalPasses`` on threads,
``dask_passes.DaskPasses`` on a Dask cluster; the stages do not know which. ``memory`` sizes
the counting tables to a budget; ``checkpoint`` saves a stage's result to resume from;
``hashtable``, ``kernels_ngram`` and ``kernels_pieces`` are the Numba kernels.
"""
