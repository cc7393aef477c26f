"""Segmentation kernels: unigram Viterbi and Viterbi sampling over a double-array trie.

Inputs shared by the kernels (see ``_kernels_trie`` for the trie arrays):
    data        : uint8[n_bytes]     UTF-8 bytes of all documents, concatenated
    doc_offsets : int64[n_docs + 1]  document ``d`` is ``data[doc_offsets[d]:doc_offsets[d + 1]]``
    newline_chunks : bool            also cut after every newline run (tokenization chunks)
    base, check : int32[n_cells]     the double-array trie of the vocabulary
    value       : int32[n_cells]     piece id ending at each trie node, -1 where none
    logp        : float64[n_ids]     score of each piece id: log count - log total

Both kernels return ``(ids, ends, doc_token_offsets)``: the piece id and end byte (relative to
its document) of every token, and ``doc_token_offsets`` (int64[n_docs + 1]) giving each
document's slice of them.

Within a chunk, matches are relaxed by start position and, for one start, by increasing end.
For a fixed end that visits matches in increasing start, i.e. longest match first, which is the
order the reference's Aho-Corasick automaton reports them in; with the strict ``>`` below the
longest of equally scored matches wins, as in the reference. Each chunk's scores restart at 0,
so the floating-point sums are the reference's to the last bit.
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
def _backtrack(routes, route_ids, n, ids_out, ends_out, first):  # pragma: no cover - compiled
    """Write the tokens of the path ending at ``n`` into ``ids_out``/``ends_out`` from ``first``.

    ``routes[e]`` is the start and ``route_ids[e]`` the piece id of the token ending at ``e``.
    Returns the number of tokens written.
    """
    count = 0
    e = n
    while e > 0:
        e = routes[e]
        count += 1
    e = n
    k = first + count
    while e > 0:
        k -= 1
        ids_out[k] = route_ids[e]
        ends_out[k] = e
        e = routes[e]
    return count


@kernel
def _viterbi(data, doc_offsets, newline_chunks, base, check, value, logp):  # pragma: no cover
    """Best segmentation of every document (max sum of ``logp``; ties to the longest match)."""
    n_docs = doc_offsets.shape[0] - 1
    n_total = doc_offsets[n_docs] - doc_offsets[0]
    ids = np.empty(n_total, np.int32)
    ends = np.empty(n_total, np.int64)
    doc_token_offsets = np.zeros(n_docs + 1, np.int64)
    longest = 0
    for d in range(n_docs):
        if doc_offsets[d + 1] - doc_offsets[d] > longest:
            longest = doc_offsets[d + 1] - doc_offsets[d]
    scores = np.empty(longest + 1, np.float64)
    routes = np.empty(longest + 1, np.int64)
    route_ids = np.empty(longest + 1, np.int32)
    n_cells = check.shape[0]
    written = 0
    for d in range(n_docs):
        start = doc_offsets[d]
        n = doc_offsets[d + 1] - start
        scores[0] = 0.0
        for i in range(1, n + 1):
            scores[i] = -np.inf
        chunk_end = 0
        for i in range(n):
            if i >= chunk_end:
                scores[i] = 0.0
                if newline_chunks:
                    chunk_end = _chunk_end(data, start + i, start + n) - start
                else:
                    chunk_end = n
            here = scores[i]
            node = 0
            j = i
            while j < chunk_end:
                t = base[node] + np.int32(data[start + j])
                if t >= n_cells or check[t] != node:
                    break
                node = t
                j += 1
                pid = value[node]
                if pid >= 0:
                    score = here + logp[pid]
                    if score > scores[j]:
                        scores[j] = score
                        routes[j] = i
                        route_ids[j] = pid
        written += _backtrack(routes, route_ids, n, ids, ends, written)
        doc_token_offsets[d + 1] = written
    return ids[:written].copy(), ends[:written].copy(), doc_token_offsets


@kernel
def _splitmix64(state):  # pragma: no cover - compiled
    """One step of SplitMix64: returns ``(new_state, output)`` as uint64."""
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@kernel
def _sample(data, doc_offsets, newline_chunks, base, check, value, logp, alpha, seeds):
    """Draw one segmentation of every document with probability ``prod p(piece)^alpha / Z``.

    Viterbi sampling: at each end position keep a running log-sum-exp of the candidates
    ``score[start] + alpha * logp`` and take each new candidate as the back-pointer with
    probability ``exp(candidate - running_total)`` (a reservoir choice), which samples the
    path exactly. ``seeds`` (uint64[n_docs]) seeds a SplitMix64 stream per document, so a
    document's sample does not depend on the others or on the thread that draws it.
    """  # pragma: no cover - compiled
    n_docs = doc_offsets.shape[0] - 1
    n_total = doc_offsets[n_docs] - doc_offsets[0]
    ids = np.empty(n_total, np.int32)
    ends = np.empty(n_total, np.int64)
    doc_token_offsets = np.zeros(n_docs + 1, np.int64)
    longest = 0
    for d in range(n_docs):
        if doc_offsets[d + 1] - doc_offsets[d] > longest:
            longest = doc_offsets[d + 1] - doc_offsets[d]
    scores = np.empty(longest + 1, np.float64)
    routes = np.empty(longest + 1, np.int64)
    route_ids = np.empty(longest + 1, np.int32)
    n_cells = check.shape[0]
    written = 0
    inv = 1.0 / 9007199254740992.0  # 2**-53
    for d in range(n_docs):
        state = seeds[d]
        start = doc_offsets[d]
        n = doc_offsets[d + 1] - start
        scores[0] = 0.0
        for i in range(1, n + 1):
            scores[i] = -np.inf
        chunk_end = 0
        for i in range(n):
            if i >= chunk_end:
                scores[i] = 0.0
                if newline_chunks:
                    chunk_end = _chunk_end(data, start + i, start + n) - start
                else:
                    chunk_end = n
            here = scores[i]
            node = 0
            j = i
            while j < chunk_end:
                t = base[node] + np.int32(data[start + j])
                if t >= n_cells or check[t] != node:
                    break
                node = t
                j += 1
                pid = value[node]
                if pid >= 0:
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
                        u = np.float64(r >> np.uint64(11)) * inv
                        if u < np.exp(cand - total):
                            routes[j] = i
                            route_ids[j] = pid
        written += _backtrack(routes, route_ids, n, ids, ends, written)
        doc_token_offsets[d + 1] = written
    return ids[:written].copy(), ends[:written].copy(), doc_token_offsets
