"""Reading the Markdown of ``docs/`` and ``README.md`` (and of the speed
reports outside the manual: :func:`report_pages`) for the docs tests:
the pages, their prose (outside code blocks), their links and headings,
and the commands of their shell code blocks."""
import glob
import os.path as osp
import re
import shlex
from typing import Iterator, List, Set, Tuple

from helpers import REPO_ROOT

FENCE = re.compile(r'^\s*(```|~~~)\s*([\w+-]*)')
LINK = re.compile(r'(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)')
HEADING = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')
SHELL_LANGS = ('bash', 'shell', 'sh', 'console')


def pages() -> List[str]:
    """``README.md`` and every Markdown page under ``docs/``, relative to
    the repository root, sorted."""
    found = glob.glob(osp.join(REPO_ROOT, 'docs', '**', '*.md'),
                      recursive=True)
    rel = sorted(osp.relpath(p, REPO_ROOT) for p in found)
    return ['README.md'] + rel


#: folders outside the manual that hold pages moved out of it (the speed
#: reports and the CPU-kernel plugin's guides)
REPORT_FOLDERS = (('benchmarks', 'docs'), ('projects', 'cpu_kernels', 'docs'))


def report_pages() -> List[str]:
    """The Markdown pages of ``benchmarks/docs/`` and
    ``projects/cpu_kernels/docs/`` with the two READMEs that list them,
    relative to the repository root, sorted. Not pages of the manual (no
    word budget, not reached from its index), but their links and commands
    are checked like the manual's."""
    found = []
    for folder in REPORT_FOLDERS:
        found += glob.glob(osp.join(REPO_ROOT, *folder, '*.md'))
        found.append(osp.join(REPO_ROOT, *folder[:-1], 'README.md'))
    return sorted(osp.relpath(p, REPO_ROOT) for p in found)


def read(page: str) -> str:
    with open(osp.join(REPO_ROOT, page), encoding='utf-8') as f:
        return f.read()


def blocks(text: str) -> Iterator[Tuple[str, int, List[str]]]:
    """``(language, first line number, lines)`` of every fenced block."""
    lang, start, body = None, 0, []
    for number, line in enumerate(text.split('\n'), 1):
        match = FENCE.match(line)
        if lang is None and match:
            lang, start, body = match.group(2) or '', number + 1, []
        elif lang is not None and line.strip() in ('```', '~~~'):
            yield lang, start, body
            lang = None
        elif lang is not None:
            body.append(line)


def prose(text: str) -> Iterator[Tuple[int, str]]:
    """``(line number, line)`` of every line outside fenced blocks."""
    inside = False
    for number, line in enumerate(text.split('\n'), 1):
        if FENCE.match(line) or (inside and line.strip() in ('```', '~~~')):
            inside = not inside
            continue
        if not inside:
            yield number, line


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, inline code marks and
    punctuation dropped, spaces to hyphens."""
    heading = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading.strip())
    heading = re.sub(r'[^\w\- ]', '', heading.lower())
    return heading.replace(' ', '-')


def anchors(text: str) -> Set[str]:
    """Every anchor of a page: its headings' slugs (``-1``, ``-2`` for
    repeats) and explicit ``<a id=...>`` / ``<a name=...>`` anchors."""
    found, seen = set(), {}
    for _, line in prose(text):
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f'{base}-{count}')
        found.update(re.findall(r'<a\s+(?:id|name)="([^"]+)"', line))
    return found


def links(text: str) -> Iterator[Tuple[int, str]]:
    """``(line number, target)`` of every Markdown link in the prose."""
    for number, line in prose(text):
        line = re.sub(r'`[^`]*`', '', line)
        for match in LINK.finditer(line):
            yield number, match.group(1)


def shell_commands(text: str) -> Iterator[Tuple[int, List[str]]]:
    """``(line number, words)`` of every command in the shell blocks:
    comments dropped, ``\\`` continuations joined, split at ``&&``, ``;``
    and ``|`` and by shell quoting rules."""
    for lang, start, body in blocks(text):
        if lang not in SHELL_LANGS:
            continue
        joined: List[Tuple[int, str]] = []
        pending, first = '', 0
        for offset, line in enumerate(body):
            line = re.sub(r'^\s*\$\s', '', line)
            if not pending:
                first = start + offset
            if line.rstrip().endswith('\\'):
                pending += line.rstrip()[:-1] + ' '
                continue
            joined.append((first, pending + line))
            pending = ''
        if pending:
            joined.append((first, pending))
        for number, line in joined:
            try:
                words = shlex.split(line, comments=True)
            except ValueError:
                words = line.split('#')[0].split()
            command: List[str] = []
            for word in words + [';']:
                if word in ('&&', ';', '|', '||', '&') or word.endswith(';'):
                    if word.endswith(';') and word != ';':
                        command.append(word[:-1])
                    if command:
                        yield number, command
                    command = []
                else:
                    command.append(word)

