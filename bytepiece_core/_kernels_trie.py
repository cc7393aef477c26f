"""Kernels that build a double-array trie over byte strings.

A double-array trie stores the transition ``node --byte--> child`` as ``child = base[node] +
byte`` with ``check[child] == node``; following a byte is two array reads. Node 0 is the root.

Arrays (all 1-D):
    base  : int32[n_cells]   offset of a node's children (0 for cells that are not nodes)
    check : int32[n_cells]   parent of each cell, -1 for free cells (the root's is 0)
    value : int32[n_cells]   the key stored at the node that ends it, -1 where none ends
"""

from __future__ import annotations

import numpy as np

from ._numba import kernel

# The automaton's records (_build_automaton), 16 bytes each like the trie's cells.
STATE_DTYPE = np.dtype(
    [("base", np.int32), ("check", np.int32), ("fail", np.int32), ("out", np.int32)]
)
OUTPUT_DTYPE = np.dtype([("next", np.int32), ("length", np.int32), ("logp", np.float64)])


@kernel
def _build_plain_trie(keys, offsets, order):  # pragma: no cover - compiled
    """Build a first-child/next-sibling trie of the keys visited in ``order`` (sorted bytewise).

    keys    : uint8[total]      the keys' bytes, concatenated
    offsets : int64[n_keys + 1] key ``k`` is ``keys[offsets[k]:offsets[k + 1]]``
    order   : int64[n_keys]     the keys' indices in increasing bytewise order

    Returns ``(first_child, next_sibling, label, value, n_nodes)`` as int32 arrays of length
    ``1 + total``; children are linked in increasing label order. Because keys arrive sorted, a
    key shares a prefix only with the most recently inserted path, so inserting is one pass.
    """
    cap = 1 + keys.shape[0]
    first_child = np.full(cap, -1, np.int32)
    last_child = np.full(cap, -1, np.int32)
    next_sibling = np.full(cap, -1, np.int32)
    label = np.zeros(cap, np.int32)
    value = np.full(cap, -1, np.int32)
    n_nodes = 1
    for r in range(order.shape[0]):
        k = order[r]
        node = 0
        for p in range(offsets[k], offsets[k + 1]):
            c = np.int32(keys[p])
            child = last_child[node]
            if child < 0 or label[child] != c:
                child = n_nodes
                n_nodes += 1
                label[child] = c
                if last_child[node] < 0:
                    first_child[node] = child
                else:
                    next_sibling[last_child[node]] = child
                last_child[node] = child
            node = child
        value[node] = k
    return first_child, next_sibling, label, value, n_nodes


@kernel
def _build_double_array(first_child, next_sibling, label, value, n_nodes):  # pragma: no cover
    """Lay a first-child/next-sibling trie out as a double array (``base``, ``check``, ``value``).

    Nodes are placed depth first (a stack), so a node's children land near it and a walk down
    the trie touches fewer cache lines; each node's children go at the first offset ``b`` where
    every cell ``b + label`` is free (first fit, scanning from the first free cell).
    """
    cap = 2 * n_nodes + 512
    base = np.zeros(cap, np.int32)
    check = np.full(cap, -1, np.int32)
    dvalue = np.full(cap, -1, np.int32)
    # position of each plain-trie node in the double array
    pos = np.full(n_nodes, -1, np.int64)
    pos[0] = 0
    check[0] = 0
    dvalue[0] = value[0]
    stack = np.empty(n_nodes, np.int64)
    stack[0] = 0
    tail = 1
    first_free = 1
    labels = np.empty(256, np.int64)
    while tail > 0:
        tail -= 1
        node = stack[tail]
        n_children = 0
        child = first_child[node]
        while child >= 0:
            labels[n_children] = label[child]
            n_children += 1
            child = next_sibling[child]
        if n_children == 0:
            continue
        while check[first_free] >= 0:
            first_free += 1
        cell = first_free
        while True:
            b = cell - labels[0]
            if b >= 1:
                fits = True
                for i in range(n_children):
                    t = b + labels[i]
                    if t >= cap:
                        break
                    if check[t] >= 0:
                        fits = False
                        break
                if fits:
                    break
            cell += 1
            while cell < cap and check[cell] >= 0:
                cell += 1
        need = b + 256
        if need >= cap:
            new_cap = max(2 * cap, need + 1)
            base2 = np.zeros(new_cap, np.int32)
            check2 = np.full(new_cap, -1, np.int32)
            dvalue2 = np.full(new_cap, -1, np.int32)
            base2[:cap] = base
            check2[:cap] = check
            dvalue2[:cap] = dvalue
            base, check, dvalue, cap = base2, check2, dvalue2, new_cap
        here = pos[node]
        base[here] = b
        child = first_child[node]
        while child >= 0:
            t = b + label[child]
            check[t] = here
            dvalue[t] = value[child]
            pos[child] = t
            stack[tail] = child
            tail += 1
            child = next_sibling[child]
    # trim to the last used cell plus a full alphabet so lookups never index past the end;
    # the last cell stays free (children go at most 255 past a base, and cap > base + 256),
    # which the segmenter relies on (``_kernels_segment._pair_cells``)
    last = 0
    for i in range(cap - 1, -1, -1):
        if check[i] >= 0:
            last = i
            break
    size = last + 257
    if size > cap:
        size = cap
    return base[:size].copy(), check[:size].copy(), dvalue[:size].copy()


