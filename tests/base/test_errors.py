"""koken.base.errors: problems as text, with their location when they have one."""

from koken.base.errors import KokenError


def test_a_problem_without_a_location_has_no_placeholder_prefix():
    """A problem with no file or row (a Dask scheduler error, say) does not begin with '<input>:'."""
    assert str(KokenError("cannot reach the Dask scheduler")) == "cannot reach the Dask scheduler"
