"""A deterministic demo network: the fictional 清溪县 library network, its catalogue and readers.

Pure and stdlib-only (random.Random(seed), no database, no Flask), so that the demo loader,
tests and screenshots all see the same network for a seed. The word lists below are our own:
the project ships no third-party data. Names of places and people are made up; publishers are
real publishers with their cities, because a catalogue without them looks wrong to librarians.

The county's region code is borrowed from a real county (430321), because resident ID numbers
must validate against the national table of region codes (stdnum.cn.ric checks it); township
and village codes under it are invented in the national pattern (镇 1xx, 乡 2xx, 村 2xx).

Rules the figures need (see docs/network.md): a point's population is the residents it serves
directly, not its subtree's; the bookmobile serves residents already counted at other points,
so its population is 0. Copies are spread so that some villages and branches reach the 0.8
holdings-per-capita target and some do not, and some village bookshops meet the 1,500-volume /
500-title 农家书屋 baseline and some do not.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
import math
import random
import re
from collections import Counter
from dataclasses import dataclass

__all__ = [
    "BASELINE_TITLES",
    "BASELINE_VOLUMES",
    "CATEGORIES",
    "COUNTY_REGION",
    "ITEM_TYPES",
    "KINDS",
    "LAST_ADDED",
    "PER_CAPITA_TARGET",
    "REFERENCE_DATE",
    "DemoCopy",
    "DemoNetwork",
    "DemoPatron",
    "DemoPoint",
    "DemoRecord",
    "generate_demo",
]

KINDS = (
    "central",
    "branch",
    "village_bookshop",
    "worksite_reading_room",
    "bookmobile",
    "community",
    "school",
    "other",
)
ITEM_TYPES = ("book", "children", "reference", "periodical")
CATEGORIES = ("adult", "child", "senior", "student", "staff")

REFERENCE_DATE = dt.date(2026, 11, 21)  # "today" of the demo: cards expire 1-5 years after it
LAST_ADDED = dt.date(2026, 10, 31)  # copies were added over the six years up to this day
FIRST_ADDED = dt.date(2020, 11, 1)
PER_CAPITA_TARGET = 0.8
BASELINE_VOLUMES = 1500
BASELINE_TITLES = 500

COUNTY_NAME = "清溪县"
COUNTY_CODE = "QX"
COUNTY_REGION = "430321"
COUNTY_SEAT = "城关镇"
COUNTY_SEAT_REGION = COUNTY_REGION + "100"

RECORDS_AT_SCALE_1 = 3000
PATRONS_AT_SCALE_1 = 2000
MAX_COPIES_AT_SCALE_1 = 78_000
BARCODE_LEAD = "1"  # copy barcodes and patron cards differ in the first digit, as on the labels
CARD_LEAD = "2"


@dataclass(frozen=True)
class DemoPoint:
    code: str
    name: str
    kind: str
    parent: str | None
    region: str
    population: int
    address: str
    opening_days: str  # ISO weekday digits, e.g. "23456"


@dataclass(frozen=True)
class DemoRecord:
    title: str
    authors: tuple[str, ...]
    publisher: str
    pub_place: str
    pub_year: str
    isbn13: str
    clc: str
    language: str
    subjects: tuple[str, ...]
    price: str  # e.g. "CNY36.00"


@dataclass(frozen=True)
class DemoCopy:
    barcode: str
    record: int  # index into DemoNetwork.records
    home: str
    call_number: str
    item_type: str
    price: str
    date_added: dt.date


@dataclass(frozen=True)
class DemoPatron:
    card: str
    name: str
    category: str
    home: str
    pin: str
    id_number: str
    phone: str
    expires: dt.date


@dataclass(frozen=True)
class DemoNetwork:
    points: tuple[DemoPoint, ...]
    records: tuple[DemoRecord, ...]
    copies: tuple[DemoCopy, ...]
    patrons: tuple[DemoPatron, ...]


# ---------------------------------------------------------------------------------------------
# Word lists (our own)


def _split(text: str) -> tuple[str, ...]:
    """Space-separated words: keeps the long word lists readable."""
    return tuple(text.split()) if text else ()


_SURNAMES = (
    *"王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方邹熊白孟秦邱侯江尹薛段雷龙黎史陶贺顾毛郝"
    "龚邵万覃武钱戴严莫孔向常汤",
    *("欧阳", "司马", "诸葛", "上官"),
)
_SURNAME_WEIGHTS = tuple(1.0 / (i + 6) for i in range(len(_SURNAMES)))

# Given-name characters by generation (born before 1965, 1965-1999, from 2000) and sex.
_GIVEN = {
    ("old", "m"): "建国志德振永福明华强军平林海文成富贵学忠兴春祥荣保树发长",
    ("old", "f"): "秀英兰桂珍凤芳玉梅淑琴华云翠香娥春红丽霞金菊",
    ("mid", "m"): "伟涛勇磊鹏杰斌超军波辉刚健峰亮俊明强林东宁飞洪晓文剑",
    ("mid", "f"): "丽静敏燕艳娟霞玲婷琳雪慧洁红萍倩颖蕾晓梅芳莉",
    ("new", "m"): "子浩宇轩梓睿博俊泽一辰航铭皓然杰涵晨逸昊阳文翔煜",
    ("new", "f"): "梓涵欣怡萱雨可诗语思子嘉佳彤琪悦晨若汐妍馨一依沫",
}

_TOWN_FIRST = "白石青柳桃梅金龙凤云杨黄新大高马东西南北双三平安长永太花竹松横枫岩兴乐河沙麻"
_TOWN_SECOND = "沙桥溪河田坪山岭口塘湾铺坝源江林港庄冲埠市渡集关洲岗滩阳峰泉"
_VILLAGE_FIRST = "上下中前后老新王李张刘陈杨何周枣杏梨茶桑樟槐柏麦禾稻荷莲鹤雁鹿牛羊石水岩泉竹"
_VILLAGE_SECOND = "家庄湾坪岭冲塘坝桥岗屋院田山坡沟峪园铺垄寨洞湖溪里堡"
_STREETS = _split(
    "人民路 文化路 解放街 新华街 建设路 中山路 滨河路 和平街 团结路 朝阳路 正街 老街 光明路 府前路"
)
_COMMUNITIES = ("文昌", "东门", "南苑", "滨河", "北街", "新城", "西湖", "学府")
_PROJECTS = (
    ("{town}至{other}公路改建工程", "公路改建工程项目部"),
    ("{town}水库除险加固工程", "水库除险加固工程项目部"),
    ("{town}安置小区建设项目", "安置小区项目部"),
    ("{town}高标准农田建设项目", "高标准农田项目部"),
    ("{town}污水处理厂建设项目", "污水处理厂项目部"),
)

# Slots for title patterns: {name} in a pattern takes one of these.
_SLOTS: dict[str, tuple[str, ...]] = {
    "place": _split(
        "青河 柳湾 石门 桃源 北坡 南山 大河 小镇 江城 白鹭洲 杏花村 苦竹岭 "
        "月亮湾 黄土坡 松林坪 芦花荡 老街 云岭"
    ),
    "noun": _split(
        "麦田 炊烟 渡口 老屋 灯火 月光 河流 村庄 故乡 山路 稻香 岁月 星辰 春风 秋水 雪夜 长河 "
        "归途 青春 人间 大地 乡音 远方 晨光 草木 风雨 庭院 土地 粮仓 石磨 梧桐 槐花 马灯 船歌 "
        "父亲 母亲 少年 姐妹 兄弟 山河 灯塔 老树 飞鸟"
    ),
    "season": _split("春天 夏天 秋天 冬天 春夜 秋日 雨季 黄昏 清晨 立夏 白露 腊月"),
    "animal": _split(
        "小熊 小兔 小狐狸 小猫 小狗 小鸭 小刺猬 小松鼠 小象 小企鹅 小蜗牛 长颈鹿 小老鼠"
    ),
    "action": _split("去旅行 找妈妈 学飞翔 过生日 上学了 种月亮 搬新家 交朋友 的秘密 的雨伞"),
    "thing": _split("风筝 南瓜 纽扣 月亮 星星 彩虹 雨伞 木屋 书包 铅笔 气球 蜡笔 灯笼"),
    "n": ("50", "66", "100", "101", "120", "150", "200", "300", "365", "500"),
    "cn": ("十", "十二", "十五", "二十", "三十"),
    "region": ("江南", "西南", "西北", "东北", "华南", "湖湘", "川渝", "岭南"),
    "grade": ("一年级", "二年级", "三年级", "四年级", "五年级", "六年级"),
    "dish": ("湘味", "川味", "粤式", "农家", "素食", "凉拌", "快手"),
}
_SLOT_RE = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class _Topic:
    """One kind of book: a CLC number, title patterns, subject headings, item type."""

    clc: str
    titles: tuple[str, ...]
    subjects: tuple[str, ...]
    kind: str = "book"
    authors: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()
    weight: float = 1.0  # times min(4, number of patterns): topics with more titles come up more
    since: int = 1995  # no 直播带货 book from 2003


def _t(
    clc: str,
    titles: str,
    subjects: str,
    kind: str = "book",
    pubs: str = "",
    weight: float = 1.0,
    since: int = 1995,
    authors: tuple[str, ...] = (),
) -> _Topic:
    """Compact topic constructor: titles and subjects are '|'-separated."""
    parts = tuple(titles.split("|"))
    return _Topic(
        clc, parts, tuple(subjects.split("|")), kind, authors, _split(pubs), weight, since
    )


_CROPS = (
    ("水稻", "S511", "S435.11"),
    ("小麦", "S512.1", "S435.12"),
    ("玉米", "S513", "S435.13"),
    ("大豆", "S565.1", "S435.651"),
    ("油菜", "S565.4", "S435.654"),
    ("花生", "S565.2", "S435.652"),
    ("马铃薯", "S532", "S435.32"),
    ("甘薯", "S531", "S435.31"),
    ("茶树", "S571.1", "S435.711"),
    ("柑橘", "S666", "S436.66"),
    ("脐橙", "S666.4", "S436.66"),
    ("梨", "S661.2", "S436.612"),
    ("桃", "S662.1", "S436.621"),
    ("葡萄", "S663.1", "S436.631"),
    ("猕猴桃", "S663.4", "S436.634"),
    ("草莓", "S668.4", "S436.68"),
    ("西瓜", "S651", "S436.5"),
    ("番茄", "S641.2", "S436.412"),
    ("辣椒", "S641.3", "S436.413"),
    ("黄瓜", "S642.2", "S436.421"),
    ("大白菜", "S634.1", "S436.341"),
    ("食用菌", "S646", "S436.46"),
    ("中药材", "S567", "S435.67"),
)
_GROW = "{c}高产栽培技术|{c}优质高效栽培|图说{c}栽培|{c}标准化生产技术问答|{c}种植致富一本通"
_GROW += "|现代{c}生产技术|{c}栽培关键技术|{c}科学施肥与管理"
_PESTS = "{c}病虫害识别与防治|{c}病虫害绿色防控图谱|{c}常见病虫害诊治|原色{c}病虫害图鉴"
_ANIMALS = (
    ("生猪", "S828", "S858.28"),
    ("肉牛", "S823.9", "S858.23"),
    ("山羊", "S827", "S858.27"),
    ("蛋鸡", "S831.4", "S858.31"),
    ("土鸡", "S831", "S858.31"),
    ("肉鸭", "S834", "S858.32"),
    ("鹅", "S835", "S858.33"),
    ("肉兔", "S829.1", "S858.291"),
    ("蜜蜂", "S894", "S895"),
    ("淡水鱼", "S965.1", "S942"),
    ("小龙虾", "S966.12", "S945.4"),
    ("黄鳝", "S966.4", "S943"),
)
_RAISE = "{a}健康养殖技术|{a}高效养殖实用技术|{a}规模化养殖技术问答|图说{a}养殖|{a}饲养管理一本通"
_RAISE += "|{a}养殖致富指南"
_SICK = "{a}常见病防治|{a}疫病诊断与防控|{a}病害防治{n}问"
_DISEASES = (
    ("高血压", "R544.1"),
    ("糖尿病", "R587.1"),
    ("冠心病", "R541.4"),
    ("颈椎病", "R681.5"),
    ("腰椎间盘突出症", "R681.53"),
    ("脑卒中", "R743.3"),
    ("痛风", "R589.7"),
    ("慢性胃炎", "R573.3"),
    ("骨质疏松症", "R681"),
    ("失眠", "R749.7"),
)
_ILL = "{d}防治{n}问|{d}患者饮食宜忌|专家解答{d}|{d}居家调养|图解{d}预防与康复|{d}用药指南"
_DYNASTIES = (
    ("先秦", "K220.7"),
    ("秦汉", "K232"),
    ("三国", "K236"),
    ("唐朝", "K242"),
    ("宋朝", "K244"),
    ("元朝", "K247"),
    ("明朝", "K248"),
    ("清朝", "K249"),
)
_HISTORY = "话说{y}|{y}风云|细说{y}|{y}人物志|{y}人的日常生活|一本书读懂{y}"
_CLASSICS = (
    ("红楼梦", ("曹雪芹", "高鹗"), "I242.47", "章回小说-中国-清代"),
    ("西游记", ("吴承恩",), "I242.4", "章回小说-中国-明代"),
    ("水浒传", ("施耐庵",), "I242.4", "章回小说-中国-明代"),
    ("三国演义", ("罗贯中",), "I242.4", "章回小说-中国-明代"),
    ("儒林外史", ("吴敬梓",), "I242.4", "章回小说-中国-清代"),
    ("聊斋志异", ("蒲松龄",), "I242.1", "笔记小说-中国-清代"),
)
_MAGAZINES = (
    ("田园科技", "S-55"),
    ("农家致富", "F3-55"),
    ("乡村医生", "R-55"),
    ("故事天地", "I-55"),
    ("种植与养殖", "S-55"),
    ("健康生活", "R-55"),
    ("法治乡村", "D-55"),
    ("少年文艺园地", "I-55"),
)


_ED = (f"{COUNTY_NAME}地方志编纂委员会",)


def _build_topics() -> dict[str, tuple[_Topic, ...]]:
    """Topics grouped by the reader interest they serve (mostly one CLC class each)."""
    s = [_t(g, _GROW.replace("{c}", c), f"{c}-栽培技术") for c, g, _ in _CROPS]
    s += [_t(p, _PESTS.replace("{c}", c), f"{c}-病虫害防治") for c, _, p in _CROPS]
    s += [_t(g, _RAISE.replace("{a}", a), f"{a}-饲养管理") for a, g, _ in _ANIMALS]
    s += [_t(p, _SICK.replace("{a}", a), f"{a}-动物疾病-防治") for a, _, p in _ANIMALS]
    s += [
        _t("S-44", "农村实用技术{n}问|农业实用技术手册", "农业技术-问题解答"),
        _t("S-44", "新型职业农民培训读本|高素质农民培训教材", "农民教育-教材", since=2012),
        _t("S48", "农药安全使用手册|农药科学使用{n}问", "农药施用-安全技术"),
        _t("S147.2", "测土配方施肥技术|科学施肥{n}问", "施肥-配方"),
        _t("S626", "设施蔬菜栽培技术|大棚蔬菜种植技术问答", "蔬菜园艺-设施农业"),
        _t("S964", "稻渔综合种养技术|稻田养鱼养虾技术", "稻田养鱼"),
        _t("S16", "农业气象与防灾减灾|二十四节气与农事", "农业气象"),
        _t("S22", "农业机械使用与维修|拖拉机驾驶与维修", "农业机械-使用方法"),
        _t("S727.3", "林下经济实用技术|经济林栽培技术", "经济林-栽培技术"),
        _t("S68", "家庭养花{n}问|盆景与花卉养护", "花卉-观赏园艺"),
    ]
    novel = "长篇小说-中国-当代"
    lit = [
        _t(
            "I247.5",
            "{place}的{season}|远去的{noun}|最后的{noun}|{noun}与{noun}|风过{place}|{place}往事"
            "|{place}人家|回到{place}|{noun}深处|{season}的{noun}|走出{place}|{place}纪事"
            "|我的{noun}|{noun}",
            novel,
            weight=3.0,
        ),
        _t(
            "I247.7",
            "{noun}：短篇小说集|{place}故事|{season}里的{noun}",
            "短篇小说-小说集-中国-当代",
        ),
        _t("I227", "{noun}之歌|写给{noun}的诗|{season}诗笺|{noun}集", "诗集-中国-当代"),
        _t(
            "I267",
            "{noun}散记|{place}笔记|{season}的{noun}|行走{place}|{noun}絮语|那些{noun}",
            "散文集-中国-当代",
        ),
        _t(
            "I253",
            "{place}脱贫记|{noun}：乡村振兴纪实|大山里的{noun}",
            "报告文学-中国-当代",
            since=2016,
        ),
        _t("I207.22", "唐诗名篇赏析|宋词{n}首|古诗词里的{noun}", "古典诗歌-诗歌欣赏-中国"),
    ]
    lit += [
        _t(clc, title, subject, pubs="rw zh yls", weight=0.3, authors=authors)
        for title, authors, clc, subject in _CLASSICS
    ]
    kids = [
        _t(
            "I287.5",
            "{animal}{action}|勇敢的{animal}|我的{thing}朋友|{thing}里的{animal}",
            "儿童小说-中国-当代",
            "children",
        ),
        _t(
            "I287.7",
            "会飞的{thing}|{animal}和{thing}|{animal}{action}",
            "童话-中国-当代",
            "children",
        ),
        _t("I287.8", "{animal}{action}|{thing}去哪儿了", "图画故事-中国-当代", "children"),
        _t("Z228.1", "少儿百科全书|儿童科学{n}问|奇妙的{thing}", "科学知识-儿童读物", "children"),
        _t(
            "G624.24",
            "小学生{grade}作文|小学生优秀作文{n}篇",
            "作文课-小学-教学参考资料",
            "children",
        ),
        _t("H136.31", "成语故事|成语接龙{n}则", "汉语-成语-儿童读物", "children"),
    ]
    return {
        "S": tuple(s),
        "I": tuple(lit),
        "children": tuple(kids),
        "R": (
            *(_t(c, _ILL.replace("{d}", d), f"{d}-防治") for d, c in _DISEASES),
            _t("R161", "中老年养生{cn}讲|{season}养生指南|养生从吃开始", "保健-基本知识"),
            _t("R247.1", "家常食疗{n}方|药膳食疗大全|对症食疗{n}例", "食物疗法"),
            _t("R244.1", "图解经络按摩|家庭按摩{n}法|足部反射区按摩", "按摩疗法（中医）"),
            _t("R459.7", "家庭急救常识|急救{n}招|意外伤害现场急救", "急救-基本知识"),
            _t("R174", "科学育儿百科|0-3岁宝宝养育指南|儿童常见病家庭护理", "婴幼儿-哺育"),
            _t("R151.4", "膳食营养与健康|吃出健康来", "膳食营养"),
            _t("R749", "老年人心理健康|心理健康{cn}讲", "心理健康-基本知识"),
            _t("R282.71", "常用中草药识别与应用|本草图鉴", "中草药-图集"),
        ),
        "K": (
            *(_t(c, _HISTORY.replace("{y}", y), f"中国历史-{y}-通俗读物") for y, c in _DYNASTIES),
            _t("K204", "中国通史{cn}讲|简明中国历史|中华文明五千年", "中国历史-通俗读物"),
            _t("K820.7", "{name}传|{place}英模故事", "人物-生平事迹-中国"),
            _t("K928.9", "中国自驾游地图集|{region}旅游指南", "旅游指南-中国"),
            _t("K892", "乡村民俗{cn}谈|中国传统节日|民间礼俗", "风俗习惯-中国"),
            _t(
                "K296.44",
                "{county}志|{county}文史资料",
                "地方史-史料",
                "book",
                "fz hnr",
                authors=_ED,
            ),
            _t("Z52", "{county}年鉴（{year}）", "年鉴-地方", "reference", "fz hnr", authors=_ED),
        ),
        "G": (
            _t("G78", "家庭教育{cn}讲|陪孩子走过青春期|如何与孩子沟通|隔代教育指南", "家庭教育"),
            _t("G634.34", "中学生满分作文|中学生作文{n}篇", "作文课-初中-教学参考资料"),
            _t("G252.17", "阅读的力量|读书的方法|为什么要读书", "读书方法"),
            _t("G852.11", "太极拳入门|二十四式太极拳图解", "太极拳-基本知识"),
            _t("G127.64", "{county}非物质文化遗产|湖湘文化{cn}讲", "文化史-地方"),
            _t("G258.23", "农家书屋管理与服务|基层图书馆工作手册", "农村图书馆-图书馆工作"),
        ),
        "TS": (
            _t("TS972.12", "家常菜{n}例|下饭家常菜|一学就会的家常菜|{dish}家常菜", "菜谱"),
            _t("TS972.14", "{region}风味小吃|农家小吃制作", "风味小吃-制作"),
            _t("TS972.132", "家庭面点制作|馒头包子饺子", "面食-制作"),
            _t("TS935.52", "毛衣编织{n}款|钩针编织入门", "毛衣-编织"),
            _t("TS941.63", "服装裁剪与缝制|家庭缝纫入门", "服装量裁"),
            _t("TS255.3", "果蔬贮藏保鲜技术|农产品加工实用技术", "果蔬加工"),
        ),
        "F": (
            _t("F321.42", "农民专业合作社运营指南|合作社规范化建设{cn}讲", "农业合作社-中国"),
            _t("F724.6", "农村电商实操指南|手把手教你开网店", "电子商务", since=2012),
            _t("F713.365.2", "直播带货入门|短视频营销实战", "网络营销", since=2019),
            _t("F830.59", "家庭理财{cn}课|理财从零开始", "家庭管理-财务管理"),
            _t("F592.3", "乡村旅游经营与管理|农家乐经营指南", "乡村旅游"),
            _t(
                "F320.3",
                "乡村振兴{n}问|乡村振兴战略读本|美丽乡村建设",
                "农村经济发展-中国",
                since=2018,
            ),
            _t("F324.1", "家庭农场经营管理", "家庭农场-经营管理"),
            _t("F124", "读懂中国经济|中国经济发展{cn}讲", "经济发展-中国"),
            _t("F272", "小微企业管理实务|创业从这里开始", "企业管理"),
        ),
        "D": (
            _t("D920.5", "农民法律{n}问|法律常识一本通|以案说法", "法律-基本知识-中国"),
            _t("D923", "民法典与百姓生活|民法典{n}问", "民法-法典-中国", since=2020),
            _t("D922.5", "农民工维权指南|劳动合同法律问答", "劳动法-中国"),
            _t("D922.3", "农村土地承包法律问答", "土地法-中国"),
            _t("D638", "村民自治实务", "村民自治-中国"),
            _t("D669.6", "农村养老保障政策问答", "养老-社会保障-中国"),
            _t("D267", "基层党组织工作手册", "党的基层组织-工作"),
        ),
        "TP": (
            _t(
                "TP317.1",
                "Office办公软件{n}例|Excel表格入门与提高|Word排版技巧",
                "办公自动化-应用软件",
            ),
            _t("TP311.561", "Python编程入门|零基础学Python", "软件工具-程序设计", since=2012),
            _t("TP393.4", "老年人学上网|互联网+农业", "互联网络-基本知识", since=2015),
            _t("TP18", "人工智能通识|走近人工智能", "人工智能-普及读物", since=2016),
            _t(
                "TN929.53",
                "智能手机使用{n}问|中老年人玩转智能手机",
                "移动电话机-基本知识",
                since=2012,
            ),
            _t("TU241.4", "新农村住宅设计图集|农村自建房施工指南", "农村住宅-建筑设计"),
            _t("TM05", "农村电工实用技术|家庭电路安装与维修", "电工技术"),
        ),
        "Z": (
            _t("Z228", "生活常识{n}问|百姓生活小窍门", "常识课-普及读物"),
            _t("Z227", "简明百科全书|家庭实用百科", "百科全书-中国", "reference"),
        ),
        "J": (
            _t("J292.11", "楷书入门|毛笔字基础教程|硬笔书法练习", "汉字-书法"),
            _t("J212", "国画山水技法|写意花鸟画入门", "中国画-绘画技法"),
            _t("J642.2", "经典老歌{n}首|红色歌曲{n}首", "歌曲-中国-选集", pubs="yy hnw"),
            _t("J722.2", "广场舞{n}支|健身舞蹈入门", "舞蹈-中国", pubs="yy"),
            _t("J41", "手机摄影入门|摄影构图{cn}讲", "摄影技术"),
        ),
        "B": (
            _t("B821", "人生{cn}课|做一个快乐的人", "人生哲学-通俗读物"),
            _t("B842.6", "情绪管理{cn}讲", "情绪-自我控制"),
            _t("B222.2", "论语通读|论语今译", "儒家-《论语》-注释"),
            _t("B223.1", "老子今译|道德经通解", "道家-《道德经》-注释"),
        ),
        "H": (
            _t("H12", "汉字的故事|说文解字{cn}讲", "汉字-通俗读物"),
            _t("H136.31", "新编成语词典|常用成语词典", "汉语-成语-词典", "reference"),
            _t("H163", "学生实用字典|新编汉语字典", "汉语-字典", "reference"),
            _t("H319.9", "英语口语{n}句|零起点学英语", "英语-口语"),
            _t("H102", "普通话水平测试指导", "普通话-水平考试"),
        ),
        "E": (
            _t("E22", "国防知识读本|全民国防教育{n}问", "国防教育-中国"),
            _t("E92", "兵器知识{n}问|世界兵器图鉴", "武器-普及读物"),
        ),
        "N": (_t("N49", "身边的科学|科学{n}问|科学的{noun}", "科学知识-普及读物"),),
        "O": (
            _t("O1-49", "趣味数学{n}题|数学的故事", "数学-普及读物"),
            _t("O4-49", "生活中的物理|物理的故事", "物理学-普及读物"),
            _t("O6-49", "身边的化学", "化学-普及读物"),
        ),
        "P": (
            _t("P44", "看云识天气|气象灾害防御知识", "气象学-普及读物"),
            _t("P315.9", "地震知识{n}问|防震减灾手册", "防震-普及读物"),
            _t("P1-49", "星空漫游|宇宙的奥秘", "天文学-普及读物"),
        ),
        "Q": (
            _t("Q959.7", "身边的鸟类|常见鸟类识别", "鸟类-普及读物"),
            _t("Q949", "野外植物识别手册|常见野生植物图鉴", "植物-识别"),
        ),
        "U": (
            _t("U471", "汽车驾驶与保养|新手开车{n}问", "汽车驾驶"),
            _t("U491", "农村交通安全知识|道路交通安全读本", "交通安全教育"),
            _t("U483", "电动自行车维修|摩托车维修入门", "电动自行车-维修"),
        ),
        "V": (_t("V4", "飞向太空|中国航天的故事", "航天-普及读物"),),
        "X": (
            _t("X799.3", "农村生活垃圾分类|垃圾分类{n}问", "垃圾处理-普及读物", since=2017),
            _t("X71", "农业面源污染防治", "农业污染-污染防治"),
            _t("X4", "防灾减灾知识读本|自然灾害自救互救", "灾害防治-普及读物"),
        ),
        "A": (_t("A81", "马克思主义基本原理通俗读本|《共产党宣言》导读", "马克思主义-通俗读物"),),
        "C": (
            _t("C912.82", "乡村社会{cn}讲|农村社会工作实务", "农村社会学"),
            _t("C93", "管理学{cn}课|基层管理实务", "管理学"),
            _t("C8", "统计基础知识", "统计学"),
        ),
        "periodical": tuple(
            _t(
                clc,
                name + "（{year}年合订本）",
                f"{name}-期刊",
                "periodical",
                authors=(f"《{name}》编辑部",),
            )
            for name, clc in _MAGAZINES
        ),
    }


_TOPICS = _build_topics()
_GROUP_WEIGHTS = {
    "I": 17.0,
    "S": 16.0,
    "R": 10.0,
    "children": 7.0,
    "K": 6.5,
    "G": 6.0,
    "TS": 5.5,
    "F": 5.5,
    "D": 4.5,
    "TP": 4.5,
    "J": 3.0,
    "Z": 2.0,
    "B": 2.0,
    "H": 2.0,
    "periodical": 1.5,
    "N": 1.0,
    "O": 1.0,
    "P": 1.0,
    "Q": 1.0,
    "U": 1.0,
    "X": 1.0,
    "C": 0.8,
    "E": 0.7,
    "V": 0.5,
    "A": 0.5,
}
_GROUPS = tuple(_GROUP_WEIGHTS)
_TOPIC_WEIGHTS = {
    group: tuple(t.weight * min(4, len(t.titles)) for t in topics)
    for group, topics in _TOPICS.items()
}
# Edition-style words that make one practical title into several books, as on real shelves.
_PREFIXES = _split("新编 实用 图解 最新")
_SUFFIXES = _split("（彩图版） （大字版） （图解版） （修订本） （第二版）")
_PLAIN_GROUPS = ("I", "children", "periodical")
_PREFIX_GROUPS = (
    "S",
    "R",
    "TS",
    "F",
    "D",
    "TP",
    "U",
    "Z",
)  # practical books: 新编 / 图解 fit  # literature and magazines keep their titles
_GROUP_CUM = tuple(sum(list(_GROUP_WEIGHTS.values())[: i + 1]) for i in range(len(_GROUP_WEIGHTS)))

# Publishers: key -> (name, city, ISBN publisher prefixes after 978-7-).
_PUBLISHERS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "rm": ("人民出版社", "北京", ("01",)),
    "rw": ("人民文学出版社", "北京", ("02",)),
    "kx": ("科学出版社", "北京", ("03",)),
    "sw": ("商务印书馆", "北京", ("100",)),
    "zh": ("中华书局", "北京", ("101",)),
    "ms": ("人民美术出版社", "北京", ("102",)),
    "yy": ("人民音乐出版社", "北京", ("103",)),
    "ny": ("中国农业出版社", "北京", ("109",)),
    "jx": ("机械工业出版社", "北京", ("111",)),
    "jz": ("中国建筑工业出版社", "北京", ("112",)),
    "jt": ("人民交通出版社", "北京", ("114",)),
    "yd": ("人民邮电出版社", "北京", ("115",)),
    "ws": ("人民卫生出版社", "北京", ("117",)),
    "dz": ("电子工业出版社", "北京", ("121",)),
    "hg": ("化学工业出版社", "北京", ("122",)),
    "qh": ("清华大学出版社", "北京", ("302",)),
    "zj": ("作家出版社", "北京", ("5063", "5212")),
    "jd": ("金盾出版社", "北京", ("5082", "5186")),
    "lk": ("中国林业出版社", "北京", ("5038", "5219")),
    "nk": ("中国农业科学技术出版社", "北京", ("5116",)),
    "zy": ("中国中医药出版社", "北京", ("5132",)),
    "fl": ("法律出版社", "北京", ("5036", "5118")),
    "fz": ("方志出版社", "北京", ("5144",)),
    "fzc": ("中国法制出版社", "北京", ("5093", "5216")),
    "jf": ("解放军出版社", "北京", ("5065",)),
    "bk": ("中国大百科全书出版社", "北京", ("5000", "5202")),
    "wy": ("外语教学与研究出版社", "北京", ("5600", "5213")),
    "qg": ("中国轻工业出版社", "北京", ("5019", "5184")),
    "fzg": ("中国纺织出版社", "北京", ("5064", "5180")),
    "qx": ("气象出版社", "北京", ("5029",)),
    "hj": ("中国环境出版社", "北京", ("5111",)),
    "yh": ("中国宇航出版社", "北京", ("5159",)),
    "db": ("党建读物出版社", "北京", ("5099",)),
    "sk": ("中国社会科学出版社", "北京", ("5004", "5161", "5227")),
    "tj": ("中国统计出版社", "北京", ("5037", "5230")),
    "shk": ("上海科学技术出版社", "上海", ("5323", "5478")),
    "sr": ("上海人民出版社", "上海", ("208",)),
    "sse": ("少年儿童出版社", "上海", ("5324", "5589")),
    "zjk": ("浙江科学技术出版社", "杭州", ("5341",)),
    "zje": ("浙江少年儿童出版社", "杭州", ("5342", "5597")),
    "jsk": ("江苏凤凰科学技术出版社", "南京", ("5345", "5713")),
    "yl": ("译林出版社", "南京", ("5447",)),
    "cj": ("长江文艺出版社", "武汉", ("5354", "5702")),
    "hnk": ("湖南科学技术出版社", "长沙", ("5357", "5710")),
    "hnw": ("湖南文艺出版社", "长沙", ("5404", "5726")),
    "hnr": ("湖南人民出版社", "长沙", ("217", "5561")),
    "yls": ("岳麓书社", "长沙", ("80520", "5538")),
    "sck": ("四川科学技术出版社", "成都", ("5364", "5727")),
    "hek": ("河南科学技术出版社", "郑州", ("5349", "5725")),
    "zynm": ("中原农民出版社", "郑州", ("80641", "5542")),
    "sdk": ("山东科学技术出版社", "济南", ("5331", "5723")),
    "mt": ("明天出版社", "济南", ("5332", "5708")),
    "jxk": ("江西科学技术出版社", "南昌", ("5390",)),
    "21s": ("二十一世纪出版社", "南昌", ("5391", "5568")),
    "jl": ("接力出版社", "南宁", ("5448",)),
    "sy10": ("北京十月文艺出版社", "北京", ("5302",)),
    "ahe": ("安徽少年儿童出版社", "合肥", ("5397",)),
}
_GROUP_PUBLISHERS = {
    "S": _split("ny ny ny jd jd nk hg zjk jsk hnk sck hek zynm sdk jxk lk"),
    "I": _split("rw rw zj cj hnw sy10 sr yl"),
    "children": _split("sse zje 21s jl mt ahe"),
    "R": _split("ws ws zy hg shk jsk hnk hek sdk jd"),
    "K": _split("zh rm sk sr hnr bk"),
    "G": _split("rm sw bk hnr sr"),
    "TS": _split("qg qg hg jd fzg hnk sck"),
    "F": _split("ny rm sk jx yd tj"),
    "D": _split("fl fzc rm db"),
    "TP": _split("qh dz yd jx jz jx"),
    "J": _split("ms hnw shk"),
    "Z": _split("bk kx sw"),
    "B": _split("zh sw rm sr"),
    "H": _split("sw sw wy zh"),
    "E": _split("jf jf rm"),
    "N": _split("kx kx hnk"),
    "O": _split("kx hnk qh"),
    "P": _split("qx kx"),
    "Q": _split("kx lk hnk"),
    "U": _split("jt jx hg"),
    "V": _split("yh kx"),
    "X": _split("hj hj hg"),
    "A": _split("rm db"),
    "C": _split("sk tj rm"),
    "periodical": _split("ny hnk hnr"),
}

# How much each kind of point favours each group when it picks its titles.
_AFFINITY: dict[str, dict[str, float]] = {
    "central": {"S": 0.8},
    "branch": {"S": 1.5, "R": 1.3, "TS": 1.3, "F": 1.2, "D": 1.2, "*": 0.7},
    "village_bookshop": {
        "S": 3.0,
        "R": 2.0,
        "TS": 2.0,
        "I": 1.2,
        "F": 1.5,
        "D": 1.5,
        "children": 1.5,
        "G": 1.0,
        "K": 0.8,
        "Z": 1.2,
        "J": 0.8,
        "periodical": 1.5,
        "*": 0.3,
    },
    "worksite_reading_room": {
        "I": 2.0,
        "D": 2.0,
        "R": 1.5,
        "TP": 1.5,
        "K": 1.0,
        "S": 0.3,
        "*": 0.6,
    },
    "bookmobile": {"I": 1.5, "children": 2.0, "R": 1.5, "S": 1.5, "*": 0.7},
    "community": {"I": 1.5, "R": 1.5, "TS": 1.5, "G": 1.3, "J": 1.3, "S": 0.3, "*": 0.8},
    "school": {
        "children": 3.0,
        "I": 1.5,
        "G": 2.0,
        "H": 2.0,
        "N": 2.0,
        "Z": 2.0,
        "S": 0.2,
        "*": 0.6,
    },
}

_PHONE_PREFIXES = tuple(f"13{d}" for d in range(10)) + tuple(f"15{d}" for d in "01235789")
_PHONE_PREFIXES += tuple(f"18{d}" for d in range(10))
# Age ranges on REFERENCE_DATE, so that the birth date in the ID number fits the category.
_AGES = {
    "child": (3, 11),
    "student": (12, 22),
    "adult": (23, 59),
    "senior": (60, 88),
    "staff": (22, 58),
}


# ---------------------------------------------------------------------------------------------
# Check digits, written out so that tests can verify them independently with python-stdnum


def _ean13_check(body: str) -> str:
    """EAN-13 (= ISBN-13) check digit of 12 digits."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return str((10 - total % 10) % 10)


