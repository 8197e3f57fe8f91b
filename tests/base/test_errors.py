"""koken.base.errors: problems as text, with their location when they have one."""

from koken.base.errors import KokenError


def test_a_problem_without_a_location_has_no_placeholder_prefix():
    """A problem with no file or row (a Dask scheduler error, say) does not begin with '<input>:'."""
    assert str(KokenError("cannot reach the Dask scheduler")) == "cannot reach the Dask scheduler"


def test_a_workbook_problem_names_its_sheet_and_cell_before_the_column():
    from koken.base.errors import Location

    where = Location(file="提出用.xlsx", sheet="refrigerator", row=7, column="出荷台数", cell="E7")
    assert str(KokenError("units_shipped is empty", where)) == (
        "提出用.xlsx, sheet 'refrigerator', cell E7, column '出荷台数': units_shipped is empty")
    assert str(Location(file="a.xlsx", sheet="s", row=7)) == "a.xlsx, sheet 's', row 7"  # no column: no cell
