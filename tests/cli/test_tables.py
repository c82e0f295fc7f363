"""The plain-text table renderer used by every `list` command."""

from __future__ import annotations

from carebinder.cli.tables import display_width, render, wrap


def test_display_width_counts_terminal_columns() -> None:
    assert display_width("Ana") == 3
    assert display_width("李小龙") == 6  # wide characters take two columns
    assert display_width("Nguye\u0302\u0303n") == 6  # combining marks take none
    assert display_width("a\u200bb") == 2  # a zero-width space takes none


def test_columns_line_up_whatever_the_script() -> None:
    text = render(["ID", "NAME", "ROLE"], [[1, "李小龙", "oncology"], [22, "Ana", None]], None)
    lines = text.splitlines()
    assert lines[0] == "ID  NAME    ROLE"
    assert lines[1] == "1   李小龙  oncology"
    assert lines[2] == "22  Ana"  # an empty last cell leaves no trailing spaces


def test_without_a_width_nothing_is_wrapped() -> None:
    long = "word " * 40
    text = render(["ID", "TEXT"], [[1, long.strip()]], None)
    assert text.splitlines()[1] == f"1   {long.strip()}"


def test_a_terminal_width_wraps_the_widest_column_to_fit() -> None:
    question = "Is an axillary dissection necessary, or is radiation to the axilla enough?"
    text = render(["ID", "QUESTION", "BY"], [[1, question, "Dr. Wei Chen"]], 40)
    lines = text.splitlines()
    assert all(display_width(line) <= 40 for line in lines)
    assert len(lines) > 2
    # Every word survives, in order.
    words = " ".join(line[4:].split("  ")[0].strip() for line in lines[1:]).split()
    assert words == question.split()
    assert "Dr. Wei Chen" in lines[1]


def test_wrap_cuts_a_word_longer_than_the_column() -> None:
    assert wrap("abcdefghij klm", 4) == ["abcd", "efgh", "ij", "klm"]
    assert wrap("", 5) == [""]
    assert wrap("one\ntwo", 10) == ["one", "two"]


def test_human_size_reads_like_a_file_manager() -> None:
    from carebinder.words import human_size

    assert human_size(512) == "512 bytes"
    assert human_size(1_400) == "1.4 KB"
    assert human_size(12_000_000) == "12.0 MB"
    assert human_size(3_200_000_000) == "3.2 GB"
