"""Segmentation kernels: unigram Viterbi and Viterbi sampling over a double-array trie.

Arrays shared by the kernels:
    data        : uint8[n_bytes]     UTF-8 bytes of all documents, concatenated (a NumPy array
                                     or a ``bytes`` object, which is cheaper to pass)
    doc_offsets : int64[n_docs + 1]  document ``d`` is ``data[doc_offsets[d]:doc_offsets[d + 1]]``;
                                     an empty array means one document, all of ``data``
    pairs       : int32[65536]       trie cell of each two-byte prefix, or the last cell (a free
                                     one, where every walk stops) if no piece starts so
    cells       : CELL[n_cells]      the double-array trie of the vocabulary (``_kernels_trie``),
                                     one 16-byte record per cell so a step reads one cache line:
                                     ``base`` (int32), ``check`` (int32) and ``logp`` (float64,
                                     the score ``log count - log total`` of the piece ending at
                                     the cell, ``-inf`` where none ends)
    value       : int32[n_cells]     piece id ending at each cell, -1 where none ends
    states      : STATE[n_cells]     the Aho-Corasick automaton over the trie
                                     (``_kernels_trie._build_automaton``): each cell's
                                     ``base`` and ``check`` again, its ``fail`` link and the
                                     first of the pieces ending its bytes (``out``)
    outputs     : OUTPUT[n_ids]      ``length``, ``logp`` and ``next`` of each piece of two
                                     bytes or more: the ``out`` chains
    single_logp : float64[256]       score of each single byte; ``single_id``: its id

The vocabulary holds all 256 single bytes, so the root's child for byte ``c`` is always cell
``cells[0].base + c``; the kernels take that first step without a check.

A best path is kept as one int64 ``route`` per end position: the start of the token ending
there in the high 32 bits, its trie cell in the low 32 (``value`` gives its id), or, through
the automaton, its id.

Chunks: with ``newline_chunks`` a document is cut after every run of newlines (tokenization);
without, each document is one chunk (the trainer re-splitting pieces). No token crosses a chunk,
and each chunk's scores start from 0, so the floating-point sums are the reference's to the bit.

Short texts: :func:`_encode_short` and :func:`_sample_short` segment in a workspace reused
across calls and return the Python list of ids or pieces themselves (``_pylist``), so they,
unlike the others, hold the GIL.

Within a chunk, matches are relaxed by start position and, for one start, by increasing end.
For a fixed end that visits matches in increasing start, i.e. longest match first, the order
the reference's Aho-Corasick automaton reports them in; with the strict ``>`` the longest of
equally scored matches wins, as in the reference. The best path of tokenization (:func:`_encode`,
:func:`_encode_short`, and :func:`_segment` given the automaton) goes end by end through the
automaton instead, and sees the matches ending at each end longest first too; sampling and the
trainer's re-splits walk the trie.
"""

from __future__ import annotations

import numpy as np

from ._kernels_trie import OUTPUT_DTYPE, STATE_DTYPE
from ._mix import _splitmix64
from ._numba import kernel, kernel_inline, list_kernel
from ._pylist import drop, fill, is_null, new_list

_NEWLINE = 10
_LOW32 = np.int64(0xFFFFFFFF)
_U64 = np.uint64


@kernel_inline
def _chunk_end(data, pos, stop):  # pragma: no cover - compiled
    """End of the chunk starting at ``pos``: past its non-newline run, then its newline run."""
    i = pos
    while i < stop and data[_U64(i)] != _NEWLINE:
        i += 1
    while i < stop and data[_U64(i)] == _NEWLINE:
        i += 1
    return i


@kernel
def _scratch(cap):  # pragma: no cover - compiled
    """Scratch for chunks of up to ``cap`` bytes: scores and routes."""
    return np.empty(cap + 1, np.float64), np.empty(cap + 1, np.int64)


