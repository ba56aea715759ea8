"""Chinese analysis: folding, words, bigrams, pinyin with the polyphone rule, ISBN and CLC tokens."""

from __future__ import annotations

from catalog.search.analysis import (
    clc_class,
    clc_tokens,
    field_tokens,
    isbn_tokens,
    sort_key,
    title_tokens,
)
from catalog.search.pinyin import readings, split_syllables, with_record_pinyin
from catalog.search.text import fold, runs


def test_fold_traditional_full_width_case_and_diacritics():
    assert fold("紅樓夢") == "红楼梦"
    assert fold("ＰＹＴＨＯＮ　１２３") == "python 123"
    assert fold("Mémoires de Napoléon") == "memoires de napoleon"
    assert runs(fold("Python编程：从入门到实践")) == ["python", "编程", "从入门到实践"]


def test_words_characters_and_bigrams_for_short_and_rare_names():
    tokens = field_tokens("t", ["红楼梦人物论"])
    assert {"tw:红楼梦", "tw:人物", "tc:梦", "tb:梦人", "tb:人物"} <= tokens
    names = field_tokens("n", ["覃志刚"], personal_names=True)
    assert {"nb:覃志", "nb:志刚", "nc:覃"} <= names


def test_polyphone_1_phrase_dictionary_gives_the_primary_reading():
    assert [r[0] for r in readings("重庆")] == ["chong", "qing"]
    assert [r[0] for r in readings("银行")] == ["yin", "hang"]
    assert [r[0] for r in readings("长安")] == ["chang", "an"]
    tokens = field_tokens("t", ["重庆谈判纪实"])
    assert {"tp:chong", "ta:zhong", "ti:cq"} <= tokens
    assert any(t.startswith("tj:chongqing") for t in tokens)


def test_polyphone_2_first_character_of_a_personal_name_reads_as_a_surname():
    for name, surname in [("曾国藩", "zeng"), ("单田芳", "shan"), ("仇英", "qiu"), ("覃志刚", "qin"),
                          ("查良镛", "zha"), ("乐嘉", "yue"), ("区小龙", "ou"), ("解缙", "xie")]:  # fmt: skip
        assert readings(name, personal_name=True)[0][0] == surname, name
    tokens = field_tokens("n", ["单田芳"], personal_names=True)
    assert "np:shan" in tokens and "nj:shantianfang" in tokens
    assert "na:dan" in tokens  # the everyday reading stays findable, lower


def test_polyphone_3_other_readings_are_indexed_as_alternates():
    tokens = field_tokens("t", ["朝花夕拾"])  # pypinyin reads 朝 chao here; zhao is right
    assert {"tp:chao", "ta:zhao", "ti:chxs", "tk:zhxs"} <= tokens


def test_polyphone_4_the_records_own_pinyin_is_preferred():
    computed = readings("叶震")
    mine = with_record_pinyin("叶震", "Xie Zhen", computed)
    assert mine[0][0] == "xie" and "ye" in mine[0]
    joined = with_record_pinyin("中国发展报告", "zhongguo fazhan baogao", readings("中国发展报告"))
    assert [r[0] for r in joined] == ["zhong", "guo", "fa", "zhan", "bao", "gao"]
    assert with_record_pinyin("中国", "nonsense words here", readings("中国")) == readings("中国")


def test_pinyin_typed_run_together_is_cut_into_syllables():
    assert split_syllables("hongloumeng") == ("hong", "lou", "meng")
    assert split_syllables("changan") == ("chang", "an")
    assert split_syllables("china") == ("chi", "na")
    assert split_syllables("python") is None


def test_latin_words_and_pairs_for_phrases():
    tokens = field_tokens("t", ["The Art of War"])
    assert {"tw:art", "tw:war", "tq:art_of", "tq:of_war"} <= tokens


def test_exact_title_forms_and_suggestion_prefixes():
    tokens = title_tokens("紅樓夢", None)
    assert {"tx:红楼梦", "ty:hongloumeng", "tz:hlm", "sg:红", "sg:hong", "sg:hl"} <= tokens


def test_isbn_10_and_13_with_and_without_hyphens_become_one_token():
    assert isbn_tokens(["7-5037-1744-0"]) == {"is:9787503717444"}
    assert isbn_tokens(["978-7-5037-1744-4 (平装)"]) == {"is:9787503717444"}
    assert isbn_tokens(["not an isbn"]) == set()


def test_clc_numbers_are_searchable_by_prefix_and_call_numbers_whole():
    tokens = clc_tokens("I242.4", ["I242.4/12"])
    assert {"cl:i", "cl:i2", "cl:i24", "cl:i242", "cl:i242.4", "cn:i242.4/12"} <= tokens
    assert clc_class("TP311.13") == "TP"
    assert clc_class("I247.5") == "I"
    assert clc_class(None) is None


def test_title_sort_key_is_pinyin():
    assert sort_key("红楼梦", None) == "hong lou meng"
    assert sort_key("阿Q正传", None).startswith("a q")


def test_a_character_without_a_reading_leaves_the_rest_of_the_pinyin():
    tokens = field_tokens("t", ["\u9fd0中国"])  # 鿐: too new for pypinyin
    assert {"tc:\u9fd0", "tp:zhong", "tp:guo", "tw:中国"} <= tokens
    assert title_tokens("\u9fd0中国", None) >= {"tx:\u9fd0中国"}
    assert sort_key("\u9fd0", None) == "\u9fd0"
