"""The course's implement-and-check exercises: every check passes its solution, fails a wrong
version with a message naming a case, copes with a stub, and each exercise cell of the
notebooks is the stub of a solution with the same signature."""

from __future__ import annotations

import ast
import inspect
import json
import math
import random
from pathlib import Path

import pytest

from workbench import course

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


@pytest.mark.parametrize("name", sorted(course.EXERCISES))
def test_every_check_passes_its_solution(name: str) -> None:
    solution, check = course.EXERCISES[name]
    result = check(solution)
    assert result.passed, result.message
    assert result.cases >= 3 and "all" in result.message


def _wrong() -> dict[str, object]:
    """A plausible mistake for each exercise."""

    def classes_no_cont(text: str) -> list[str]:
        return [
            "cont" if b >= 0x80 and i else course.byte_classes(chr(b))[0] if b < 0x80 else "lead3"
            for i, b in enumerate(text.encode())
        ]

    def entropy_natural_log(chunks: list[bytes], k: int) -> float:
        return course.conditional_entropy(chunks, k) * math.log(2)

    def viterbi_ties_to_shortest(text: bytes, logp: dict[bytes, float]) -> list[bytes]:
        best = [0.0] + [-math.inf] * len(text)
        back = list(range(len(text) + 1))
        for e in range(1, len(text) + 1):
            for s in range(e):
                piece = text[s:e]
                if piece in logp and best[s] + logp[piece] >= best[e]:  # >=: the shortest wins
                    best[e], back[e] = best[s] + logp[piece], s
        out, e = [], len(text)
        while e > 0:
            out.append(text[back[e] : e])
            e = back[e]
        return out[::-1]

    def count_off_by_one(text: bytes, pieces: object) -> int:
        return course.count_segmentations(text, pieces) + (len(text) > 2)  # type: ignore[arg-type]

    def boundary_forward_only(text: bytes, logp: dict[bytes, float], alpha: float) -> list[float]:
        return [min(1.0, p * 1.1) for p in course.boundary_probabilities(text, logp, alpha)]

    def sample_greedy(
        text: bytes, logp: dict[bytes, float], alpha: float, rng: random.Random
    ) -> list[bytes]:
        return course.unigram_viterbi(text, logp)

    def description_without_the_counts(tokens: list[bytes], counts: dict[bytes, int]) -> float:
        return course.description_length(tokens, counts) - sum(
            2 * math.floor(math.log2(max(n, 1))) + 1 for n in counts.values()
        )

    return {
        "byte_classes": classes_no_cont,
        "description_length": description_without_the_counts,
        "conditional_entropy": entropy_natural_log,
        "unigram_viterbi": viterbi_ties_to_shortest,
        "count_segmentations": count_off_by_one,
        "boundary_probabilities": boundary_forward_only,
        "sample_segmentation": sample_greedy,
    }


@pytest.mark.parametrize("name", sorted(course.EXERCISES))
def test_a_wrong_version_fails_with_the_case_named(name: str) -> None:
    result = course.EXERCISES[name][1](_wrong()[name])  # type: ignore[arg-type]
    assert not result.passed
    assert result.problems and all(p.startswith("on ") for p in result.problems), result.problems
    assert "show_solution" in result._repr_html_()


@pytest.mark.parametrize("name", sorted(course.EXERCISES))
def test_a_stub_or_a_crash_is_reported_not_raised(name: str) -> None:
    def stub(*args: object) -> object:
        raise NotImplementedError

    result = course.EXERCISES[name][1](stub)
    assert not result.passed and result.problems == [
        "not implemented yet: write the function, then run the check"
    ]

    def crash(*args: object) -> object:
        return 1 // 0

    result = course.EXERCISES[name][1](crash)
    assert not result.passed and "raised ZeroDivisionError" in result.problems[0]


def test_show_solution() -> None:
    shown = course.show_solution("unigram_viterbi")
    assert str(shown).startswith("def unigram_viterbi(") and "```python" in shown._repr_markdown_()
    with pytest.raises(ValueError, match="no exercise named 'nope'"):
        course.show_solution("nope")


def _exercise_cells() -> list[tuple[str, str]]:
    found = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            src = "".join(cell["source"])
            if cell["cell_type"] == "code" and src.startswith("# Exercise"):
                found.append((path.name, src))
    return found


def test_the_course_has_every_exercise_once() -> None:
    names = []
    for notebook, src in _exercise_cells():
        tree = ast.parse(src)
        funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
        assert len(funcs) == 1, notebook
        stub = funcs[0]
        names.append(stub.name)
        solution, check = course.EXERCISES[stub.name]
        # the stub has the solution's signature and docstring, and only raises
        namespace: dict[str, object] = {}
        exec(compile(ast.Module([stub], []), notebook, "exec"), namespace)
        assert inspect.signature(namespace[stub.name]) == inspect.signature(solution)  # type: ignore[arg-type]
        assert ast.get_docstring(stub).split("\n>>>")[0].strip() in inspect.getdoc(solution)
        assert isinstance(stub.body[-1], ast.Raise)
        assert src.rstrip().endswith(f"{check.__name__}({stub.name})")
    assert sorted(names) == sorted(course.EXERCISES)
