"""Issue 17 §4: a CSV file's text reaches Arrow's reader as UTF-8 bytes without being decoded and encoded again.

cp932 is converted to UTF-8 by ``readers._Cp932ToUtf8`` (only the bytes from 0x80, with the byte after each run,
go through Python's codec): it must give exactly ``bytes.decode("cp932").encode("utf-8")`` and, on bytes that are
not cp932, the first byte Python's incremental decoder refuses, whatever the chunks. The rows after the header are
given to Arrow by ``readers._Utf8Source`` from the offset where the text wrapper stopped; the tests read the same
files through the wrapper's text (``_Utf8Source.rest_after`` refused, the path used before) and compare."""

from __future__ import annotations

import codecs

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from koken.base.errors import KokenErrors
from koken.portfolio import readers
from koken.portfolio.build import read_portfolio
from portfolio.test_csv_columnar import HEADER, MESSY_TAIL, assert_same, clean_rows

# cp932 pieces: ASCII (with the bytes that are also second bytes), kanji whose second byte is ASCII (表 95 5C,
# ソ 83 5C), half-width katakana, NEC and IBM extensions, user-defined area, the single bytes 80 A0 FD-FF, and bytes
# that are not cp932 (a lead byte alone or before a line feed, 85 40 unassigned, 7F after a lead byte)
PIECES = [b"a", b",", b"\n", b"\r\n", b'"', b"@", b"\\", b"~", b"\x7f", b"0", "表".encode("cp932"),
          "ソ".encode("cp932"), "冷蔵庫".encode("cp932"), "ｱｲｳ".encode("cp932"), "①".encode("cp932"),
          "髙".encode("cp932"), b"\xf0\x40", b"\x80", b"\xa0", b"\xfd", b"\xff", "　".encode("cp932"),
          b"\x81", b"\x81\n", b"\x85\x40", b"\x88\x7f", b"\xfc\xfc", b"\xef\x40"]


def reference(data: bytes) -> tuple[bytes | None, int | None]:
    """Python's incremental decoder over the whole bytes: (UTF-8, None) or (None, offset of the first byte refused)."""
    try:
        return data.decode("cp932").encode("utf-8"), None
    except UnicodeDecodeError as err:
        return None, err.start


def converted(data: bytes, sizes: list[int]) -> tuple[bytes | None, int | None]:
    converter = readers._Cp932ToUtf8()
    out, at = [], 0
    try:
        for size in [*sizes, len(data)]:
            out.append(converter.convert(data[at:at + size], final=False))
            at += size
            if at >= len(data):
                break
        out.append(converter.convert(data[at:], final=True) if at < len(data) else converter.convert(b"", final=True))
    except readers._Undecodable as err:
        return None, err.offset
    return b"".join(out), None


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.binary(max_size=3), max_size=40).map(b"".join),
       st.lists(st.integers(min_value=0, max_value=9), max_size=6))
def test_cp932_converts_as_pythons_decoder(data, sizes):
    assert converted(data, sizes) == reference(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([p for p in PIECES if p not in (b"\x81", b"\x81\n", b"\x85\x40", b"\x88\x7f")]),
                max_size=60).map(b"".join), st.lists(st.integers(min_value=1, max_value=9), max_size=6))
def test_valid_cp932_converts_as_pythons_decoder(data, sizes):
    assert converted(data, sizes) == reference(data)


def test_a_chunk_without_a_byte_below_0x40():
    data = "表".encode("cp932") * 3 + b"\x82"  # ends on a lead byte: kept for the next chunk
    converter = readers._Cp932ToUtf8()
    assert converter.convert(data, final=False) == "表表表".encode()
    assert converter.convert(b"\xa0,", final=True) == "あ,".encode()


def test_the_first_refused_byte_is_the_scan_s_offset(tmp_path):
    path = tmp_path / "p.csv"
    data = ("a,b\n" + "冷蔵庫,1\n" * 50_000).encode("cp932")
    path.write_bytes(data + b"x,\x85\x40\n" + data)  # 85 40 is not assigned in cp932
    problem, digest, _flags = readers._scan(path, "cp932")
    assert problem == len(data) + 2 and digest == ""
    decoder = codecs.getincrementaldecoder("cp932")()
    with pytest.raises(UnicodeDecodeError):
        decoder.decode(path.read_bytes(), final=True)