@kernel
def _build_automaton(cells, value, states, outputs):  # pragma: no cover - compiled
    """Fill the Aho-Corasick automaton of the trie ``cells`` (see ``_kernels_segment``).

    value   : int32[n_cells]    piece id ending at each cell, -1 where none ends
    states  : STATE[n_cells]    receives, for each cell, the trie's ``base`` and ``check`` and:
              ``fail``, the cell of the longest proper suffix of the cell's bytes that is in
              the trie, where that suffix has two bytes or more (-1 otherwise: the one-byte
              case is the pair table's, ``_pair_cells``); ``out``, the id of the longest
              piece of two bytes or more that ends the cell's bytes (the cell's own piece
              included), -1 if none
    outputs : OUTPUT[n_ids]     receives, for each piece of two bytes or more, its ``length``
              and ``logp`` and ``next``, the id of the next shorter such piece that ends it
              (-1 if none): the pieces ending where a walk stands, longest first

    The trie must hold all 256 single bytes. Cells are visited breadth first, so a suffix's
    links are set before they are needed.
    """
    n = cells.shape[0]
    depth = np.zeros(n, np.int32)
    fail = np.zeros(n, np.int32)
    link = np.full(n, -1, np.int32)  # the cell of ``out``
    queue = np.empty(n, np.int32)
    head, tail = 0, 0
    for i in range(n):
        states[i].base = cells[i].base
        states[i].check = cells[i].check
        states[i].fail = -1
        states[i].out = -1
    root_base = cells[0].base
    for b in range(256):
        depth[root_base + b] = 1
        queue[tail] = root_base + b
        tail += 1
    while head < tail:
        s = queue[head]
        head += 1
        f = fail[s]
        if depth[f] >= 2:
            states[s].fail = f
            link[s] = f if value[f] >= 0 else link[f]
        if depth[s] >= 2 and value[s] >= 0:
            link_id = value[link[s]] if link[s] >= 0 else -1
            k = value[s]
            outputs[k].next = link_id
            outputs[k].length = depth[s]
            outputs[k].logp = cells[s].logp
            states[s].out = k
        elif link[s] >= 0:
            states[s].out = value[link[s]]
        base = cells[s].base
        if base <= 0:  # a leaf
            continue
        for b in range(256):
            c = base + b
            if c >= n or cells[c].check != s:
                continue
            depth[c] = depth[s] + 1
            g = f  # the longest proper suffix of the child: a suffix of s followed by b
            while True:
                t = cells[g].base + b
                if t < n and cells[t].check == g:
                    fail[c] = t
                    break
                g = fail[g]  # ends at the root, which has every byte
            queue[tail] = c
            tail += 1