def _ric_check(body: str) -> str:
    """GB 11643 check character of the first 17 digits of a resident ID number."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


# ---------------------------------------------------------------------------------------------
# Internal plan of a point before scaling


@dataclass
class _Plan:
    code: str
    name: str
    kind: str
    parent: str | None
    region: str
    population: int
    address: str
    opening_days: str
    volumes: int = 0
    titles: int = 0
    profile: str = "random"

    def point(self) -> DemoPoint:
        """The public, frozen form; the plan's volume targets stay internal."""
        return DemoPoint(
            self.code,
            self.name,
            self.kind,
            self.parent,
            self.region,
            self.population,
            self.address,
            self.opening_days,
        )


def _unique_names(
    rng: random.Random, count: int, first: str, second: str, banned: set[str]
) -> list[str]:
    """Two-syllable place names, unique, so that every point's name tells it apart."""
    names: list[str] = []
    taken = set(banned)
    while len(names) < count:
        name = rng.choice(first) + rng.choice(second)
        if name[0] != name[1] and name not in taken:
            taken.add(name)
            names.append(name)
    return names


def _village_profile(rng: random.Random, profile: str) -> tuple[int, int, int]:
    """(volumes, titles, population) so that the profile's baseline / per-capita side holds."""
    if profile == "met_high":  # meets the 1,500/500 baseline and the 0.8 target
        v = rng.randint(1500, 2200)
        return v, rng.randint(510, 800), rng.randint(500, int(v / 0.85))
    if profile == "met_low":  # meets the baseline, but the village is big: below 0.8
        v = rng.randint(1500, 2000)
        return v, rng.randint(510, 800), rng.randint(math.ceil(v / 0.7), 3000)
    if profile == "short_high":  # small bookshop in a small village: above 0.8
        v = rng.randint(600, 1300)
        return v, rng.randint(250, min(480, int(v * 0.7))), rng.randint(500, int(v / 0.85))
    if profile == "short_low":
        v = rng.randint(300, 1300)
        return v, round(v * rng.uniform(0.4, 0.7)), rng.randint(max(500, math.ceil(v / 0.7)), 3000)
    if profile == "few_titles":  # enough volumes, too few titles: misses the baseline
        return rng.randint(1500, 1800), rng.randint(350, 480), rng.randint(500, 3000)
    v = round(rng.triangular(200, 1600, 500))
    return v, max(1, round(v * rng.uniform(0.35, 0.65))), rng.randint(500, 3000)