@kernel_inline
def _relax_sampled(here, logp, i, j, t, alpha, state, scores, route):
    """Relax one match when sampling: the piece at trie cell ``t`` (score ``logp``) from ``i``
    to ``j``. Keeps a running log-sum-exp of ``score[start] + alpha * logp`` at each end and
    takes each new candidate as the back-pointer with probability
    ``exp(candidate - running_total)`` (a reservoir choice), which draws a path with
    probability ``prod p(piece)^alpha / Z`` exactly. Returns the advanced SplitMix64 ``state``.
    """  # pragma: no cover - compiled
    if logp == -np.inf:  # no piece ends at this cell
        return state
    cand = here + alpha * logp
    old = scores[j]
    if old == -np.inf:
        scores[j] = cand
        route[j] = (np.int64(i) << 32) | np.int64(t)
        return state
    if cand > old:
        total = cand + np.log1p(np.exp(old - cand))
    else:
        total = old + np.log1p(np.exp(cand - old))
    scores[j] = total
    state, r = _splitmix64(state)
    if np.float64(r >> np.uint64(11)) * (1.0 / 9007199254740992.0) < np.exp(cand - total):
        route[j] = (np.int64(i) << 32) | np.int64(t)
    return state


@kernel_inline
def _relax_chunk(data, lo, hi, cells, pairs, alpha, state, scores, route):
    """Relax every vocabulary match inside ``data[lo:hi]`` (positions relative to ``lo``).

    scores : float64[>= hi - lo + 1]  best (or log-sum-exp) score of each prefix
    route  : int64[>= hi - lo + 1]    the token chosen to end at each position (start, cell)

    ``alpha < 0`` keeps the best score (Viterbi: :func:`_relax_best`); ``alpha >= 0`` samples
    (:func:`_relax_sampled`), advancing the SplitMix64 ``state``, which is returned.
    """  # pragma: no cover - compiled
    m = hi - lo
    scores[0] = 0.0
    for i in range(1, m + 1):
        scores[i] = -np.inf
    if alpha < 0:
        _relax_best(data, lo, m, cells, pairs, scores, route)
        return state
    root_base = cells[0].base
    for i in range(m):
        here = scores[i]
        t = np.uint32(root_base + np.int32(data[lo + i]))  # every byte is a piece
        j = i
        while True:
            cell = cells[t]
            j += 1
            state = _relax_sampled(here, cell.logp, i, j, t, alpha, state, scores, route)
            if j >= m:
                break
            node = t
            t = np.uint32(cell.base + np.int32(data[lo + j]))
            if cells[t].check != np.int32(node):
                break
    return state


@kernel_inline
def _keep_better(here, logp, i, j, t, scores, route):  # pragma: no cover - compiled
    """Relax one match of the best path: the piece at trie cell ``t`` (score ``logp``) from
    ``i`` to ``j`` (uint64), taken if strictly better than the best path to ``j`` so far.

    Written without a branch (which way the comparison goes is not predictable): the score
    is a ``max``, and the route is always stored, at ``j`` when the piece is better and at
    ``route[0]`` otherwise, a slot no path reads. A conditional store, or a select between
    the new route and the old one loaded from ``route[j]``, is compiled into a branch.
    """
    score = here + logp
    old = scores[j]
    scores[j] = max(score, old)
    route[j & _U64(-np.int64(score > old))] = (np.int64(i) << 32) | np.int64(t)


@kernel_inline
def _relax_best(data, lo, m, cells, pairs, scores, route):  # pragma: no cover - compiled
    """The Viterbi relaxation of ``data[lo:lo + m]``: the tokenizer's innermost loop.

    The first byte is always a piece (root step without a check), and the second step is one
    read of ``pairs``; where no piece starts with the two bytes (mostly positions inside a
    character) it gives the free last cell and the walk ends there. The update
    (:func:`_keep_better`) has no branch, so the only unpredictable one is where a walk ends.
    ``route[0]`` is overwritten (nothing reads it). Positions are unsigned, which spares
    every read the code that wraps negative indices around.
    """
    root_base = cells[0].base
    free = np.uint32(cells.shape[0] - 1)
    lo = _U64(lo)
    m = _U64(m)
    for i in range(m):
        i = _U64(i)
        here = scores[i]
        first = np.int32(data[lo + i])
        t = np.uint32(root_base + first)
        j = i + _U64(1)
        _keep_better(here, cells[t].logp, i, j, t, scores, route)
        if j >= m:
            continue
        t = np.uint32(pairs[_U64(first * 256 + np.int32(data[lo + j]))])
        if t == free:
            continue
        while True:
            cell = cells[t]
            j += _U64(1)
            _keep_better(here, cell.logp, i, j, t, scores, route)
            if j >= m:
                break
            node = t
            t = np.uint32(cell.base + np.int32(data[lo + j]))
            if cells[t].check != np.int32(node):
                break


