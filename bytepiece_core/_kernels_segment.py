"""Segmentation kernels: unigram Viterbi and Viterbi sampling over a double-array trie.

Arrays shared by the kernels (see ``_kernels_trie`` for the trie):
    data        : uint8[n_bytes]     UTF-8 bytes of all documents, concatenated
    doc_offsets : int64[n_docs + 1]  document ``d`` is ``data[doc_offsets[d]:doc_offsets[d + 1]]``;
                                     an empty array means one document, all of ``data``
    base, check : int32[n_cells]     the double-array trie of the vocabulary
    value       : int32[n_cells]     piece id ending at each trie node, -1 where none ends
    logp        : float64[n_ids]     score of each piece id: log count - log total

Chunks: with ``newline_chunks`` a document is cut after every run of newlines (tokenization);
without, each document is one chunk (the trainer re-splitting pieces). No token crosses a chunk,
and each chunk's scores start from 0, so the floating-point sums are the reference's to the bit.

Within a chunk, matches are relaxed by start position and, for one start, by increasing end.
For a fixed end that visits matches in increasing start, i.e. longest match first, the order
the reference's Aho-Corasick automaton reports them in; with the strict ``>`` the longest of
equally scored matches wins, as in the reference.
"""

from __future__ import annotations

import numpy as np

from ._numba import kernel

_NEWLINE = 10


@kernel
def _chunk_end(data, pos, stop):  # pragma: no cover - compiled
    """End of the chunk starting at ``pos``: past its non-newline run, then its newline run."""
    i = pos
    while i < stop and data[i] != _NEWLINE:
        i += 1
    while i < stop and data[i] == _NEWLINE:
        i += 1
    return i


@kernel
def _splitmix64(state):  # pragma: no cover - compiled
    """One step of SplitMix64: returns ``(new_state, output)``, both uint64."""
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@kernel
def _relax_chunk(data, lo, hi, base, check, value, logp, alpha, state, scores, routes, route_ids):
    """Relax every vocabulary match inside ``data[lo:hi]`` (positions relative to ``lo``).

    scores    : float64[>= hi - lo + 1]  best (or log-sum-exp) score of each prefix
    routes    : int64[>= hi - lo + 1]    start of the token chosen to end at each position
    route_ids : int32[>= hi - lo + 1]    piece id of that token

    ``alpha < 0`` keeps the best score (Viterbi). ``alpha >= 0`` keeps a running log-sum-exp of
    ``score[start] + alpha * logp`` at each end and takes each new candidate as the back-pointer
    with probability ``exp(candidate - running_total)`` (a reservoir choice), which draws a path
    with probability ``prod p(piece)^alpha / Z`` exactly. ``state`` is the SplitMix64 state
    (uint64), returned advanced.
    """  # pragma: no cover - compiled
    m = hi - lo
    scores[0] = 0.0
    for i in range(1, m + 1):
        scores[i] = -np.inf
    inv53 = 1.0 / 9007199254740992.0
    for i in range(m):
        here = scores[i]
        node = 0
        j = i
        while j < m:
            t = base[node] + np.int32(data[lo + j])
            if check[t] != node:
                break
            node = t
            j += 1
            pid = value[node]
            if pid < 0:
                continue
            if alpha < 0:
                score = here + logp[pid]
                if score > scores[j]:
                    scores[j] = score
                    routes[j] = i
                    route_ids[j] = pid
            else:
                cand = here + alpha * logp[pid]
                old = scores[j]
                if old == -np.inf:
                    scores[j] = cand
                    routes[j] = i
                    route_ids[j] = pid
                else:
                    if cand > old:
                        total = cand + np.log1p(np.exp(old - cand))
                    else:
                        total = old + np.log1p(np.exp(cand - old))
                    scores[j] = total
                    state, r = _splitmix64(state)
                    if np.float64(r >> np.uint64(11)) * inv53 < np.exp(cand - total):
                        routes[j] = i
                        route_ids[j] = pid
    return state