def _plan_points(rng: random.Random) -> list[_Plan]:
    """The tree: central, ten township branches with their villages and worksites, the rest."""
    street = rng.choice(_STREETS)
    central = _Plan(
        COUNTY_CODE,
        f"{COUNTY_NAME}图书馆",
        "central",
        None,
        COUNTY_REGION,
        rng.randint(38_000, 52_000),
        f"{COUNTY_NAME}{COUNTY_SEAT}{street}{rng.randint(1, 200)}号",
        "234567",
    )
    central.volumes = rng.randint(9_000, 11_000)
    plans = [central]
    branches: list[_Plan] = []
    villages: list[_Plan] = []
    towns = _unique_names(rng, 10, _TOWN_FIRST, _TOWN_SECOND, {"清溪", "城关"})
    n_zhen = rng.randint(6, 8)
    counts = [4] * len(towns)
    for _ in range(10):  # move a few villages around, keeping 3-5 per township and 40 in all
        i, j = rng.randrange(len(towns)), rng.randrange(len(towns))
        if i != j and counts[i] > 3 and counts[j] < 5:
            counts[i] -= 1
            counts[j] += 1
    village_names = iter(
        _unique_names(rng, sum(counts), _VILLAGE_FIRST, _VILLAGE_SECOND, set(towns))
    )
    branch_profiles = ["low", "high"] + [rng.choice(("low", "high")) for _ in towns[2:]]
    rng.shuffle(branch_profiles)
    for b, base in enumerate(towns):
        zhen = b < n_zhen
        town = base + ("镇" if zhen else "乡")
        region = COUNTY_REGION + (f"1{b + 1:02d}" if zhen else f"2{b - n_zhen + 1:02d}")
        population = rng.randint(1800, 4200)
        branch = _Plan(
            f"{COUNTY_CODE}{b + 1:02d}",
            f"{town}综合文化站分馆",
            "branch",
            COUNTY_CODE,
            region,
            population,
            f"{COUNTY_NAME}{town}{rng.choice(_STREETS)}{rng.randint(1, 120)}号",
            rng.choice(("12345", "23456", "234567")),
            profile=branch_profiles[b],
        )
        ratio = rng.uniform(0.3, 0.7) if branch.profile == "low" else rng.uniform(0.85, 1.25)
        branch.volumes = round(population * ratio)
        branch.titles = round(branch.volumes * rng.uniform(0.55, 0.8))
        plans.append(branch)
        branches.append(branch)
        numbers = sorted(rng.sample(range(1, 40), counts[b]))
        for v, number in enumerate(numbers):
            name = next(village_names)
            village = _Plan(
                f"{branch.code}V{v + 1:02d}",
                f"{town}{name}村农家书屋",
                "village_bookshop",
                branch.code,
                f"{region}{200 + number:03d}",
                0,
                f"{COUNTY_NAME}{town}{name}村村委会",
                rng.choice(("67", "1357", "246", "12345", "135", "23456")),
            )
            plans.append(village)
            villages.append(village)
    guaranteed = ["met_high", "met_high", "met_low", "met_low", "short_high", "short_low"]
    guaranteed += ["few_titles"]
    profiles = guaranteed + ["random"] * (len(villages) - len(guaranteed))
    rng.shuffle(profiles)
    for village, profile in zip(villages, profiles, strict=True):
        village.profile = profile
        village.volumes, village.titles, village.population = _village_profile(rng, profile)
    for w, branch in enumerate(sorted(rng.sample(branches, 3), key=lambda p: p.code)):
        town = branch.name.removesuffix("综合文化站分馆")
        other = rng.choice([b.name[:3] for b in branches if b is not branch])
        project, office = _PROJECTS[(w + rng.randrange(len(_PROJECTS))) % len(_PROJECTS)]
        site = _Plan(
            f"{branch.code}W{w + 1:02d}",
            project.format(town=town, other=other) + "工地书屋",
            "worksite_reading_room",
            branch.code,
            branch.region,
            rng.randint(80, 400),
            f"{COUNTY_NAME}{town}{office}",
            "1234567",
        )
        site.volumes = rng.randint(100, 300)
        site.titles = round(site.volumes * 0.8)
        plans.append(site)
    mobile = _Plan(
        f"{COUNTY_CODE}M01",
        f"{COUNTY_NAME}图书馆流动图书车",
        "bookmobile",
        COUNTY_CODE,
        COUNTY_REGION,
        0,  # serves villagers already counted at their own points
        central.address,
        "246",
    )
    mobile.volumes = rng.randint(1200, 1600)
    mobile.titles = round(mobile.volumes * 0.9)
    plans.append(mobile)
    for c, community in enumerate(rng.sample(_COMMUNITIES, 2)):
        point = _Plan(
            f"{COUNTY_CODE}C{c + 1:02d}",
            f"{community}社区服务点",
            "community",
            COUNTY_CODE,
            f"{COUNTY_SEAT_REGION}{c + 1:03d}",
            rng.randint(3000, 7000),
            f"{COUNTY_NAME}{COUNTY_SEAT}{community}社区居委会",
            rng.choice(("23456", "34567")),
        )
        point.volumes = rng.randint(500, 1000)
        point.titles = round(point.volumes * 0.7)
        plans.append(point)
    school = _Plan(
        f"{COUNTY_CODE}S01",
        f"{COUNTY_NAME}第一中学学校服务点",
        "school",
        COUNTY_CODE,
        COUNTY_SEAT_REGION,
        rng.randint(1200, 2500),
        f"{COUNTY_NAME}{COUNTY_SEAT}{rng.choice(_STREETS)}{rng.randint(1, 99)}号",
        "12345",
    )
    school.volumes = rng.randint(800, 1500)
    school.titles = round(school.volumes * 0.7)
    plans.append(school)
    _trim(plans)
    return plans


