"""The two search halves of a training split (weights θ vs architecture α).

A differentiable search updates θ on one set of images and α on another;
neither may be the set the derived network is finally evaluated on (else α
is tuned on the test data). The toy generators therefore write, next to
their ``train`` / ``val`` splits, a partition of the **training** images
into ``search_weights`` and ``search_arch``; the search configs read those
two and the evaluation reads ``val``, which the search never sees.
"""
from typing import List, Sequence, Tuple

#: names of the two search splits (file stems of the split files)
SEARCH_SPLITS = ('search_weights', 'search_arch')


def search_halves(items: Sequence[str]) -> Tuple[List[str], List[str]]:
    """Split the training items into the weights and the α half.

    Item ``k`` (in the given order) goes to the α half when ``k`` is odd, so
    the halves interleave (both see the whole range of a generator's
    scenes), differ in size by at most one, and a prefix of a longer list
    splits the same way.

    Args:
        items (Sequence[str]): the training split's entries (stems or file
            names), at least 2.

    Returns:
        tuple[list[str], list[str]]: ``(search_weights, search_arch)``.
    """
    items = list(items)
    if len(items) < 2:
        raise ValueError('search_halves needs at least 2 training items to '
                         f'make two disjoint search splits, got {len(items)}')
    return items[0::2], items[1::2]
