"""The user guides are a manual, not a lab notebook: what a component is,
how to use and switch it, and its typical effect with a link to its
record. The history of a measurement (the commit it was taken at, the
machine's load, the rewrites tried and not adopted) lives in the results
records ``docs/results/*.json``; the header that
``tools/misc/results_to_docs.py`` renders from a record into a
``<!-- results:NAME -->`` ... ``<!-- /results -->`` block may name them,
so those blocks are left out of the check."""
import re

import pytest

from .doc_text import pages, read

BEGIN = re.compile(r'^<!-- results:[A-Za-z0-9_.-]+ -->\s*$')
END = '<!-- /results -->'

#: (name, pattern): the words of a measurement's history
PATTERNS = (
    ('commit hash', re.compile(r'\bcommit\s+`?[0-9a-f]{7,40}\b`?', re.I)),
    ('machine load', re.compile(r'\bload\s+av(?:erage|g)', re.I)),
    ('rewrites not adopted', re.compile(r'\bnot\s+adopted\b', re.I)),
)

GUIDES = [p for p in pages() if p.startswith('docs/user_guides/')]


def outside_results_blocks(text: str) -> list:
    """``(line number, line)`` of every line outside the rendered results
    blocks (their markers left out too)."""
    kept, inside = [], False
    for number, line in enumerate(text.split('\n'), 1):
        if BEGIN.match(line):
            inside = True
        elif inside and line.strip() == END:
            inside = False
        elif not inside:
            kept.append((number, line))
    return kept


def notebook_words(text: str) -> list:
    """``(line number, kind, words)`` of every history phrase outside the
    rendered results blocks."""
    found = []
    for number, line in outside_results_blocks(text):
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
    '<!-- results:x -->\nMeasured at commit `9736df2384e4b61e2af2f17eb775c3'
    'ea085d0b4b`; load average 0.90 at the end.\n<!-- /results -->',
    'the record (command, commit, machine, RESULT)',
    'Arrays are named `00000000`, `00000001`', 'the committed lists',
    'it prints the system load (`os.getloadavg()`)',
    'a load of 2 images', 'the rewrites are listed in the record'])
def test_manual_words_pass(text):
    assert not notebook_words(text), notebook_words(text)


def test_a_block_hides_only_its_own_lines():
    text = ('<!-- results:x -->\nat commit `abcdef0`\n<!-- /results -->\n'
            'load average 3 after the block')
    assert notebook_words(text) == [(4, 'machine load', 'load average')]


def test_there_are_user_guides():
    assert len(GUIDES) > 10


@pytest.mark.parametrize('page', GUIDES)
def test_user_guide_reads_as_a_manual(page):
    hits = [f'{page}:{number}: {name}: {words!r}'
            for number, name, words in notebook_words(read(page))]
    assert not hits, ('history of a measurement belongs in its record '
                      '(docs/results/<name>.json, e.g. a "notes" list), '
                      'not in the guide:\n' + '\n'.join(hits))