def _trim(plans: list[_Plan]) -> None:
    """Keep the demo under MAX_COPIES_AT_SCALE_1 by thinning the unprofiled village bookshops."""
    excess = sum(p.volumes for p in plans) - MAX_COPIES_AT_SCALE_1
    spare = [p for p in plans if p.kind == "village_bookshop" and p.profile == "random"]
    if excess <= 0 or not spare:
        return
    factor = max(0.2, 1 - excess / sum(p.volumes for p in spare))
    for p in spare:
        p.volumes = max(100, round(p.volumes * factor))
        p.titles = min(p.titles, p.volumes)


# ---------------------------------------------------------------------------------------------
# People and books


def _generation(year: int) -> str:
    """Given names follow fashions: a 1950s 建国 is not a 2015 梓涵."""
    return "old" if year < 1965 else "mid" if year < 2000 else "new"


def _person(rng: random.Random, birth_year: int, sex: str) -> str:
    """A Chinese personal name in the style of the birth generation."""
    surname = rng.choices(_SURNAMES, weights=_SURNAME_WEIGHTS)[0]
    chars = _GIVEN[(_generation(birth_year), sex)]
    if rng.random() < 0.2:
        return surname + rng.choice(chars)
    first, second = rng.sample(chars, 2)
    return surname + first + second


