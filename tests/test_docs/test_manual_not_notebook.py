"""The user guides are a manual, not a lab notebook: what a component is,
how to use and switch it, and its typical effect with a link to its
record. The history of a measurement (the commit it was taken at, the
machine's load, the rewrites tried and not adopted) lives in the results
records ``docs/results/*.json``. The blocks that
``tools/misc/results_to_docs.py`` renders from a record into a page
(``<!-- results:NAME -->`` ... ``<!-- /results -->``) name the command, the
machine and the record, not the commit or the load, so every line of a
user guide is checked, rendered blocks included."""
import re

import pytest

from .doc_text import pages, read


#: (name, pattern): the words of a measurement's history
PATTERNS = (
    ('commit hash', re.compile(r'\bcommit\s+`?[0-9a-f]{7,40}\b`?', re.I)),
    ('machine load', re.compile(r'\bload\s+av(?:erage|g)', re.I)),
    ('rewrites not adopted', re.compile(r'\bnot\s+adopted\b', re.I)),
)

GUIDES = [p for p in pages() if p.startswith('docs/user_guides/')]


def notebook_words(text: str) -> list:
    """``(line number, kind, words)`` of every history phrase."""
    found = []
    for number, line in enumerate(text.split('\n'), 1):
        for name, pattern in PATTERNS:
            for match in pattern.finditer(line):
                found.append((number, name, match.group(0)))
    return found


@pytest.mark.parametrize('text', [
    'measured at commit `9736df2384e4b61e2af2f17eb775c3ea085d0b4b`',
    'as of commit 1a2b3c4 the step', 'Commit `abcdef0`: faster',
    'on 2 cores (load average 20–27)', 'at a load avg of 5',
    'load averages of 3',
    'Tried and not adopted:', 'rewrites tried, not adopted'])
def test_notebook_words_are_found(text):
    assert notebook_words(text), text


@pytest.mark.parametrize('text', [
    'the record (command, commit, machine, RESULT)',
    'Arrays are named `00000000`, `00000001`', 'the committed lists',
    'it prints the system load (`os.getloadavg()`)',
    'a load of 2 images', 'the rewrites are listed in the record'])
def test_manual_words_pass(text):
    assert not notebook_words(text), notebook_words(text)


def test_a_rendered_record_names_no_history():
    """The renderer keeps a record's commit and the machine's load out of
    the page; the note's other words stay."""
    from mmfusenas.testing import load_tool
    tool = load_tool('tools/misc/results_to_docs.py')
    record = dict(
        command='python benchmarks/bench_inference.py', commit='9736df2',
        note='median of 5 passes; load average 0.90 / 1.1 at the end.',
        machine=dict(cpu_model='CPU X', cores=2, threads=1),
        metrics=['ms'], result={'t': {'a': {'ms': 1.0}}})
    text = tool.render(record, 'x')
    assert not notebook_words(text), notebook_words(text)
    assert 'median of 5 passes.' in text and 'docs/results/x.json' in text


def test_there_are_user_guides():
    assert len(GUIDES) > 10


@pytest.mark.parametrize('page', GUIDES)
def test_user_guide_reads_as_a_manual(page):
    hits = [f'{page}:{number}: {name}: {words!r}'
            for number, name, words in notebook_words(read(page))]
    assert not hits, ('history of a measurement belongs in its record '
                      '(docs/results/<name>.json, e.g. a "notes" list), '
                      'not in the guide:\n' + '\n'.join(hits))
