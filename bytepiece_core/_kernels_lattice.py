"""Kernels over the segmentation lattice of one text: its edges, forward and backward sums.

The lattice of a text has one edge per vocabulary match ``(start, end, id)`` inside a chunk
(chunks as in tokenization: a token never crosses the end of a newline run). A segmentation is
a path of edges from byte 0 to byte n.

Arrays:
    starts, ends : int64[n_edges]   byte offsets of each edge, sorted by (start, end)
    weights      : float64[n_edges] an edge's log-weight (``alpha * logp`` for the tempered
                                    distribution, 0 to count paths)
"""

from __future__ import annotations

import numpy as np

from ._kernels_segment import _chunk_end
from ._numba import kernel


@kernel
def _lattice_edges(data, cells, value):  # pragma: no cover - compiled
    """Every vocabulary match of ``data`` (uint8, one text): ``(starts, ends, ids)``.

    Edges come ordered by start, then end; ids are int32. ``cells``/``value`` as in
    ``_kernels_segment``.
    """
    n = len(data)
    cap = 4 * n + 16
    starts = np.empty(cap, np.int64)
    ends = np.empty(cap, np.int64)
    ids = np.empty(cap, np.int32)
    k = 0
    lo = 0
    while lo < n:
        hi = _chunk_end(data, lo, n)
        starts, ends, ids, k = _chunk_edges(data, lo, hi, 0, cells, value, starts, ends, ids, k)
        lo = hi
    return starts[:k].copy(), ends[:k].copy(), ids[:k].copy()


@kernel
def _chunk_edges(data, lo, hi, base, cells, value, starts, ends, ids, k):  # pragma: no cover
    """Append the vocabulary matches of the chunk ``data[lo:hi]`` (by start, then end; offsets
    less ``base``) to the first ``k`` entries of the buffers ``starts``/``ends``/``ids``,
    doubled when full; returns the buffers and the new count."""
    root_base = cells[0].base
    for i in range(lo, hi):
        t = np.uint32(root_base + np.int32(data[i]))
        j = i
        while True:
            j += 1
            if value[t] >= 0:
                if k == starts.shape[0]:
                    starts = np.concatenate((starts, np.empty_like(starts)))
                    ends = np.concatenate((ends, np.empty_like(ends)))
                    ids = np.concatenate((ids, np.empty_like(ids)))
                starts[k] = i - base
                ends[k] = j - base
                ids[k] = value[t]
                k += 1
            if j >= hi:
                break
            node = t
            t = np.uint32(cells[t].base + np.int32(data[j]))
            if cells[t].check != np.int32(node):
                break
    return starts, ends, ids, k


@kernel
def _logaddexp(a, b):  # pragma: no cover - compiled
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    if a > b:
        return a + np.log1p(np.exp(b - a))
    return b + np.log1p(np.exp(a - b))


@kernel
def _forward_backward(n, starts, ends, weights):  # pragma: no cover - compiled
    """Log-sums over paths: ``(fwd, bwd)``, float64[n + 1] each.

    ``fwd[k]`` is the log of the summed ``exp(sum of weights)`` of all paths from 0 to ``k``;
    ``bwd[k]`` the same from ``k`` to ``n``. ``fwd[n] == bwd[0]`` is the log partition function.
    Edges must be sorted by start (then end), as ``_lattice_edges`` returns them.
    """
    fwd = np.empty(n + 1)
    bwd = np.empty(n + 1)
    _forward_backward_into(n, starts, ends, weights, starts.shape[0], fwd, bwd)
    return fwd, bwd


@kernel
def _forward_backward_into(n, starts, ends, weights, m, fwd, bwd):  # pragma: no cover
    """:func:`_forward_backward` of the first ``m`` edges, into ``fwd[:n + 1]`` and
    ``bwd[:n + 1]`` (buffers a caller reuses from text to text)."""
    fwd[: n + 1] = -np.inf
    bwd[: n + 1] = -np.inf
    fwd[0] = 0.0
    bwd[n] = 0.0
    # sorted by start: every edge into ``s`` starts before ``s``, so fwd[s] is final here
    for k in range(m):
        fwd[ends[k]] = _logaddexp(fwd[ends[k]], fwd[starts[k]] + weights[k])
    for k in range(m - 1, -1, -1):
        bwd[starts[k]] = _logaddexp(bwd[starts[k]], weights[k] + bwd[ends[k]])


@kernel
def _nbest(n, starts, ends, scores, k):  # pragma: no cover - compiled
    """The ``k`` best paths by total score: a k-best Viterbi over the lattice.

    Returns ``(path_scores, path_edges, path_lengths)``: float64[r], int64[r, n] (edge indices
    of each path, padded with -1) and int64[r], with ``r <= k`` paths, best first. Ties keep
    the path found first.
    """
    m = starts.shape[0]
    # top[e, r]: score of the r-th best path to byte e; via[e, r]: (edge, rank at its start)
    top = np.full((n + 1, k), -np.inf)
    via_edge = np.full((n + 1, k), -1, np.int64)
    via_rank = np.full((n + 1, k), -1, np.int64)
    top[0, 0] = 0.0
    order = np.argsort(ends, kind="mergesort")
    for idx in range(m):
        e_i = order[idx]
        s = starts[e_i]
        e = ends[e_i]
        for r in range(k):
            if top[s, r] == -np.inf:
                break
            cand = top[s, r] + scores[e_i]
            # insert into the sorted list top[e, :]
            if cand <= top[e, k - 1]:
                continue
            pos = k - 1
            while pos > 0 and top[e, pos - 1] < cand:
                top[e, pos] = top[e, pos - 1]
                via_edge[e, pos] = via_edge[e, pos - 1]
                via_rank[e, pos] = via_rank[e, pos - 1]
                pos -= 1
            top[e, pos] = cand
            via_edge[e, pos] = e_i
            via_rank[e, pos] = r
    count = 0
    for r in range(k):
        if top[n, r] > -np.inf:
            count += 1
    path_scores = np.empty(count)
    path_edges = np.full((count, max(n, 1)), -1, np.int64)
    path_lengths = np.zeros(count, np.int64)
    for r in range(count):
        path_scores[r] = top[n, r]
        length = 0
        e = n
        rank = r
        while e > 0:
            edge = via_edge[e, rank]
            rank = via_rank[e, rank]
            path_edges[r, length] = edge
            length += 1
            e = starts[edge]
        path_lengths[r] = length
        path_edges[r, :length] = path_edges[r, :length][::-1].copy()
    return path_scores, path_edges, path_lengths