def _author(rng: random.Random) -> str:
    """An author's name: authors of the stock were born 1940-1995."""
    return _person(rng, rng.randint(1940, 1995), rng.choice("mf"))


def _fill(rng: random.Random, pattern: str, county_year: tuple[str, str]) -> str:
    """Fill {slot}s in a title pattern, never the same word twice in one title."""
    used: list[str] = []

    def pick(match: re.Match[str]) -> str:
        slot = match.group(1)
        if slot == "county":
            return county_year[0]
        if slot == "year":
            return county_year[1]
        if slot == "name":
            return _author(rng)
        word = rng.choice([w for w in _SLOTS[slot] if w not in used])
        used.append(word)
        return word

    return _SLOT_RE.sub(pick, pattern)


def _pub_year(rng: random.Random) -> int:
    """1995-2025, most of a small library's stock being recent."""
    return 2025 - min(30, int(rng.expovariate(1 / 7)))


def _price(rng: random.Random, year: int, kind: str) -> str:
    """Price as printed on the book (CNY), rising with the year of publication."""
    factor = {"reference": 2.5, "periodical": 1.6, "children": 0.7}.get(kind, 1.0)
    value = (12 + (year - 1995) * 1.4) * factor * rng.uniform(0.7, 1.4)
    cents = rng.choices((".00", ".80", ".50", ".90"), weights=(6, 3, 2, 1))[0]
    return f"CNY{max(5, int(value))}{cents}"