@kernel
def _emit_path(routes, route_ids, m, shift, ids_out, ends_out, first):  # pragma: no cover
    """Write the tokens of the path ending at ``m`` into ``ids_out`` from index ``first``.

    Token ends go to ``ends_out`` (plus ``shift``) unless it is empty. Returns the count.
    """
    count = 0
    e = m
    while e > 0:
        e = routes[e]
        count += 1
    k = first + count
    e = m
    store_ends = ends_out.shape[0] > 0
    while e > 0:
        k -= 1
        ids_out[k] = route_ids[e]
        if store_ends:
            ends_out[k] = shift + e
        e = routes[e]
    return count


@kernel
def _segment(
    data, doc_offsets, newline_chunks, base, check, value, logp, alpha, seeds,
    ids_out, ends_out, doc_token_offsets,
):  # pragma: no cover - compiled
    """Segment every document; returns the number of tokens written.

    seeds             : uint64[n_docs]   sampling seed of each document (unused when alpha < 0)
    ids_out           : int32[>= n_bytes]  token ids, documents one after another
    ends_out          : int64[>= n_bytes]  token end byte, relative to its document (or empty)
    doc_token_offsets : int64[n_docs + 1]  filled with each document's token range (or empty)

    Scratch space is sized to the longest chunk, so it stays in cache on long texts.
    """
    single = doc_offsets.shape[0] == 0
    n_docs = 1 if single else doc_offsets.shape[0] - 1
    cap = 256
    scores = np.empty(cap + 1, np.float64)
    routes = np.empty(cap + 1, np.int64)
    route_ids = np.empty(cap + 1, np.int32)
    written = 0
    if doc_token_offsets.shape[0] > 0:
        doc_token_offsets[0] = 0
    for d in range(n_docs):
        start = 0 if single else doc_offsets[d]
        stop = data.shape[0] if single else doc_offsets[d + 1]
        state = seeds[d] if alpha >= 0 else np.uint64(0)
        lo = start
        while lo < stop:
            hi = _chunk_end(data, lo, stop) if newline_chunks else stop
            if hi - lo > cap:
                cap = hi - lo
                scores = np.empty(cap + 1, np.float64)
                routes = np.empty(cap + 1, np.int64)
                route_ids = np.empty(cap + 1, np.int32)
            state = _relax_chunk(
                data, lo, hi, base, check, value, logp, alpha, state, scores, routes, route_ids
            )
            written += _emit_path(routes, route_ids, hi - lo, lo - start, ids_out, ends_out, written)
            lo = hi
        if doc_token_offsets.shape[0] > 0:
            doc_token_offsets[d + 1] = written
    return written


@kernel
def _encode(data, base, check, value, logp, ids_out):  # pragma: no cover - compiled
    """Best segmentation of one document with tokenization chunks: ``encode``'s lean path.

    ids_out : int32[>= n_bytes]  receives the token ids; returns how many were written.
    Fewer arguments and no optional outputs keep the call overhead low for short texts.
    """
    cap = 256
    scores = np.empty(cap + 1, np.float64)
    routes = np.empty(cap + 1, np.int64)
    route_ids = np.empty(cap + 1, np.int32)
    no_ends = np.empty(0, np.int64)
    written = 0
    lo = 0
    stop = data.shape[0]
    while lo < stop:
        hi = _chunk_end(data, lo, stop)
        if hi - lo > cap:
            cap = hi - lo
            scores = np.empty(cap + 1, np.float64)
            routes = np.empty(cap + 1, np.int64)
            route_ids = np.empty(cap + 1, np.int32)
        _relax_chunk(data, lo, hi, base, check, value, logp, -1.0, np.uint64(0), scores, routes,
                     route_ids)
        written += _emit_path(routes, route_ids, hi - lo, 0, ids_out, no_ends, written)
        lo = hi
    return written
