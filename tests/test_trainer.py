"""The Trainer reproduces bytepiece 0.6.3's training exactly; its API, files and errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import naive_train
import numpy as np
import pytest

from bytepiece_core import Tokenizer, Trainer
from bytepiece_core._training import corpus as _train_corpus
from bytepiece_core.trainer import TrainEvent

SHARED = Path(__file__).resolve().parents[2] / "shared"
TRAINED = SHARED / "compat" / "trained"
CASES = json.loads((TRAINED / "params.json").read_text())


def case_documents(case: dict) -> list[str]:
    """The documents a compat case was trained on (its corpus cut at ``max_bytes``)."""
    raw = (SHARED / "corpora" / case["corpus"]).read_bytes()
    if case["max_bytes"]:
        raw = raw[: case["max_bytes"]]
    return raw.decode("utf-8", errors="ignore").splitlines(keepends=True)


def model_counts(path: Path) -> dict[bytes, int]:
    """``{piece: count}`` of a reference model file."""
    return {base64.b64decode(k): v[2] for k, v in json.loads(path.read_text()).items()}


def size_of(name: str) -> int:
    return int(name.rsplit(".", 1)[1])


# -- exactness against the reference -----------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_reproduces_reference_models(case: dict, tmp_path: Path) -> None:
    trainer = Trainer(**case["params"])
    trainer.train(case_documents(case))
    files = case["files"]
    if len(files) > 1:
        files = sorted(files, key=size_of, reverse=True)
    assert len(trainer.pieces) == len(files)
    for pieces, name in zip(trainer.pieces, files, strict=True):
        expected = model_counts(TRAINED / name)
        assert len(pieces) == len(expected)
        assert pieces == expected
        assert trainer.dump(pieces) == json.loads((TRAINED / name).read_text())
    # save() writes the reference's files, byte for byte (a list of sizes: path.<size>).
    base = files[0].rsplit(".", 1)[0] if len(files) > 1 else files[0]
    trainer.save(tmp_path / base)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files)
    for name in files:
        assert (tmp_path / name).read_bytes() == (TRAINED / name).read_bytes()


def test_two_workers_give_the_same_result() -> None:
    docs = case_documents(CASES[0])
    one, two = Trainer(**CASES[0]["params"]), Trainer(**CASES[0]["params"])
    one.train(docs, workers=1)
    two.train(docs, workers=2)
    assert one.pieces == two.pieces
    assert one.history.ngrams == two.history.ngrams
    assert one.history.candidates == two.history.candidates
    assert one.history.heaps == two.history.heaps
    assert one.history.vocab == two.history.vocab


def random_documents(rng: np.random.Generator, n_docs: int) -> list[str]:
    """Short documents over a tiny alphabet (ASCII, CJK, accents, emoji, digits, newlines),
    so that n-grams repeat, pieces tie and every code path runs."""
    alphabet = ["a", "b", "c", "ab", "的", "是", "1", "2", " ", "\n", "\n\n", "é", "😀", "e\u0301"]
    return [
        "".join(rng.choice(alphabet, size=int(rng.integers(0, 40))).tolist()) for _ in range(n_docs)
    ]


@pytest.mark.parametrize("seed", range(12))
def test_matches_naive_reference_on_random_corpora(seed: int) -> None:
    rng = np.random.default_rng(seed)
    docs = random_documents(rng, 40)
    params = {
        "order": int(rng.choice([1, 2, 3, 4, 6, 9, 16])),
        "max_vocab_size": [300, 270] if seed % 3 == 0 else int(rng.choice([259, 280, 400])),
        "max_piece_length": int(rng.choice([2, 5, 36])),
        "min_count": int(rng.choice([1, 2, 3])),
        "isolate_digits": bool(seed % 2),
        "ensure_unicode": seed % 4 != 1,
    }
    trainer = Trainer(**params)
    trainer.train(docs)
    assert trainer.pieces == naive_train.train(docs, **params), params


def test_one_repeated_byte() -> None:
    docs = ["a" * 50 + "\n"] * 3 + ["aaaa"]
    trainer = Trainer(order=4, max_vocab_size=300, min_count=2)
    trainer.train(docs)
    assert trainer.pieces == naive_train.train(docs, order=4, max_vocab_size=300, min_count=2)
    assert len(trainer.pieces[0]) >= 256


def test_no_long_ngram_kept() -> None:
    docs = ["abcdefgh\n", "abcdxyz\n"] * 3
    params = {"order": 6, "max_vocab_size": 300, "min_count": 4}
    trainer = Trainer(**params)
    trainer.train(docs)
    # "abcd" is the longest n-gram seen 6 >= 4 times; no 5-gram is kept, so no 6-gram is counted
    assert [s.kept for s in trainer.history.ngrams] == [256, 3, 2, 1, 0, 0]
    assert trainer.history.ngrams[5].counted == 0
    assert trainer.pieces == naive_train.train(docs, **params)


def test_long_lines_are_cut_into_chunks() -> None:
    docs = ["ab" * 6000 + "\n" * 150, "x" * 25000]
    trainer = Trainer(order=3, max_vocab_size=300, min_count=2)
    trainer.train(docs)
    assert trainer.pieces == naive_train.train(docs, order=3, max_vocab_size=300, min_count=2)
    assert trainer.history.n_chunks == 6  # 10000 + 2000 chars with 100 newlines, 50 newlines; 3 x


# -- inputs: iterables, files ------------------------------------------------------------------


def test_generator_and_reiterable_inputs() -> None:
    docs = case_documents(CASES[0])[:300]

    class Corpus:
        def __iter__(self):  # type: ignore[no-untyped-def]
            return iter(docs)

    a, b, c = (Trainer(order=4, max_vocab_size=400) for _ in range(3))
    a.train(docs)
    b.train(d for d in docs)
    c.train(Corpus())
    assert a.pieces == b.pieces == c.pieces


def test_files_are_read_as_splitlines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "".join(case_documents(CASES[0])[:200]) + "one\r\ntwo\rthree\u2028four\x0cfive\n\n"
    path = tmp_path / "corpus.txt"
    path.write_bytes(text.encode())
    monkeypatch.setattr(_train_corpus, "_FILE_BLOCK", 7)  # blocks cut lines, \r\n, characters
    lines = list(_train_corpus._file_lines(path))
    assert lines == text.splitlines(keepends=True)
    one_doc, one_path = Trainer(order=4, max_vocab_size=400), Trainer(order=4, max_vocab_size=400)
    one_doc.train(text.splitlines(keepends=True))
    one_path.train(str(path))
    assert one_doc.pieces == one_path.pieces
    assert one_path.history.n_docs == len(text.splitlines())
    two_docs, two_paths = Trainer(order=4, max_vocab_size=400), Trainer(order=4, max_vocab_size=400)
    two_docs.train(text.splitlines(keepends=True) * 2)
    two_paths.train([path, Path(str(path))])
    assert two_docs.pieces == two_paths.pieces


def test_non_utf8_file_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes("ok line\nsecond é\n".encode() + b"third \xff\xfe line\nfourth\n")
    with pytest.raises(ValueError, match=r"bad\.txt.*not valid UTF-8: line 3"):
        Trainer().train(path)
    truncated = tmp_path / "truncated.txt"
    truncated.write_bytes(b"a\nb\n" + "é".encode()[:1])
    with pytest.raises(ValueError, match=r"truncated\.txt.*line 3"):
        Trainer().train(truncated)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.txt.*list of documents"):
        Trainer().train(str(tmp_path / "nope.txt"))
    with pytest.raises(IsADirectoryError, match="directory"):
        Trainer().train(tmp_path)


# -- bad input ----------------------------------------------------------------------------------


def test_documents_must_be_str() -> None:
    with pytest.raises(TypeError, match=r"texts\[2\] is bytes, not str"):
        Trainer().train(["a", "b", b"c"])
    with pytest.raises(TypeError, match=r"texts\[0\] is int"):
        Trainer().train([1])
    with pytest.raises(TypeError, match="not bytes"):
        Trainer().train(b"abc")
    with pytest.raises(TypeError, match="iterable"):
        Trainer().train(42)  # type: ignore[arg-type]


def test_lone_surrogate_names_the_document() -> None:
    with pytest.raises(ValueError, match=r"texts\[1\].*surrogate"):
        Trainer().train(["fine", "bad \ud800 text"])


@pytest.mark.parametrize("docs", [[], [""], ["", ""]])
def test_empty_corpus_is_an_error(docs: list[str]) -> None:
    trainer = Trainer()
    with pytest.raises(ValueError, match="nothing to train on"):
        trainer.train(docs)
    assert trainer.pieces == []


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"order": 0}, ValueError, "order must be at least 1"),
        ({"order": 300}, ValueError, "order must be at most 255"),
        ({"order": 2.5}, TypeError, "order must be an int"),
        ({"order": True}, TypeError, "order must be an int"),
        ({"min_count": 0}, ValueError, "min_count must be at least 1"),
        ({"max_vocab_size": 258}, ValueError, "max_vocab_size must be at least 259"),
        ({"max_vocab_size": [1000, 100]}, ValueError, "at least 259"),
        ({"max_vocab_size": [1000, 1000]}, ValueError, "more than once"),
        ({"max_vocab_size": []}, ValueError, "empty list"),
        ({"max_vocab_size": "1000"}, TypeError, "max_vocab_size must be an int"),
        ({"max_piece_length": -1}, ValueError, "max_piece_length must be at least 1"),
        ({"max_piece_length": 0}, ValueError, "max_piece_length must be at least 1"),
        ({"isolate_digits": "yes"}, TypeError, "isolate_digits must be True or False"),
        ({"ensure_unicode": "no"}, TypeError, "ensure_unicode must be True, False or None"),
    ],
)
def test_invalid_options(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Trainer(**kwargs)


def test_invalid_train_arguments() -> None:
    with pytest.raises(ValueError, match="workers must be at least 1"):
        Trainer().train(["a"], workers=0)
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        Trainer().train(["a"], batch_size=0)
    with pytest.raises(TypeError, match="callback must be callable"):
        Trainer().train(["a"], callback=3)  # type: ignore[arg-type]


# -- interruption, progress, results ---------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("stage", ["read", "count_ngrams", "count_pieces", "prune_pieces"])
def test_interrupt_leaves_no_model(stage: str, workers: int, tmp_path: Path) -> None:
    docs = case_documents(CASES[0])
    trainer = Trainer(order=4, max_vocab_size=[400, 300])

    def callback(event: TrainEvent) -> None:
        if event.stage == stage:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        trainer.train(docs, workers=workers, batch_size=100, callback=callback)
    assert trainer.pieces == []
    with pytest.raises(RuntimeError, match="not been trained"):
        trainer.save(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_save_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trainer = Trainer(order=3, max_vocab_size=300)
    trainer.train(case_documents(CASES[0])[:100])
    original = json.dump

    def dump_then_interrupt(obj, fp, **kwargs):  # type: ignore[no-untyped-def]
        fp.write("{")
        raise KeyboardInterrupt

    monkeypatch.setattr(json, "dump", dump_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        trainer.save(tmp_path / "model")
    monkeypatch.setattr(json, "dump", original)
    assert list(tmp_path.iterdir()) == []


def test_progress_events_and_history() -> None:
    events: list[TrainEvent] = []
    trainer = Trainer(order=5, max_vocab_size=[1500, 600])
    docs = case_documents(CASES[0])
    trainer.train(docs, batch_size=500, callback=events.append)
    stages = [e.stage for e in events]
    assert stages[0] == "read" and stages[-1] == "done"
    order = ["read", "count_ngrams", "count_pieces", "prune_pieces", "done"]
    assert [s for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]] == order
    for e in events:
        assert e.total is None or 0 <= e.done <= e.total
    for stage in ("count_ngrams", "count_pieces"):
        last = [e for e in events if e.stage == stage][-1]
        assert last.done == last.total  # every pass ran to the end
    assert last.total == trainer.history.n_bytes
    h = trainer.history
    assert [s.length for s in h.ngrams] == [1, 2, 3, 4, 5]
    assert all(s.kept <= max(s.counted, 256) for s in h.ngrams)
    assert h.ngrams[0].kept == 256
    xs = [p.bytes_read for p in h.heaps]
    ys = [p.distinct_pieces for p in h.heaps]
    assert xs == sorted(xs) and ys == sorted(ys) and xs[-1] == h.n_bytes
    assert ys[-1] == h.candidates
    sizes = [v.size for v in h.vocab]
    assert sizes[0] is None and 1500 in sizes and 600 in sizes
    last = {v.size: v.n_pieces for v in h.vocab}
    assert last[1500] == len(trainer.pieces[0]) and last[600] == len(trainer.pieces[1])
    assert set(h.seconds) == {"read", "count_ngrams", "count_pieces", "prune_pieces"}


def test_results_as_models_and_tokenizers() -> None:
    trainer = Trainer(order=4, max_vocab_size=[300, 500])
    with pytest.raises(RuntimeError, match="not been trained"):
        trainer.tokenizer()
    docs = case_documents(CASES[0])[:500]
    trainer.train(docs)
    assert trainer.max_vocab_size == [500, 300]
    assert trainer.models == [trainer.model(500), trainer.model(300)]
    assert trainer.model() == trainer.model(500)
    tok = trainer.tokenizer(300)
    assert isinstance(tok, Tokenizer)
    assert tok.vocab_size == len(trainer.pieces[1]) + 3
    assert tok.decode(tok.encode(docs[3])) == docs[3]
    with pytest.raises(ValueError, match="trained sizes are"):
        trainer.model(1000)
    assert "order=4" in repr(trainer)
