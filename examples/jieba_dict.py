"""Turn jieba's word-frequency dictionary (``dict.txt``: ``word count tag`` a line) into a
BytePiece model: ``python examples/jieba_dict.py out.model`` (needs ``pip install jieba``)."""

from __future__ import annotations

import sys
from pathlib import Path

import jieba

from bytepiece_core import Tokenizer

words: dict[str, int] = {}
for line in (Path(jieba.__file__).parent / "dict.txt").read_text(encoding="utf-8").splitlines():
    word, count = line.split(" ")[:2]
    if int(count) > 0:
        words[word] = words.get(word, 0) + int(count)
tok = Tokenizer.from_vocab(words, workers=2)
tok.save(sys.argv[1] if len(sys.argv) > 1 else "jieba.model")
print(tok, [p.decode() for p in tok.tokenize("今天天气不错")])
