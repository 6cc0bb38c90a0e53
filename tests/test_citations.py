"""Explanations live in the repository or in the cited papers and public
repositories, never in a folder beside the checkout.

Tests may read shared *data* (``../shared/data``, ``../shared/checkpoints``);
code, configs, tools, benchmarks and tests must not send the reader to notes
outside the repository.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = ('mmfusenas', 'configs', 'tools', 'benchmarks', 'tests',
           'projects')
# built by concatenation so that this file does not match itself
OUTSIDE_NOTES = ('shared/' + 'reference', 'shared/' + 'papers')


def citations_of_outside_notes(text: str, name: str) -> list:
    """``'name:line: text'`` for every line naming notes outside the repo."""
    return [f'{name}:{i}: {line.strip()}'
            for i, line in enumerate(text.splitlines(), 1)
            if any(n in line for n in OUTSIDE_NOTES)]


def test_checker_finds_a_planted_citation():
    text = 'x = 1\n# see ../shared/' + 'reference/tim_architecture.md\n'
    assert citations_of_outside_notes(text, 'a.py') == [
        'a.py:2: # see ../shared/' + 'reference/tim_architecture.md']
    # shared data is allowed
    assert citations_of_outside_notes('ROOT = "../shared/data/tno"\n',
                                      'a.py') == []


def test_no_module_cites_notes_outside_the_repository():
    files = [ROOT / 'README.md', ROOT / 'setup.py']
    for folder in SCANNED:
        files += [p for p in (ROOT / folder).rglob('*')
                  if p.suffix in ('.py', '.md', '.yaml', '.yml', '.sh',
                                  '.txt') and '.mim' not in p.parts]
    assert len(files) > 300
    found = []
    for path in files:
        found += citations_of_outside_notes(
            path.read_text(encoding='utf-8', errors='replace'),
            str(path.relative_to(ROOT)))
    assert not found, ('cite the paper and the authors\' public repository '
                       'instead:\n' + '\n'.join(found))
