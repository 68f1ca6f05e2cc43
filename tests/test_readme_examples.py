"""The README's example outputs are what the current code prints.

A fenced block whose first line is ``$ cs-audit …`` is an example: each ``$`` line is run in the
repository (the bundled samples) and the lines after it, up to the next ``$``, must be what it
printed. A line ``…`` stands for any number of lines. What varies from run to run (the version,
timings) is normalised; so are the counts of the lexicons' example rows, which grow with them.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from conftest import REPO

README = REPO / "README.md"
ELLIPSIS = "…"
# Examples shown for the shape of their output, not runnable as they stand: command → why.
ILLUSTRATIONS = {
    "cs-audit rubric check shop.toml": "a shop's rubric with wrong example rows, not in the repository",
    "cs-audit audit --lexicons shop-lexicons exports/": "a shop's exports folder",
}


def readme_examples() -> list[tuple[int, str, list[str], str]]:
    """(line, command, expected output lines, the README text before the block) of each example."""
    text = README.read_text(encoding="utf-8")
    examples = []
    for block in re.finditer(r"^```[a-z]*\n(.*?)^```$", text, re.S | re.M):
        lines = block.group(1).splitlines()
        if not lines or not lines[0].startswith("$ cs-audit "):
            continue
        line = text.count("\n", 0, block.start()) + 2
        for offset, content in enumerate(lines):
            if content.startswith("$ "):
                expected = []
                for following in lines[offset + 1:]:
                    if following.startswith("$ "):
                        break
                    expected.append(following)
                examples.append((line + offset, content[2:], expected, text[:block.start()]))
    return examples


def normalised(text: str) -> str:
    text = re.sub(r"\b\d+\.\d+\.\d+(\.dev\d+)?\b", "VERSION", text)
    text = re.sub(r"\b\d+(\.\d+)? ?(s|ms) elapsed\b", "TIME", text)
    text = re.sub(r"\b(\d+)/\1\b", "N/N", text)
    return re.sub(r"\ball \d+ examples pass\b", "all N examples pass", text)


def matches(expected: list[str], printed: list[str]) -> bool:
    """Whether ``printed`` is ``expected``, each ``…`` line standing for any lines: the runs of
    lines between the ellipses are found in order, the first at the start unless an ellipsis
    opens, the last at the end unless one closes."""
    runs: list[list[str]] = [[]]
    for line in expected:
        if line == ELLIPSIS:
            runs.append([])
        else:
            runs[-1].append(line)
    if len(runs) == 1:
        return printed == runs[0]
    first, *middle, last = runs
    if printed[:len(first)] != first or (last and printed[len(printed) - len(last):] != last):
        return False
    position, end = len(first), len(printed) - len(last)
    if end < position:
        return False
    for run in middle:
        found = next((start for start in range(position, end - len(run) + 1)
                      if printed[start:start + len(run)] == run), None)
        if found is None:
            return False
        position = found + len(run)
    return True


def _prepare(command: str, before: str, folder: Path, run_cli) -> None:
    """What an example needs besides the repository: the file or folder the README made first."""
    if "shop.toml" in command:
        # The ```toml block just before the example is the file it validates.
        *_, toml = re.findall(r"^```toml\n(.*?)^```$", before, re.S | re.M)
        (folder / "shop.toml").write_text(toml, encoding="utf-8")
    if "shop-lexicons" in command:
        # The README's steps: copy the bundled folder, add the phrase and its two example rows.
        assert run_cli("lexicon", "copy", folder / "shop-lexicons").exit_code == 0
        with (folder / "shop-lexicons" / "tone_greeting.txt").open("a", encoding="utf-8") as words:
            words.write("木子家居为您服务 | phrase\n")
        with (folder / "shop-lexicons" / "examples" / "tone.greeting.tsv").open("a", encoding="utf-8") as rows:
            rows.write("fire\tagent\t木子家居为您服务，请问有什么需要\npass\tagent\t木子家居的沙发这周包邮\n")


EXAMPLES = readme_examples()


def test_the_readme_has_examples_and_every_illustration_is_still_there():
    commands = [command for _, command, _, _ in EXAMPLES]
    assert len(commands) >= 5
    assert set(ILLUSTRATIONS) <= set(commands)


@pytest.mark.parametrize("line, command, expected, before",
                         [example for example in EXAMPLES if example[1] not in ILLUSTRATIONS],
                         ids=[f"README.md:{line}" for line, command, _, _ in EXAMPLES
                              if command not in ILLUSTRATIONS])
def test_a_readme_example_shows_what_the_code_prints(run_cli, tmp_path, monkeypatch, line, command,
                                                      expected, before):
    monkeypatch.chdir(REPO)
    arguments = shlex.split(command)[1:]
    if any("shop" in argument for argument in arguments):
        _prepare(command, before, tmp_path, run_cli)
        monkeypatch.chdir(tmp_path)
    result = run_cli(*arguments)
    printed = normalised(result.stdout + result.stderr).rstrip("\n").splitlines()
    wanted = normalised("\n".join(expected)).splitlines()
    assert matches(wanted, printed), (f"README.md:{line}: `{command}` now prints:\n"
                                      + "\n".join(printed))


def test_the_ellipsis_stands_for_any_lines_and_nothing_else():
    assert matches(["a", ELLIPSIS, "d"], ["a", "b", "c", "d"])
    assert matches([ELLIPSIS, "b", ELLIPSIS], ["a", "b", "c"])
    assert matches(["a", ELLIPSIS, "b"], ["a", "b"])
    assert not matches(["a", "d"], ["a", "b", "d"])
    assert not matches(["a", ELLIPSIS], ["b", "a"])
