"""The project speaks of itself only: docs, configs, code comments and
benchmarks say what the code does and what was measured, not how the
project was developed (which session, who ran what, on which machine of the
developers)."""
import glob
import os.path as osp
import re

import pytest

from mmfusenas.testing import REPO_ROOT

#: (name, pattern): words that tell the story of the development
PATTERNS = (
    ('session number', re.compile(r'\bsessions?[ -]\d+', re.I)),
    ('which session', re.compile(
        r'\b(?:this|that|the same|another|other|one|a later|an earlier|'
        r'the previous|the next|the last|a second|each|every)\s+sessions?\b'
        r'|\bsession time\b|\bthe session\'s\s+(?:gpu|device|cpu|command|'
        r'time|budget)\b', re.I)),
    ('who ran it', re.compile(
        r'\bthe lead\b(?!\s+(?:of|over|time)\b)'
        r'|\b(?:a|the|another|one)\s+helper(?:\'s)?\s+(?:run|runs|ran|'
        r'measured|machine|session|worktree|checkout)\b'
        r'|\bhelpers?\'s? runs?\b|\bhelper (?:measured|ran)\b'
        r'|\bby (?:a|another|the) helper\b(?!\s+(?:function|module|method|'
        r'class|script)\b)', re.I)),
    ('project issue', re.compile(
        r'(?<!mmdet )(?<!mmcv )(?<!torch )(?<!mmengine )\bissues? \d+\b'
        r'|\bthe issue(?:\'s)?\b(?= (?:asks|targets?|criterion))'
        r'|\bthe issue\'s\b'
        r'|\bthe (?:\w+ )?engineer\b', re.I)),
    ('first person', re.compile(
        r'\bI (?:ran|measured|tried|checked|found)\b'
        r'|\b[Ww]e (?:ran|tried)\b|\b[Ee]arlier we\b')),
    ('the box', re.compile(
        r'\b(?:this|that) box\b|\bon (?:the|a) box\b|\bbox time\b'
        r'|\bthe box\'s (?:cpu|device|gpu|time|cores|limit|\d)'
        r'|\b(?:\d+-core|gpu|h100|cpu|lent)\s+(?:/\s*\w+\s+)?box\b', re.I)),
)
FOLDERS = ('docs', 'configs', 'mmfusenas', 'tools', 'benchmarks')
SUFFIXES = ('.md', '.py', '.yaml', '.yml', '.sh', '.txt')


def story_words(text: str) -> list:
    """``(line number, kind, words)`` of every development-story phrase."""
    found = []
    for number, line in enumerate(text.split('\n'), 1):
        for name, pattern in PATTERNS:
            for match in pattern.finditer(line):
                found.append((number, name, match.group(0)))
    return found


@pytest.mark.parametrize('text', [
    'measured in session 7', 'sessions 8-9 ran it', 'the session-8 control',
    'Session 6: torch.compile', 'this session', 'in the same session',
    'the remaining session time', "the session's GPU command list",
    'benchmarks of other sessions running', 'run by the lead on an H100',
    "the lead's second window", 'a helper\'s run', 'a helper measured it',
    'helper measured 3 s', 'as the helpers\' runs showed', 'I ran it twice',
    'we ran the control', 'We tried a larger lr', 'Earlier we used 64 px',
    'on the box', 'the 16-core box', 'this box', "the box's CPU commands",
    'a lent H100 box', 'got box time', 'a 16-core / H100 box',
    'issue 20 measured', 'the issue asks for', "the issue's targets",
    'the tooling engineer', 'as the neck engineer measured'])
def test_story_words_are_found(text):
    assert story_words(text), text


@pytest.mark.parametrize('text', [
    'a helper function', 'the helpers of mmfusenas.testing',
    'a pytest session-scoped fixture', 'the ONNX Runtime session options',
    "it is the session's run-time memory", 'default session: ORT_ENABLE_ALL',
    'the lead of the searched neck over FPN', 'we measured 0.174 mAP',
    'what we measured', 'the boxes of the crop', 'a box of integer corners',
    'pack the modalities and the boxes', 'a 16-core machine',
    'the gt box is scaled', 'i ran = 3', 'sessions of training',
    'see mmdet issue 1234', 'an issue with the data', 'engineering'])
def test_plain_words_pass(text):
    assert not story_words(text), story_words(text)


def files():
    found = [osp.join(REPO_ROOT, 'README.md')]
    for folder in FOLDERS:
        for path in glob.glob(osp.join(REPO_ROOT, folder, '**', '*'),
                              recursive=True):
            if path.endswith(SUFFIXES) and osp.isfile(path):
                found.append(path)
    return sorted(osp.relpath(p, REPO_ROOT) for p in found)


def test_the_project_speaks_of_itself_only():
    hits = []
    for path in files():
        with open(osp.join(REPO_ROOT, path), encoding='utf-8') as f:
            for number, name, words in story_words(f.read()):
                hits.append(f'{path}:{number}: {name}: {words!r}')
    assert not hits, '\n'.join(hits)
