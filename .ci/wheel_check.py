"""Check the built distributions against the checkout, then smoke-test the installed wheel.

Two modes:

``python .ci/wheel_check.py contents DIST_DIR``
    run from the checkout: the wheel and the sdist in ``DIST_DIR`` hold every file that git
    tracks under the packages (code, the bundled model, the sample corpora, the app notebook).

``python wheel_check.py installed CHECKOUT``
    run by the interpreter of a fresh virtual environment into which only the wheel was
    installed, from a directory outside the checkout: what a user who ran ``pip install`` gets
    imports from that environment and works (the bundled model encodes and decodes, the
    samples load, a tokenizer trains on one, ``Workbench()`` builds, both ``--help`` answer).

Each check prints one line; the last line is ``N passed, N failed`` and the exit code is 1
when any check failed.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import traceback
import zipfile
from collections.abc import Callable
from pathlib import Path

PACKAGES = ("bytepiece_core", "workbench")


def _tracked_package_files(root: Path) -> set[str]:
    out = subprocess.run(
        ["git", "ls-files", *PACKAGES], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    return {line for line in out.splitlines() if line}


def _one(dist: Path, pattern: str) -> Path:
    found = sorted(dist.glob(pattern))
    if len(found) != 1:
        raise AssertionError(f"expected one {pattern} in {dist}, found {[p.name for p in found]}")
    return found[0]


def contents_checks(dist: Path) -> list[Callable[[], None]]:
    root = Path(__file__).resolve().parents[1]
    tracked = _tracked_package_files(root)
    # the bundled data must be among the tracked files, or the comparison proves nothing
    assert any(f.endswith(".zip") for f in tracked), "no bundled model is tracked"
    assert any(f.endswith("app.ipynb") for f in tracked), "no app notebook is tracked"

    def wheel_holds_every_package_file() -> None:
        names = set(zipfile.ZipFile(_one(dist, "*.whl")).namelist())
        missing = sorted(tracked - names)
        assert not missing, f"the wheel lacks {missing}"

    def sdist_holds_every_package_file() -> None:
        with tarfile.open(_one(dist, "*.tar.gz")) as tar:
            # members are "<name>-<version>/<path>"
            names = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
        missing = sorted(tracked - names)
        assert not missing, f"the sdist lacks {missing}"

    return [wheel_holds_every_package_file, sdist_holds_every_package_file]


def installed_checks(checkout: Path) -> list[Callable[[], None]]:
    def imports_from_the_environment() -> None:
        import bytepiece_core
        import workbench

        for module in (bytepiece_core, workbench):
            path = Path(module.__file__ or "").resolve()
            assert "site-packages" in path.parts, f"{module.__name__} imported from {path}"
            assert checkout not in path.parents, f"{module.__name__} imported from the checkout"

    def bundled_model_encodes_and_decodes() -> None:
        from bytepiece_core import Tokenizer
        from bytepiece_core.pretrained import available

        assert available() == ["bytepiece.plus.40k"], available()
        tok = Tokenizer.from_pretrained()
        ids = tok.encode("今天天气不错")
        assert ids == [18281, 5360, 5951, 18165], ids  # the README's example, the reference's ids
        assert tok.decode(ids) == "今天天气不错"
        text = "BytePiece 在 wheel 里也能用。\n"
        assert tok.decode(tok.encode(text)) == text

    def samples_load() -> None:
        from workbench.corpora import SAMPLES, load_corpus, load_gold

        assert len(SAMPLES) == 4, sorted(SAMPLES)
        for name in SAMPLES:
            corpus = load_corpus(name)
            size = sum(len(t.encode()) for t in corpus.texts)
            assert 90_000 < size < 110_000, (name, size)
        kjv = load_corpus("en_kjv")
        assert kjv.texts[0].startswith("In the beginning God created"), kjv.texts[0]
        gold = load_gold("zh_pd199801")
        lines = [t for t in load_corpus("zh_pd199801").texts if t.strip()]
        assert gold is not None and len(gold) == len(lines), (len(gold or []), len(lines))
        assert "".join(gold[0]) == lines[0].strip(), (gold[0][:5], lines[0][:20])

    def trains_on_a_sample() -> None:
        from bytepiece_core import Trainer
        from workbench.corpora import load_corpus

        texts = load_corpus("zh_poems").texts
        trainer = Trainer(order=4, max_vocab_size=600, min_count=4)
        trainer.train(texts)
        tok = trainer.tokenizer()
        assert 256 < tok.vocab_size <= 600 + 3, tok.vocab_size
        assert tok.decode(tok.encode(texts[0])) == texts[0]

    def workbench_builds() -> None:
        from workbench import Workbench
        from workbench.__main__ import APP_NOTEBOOK

        assert APP_NOTEBOOK.is_file(), APP_NOTEBOOK
        app = Workbench()
        titles = [app.tabs.get_title(i) for i in range(len(app.tabs.children))]
        assert titles[:2] == ["Corpus", "Train"], titles
        assert len(titles) == 7, titles

    def command_lines_answer() -> None:
        for module in ("bytepiece_core", "workbench"):
            done = subprocess.run(
                [sys.executable, "-m", module, "--help"], capture_output=True, text=True
            )
            assert done.returncode == 0, (module, done.stderr)
            assert done.stdout.startswith("usage:"), (module, done.stdout[:200])

    return [
        imports_from_the_environment,
        bundled_model_encodes_and_decodes,
        samples_load,
        trains_on_a_sample,
        workbench_builds,
        command_lines_answer,
    ]


def main(argv: list[str]) -> int:
    if argv[:1] == ["contents"] and len(argv) == 2:
        checks = contents_checks(Path(argv[1]))
    elif argv[:1] == ["installed"] and len(argv) == 2:
        checks = installed_checks(Path(argv[1]).resolve())
    else:
        print(__doc__, file=sys.stderr)
        return 2
    failed = 0
    for check in checks:
        try:
            check()
        except Exception:
            failed += 1
            print(f"FAILED {check.__name__}\n{traceback.format_exc()}", flush=True)
        else:
            print(f"ok {check.__name__}", flush=True)
    print(f"wheel: {len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
