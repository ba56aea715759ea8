"""The judged set (检索评测集): queries a reader would type, and which records must come first.

Each entry is (kind, query, first, relevant): ``first`` picks the records
that must come first (grade 2), ``relevant`` those that are also right
answers (grade 1, optional). Judgments are rules over the records' fields,
written by hand, never taken from the engine. The corpus is the generated
demo catalogue, the real CNMARC and MARC21 files in ../shared/data, and
tests/data/search-records.yaml (polyphones, surnames, traditional script,
English titles). docs/search-quality.md explains the measures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy.orm import Session

from catalog.records import Record
from catalog.search.text import fold

DATA = Path(__file__).resolve().parents[1] / "data"
SHARED_FILES = (
    "cnmarc-dp2-sample.xml",
    "marc21-dp2-sample.xml",
    "marc21-eg-jazz_1k.mrc",
    "marc21-eg-lul_fre_500.mrc",
)
Judge = Callable[[Record], bool]


def _f(text: str | None) -> str:
    return fold(text or "").replace(" ", "")


def title_is(text: str) -> Judge:
    return lambda r: _f(r.title) == _f(text)


def title_has(*texts: str) -> Judge:
    return lambda r: all(_f(t) in _f(r.title) for t in texts)


def title_starts(text: str) -> Judge:
    return lambda r: _f(r.title).startswith(_f(text))


def author_is(name: str) -> Judge:
    return lambda r: any(_f(a) == _f(name) for a in r.authors or [])


def anywhere(text: str) -> Judge:
    """The text in the title, names, subjects, series or publisher."""

    def judge(r: Record) -> bool:
        fields = [r.title, r.other_title, r.responsibility, r.series, r.publisher,
                  *(r.authors or []), *(r.subjects or [])]  # fmt: skip
        return any(_f(text) in _f(f) for f in fields if f)

    return judge


def clc_starts(prefix: str) -> Judge:
    return lambda r: (r.clc or "").upper().startswith(prefix.upper())


def isbn_is(isbn13: str) -> Judge:
    return lambda r: r.isbn13 == isbn13


def publisher_is(name: str) -> Judge:
    return lambda r: _f(r.publisher) == _f(name)


def both(a: Judge, b: Judge) -> Judge:
    return lambda r: a(r) and b(r)


JUDGED: list[tuple[str, str, Judge, Judge | None]] = [
    # words (词)
    ("words", "红楼梦", title_is("红楼梦"), title_has("红楼梦")),
    ("words", "西游记", title_is("西游记"), None),
    ("words", "三国演义", title_is("三国演义"), None),
    ("words", "中国发展报告", title_has("中国发展报告"), None),
    ("words", "水稻高产栽培技术", title_is("水稻高产栽培技术"), title_has("水稻", "栽培")),
    ("words", "乡村振兴", title_has("乡村振兴"), anywhere("乡村振兴")),
    ("words", "病虫害防治", title_has("病虫害", "防治"), anywhere("病虫害")),
    ("words", "唐诗", title_has("唐诗"), None),
    ("words", "朝花夕拾", title_is("朝花夕拾"), None),
    ("words", "银行会计", title_has("银行会计"), None),
    ("words", "兵法", title_has("兵法"), None),
    ("words", "长城", title_has("长城"), None),
    ("words", "栽培技术 柑橘", title_has("柑橘", "栽培"), None),
    # names (责任者)
    ("names", "曹雪芹", author_is("曹雪芹"), None),
    ("names", "吴承恩", author_is("吴承恩"), None),
    ("names", "鲁迅", author_is("鲁迅"), None),
    ("names", "马伯庸", author_is("马伯庸"), None),
    ("names", "国家统计局", author_is("国家统计局"), None),
    ("names", "张塞", author_is("张塞"), None),
    ("names", "罗贯中", author_is("罗贯中"), None),
    ("names", "author:曾国藩", author_is("曾国藩"), None),
    ("names", "Fairbank", author_is("Fairbank, John King"), None),
    ("names", "Chick Corea", author_is("Corea, Chick"), None),
    ("names", "季野", author_is("季野"), None),
    # polyphones (多音字)
    ("polyphones", "chongqing", title_has("重庆"), None),
    ("polyphones", "zhongqing", title_has("重庆"), None),
    ("polyphones", "yinhang", title_has("银行"), None),
    ("polyphones", "changan", title_has("长安"), anywhere("长安")),
    ("polyphones", "chang'an", title_has("长安"), anywhere("长安")),
    ("polyphones", "zhaohuaxishi", title_is("朝花夕拾"), None),
    ("polyphones", "chaohuaxishi", title_is("朝花夕拾"), None),
    ("polyphones", "zengguofan", author_is("曾国藩"), None),
    ("polyphones", "shantianfang", author_is("单田芳"), None),
    ("polyphones", "qiuying", author_is("仇英"), None),
    ("polyphones", "zhaliangyong", author_is("查良镛"), None),
    ("polyphones", "yuejia", author_is("乐嘉"), None),
    ("polyphones", "xiejin", author_is("解缙"), None),
    ("polyphones", "qinzhigang", author_is("覃志刚"), None),
    ("polyphones", "chongyang", title_has("重阳"), None),
    ("polyphones", "changjiang sanxia", title_is("长江三峡"), None),
    # pinyin typed run together (连写拼音)
    ("pinyin_joined", "hongloumeng", title_is("红楼梦"), title_has("红楼梦")),
    ("pinyin_joined", "xiyouji", title_is("西游记"), None),
    ("pinyin_joined", "sanguoyanyi", title_is("三国演义"), None),
    ("pinyin_joined", "caoxueqin", author_is("曹雪芹"), None),
    ("pinyin_joined", "luxun", author_is("鲁迅"), None),
    ("pinyin_joined", "zhongguofazhanbaogao", title_has("中国发展报告"), None),
    ("pinyin_joined", "shuidao", title_has("水稻"), anywhere("水稻")),
    ("pinyin_joined", "sunzibingfa", title_is("孙子兵法"), None),
    ("pinyin_joined", "shediaoyingxiongzhuan", title_is("射雕英雄传"), None),
    ("pinyin_joined", "rulinwaishi", title_is("儒林外史"), None),
    # pinyin typed with spaces (分写拼音)
    ("pinyin_spaced", "hong lou meng", title_is("红楼梦"), title_has("红楼梦")),
    ("pinyin_spaced", "xi you ji", title_is("西游记"), None),
    ("pinyin_spaced", "cao xue qin", author_is("曹雪芹"), None),
    ("pinyin_spaced", "zhong guo fa zhan bao gao", title_has("中国发展报告"), None),
    ("pinyin_spaced", "chang an shi er shi chen", title_is("长安十二时辰"), None),
    ("pinyin_spaced", "ru lin wai shi", title_is("儒林外史"), None),
    ("pinyin_spaced", "liao zhai zhi yi", title_is("聊斋志异"), None),
    ("pinyin_spaced", "guojia tongjiju", author_is("国家统计局"), None),
    # initials (首字母)
    ("initials", "hlm", title_is("红楼梦"), title_has("红楼梦")),
    ("initials", "xyj", title_is("西游记"), None),
    ("initials", "sgyy", title_is("三国演义"), None),
    ("initials", "shz", title_is("水浒传"), None),
    ("initials", "zhxs", title_is("朝花夕拾"), None),
    ("initials", "cqtpjs", title_is("重庆谈判纪实"), None),
    ("initials", "szbf", title_is("孙子兵法"), None),
    ("initials", "zgfzbg", title_has("中国发展报告"), None),
    # mixed Han and Latin (混合输入)
    ("mixed", "红lm", title_is("红楼梦"), title_has("红楼梦")),
    ("mixed", "刘dh", author_is("刘德华"), None),
    ("mixed", "liude华", author_is("刘德华"), None),
    ("mixed", "曹xq", author_is("曹雪芹"), None),
    ("mixed", "python编程", title_has("python", "编程"), None),
    ("mixed", "xi游记", title_is("西游记"), None),
    ("mixed", "hong楼梦", title_is("红楼梦"), title_has("红楼梦")),
    ("mixed", "长安sesc", title_is("长安十二时辰"), None),
    # traditional script (繁体)
    ("traditional", "紅樓夢", title_is("红楼梦"), title_has("红楼梦")),
    ("traditional", "西遊記", title_is("西游记"), None),
    ("traditional", "三國演義", title_is("三国演义"), None),
    ("traditional", "國家統計局", author_is("国家统计局"), None),
    ("traditional", "長安十二時辰", title_is("长安十二时辰"), None),
    ("traditional", "曾國藩家書", title_is("曾国藩家书"), None),
    ("traditional", "羅貫中", author_is("罗贯中"), None),
    ("traditional", "孫子兵法", title_is("孙子兵法"), None),
    # one and two characters (单字、双字)
    ("short", "梨", title_has("梨"), anywhere("梨")),
    ("short", "鹅", title_has("鹅"), anywhere("鹅")),
    ("short", "茶", title_has("茶"), anywhere("茶")),
    ("short", "诗", title_has("诗"), anywhere("诗")),
    ("short", "水稻", title_has("水稻"), anywhere("水稻")),
    ("short", "长安", title_has("长安"), anywhere("长安")),
    ("short", "重庆", title_has("重庆"), anywhere("重庆")),
    ("short", "红楼", title_has("红楼"), None),
    ("short", "鲁迅", author_is("鲁迅"), None),
    ("short", "呐喊", title_is("呐喊"), None),
    # ISBN, with and without hyphens, 10 and 13 digits
    ("isbn", "7-5037-1744-0", isbn_is("9787503717444"), None),
    ("isbn", "7503717440", isbn_is("9787503717444"), None),
    ("isbn", "9787503717444", isbn_is("9787503717444"), None),
    ("isbn", "978-7-5037-1744-4", isbn_is("9787503717444"), None),
    ("isbn", "9787020090440", isbn_is("9787020090440"), None),
    ("isbn", "978-7-115-56018-6", isbn_is("9787115560186"), None),
    ("isbn", "isbn:7-5037-2790-X", isbn_is("9787503727900"), None),
    ("isbn", "7-5639-1624-5", isbn_is("9787563916245"), None),
    # Chinese Library Classification (中图法), by prefix
    ("clc", "F124", clc_starts("F124"), None),
    ("clc", "I242", clc_starts("I242"), None),
    ("clc", "I242.47", clc_starts("I242.47"), None),
    ("clc", "TP311", clc_starts("TP311"), None),
    ("clc", "clc:S511", clc_starts("S511"), None),
    ("clc", "D668", clc_starts("D668"), None),
    ("clc", "K928", clc_starts("K928"), None),
    ("clc", "E892", clc_starts("E892"), None),
    # English words that could be read as initials or pinyin
    ("english", "china", title_has("china"), anywhere("china")),
    ("english", "python", title_has("python"), None),
    ("english", "cute", title_is("cute"), None),
    ("english", "song for laura", title_is("song for laura"), None),
    ("english", "the long walk", title_is("the long walk"), None),
    ("english", "art of war", title_is("the art of war"), None),
    ("english", "jazz history", title_is("jazz, a history"), None),
    ("english", "napoleon", title_has("napoleon"), anywhere("napoleon")),
    ("english", "chinese cooking", title_is("chinese cooking made easy"), None),
    ("english", "reflections", title_is("reflections"), None),
    # misspelt Latin titles (拼写错误)
    ("misspelt", "pyhton crash course", title_is("python crash course"), None),
    ("misspelt", "lerning python", title_is("learning python"), None),
    ("misspelt", "chinese cookng", title_is("chinese cooking made easy"), None),
    ("misspelt", "nightingle berkley square", title_has("nightingale", "berkeley"), None),
    ("misspelt", "breker brothers", title_is("the brecker brothers"), None),
    ("misspelt", "lady is a tranp", title_is("the lady is a tramp"), None),
    (
        "misspelt",
        "histroy of chinese civilisation",
        title_is("a history of chinese civilization"),
        None,
    ),
    ("misspelt", "memoires du comte de parroy", title_is("mémoires du comte de paroy"), None),
    # fields and phrases (字段与短语)
    ("fields", "title:红楼梦", title_is("红楼梦"), title_has("红楼梦")),
    ("fields", "author:曹雪芹 红楼梦", both(author_is("曹雪芹"), title_is("红楼梦")), None),
    ("fields", "publisher:中国统计出版社", publisher_is("中国统计出版社"), None),
    ("fields", "subject:经济发展", anywhere("经济发展"), None),
    ("fields", '"中国发展报告"', title_has("中国发展报告"), None),
    ("fields", 'title:"crash course"', title_is("python crash course"), None),
]


def vernacular_is(text: str) -> Judge:
    """A Library of Congress record whose Han title proper (880 linked to 245, before any
    subtitle) is ``text``."""
    from catalog.search.document import linked_script

    return lambda r: any(_f(t.split(" : ")[0]) == _f(text) for t in linked_script(r)["t"][:1])


def vernacular_author(name: str) -> Judge:
    from catalog.search.document import linked_script

    return lambda r: any(_f(name) in _f(n) for n in linked_script(r)["n"])


# Over the Chinese-language Library of Congress records (Han script in 880
# fields, often traditional; the 245 is romanized pinyin). Run by
# scripts/bench/search.py quality-loc, not in the test suite (docs/search-quality.md).
LOC_JUDGED: list[tuple[str, str, Judge, Judge | None]] = [
    ("words", "郭沫若日记", vernacular_is("郭沫若日记"), None),
    ("words", "中国古都和文化", vernacular_is("中国古都和文化"), None),
    ("words", "明清律典与条例", vernacular_is("明清律典与条例"), None),
    ("words", "省港大罢工史", vernacular_is("省港大罷工史"), None),
    ("traditional", "纪晓岚文集", vernacular_is("紀曉嵐文集"), None),
    ("traditional", "台湾原住民族的历史源流", vernacular_is("台灣原住民族的歷史源流"), None),
    ("traditional", "澳門社會問題", vernacular_is("澳門社會問題"), None),
    ("traditional", "八年抗战之山东", vernacular_is("八年抗戰之山東"), None),
    ("names", "迟子建", vernacular_author("迟子建"), None),
    ("names", "史念海", vernacular_author("史念海"), None),
    ("names", "曹书杰", vernacular_author("曹书杰"), None),
    ("names", "钱济鄂", vernacular_author("錢濟鄂"), None),
    ("pinyin_joined", "guomoruoriji", vernacular_is("郭沫若日记"), None),
    ("pinyin_joined", "jixiaolanwenji", vernacular_is("紀曉嵐文集"), None),
    ("pinyin_joined", "baiyinna", vernacular_is("白银那"), None),
    ("pinyin_joined", "chizijian", vernacular_author("迟子建"), None),
    ("pinyin_spaced", "luoyang shi cai zheng zhi", vernacular_is("洛阳市财政志"), None),
    ("pinyin_spaced", "tianshui shi zhi", vernacular_is("天水市志"), None),
    ("pinyin_spaced", "jiu si yi sheng", vernacular_is("九死一生"), None),
    ("pinyin_spaced", "zhongguo si chou ji xie", vernacular_is("中国丝绸机械"), None),
    ("polyphones", "chenshizeng", vernacular_is("陳師曾畫銅"), None),
    ("polyphones", "shuangyingcelue", vernacular_is("雙嬴策略"), None),
    ("polyphones", "yufayanjiurumen", vernacular_is("语法硏究入门"), None),
    ("initials", "gmrrj", vernacular_is("郭沫若日记"), None),
    ("initials", "tssz", vernacular_is("天水市志"), None),
    ("initials", "zggdyss", vernacular_is("中国古代印刷史"), None),
    ("mixed", "邓xp警卫", vernacular_is("邓小平和他的贴身警卫"), None),
    ("mixed", "郭mr日记", vernacular_is("郭沫若日记"), None),
    ("short", "九死一生", vernacular_is("九死一生"), None),
    ("short", "白银那", vernacular_is("白银那"), None),
]


@dataclass
class Scores:
    success_at_1: float
    success_at_10: float
    precision_at_5: float
    ndcg_at_10: float
    queries: int


def load_supplement(session: Session) -> None:
    """Our own records (tests/data/search-records.yaml)."""
    rows = yaml.safe_load((DATA / "search-records.yaml").read_text(encoding="utf-8"))
    for row in rows:
        from catalog.isbn import first_isbn13

        isbns = row.get("isbns", [])
        session.add(Record(language=row.get("language", "chi"), isbn13=first_isbn13(isbns)[0],
                           **{k: v for k, v in row.items() if k != "language"}))  # fmt: skip
    session.commit()


def grades(records: list[Record], judged: list | None = None) -> dict[str, dict[int, int]]:
    """For each judged query, record id -> grade (2 must come first, 1 also right)."""
    out: dict[str, dict[int, int]] = {}
    for _kind, q, first, relevant in judged if judged is not None else JUDGED:
        judged = {}
        for r in records:
            if first(r):
                judged[r.id] = 2
            elif relevant is not None and relevant(r):
                judged[r.id] = 1
        out[q] = judged
    return out


def _dcg(gains: list[int]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def score_query(ranked: list[int], judged: dict[int, int]) -> tuple[float, float, float, float]:
    gains = [judged.get(i, 0) for i in ranked[:10]]
    ideal = sorted(judged.values(), reverse=True)[:10]
    s1 = 1.0 if gains[:1] == [2] else 0.0
    s10 = 1.0 if 2 in gains else 0.0
    p5 = sum(1 for g in gains[:5] if g > 0) / 5
    ndcg = _dcg(gains) / _dcg(ideal) if ideal else 0.0
    return s1, s10, p5, ndcg


def evaluate(
    run: Callable[[str], list[int]], judged: dict[str, dict[int, int]], queries: list | None = None
) -> dict[str, Scores]:
    """Per kind: success@1, success@10, precision@5 and nDCG@10, averaged over its queries."""
    sums: dict[str, list[float]] = {}
    for kind, q, _first, _relevant in queries if queries is not None else JUDGED:
        s = score_query(run(q), judged[q])
        acc = sums.setdefault(kind, [0.0, 0.0, 0.0, 0.0, 0.0])
        for i, v in enumerate(s):
            acc[i] += v
        acc[4] += 1
    return {
        kind: Scores(*(round(v / acc[4], 4) for v in acc[:4]), queries=int(acc[4]))
        for kind, acc in sums.items()
    }
