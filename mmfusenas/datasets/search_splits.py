"""The two search halves (weights θ / architecture α) of a training split."""
from typing import List, Sequence, Tuple

#: names of the two search splits (file stems of the split files)
SEARCH_SPLITS = ('search_weights', 'search_arch')


def search_halves(items: Sequence[str]) -> Tuple[List[str], List[str]]:
    """``(search_weights, search_arch)``: the even and odd items (at least
    2), so the halves interleave and a prefix of a list splits the same
    way."""
    items = list(items)
    if len(items) < 2:
        raise ValueError('search_halves needs at least 2 training items to '
                         f'make two disjoint search splits, got {len(items)}')
    return items[0::2], items[1::2]
