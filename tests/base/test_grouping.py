"""koken.base.grouping: group_codes_within gives group_codes' codes and keys, reading one row per known group."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from koken.base.grouping import group_codes, group_codes_within


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 3)), max_size=40), st.integers(0, 3))
def test_group_codes_within_known_groups_is_group_codes(rows, merged):
    """Rows numbered by any grouping finer than or equal to their values (several numbers may share a value, as two
    table keys that fall back to the same earlier year do): the same codes, keys, order and key types."""
    groups = np.array([g for g, _v in rows], dtype=np.int64)
    value = {g: (f"JP {2020 + (g % (merged + 1))}", bool(g % 2), "adjusted" if g % 3 else "", v)
             for g, v in rows}  # one value per number: numbers g and g + merged + 1 share a key text
    columns = [np.array([value[g][k] for g, _v in rows], dtype=object if k != 1 else bool) for k in range(3)]
    columns.append(np.array([value[g][3] for g, _v in rows], dtype=np.int64))
    new, old = group_codes_within(groups, columns), group_codes(columns)
    assert new[0].tolist() == old[0].tolist()
    assert new[1] == old[1]
    assert [[type(p) for p in key] for key in new[1]] == [[type(p) for p in key] for key in old[1]]