@kernel
def _pair_cells(cells):  # pragma: no cover - compiled
    """The trie cell of every two-byte prefix (int32[65536], index ``a * 256 + b``), or the
    last cell where no piece starts with those two bytes. Needs all 256 single bytes in the
    trie, and a free last cell (no check points to it, its score is ``-inf``)."""
    n = cells.shape[0]
    pairs = np.full(65536, n - 1, np.int32)
    root_base = cells[0].base
    for a in range(256):
        t = root_base + a
        base = cells[t].base
        for b in range(256):
            u = base + b
            if u < n and cells[u].check == t:
                pairs[a * 256 + b] = u
    return pairs


@kernel_inline
def _emit_path(route, value, m, shift, ids_out, ends_out, first):  # pragma: no cover - compiled
    """Write the tokens of the path ending at ``m`` into ``ids_out`` from index ``first``.

    The low half of a route is a trie cell whose id ``value`` gives, or the id itself where
    ``value`` is empty (:func:`_relax_automaton`'s routes). Token ends go to ``ends_out``
    (plus ``shift``) unless it is empty. Returns the count.
    """
    count = 0
    e = m
    while e > 0:
        e = route[_U64(e)] >> 32
        count += 1
    k = first + count
    e = m
    store_ends = ends_out.shape[0] > 0
    by_cell = value.shape[0] > 0
    while e > 0:
        k -= 1
        r = route[_U64(e)]
        if by_cell:
            ids_out[_U64(k)] = value[_U64(r & _LOW32)]
        else:
            ids_out[_U64(k)] = r & _LOW32
        if store_ends:
            ends_out[_U64(k)] = shift + e
        e = r >> 32
    return count


@kernel_inline
def _segment_docs(
    data,
    doc_offsets,
    gap,
    newline_chunks,
    cells,
    pairs,
    value,
    alpha,
    seeds,
    ids_out,
    ends_out,
    doc_token_offsets,
    states,
    outputs,
    single_logp,
    single_id,
):  # pragma: no cover - compiled
    """The loop of :func:`_segment`."""
    automaton = states.shape[0] > 0 and alpha < 0
    by_id = np.empty(0, np.int32)
    single = doc_offsets.shape[0] == 0
    n_docs = 1 if single else doc_offsets.shape[0] - 1
    cap = 256
    scores, route = _scratch(cap)
    written = 0
    if doc_token_offsets.shape[0] > 0:
        doc_token_offsets[0] = 0
    for d in range(n_docs):
        start = 0 if single else doc_offsets[d]
        stop = len(data) if single else doc_offsets[d + 1] - gap
        state = seeds[d] if alpha >= 0 else np.uint64(0)
        lo = start
        while lo < stop:
            hi = _chunk_end(data, lo, stop) if newline_chunks else stop
            if hi - lo > cap:
                cap = hi - lo
                scores, route = _scratch(cap)
            if automaton:
                _relax_automaton(
                    data, lo, hi - lo, states, outputs, pairs, single_logp, single_id, scores,
                    route,
                )  # fmt: skip
                written += _emit_path(route, by_id, hi - lo, lo - start, ids_out, ends_out, written)
            else:
                state = _relax_chunk(data, lo, hi, cells, pairs, alpha, state, scores, route)
                written += _emit_path(route, value, hi - lo, lo - start, ids_out, ends_out, written)
            lo = hi
        if doc_token_offsets.shape[0] > 0:
            doc_token_offsets[d + 1] = written
    return written


@kernel
def _segment(
    data,
    doc_offsets,
    gap,
    newline_chunks,
    cells,
    pairs,
    value,
    alpha,
    seeds,
    ids_out,
    ends_out,
    doc_token_offsets,
    states,
    outputs,
    single_logp,
    single_id,
):  # pragma: no cover - compiled
    """Segment every document; returns the number of tokens written.

    gap               : int                separator bytes after each document: document ``d``
                                           is ``data[doc_offsets[d]:doc_offsets[d + 1] - gap]``
    seeds             : uint64[n_docs]   sampling seed of each document (unused when alpha < 0)
    ids_out           : int32[>= n_bytes]  token ids, documents one after another
    ends_out          : int64[>= n_bytes]  token end byte, relative to its document (or empty)
    doc_token_offsets : int64[n_docs + 1]  filled with each document's token range (or empty)
    states, ...       : the automaton (:func:`_relax_automaton`) for the best path, or an
                        empty ``states`` to walk the trie from every start position

    Scratch space is sized to the longest chunk, so it stays in cache on long texts.
    """
    # the best path is compiled apart, with alpha a constant: its loop has no sampling branch
    # (as in _encode), which spares ~7% of the time on many short documents
    if alpha < 0:
        return _segment_docs(
            data, doc_offsets, gap, newline_chunks, cells, pairs, value, -1.0, seeds, ids_out,
            ends_out, doc_token_offsets, states, outputs, single_logp, single_id,
        )  # fmt: skip
    return _segment_docs(
        data, doc_offsets, gap, newline_chunks, cells, pairs, value, alpha, seeds, ids_out,
        ends_out, doc_token_offsets, states, outputs, single_logp, single_id,
    )  # fmt: skip


