"""koken.methodology.lock: the version lock, and its problems in the chosen language."""

import pytest

from koken.base.errors import KokenError
from koken.base.i18n import language
from koken.library import load_methodology
from koken.methodology.lock import check_lock, read_lock, write_lock

from helpers import methodology_dict, write_methodology


def test_an_unreadable_lock_is_reported_in_the_chosen_language(tmp_path):
    lock = tmp_path / "versions.lock"
    lock.write_text("toy: 1.0.0\n", encoding="utf-8")
    with language("ja"), pytest.raises(KokenError) as info:
        read_lock(lock)
    assert str(info.value) == (f"{lock}: バージョンロックは id ごとに {{version: sha256:…}} を対応づける形式でなければ"
                               "なりません。バージョン管理から元に戻してください。")
    with language("en"), pytest.raises(KokenError) as info:
        read_lock(lock)
    assert str(info.value) == f"{lock}: the version lock must map ids to {{version: sha256:…}}; restore it from version control"


def test_a_changed_release_and_an_unlocked_version_read_in_the_chosen_language(tmp_path):
    m = load_methodology(write_methodology(tmp_path / "lib", methodology_dict()))
    lock = tmp_path / "lib" / "versions.lock"
    with language("ja"):
        no_errors, warnings = check_lock({"toy": m}, lock)
        assert no_errors == []
        assert warnings == [f"{m.path}：バージョン 1.0.0 はまだ versions.lock にありません（リリース時に `koken lock` を"
                            "実行してください）。"]
        assert write_lock({"toy": m}, lock) == 1
        assert lock.read_text(encoding="utf-8").startswith("# リリース済みの方法論のバージョンと内容ハッシュ")
        lock.write_text("toy:\n  1.0.0: sha256:" + "0" * 64 + "\n", encoding="utf-8")
        (error,), _ = check_lock({"toy": m}, lock)
    assert str(error).startswith(f"{m.path}, 項目 version: バージョン 1.0.0 は内容ハッシュ sha256:000")
    assert str(error).endswith("バージョンを上げてください（koken diff を参照）。")