def _isbn(rng: random.Random, prefixes: tuple[str, ...], used: set[str]) -> str:
    """A fresh 978-7 ISBN-13 under one of the publisher's prefixes."""
    while True:
        prefix = rng.choice(prefixes)
        width = 8 - len(prefix)
        body = f"9787{prefix}{rng.randrange(10**width):0{width}d}"
        isbn = body + _ean13_check(body)
        if isbn not in used:
            used.add(isbn)
            return isbn


def _pick_group(rng: random.Random) -> str:
    """A reader-interest group, weighted toward what village readers borrow."""
    return _GROUPS[bisect.bisect_left(_GROUP_CUM, rng.random() * _GROUP_CUM[-1])]


def _title(rng: random.Random, group: str, topic: _Topic, slots: tuple[str, str]) -> str:
    """A title from the topic's patterns, sometimes with an edition-style prefix or suffix."""
    title = _fill(rng, rng.choice(topic.titles), slots)
    if group in _PLAIN_GROUPS or topic.kind == "reference":
        return title
    if group in _PREFIX_GROUPS and rng.random() < 0.3:
        prefix = rng.choice(_PREFIXES)
        if prefix[0] not in title:
            title = prefix + title
    if rng.random() < 0.15:
        title += rng.choice(_SUFFIXES)
    return title