def test_half_width_katakana_and_nul_are_found_as_before(tmp_path, library):
    path = tmp_path / "p.csv"
    filler = "冷蔵庫,1\n" * 200_000  # more than one chunk before the katakana
    path.write_bytes(("product_line,methodology\n" + filler + "ｱ,refrigerator\n").encode("cp932"))
    with pytest.raises(KokenErrors, match="half-width katakana"):
        read_portfolio(path, library)
    assert readers._scan(path, "cp932", check_kana=False)[2] == {"nul": False, "kana": False}
    path.write_bytes(("product_line,methodology\n" + filler).encode("cp932") + b"\x00x,y\n")
    assert readers._scan(path, "cp932", check_kana=True)[2] == {"nul": True, "kana": False}


def read_both(monkeypatch, path, library, **kw):
    """(bytes given to Arrow as they are, text encoded again as before) outcomes of reading ``path``, and how often
    the first way was taken."""
    out = []
    taken = []
    original = readers._Utf8Source.rest_after

    def counting(self, text):
        taken.append(original(self, text))
        return taken[-1]

    for way in (counting, lambda self, text: False):
        monkeypatch.setattr(readers._Utf8Source, "rest_after", way)
        try:
            out.append(read_portfolio(path, library, collect=True, **kw))
        except KokenErrors as errs:
            out.append([str(e) for e in errs.errors])
    return out, taken


TEXT = HEADER + clean_rows(40) + MESSY_TAIL + clean_rows(300, start=500)


@pytest.mark.parametrize("name, data, encoding", [
    ("utf-8", TEXT.encode("utf-8"), None),
    ("utf-8 with BOM", codecs.BOM_UTF8 + TEXT.encode("utf-8"), None),
    ("utf-8 with BOM given as utf-8", codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8"),
    ("cp932", TEXT.encode("cp932"), None),
    ("cp932 given as ms932", TEXT.encode("cp932"), "ms932"),
    ("utf-16", TEXT.encode("utf-16"), None),
    ("euc_jp", TEXT.encode("euc_jp"), "euc_jp"),
    ("CR line ends", TEXT.replace("\r\n", "\n").replace("\n", "\r").encode("utf-8"), None),
    ("CR line ends, cp932", TEXT.replace("\r\n", "\n").replace("\n", "\r").encode("cp932"), None),
    ("rows above the header", ("タイトル\n\n" + TEXT).encode("cp932"), None),
    ("header only", HEADER.encode("cp932"), None),
    ("a few rows", (HEADER + clean_rows(3)).encode("cp932"), None),
    ("a quoted line break after the first block", (HEADER + clean_rows(4000) + MESSY_TAIL).encode("utf-8"), None),
])
def test_the_same_portfolio_as_through_the_text(tmp_path, library, monkeypatch, name, data, encoding):
    path = tmp_path / "p.csv"
    path.write_bytes(data)
    (new, old), taken = read_both(monkeypatch, path, library, encoding=encoding)
    assert_same(new, old)
    assert len(new) > 0 or name == "header only"
    if name in ("header only", "a few rows"):  # fewer rows than are read while the header is looked for
        assert taken == []
    else:  # the bytes went to Arrow as they are; after a line ending in CR alone the wrapper's decoder holds the CR
        # (a LF may follow), its position is no plain offset, and the rest goes through the text as before
        assert taken and all(taken) != name.startswith("CR"), name


def test_the_same_partitions_as_through_the_text(tmp_path, library, monkeypatch):
    path = tmp_path / "p.csv"
    path.write_bytes((HEADER + clean_rows(40) + MESSY_TAIL + clean_rows(3000, start=200)).encode("cp932"))
    seen = []
    for way in (readers._Utf8Source.rest_after, lambda self, text: False):
        monkeypatch.setattr(readers._Utf8Source, "rest_after", way)
        source = readers.open_portfolio(path, library, partition_rows=700)
        parts = [(p.block.rows.tolist(), [np.asarray(c).tolist() for c in p.block.columns]) if p.block is not None
                 else [str(e) for e in p.problems] for p in source.partitions()]
        seen.append((parts, source.notices, source.sha256, source.bytes_read))
    assert seen[0] == seen[1]


def test_a_file_changed_into_bytes_that_are_not_cp932_is_refused(tmp_path, library, monkeypatch):
    path = tmp_path / "p.csv"
    text = HEADER + clean_rows(40)
    path.write_bytes(text.encode("cp932"))
    source = readers.open_portfolio(path, library)
    path.write_bytes(text.encode("cp932") + b"x,\x85\x40\n")
    with pytest.raises(KokenErrors, match="changed while it was read"):
        list(source.partitions())