@kernel
def _segment_joined(
    joined,
    cells,
    pairs,
    value,
    alpha,
    seeds,
    doc_offsets,
    ids_out,
    doc_token_offsets,
    states,
    outputs,
    single_logp,
    single_id,
):  # pragma: no cover - compiled
    """Segment documents joined with a NUL byte between each two, with tokenization chunks:
    how ``encode_batch`` passes a shard of texts (one join and one encoding of a shard's texts
    costs a fraction of one of each text, and the documents are found here, without the GIL).

    joined            : uint8[m]           the documents' bytes, each but the last followed by 0
    doc_offsets       : int64[n_docs + 1]  receives where each document starts (and, last,
                                           ``m + 1``)
    ids_out           : int32[>= m]        token ids, documents one after another
    doc_token_offsets : int64[n_docs + 1]  receives each document's token range
    states, ...       : as in :func:`_segment`

    Returns the number of tokens, or -1 if ``joined`` does not hold exactly ``n_docs - 1``
    zero bytes (a document held one of its own): then nothing is segmented.
    """
    m = len(joined)
    n_seps = doc_offsets.shape[0] - 2
    found = 0
    for i in range(m):
        if joined[_U64(i)] == 0:
            found += 1
            if found > n_seps:
                return -1
            doc_offsets[found] = i + 1
    if found != n_seps:
        return -1
    doc_offsets[0] = 0
    doc_offsets[n_seps + 1] = m + 1
    no_ends = np.empty(0, np.int64)
    return _segment(
        joined,
        doc_offsets,
        1,
        True,
        cells,
        pairs,
        value,
        alpha,
        seeds,
        ids_out,
        no_ends,
        doc_token_offsets,
        states,
        outputs,
        single_logp,
        single_id,
    )


@kernel_inline
def _relax_automaton(
    data, lo, m, states, outputs, pairs, single_logp, single_id, scores, route
):  # pragma: no cover - compiled
    """The Viterbi recurrence of ``data[lo:lo + m]`` through the Aho-Corasick automaton.

    One transition a byte, from the root at the chunk's start: the automaton stands on the
    longest suffix of the bytes read that is in the trie, so the pieces ending there are its
    ``out`` chain (pieces of two bytes or more, longest first) and the last byte. Each end
    ``j`` takes the best of them at once (``scores`` and ``route`` are written once, in
    order, and need no reset), seeing them longest first with a strict ``>``, so that the
    longest of equally scored matches wins, as in :func:`_relax_best`; the sums are the same
    ``scores[i] + logp``, so the scores are its own to the bit. A walk per start position
    (:func:`_relax_best`) reads ~2-4 trie cells a byte and ends on a branch that cannot be
    predicted; this reads ~1.5 and mispredicts less. The route's low half is the piece id.
    """
    root_base = states[0].base
    free = np.int32(states.shape[0] - 1)
    lo = _U64(lo)
    m = _U64(m)
    scores[0] = 0.0
    s = np.int32(0)
    last = np.int32(0)
    for j in range(1, m + 1):
        j = _U64(j)
        b = np.int32(data[lo + j - _U64(1)])
        while True:  # the transition: the child, else the suffix's, down to the pair table
            t = states[_U64(s)].base + b
            if states[_U64(t)].check == s:
                s = t
                break
            f = states[_U64(s)].fail
            if f < 0:
                p = np.int32(pairs[_U64(last * 256 + b)])
                s = p if p != free else root_base + b
                break
            s = f
        last = b
        best = -np.inf
        best_route = np.int64(0)
        k = states[_U64(s)].out
        while k >= 0:
            piece = outputs[_U64(k)]
            i = j - _U64(piece.length)
            score = scores[i] + piece.logp
            better = score > best
            best = score if better else best
            best_route = ((np.int64(i) << 32) | np.int64(k)) if better else best_route
            k = piece.next
        i = j - _U64(1)
        score = scores[i] + single_logp[_U64(b)]
        better = score > best
        best = score if better else best
        best_route = ((np.int64(i) << 32) | np.int64(single_id[_U64(b)])) if better else best_route
        scores[j] = best
        route[j] = best_route