def _make_records(
    rng: random.Random, count: int
) -> tuple[list[DemoRecord], list[str], list[str], list[str]]:
    """Records, with each one's reader-interest group, item type and call number."""
    records: list[DemoRecord] = []
    groups: list[str] = []
    kinds: list[str] = []
    call_numbers: list[str] = []
    titles_seen: Counter[str] = Counter()
    isbns: set[str] = set()
    book_numbers: Counter[str] = Counter()
    for _ in range(count):
        group = _pick_group(rng)
        for _retry in range(8):  # prefer a new title; a few repeats are other editions
            topic = rng.choices(_TOPICS[group], weights=_TOPIC_WEIGHTS[group])[0]
            year = _pub_year(rng)
            if year < topic.since:
                year = rng.randint(topic.since, 2025)
            slots = (COUNTY_NAME, str(year - 1))
            title = _title(rng, group, topic, slots)
            if titles_seen[title] < 2 or topic.authors:
                break
        titles_seen[title] += 1
        if topic.authors:
            authors = topic.authors
        else:
            n_authors = rng.choices((1, 2, 3), weights=(65, 28, 7))[0]
            authors = tuple(_author(rng) for _ in range(n_authors))
        key = rng.choice(topic.publishers or _GROUP_PUBLISHERS[group])
        publisher, city, prefixes = _PUBLISHERS[key]
        book_numbers[topic.clc] += 1
        records.append(
            DemoRecord(
                title=title,
                authors=authors,
                publisher=publisher,
                pub_place=city,
                pub_year=str(year),
                isbn13=_isbn(rng, prefixes, isbns),
                clc=topic.clc,
                language="chi",
                subjects=tuple(_fill(rng, s, slots) for s in topic.subjects),
                price=_price(rng, year, topic.kind),
            )
        )
        groups.append(group)
        kinds.append(topic.kind)
        call_numbers.append(f"{topic.clc}/{book_numbers[topic.clc]}")
    return records, groups, kinds, call_numbers


