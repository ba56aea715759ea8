"""Queries: a Latin run tried as a word, then pinyin, then initials; fields, phrases, odd input."""

from __future__ import annotations

from catalog.search.query import parse, suggestion_token


def best(term, prefix: str) -> int:
    return max(
        (a.weight for a in term.alternatives if a.groups[0][0].startswith(prefix)), default=0
    )


def test_latin_run_is_tried_as_word_then_pinyin_then_initials():
    term = parse("china").terms[0]
    assert best(term, "tw:") > best(term, "tp:") > best(term, "ti:") > 0


def test_title_words_outrank_the_same_words_elsewhere():
    term = parse("红楼梦").terms[0]
    assert best(term, "tw:") > best(term, "nw:") > best(term, "sw:") > best(term, "uw:")


def test_exact_title_bonuses_as_written_as_pinyin_and_as_initials():
    bonuses = {b.groups[0][0]: b.weight for b in parse("hong lou meng").bonuses}
    assert bonuses["tx:hongloumeng"] > bonuses["ty:hongloumeng"] > bonuses["tz:hongloumeng"]
    assert {b.groups[0][0] for b in parse("紅樓夢").bonuses} >= {
        "tx:红楼梦",
        "ty:hongloumeng",
        "tz:hlm",
    }


def test_field_prefixes_restrict_the_groups():
    author = parse("author:曹雪芹").terms[0]
    assert {g[0][:2] for a in author.alternatives for g in a.groups} == {"nw", "nb"}
    assert parse("author:曹雪芹").bonuses == []  # not a title query
    assert parse("isbn:7-5037-1744-0").terms[0].alternatives[0].groups == (("is:9787503717444",),)
    assert parse("clc:I24").terms[0].alternatives[0].groups == (("cl:i24",),)
    assert parse("题名:红楼梦").terms[0].alternatives[0].groups[0][0] == "tw:红楼梦"


def test_unknown_prefix_is_plain_text():
    assert [t.text for t in parse("foo:bar").terms] == ["foo", "bar"]


def test_quoted_phrase_is_one_term_of_pairs():
    term = parse('"art of war"').terms[0]
    assert term.alternatives[0].groups == (("tq:art_of",), ("tq:of_war",))


def test_mixed_han_and_latin_become_one_term():
    terms = parse("刘dh").terms
    assert len(terms) == 1
    tokens = {t for a in terms[0].alternatives for g in a.groups for t in g}
    assert {"nc:刘", "ni:ldh"} <= tokens
    assert len(parse("python编程").terms) == 2  # an English word beside Han: two terms


def test_initials_between_han_finish_the_word_before_or_stand_alone():
    term = parse("邓xp警卫").terms[0]
    split = [a for a in term.alternatives if ("ti:dxp", "ti:xp") in a.groups]
    assert split and {("tc:邓",), ("tb:警卫",)} <= set(split[0].groups)
    assert max(a.weight for a in term.alternatives) > split[0].weight  # the whole reading first
    assert not any(("ti:dh",) in a.groups for a in parse("刘dh").terms[0].alternatives)


def test_odd_input_never_breaks_the_parser():
    for text in ['"', '""', '"unbalanced', "a:", ":", "\x00\x01\x7f", "？？？", "*" * 5000,
                 "title:", 'author:"', "(((", "\\", "'; DROP TABLE records; --", "\u202e\ufeff"]:  # fmt: skip
        query = parse(text)
        assert len(query.terms) <= 12
    assert parse("x" * 5000).terms[0].text == "x" * 256


def test_long_queries_need_most_but_not_all_terms():
    assert parse("a b").minimum == 2
    assert parse("hong lou meng").minimum == 2
    assert parse("zhong guo fa zhan bao gao").minimum == 4


def test_suggestion_token_is_the_typed_prefix_folded():
    assert suggestion_token("紅樓") == "sg:红楼"
    assert suggestion_token("hong lou") == "sg:honglou"
    assert suggestion_token("  ") is None