@kernel
def _encode(data, states, outputs, pairs, single_logp, single_id, ids_out):  # pragma: no cover
    """Best segmentation of one document with tokenization chunks: ``encode``'s path for
    texts longer than the short ones, through the automaton (:func:`_relax_automaton`).

    ids_out : int32[>= n_bytes]  receives the token ids; returns how many were written.
    """
    cap = 256
    scores, route = _scratch(cap)
    no_ends = np.empty(0, np.int64)
    by_id = np.empty(0, np.int32)
    written = 0
    lo = 0
    stop = len(data)
    while lo < stop:
        hi = _chunk_end(data, lo, stop)
        if hi - lo > cap:
            cap = hi - lo
            scores, route = _scratch(cap)
        _relax_automaton(
            data, lo, hi - lo, states, outputs, pairs, single_logp, single_id, scores, route
        )
        written += _emit_path(route, by_id, hi - lo, 0, ids_out, no_ends, written)
        lo = hi
    return written


# Short-text workspaces (:func:`_encode_short`) take texts of up to SHORT_BYTES bytes and
# have _SLOTS slots in each of their scratch regions, after a header of _HEADER slot: the
# number of calls made into the workspace so far.
SHORT_BYTES = 1024
_SLOTS = SHORT_BYTES + 1
_HEADER = 1
# What a short kernel's list holds (its ``kind``): token ids, or pieces (bytes).
IDS, PIECES = 0, 1