def _scaled(value: int, scale: float) -> int:
    """Scaled count, never 0, so every point keeps at least one copy at tiny scales."""
    return max(1, round(value * scale))


def _batches(rng: random.Random) -> list[int]:
    """Delivery dates (ordinals) of a point: books reach branches and villages in batches."""
    first, last = FIRST_ADDED.toordinal(), LAST_ADDED.toordinal()
    return sorted(rng.randint(first, last) for _ in range(rng.randint(5, 12)))


def _make_copies(
    rng: random.Random,
    plans: list[_Plan],
    records: list[DemoRecord],
    groups: list[str],
    kinds: list[str],
    call_numbers: list[str],
    scale: float,
) -> list[DemoCopy]:
    """Copies per point: its share of titles (by its readers' interests), then extra volumes."""
    n = len(records)
    popularity = [
        rng.lognormvariate(0, 0.7) * (1 + max(0, int(r.pub_year) - 2010) / 10) for r in records
    ]
    floors = [max(FIRST_ADDED, dt.date(int(r.pub_year), 1, 1)).toordinal() for r in records]
    last = LAST_ADDED.toordinal()
    copies: list[DemoCopy] = []
    for index, plan in enumerate(plans):
        volumes = _scaled(plan.volumes, scale)
        if plan.kind == "central":  # the central library holds at least one copy of everything
            volumes = max(volumes, n)
            chosen = list(range(n))
            weights = popularity
        else:
            affinity = _AFFINITY[plan.kind]
            default = affinity.get("*", 1.0)
            weights = [
                p * affinity.get(g, default) for p, g in zip(popularity, groups, strict=True)
            ]
            titles = min(volumes, _scaled(plan.titles, scale), n)
            keys = [rng.random() ** (1 / w) for w in weights]  # weighted sample, no repeats
            chosen = sorted(heapq.nlargest(titles, range(n), key=keys.__getitem__))
        extra = Counter(
            rng.choices(chosen, weights=[weights[r] for r in chosen], k=volumes - len(chosen))
        )
        batches = [] if plan.kind == "central" else _batches(rng)
        serial = rng.randint(1, 5000)
        for r in chosen:
            record = records[r]
            for _ in range(1 + extra[r]):
                start = bisect.bisect_left(batches, floors[r])
                if start < len(batches):
                    day = batches[rng.randrange(start, len(batches))]
                else:
                    day = rng.randint(floors[r], last)
                copies.append(
                    DemoCopy(
                        barcode=f"{BARCODE_LEAD}{index:02d}{serial:07d}",
                        record=r,
                        home=plan.code,
                        call_number=call_numbers[r],
                        item_type=kinds[r],
                        price=record.price,
                        date_added=dt.date.fromordinal(day),
                    )
                )
                serial += 1
    return copies


def _make_patrons(rng: random.Random, plans: list[_Plan], count: int) -> list[DemoPatron]:
    """Card holders, registered where they live; ID numbers carry the county's region code."""
    homes = [(i, p) for i, p in enumerate(plans) if p.kind != "bookmobile"]
    factor = {"central": 4.0, "branch": 1.5, "school": 1.5, "village_bookshop": 0.7}
    weights = [p.population**0.8 * factor.get(p.kind, 1.0) for _, p in homes]
    serials = {i: rng.randint(1, 900) for i, _ in homes}
    ids: set[str] = set()
    phones: set[str] = set()
    patrons: list[DemoPatron] = []
    for _ in range(count):
        index, home = rng.choices(homes, weights=weights)[0]
        if home.kind == "school":
            category = rng.choices(("student", "child", "adult"), weights=(70, 25, 5))[0]
        elif home.kind == "worksite_reading_room":
            category = rng.choices(("adult", "senior"), weights=(95, 5))[0]
        else:
            staff = 4 if home.kind in ("central", "branch") else 0
            category = rng.choices(CATEGORIES, weights=(42, 18, 16, 20, staff))[0]
        low, high = _AGES[category]
        age = rng.randint(low, high)
        birth = REFERENCE_DATE.replace(year=REFERENCE_DATE.year - age) - dt.timedelta(
            days=rng.randint(0, 364)
        )
        sex = rng.choice("mf")
        while True:
            order = rng.randrange(1, 500) * 2 - (1 if sex == "m" else 0)  # odd for men
            body = f"{home.region[:6]}{birth:%Y%m%d}{order:03d}"
            id_number = body + _ric_check(body)
            if id_number not in ids:
                ids.add(id_number)
                break
        while True:
            phone = rng.choice(_PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            if phone not in phones:
                phones.add(phone)
                break
        patrons.append(
            DemoPatron(
                card=f"{CARD_LEAD}{index:02d}{serials[index]:07d}",
                name=_person(rng, birth.year, sex),
                category=category,
                home=home.code,
                pin=f"{rng.randrange(10**6):06d}",
                id_number=id_number,
                phone=phone,
                expires=REFERENCE_DATE + dt.timedelta(days=rng.randint(365, 5 * 365 + 1)),
            )
        )
        serials[index] += 1
    return patrons


def generate_demo(seed: int = 2026, scale: float = 1.0) -> DemoNetwork:
    """The demo network for ``seed``: same seed, same network, so demos and tests can rely on it.

    ``scale`` multiplies the records, copies and patrons (not the points or populations), so
    tests can use a small network with the same shape.
    """
    if not scale > 0:
        raise ValueError("scale must be positive")
    rng = random.Random(seed)
    plans = _plan_points(rng)
    if len(plans) > 99:
        raise ValueError("barcodes and cards carry a two-digit point number")
    records, groups, kinds, call_numbers = _make_records(rng, _scaled(RECORDS_AT_SCALE_1, scale))
    copies = _make_copies(rng, plans, records, groups, kinds, call_numbers, scale)
    patrons = _make_patrons(rng, plans, _scaled(PATRONS_AT_SCALE_1, scale))
    return DemoNetwork(
        points=tuple(p.point() for p in plans),
        records=tuple(records),
        copies=tuple(copies),
        patrons=tuple(patrons),
    )
