"""koken.base.files: output files written through a temporary file beside the target, then renamed into place
(checked end to end through ``koken calculate -o``)."""

import os
import stat

from click.testing import CliRunner

from koken.cli.commands import main

from conftest import EXAMPLE_PORTFOLIO
from helpers import MESSY


def test_output_files_get_the_usual_permissions_not_the_temporary_files_0600(tmp_path):
    out = tmp_path / "r.csv"
    assert CliRunner().invoke(main, ["calculate", str(EXAMPLE_PORTFOLIO), "-o", str(out)]).exit_code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


def test_an_output_name_of_244_characters_is_written(tmp_path):
    out = tmp_path / ("r" * 240 + ".csv")
    assert CliRunner().invoke(main, ["calculate", str(MESSY / "clean_utf8.csv"),
                                     "-o", str(out)]).exit_code == 0
    assert out.exists()


def test_a_folder_that_does_not_exist_is_reported_in_the_chosen_language(tmp_path):
    import pytest

    from koken.base.errors import KokenError
    from koken.base.files import atomic_write
    from koken.base.i18n import language

    target = tmp_path / "missing" / "r.csv"
    with language("ja"), pytest.raises(KokenError) as info:
        atomic_write(target, b"x")
    assert str(info.value).startswith(f"{target}: ここには書き込めません：")
    with language("en"), pytest.raises(KokenError) as info:
        atomic_write(target, b"x")
    assert str(info.value).startswith(f"{target}: cannot write here: ")
    assert not target.parent.exists()