def short_workspace(
    cells: np.ndarray,
    pairs: np.ndarray,
    value: np.ndarray,
    automaton: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    id_addresses: np.ndarray,
    piece_addresses: np.ndarray,
) -> np.ndarray:
    """A workspace for :func:`_encode_short` and :func:`_sample_short`: one array of trie
    cells (one argument to pass rather than many), holding ``cells``, the automaton's
    ``states`` and ``outputs`` and its ``single_logp`` and ``single_id`` (records of the same
    size, viewed as their own), then records viewed as int64 slots -- the header, the scratch
    regions, the addresses of the Python objects the kernels' lists hold (``_pylist``: the ids
    as ints, then the pieces, both indexed by id) and a copy of ``pairs`` followed by
    ``value`` as int32 -- and last, the number of cells and of ids. Whoever uses it keeps
    those objects alive."""
    states, outputs, single_logp, single_id = automaton
    n_cells, n_ids = cells.shape[0], id_addresses.shape[0]
    start = _slots_start(n_cells, n_ids)
    base = _HEADER + 3 * _SLOTS
    n_slots = base + 2 * n_ids + (pairs.shape[0] + value.shape[0] + 1) // 2
    ws = np.zeros(start + (n_slots + 1) // 2 + 1, cells.dtype)
    ws[:n_cells] = cells
    ws[n_cells : 2 * n_cells].view(states.dtype)[:] = states
    ws[2 * n_cells : 2 * n_cells + n_ids].view(outputs.dtype)[:] = outputs
    singles = ws[2 * n_cells + n_ids : start]
    singles[:128].view(np.float64)[:] = single_logp
    singles[128:].view(np.int32)[:] = single_id
    ws[-1:].view(np.int64)[:] = n_cells, n_ids
    work = ws[start:-1].view(np.int64)
    work[base : base + n_ids] = id_addresses
    work[base + n_ids : base + 2 * n_ids] = piece_addresses
    int32 = work[base + 2 * n_ids :].view(np.int32)
    int32[: pairs.shape[0]] = pairs
    int32[pairs.shape[0] : pairs.shape[0] + value.shape[0]] = value
    return ws


def _slots_start(n_cells: int, n_ids: int) -> int:
    """Where a workspace's int64 slots start: after the cells, the states, the outputs and
    the single bytes' scores and ids (192 records: 256 float64 and 256 int32)."""
    return 2 * n_cells + n_ids + 192


# The kernels' own, compiled (Python calls the plain function: dispatching to a compiled one
# from Python loads it from the cache on first use).
_work_start = kernel_inline(_slots_start)


def short_calls(ws: np.ndarray) -> int:
    """The number of calls made into the :func:`short_workspace` ``ws`` so far."""
    n_cells, n_ids = (int(x) for x in ws[-1:].view(np.int64))
    return int(ws[_slots_start(n_cells, n_ids) :].view(np.int64)[0])


@list_kernel
def _encode_short(data, ws, kind):  # pragma: no cover - compiled
    """The best segmentation of one short text as a list: the ids (``kind == IDS``) or the
    pieces (``PIECES``). The path of ``encode`` and ``tokenize`` for the short texts that
    most calls get, with no allocation but the list's and few arguments (unboxing an array
    costs ~40 ns a call, as much as segmenting a few bytes).

    ws : CELL[...]  a :func:`short_workspace` (``len(data) < SHORT_BYTES + 1``)

    The list is made in the kernel (``_pylist``), so the kernel holds the GIL: no other thread
    can use the workspace meanwhile, but making the list can run Python code (a ``__del__``
    that the garbage collector calls) that uses it. The call count in the header tells: a
    call that finds it moved while its list was made segments the text again. The regions
    are cut here rather than by a helper returning them (even inlined, that costs ~15 ns of
    reference counting a call), and the helpers are inlined.
    """
    sizes = ws[ws.shape[0] - 1 :].view(np.int64)
    n_cells, n_ids = sizes[0], sizes[1]
    start = _work_start(n_cells, n_ids)
    states = ws[n_cells : 2 * n_cells].view(STATE_DTYPE)
    outputs = ws[2 * n_cells : 2 * n_cells + n_ids].view(OUTPUT_DTYPE)
    single_logp = ws[2 * n_cells + n_ids : start - 64].view(np.float64)
    single_id = ws[start - 64 : start].view(np.int32)
    work = ws[start : ws.shape[0] - 1].view(np.int64)
    r = _SLOTS
    scores = work[_HEADER : _HEADER + r].view(np.float64)
    route = work[_HEADER + r : _HEADER + 2 * r]
    ids_out = work[_HEADER + 2 * r : _HEADER + 3 * r]
    base = _HEADER + 3 * r
    objects = work[base + kind * n_ids : base + (kind + 1) * n_ids]
    pairs = work[base + 2 * n_ids :].view(np.int32)[:65536]
    while True:
        work[0] += 1
        call = work[0]
        written = 0
        lo = 0
        stop = len(data)
        while lo < stop:
            hi = _chunk_end(data, lo, stop)
            m = hi - lo
            _relax_automaton(
                data, lo, m, states, outputs, pairs, single_logp, single_id, scores, route
            )
            written += _emit_path(route, work[:0], m, 0, ids_out, work[:0], written)
            lo = hi
        lst = new_list(written)
        if is_null(lst):
            return lst
        if work[0] == call:
            break
        drop(lst)
    fill(lst, ids_out, 0, written, objects)
    return lst


@list_kernel
def _sample_short(data, ws, kind, alpha, seed):  # pragma: no cover - compiled
    """:func:`_encode_short` sampling a segmentation (``alpha >= 0``) from the uint64 ``seed``;
    the SplitMix64 state runs on through the chunks, as in :func:`_segment`."""
    sizes = ws[ws.shape[0] - 1 :].view(np.int64)  # the regions of _encode_short's workspace
    n_cells, n_ids = sizes[0], sizes[1]
    cells = ws[:n_cells]
    work = ws[_work_start(n_cells, n_ids) : ws.shape[0] - 1].view(np.int64)
    r = _SLOTS
    scores = work[_HEADER : _HEADER + r].view(np.float64)
    route = work[_HEADER + r : _HEADER + 2 * r]
    ids_out = work[_HEADER + 2 * r : _HEADER + 3 * r]
    base = _HEADER + 3 * r
    objects = work[base + kind * n_ids : base + (kind + 1) * n_ids]
    table = work[base + 2 * n_ids :].view(np.int32)
    pairs = table[:65536]
    value = table[65536 : 65536 + n_cells]
    while True:
        work[0] += 1
        call = work[0]
        state = seed
        written = 0
        lo = 0
        stop = len(data)
        while lo < stop:
            hi = _chunk_end(data, lo, stop)
            state = _relax_chunk(data, lo, hi, cells, pairs, alpha, state, scores, route)
            written += _emit_path(route, value, hi - lo, 0, ids_out, work[:0], written)
            lo = hi
        lst = new_list(written)
        if is_null(lst):
            return lst
        if work[0] == call:
            break
        drop(lst)
    fill(lst, ids_out, 0, written, objects)
    return lst
