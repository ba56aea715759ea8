"""Labels for search facets in the reader's language: points, kinds, CLC classes, languages."""

from __future__ import annotations

from typing import Any

from app.errors import language
from app.i18n import label

# 中国图书馆分类法 basic classes (and T's subclasses), Chinese and English.
CLC_CLASSES = {
    "A": ("马克思主义、列宁主义、毛泽东思想、邓小平理论", "Marxism, Leninism, Mao Zedong Thought"),
    "B": ("哲学、宗教", "Philosophy, religion"),
    "C": ("社会科学总论", "Social sciences"),
    "D": ("政治、法律", "Politics, law"),
    "E": ("军事", "Military science"),
    "F": ("经济", "Economics"),
    "G": ("文化、科学、教育、体育", "Culture, science, education, sports"),
    "H": ("语言、文字", "Languages, writing"),
    "I": ("文学", "Literature"),
    "J": ("艺术", "Arts"),
    "K": ("历史、地理", "History, geography"),
    "N": ("自然科学总论", "Natural sciences"),
    "O": ("数理科学和化学", "Mathematics, physics, chemistry"),
    "P": ("天文学、地球科学", "Astronomy, earth sciences"),
    "Q": ("生物科学", "Biology"),
    "R": ("医药、卫生", "Medicine, health"),
    "S": ("农业科学", "Agriculture"),
    "T": ("工业技术", "Industrial technology"),
    "TB": ("一般工业技术", "General industrial technology"),
    "TD": ("矿业工程", "Mining"),
    "TE": ("石油、天然气工业", "Petroleum, natural gas"),
    "TF": ("冶金工业", "Metallurgy"),
    "TG": ("金属学与金属工艺", "Metals and metalworking"),
    "TH": ("机械、仪表工业", "Machinery, instruments"),
    "TJ": ("武器工业", "Weapons"),
    "TK": ("能源与动力工程", "Energy and power"),
    "TL": ("原子能技术", "Nuclear technology"),
    "TM": ("电工技术", "Electrical engineering"),
    "TN": ("无线电电子学、电信技术", "Electronics, telecommunications"),
    "TP": ("自动化技术、计算机技术", "Automation, computing"),
    "TQ": ("化学工业", "Chemical industry"),
    "TS": ("轻工业、手工业", "Light industry, handicrafts"),
    "TU": ("建筑科学", "Architecture, building"),
    "TV": ("水利工程", "Hydraulic engineering"),
    "U": ("交通运输", "Transport"),
    "V": ("航空、航天", "Aviation, spaceflight"),
    "X": ("环境科学、安全科学", "Environment, safety"),
    "Z": ("综合性图书", "General works"),
}
LANGUAGES = {
    "chi": ("中文", "Chinese"), "eng": ("英文", "English"), "jpn": ("日文", "Japanese"),
    "kor": ("朝鲜文", "Korean"), "rus": ("俄文", "Russian"), "fre": ("法文", "French"),
    "ger": ("德文", "German"), "spa": ("西班牙文", "Spanish"), "tib": ("藏文", "Tibetan"),
    "mon": ("蒙古文", "Mongolian"), "uig": ("维吾尔文", "Uyghur"),
}  # fmt: skip
ITEM_TYPES = {
    "book": ("图书", "Books"), "children": ("少儿图书", "Children's books"),
    "reference": ("工具书", "Reference"), "periodical": ("期刊", "Periodicals"),
}  # fmt: skip
YEARS = {"-1949": ("1949 年以前", "before 1950"), "2020-": ("2020 年以后", "2020 on")}


def _pick(pair: tuple[str, str] | None, fallback: str) -> str:
    if pair is None:
        return fallback
    return pair[1] if language().startswith("en") else pair[0]


def clc_class_name(code: str) -> str:
    """A CLC class code with its name in the reader's language ("I 文学"); unknown codes as is."""
    return f"{code} {_pick(CLC_CLASSES.get(code), '')}".strip()


def facet_payload(
    names: dict[str, str], facets: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """Facet values with a label each, for the API and the OPAC page; ``names`` are the
    points' names by code (the search outcome's ``point_names``)."""
    labelled: dict[str, list[dict[str, Any]]] = {}
    for facet, values in facets.items():
        out = []
        for v in values:
            value = v["value"]
            if facet == "point":
                text = names.get(value, value)
            elif facet == "kind":
                text = label(value)
            elif facet == "clc":
                text = clc_class_name(value)
            elif facet == "language":
                text = _pick(LANGUAGES.get(value), value)
            elif facet == "item_type":
                text = _pick(ITEM_TYPES.get(value), value)
            else:
                text = _pick(YEARS.get(value), value)
            out.append({"value": value, "label": text, "count": v["count"]})
        labelled[facet] = out
    return labelled
