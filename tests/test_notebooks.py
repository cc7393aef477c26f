"""Run every notebook in ``notebooks/`` from top to bottom, as a learner would.

Each notebook runs in a fresh kernel of the current interpreter, in a temporary working
directory, with a deadline for the whole notebook. A cell that raises fails the test, and the
notebooks ``assert`` the facts their prose relies on (e.g. that word starts are more surprising
than bytes inside words), so a change in the engine that breaks the story fails here too.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from ipykernel.kernelspec import write_kernel_spec  # noqa: E402
from nbclient.exceptions import CellExecutionError, CellTimeoutError  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
COURSE = [
    "01_quick_start.ipynb",
    "02_bytes_and_predictability.ipynb",
    "03_from_ngrams_to_a_vocabulary.ipynb",
    "04_lattices_sampling_and_gold.ipynb",
    "05_tune_vocab_size.ipynb",
    "06_explore_your_own_corpus.ipynb",
    "07_refined_training.ipynb",
]
# Seconds for a whole notebook, kernel start included. Each takes well under 15 s with a warm
# Numba cache; the margin covers a cold cache and a slow machine.
NOTEBOOK_DEADLINE = 150.0


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment in which ``python3`` is a kernel of this interpreter that imports this
    checkout, whatever kernelspecs the machine has and whether or not the project is
    installed."""
    jupyter_path = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(jupyter_path / "kernels" / "python3")  # argv: this sys.executable
    pythonpath = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return {"JUPYTER_PATH": str(jupyter_path), "PYTHONPATH": pythonpath}


def _tree(folder: Path) -> set[str]:
    paths = folder.rglob("*")
    return {str(p.relative_to(folder)) for p in paths if ".ipynb_checkpoints" not in p.parts}


def test_the_course_is_there() -> None:
    assert [p.name for p in NOTEBOOKS][: len(COURSE)] == COURSE


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not cell.outputs, f"cell {i} of {path.name} has outputs: clear them"
            assert cell.execution_count is None, f"cell {i} of {path.name} has a count"
    assert "widgets" not in nb.metadata, f"{path.name} stores widget state: clear it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(
    path: Path,
    tmp_path: Path,
    kernel_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in kernel_env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(path, as_version=4)
    before = _tree(REPO / "notebooks")
    deadline = time.monotonic() + NOTEBOOK_DEADLINE

    def remaining(cell: object) -> float:
        # nbclient's timeout is per cell; giving each cell what is left of the notebook's
        # budget makes it a deadline for the whole notebook
        return max(0.01, deadline - time.monotonic())

    client = nbclient.NotebookClient(
        nb,
        kernel_name="python3",
        timeout_func=remaining,
        startup_timeout=60,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    start = time.monotonic()
    try:
        client.execute()
    except CellTimeoutError:
        pytest.fail(f"{path.name} did not finish within {NOTEBOOK_DEADLINE:.0f} s")
    except CellExecutionError as exc:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # IPython colours the traceback
        pytest.fail(f"{path.name} failed:\n{plain}")
    seconds = time.monotonic() - start
    print(f"{path.name}: {seconds:.1f} s with {sys.executable}")

    assert _tree(REPO / "notebooks") == before, "the notebook wrote into the repository"
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors
