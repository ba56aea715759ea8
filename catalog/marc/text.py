"""MARC as text a cataloguer can read and edit (the MARC view), and back.

The text is the MARCMaker mnemonic form that pymarc prints and MarcEdit
edits, one field per line:

    =LDR  00714cam\\\\22002054a\\4500
    =001  012000000123
    =008  850101s1985\\\\cc\\\\\\\\\\\\\\000\\0\\chi\\d
    =200  1\\$a中国发展报告$A zhong guo fa zhan bao gao$f国家统计局编

- ``=TAG`` then two spaces; the leader is ``=LDR``.
- In the leader and control fields (00X) ``\\`` stands for a space and
  ``{bsol}`` for a backslash.
- A data field starts with its two indicators (``\\`` = blank), then each
  subfield as ``$`` + code + value. A ``$`` inside a value is written
  ``{dollar}``.
- Blank lines are ignored; a line that does not start with ``=TAG`` is an
  error, not a continuation (a text box wraps long lines only on screen).

``marc_from_text`` reports every problem with its line number, in both
languages, and builds nothing when there is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pymarc

from catalog.errors import DomainError

DOLLAR = "{dollar}"
BACKSLASH = "{bsol}"


def _fixed_to_text(value: str) -> str:
    return value.replace("\\", BACKSLASH).replace(" ", "\\")


def _fixed_from_text(value: str) -> str:
    return value.replace("\\", " ").replace(BACKSLASH, "\\")


_LINE = re.compile(r"=(?P<tag>LDR|[0-9A-Za-z]{3})(?:  ?|$)(?P<rest>.*)")
_INDICATOR = re.compile(r"[^\s$]| ")  # anything printable; vendors use | and # too
_CODE = re.compile(r"[^\s$]")


@dataclass(frozen=True)
class TextProblem:
    line: int  # from 1; 0 for the record as a whole
    en: str
    zh: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.en}" if self.line else self.en


class MarcTextError(DomainError):
    """The MARC text cannot be saved; ``problems`` says what to fix, line by line."""

    code = "invalid_marc"
    http_status = 422

    def __init__(self, problems: list[TextProblem]) -> None:
        self.problems = problems
        super().__init__(
            "the MARC text has problems: " + "; ".join(str(p) for p in problems),
            "MARC 文本有错误：" + "；".join(_zh(p) for p in problems),
            problems=[{"line": p.line, "en": p.en, "zh": p.zh} for p in problems],
        )


def _zh(problem: TextProblem) -> str:
    return f"第 {problem.line} 行：{problem.zh}" if problem.line else problem.zh


def marc_to_text(record: pymarc.Record) -> str:
    """The record as MARC text, one field per line (see the module docstring)."""
    lines = [f"=LDR  {_fixed_to_text(str(record.leader))}"]
    for field in record.fields:
        if field.is_control_field():
            lines.append(f"={field.tag}  {_fixed_to_text(field.data or '')}")
            continue
        given = field.indicators or ("", "")
        indicators = "".join((i or " ") for i in given).replace(" ", "\\")
        subfields = "".join(
            f"${sf.code}{(sf.value or '').replace('$', DOLLAR)}" for sf in field.subfields
        )
        lines.append(f"={field.tag}  {indicators}{subfields}")
    return "\n".join(lines) + "\n"


def marc_from_text(text: str) -> pymarc.Record:
    """The record the text describes; MarcTextError lists every problem found."""
    problems: list[TextProblem] = []
    leader: str | None = None
    fields: list[pymarc.Field] = []
    seen_001 = False
    # Only line feeds end a line (splitlines would also split at separators that may sit in
    # a value); a value's own spaces, even at its end, are kept.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if not line.strip():
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            problems.append(TextProblem(
                number,
                "a line must start with = and a three-character tag, e.g. =245",
                "每行应以 = 和三位字段号开头，例如 =245",
            ))  # fmt: skip
            continue
        tag, rest = match["tag"], match["rest"]
        if tag == "LDR":
            value = _fixed_from_text(rest)
            if leader is not None:
                problems.append(TextProblem(number, "a second leader line", "头标重复"))
            elif len(value) != 24:
                problems.append(TextProblem(
                    number,
                    f"the leader must be 24 characters, not {len(value)}",
                    f"头标应为 24 个字符，现为 {len(value)} 个",
                ))  # fmt: skip
            leader = value
        elif tag < "010" and tag.isdigit():
            value = _fixed_from_text(rest)
            if not value.strip():
                problems.append(TextProblem(
                    number, f"control field {tag} is empty", f"控制字段 {tag} 为空"
                ))  # fmt: skip
            if tag == "001":
                if seen_001:
                    problems.append(TextProblem(number, "a second 001 field", "001 字段重复"))
                seen_001 = True
            fields.append(pymarc.Field(tag=tag, data=value))
        else:
            field = _data_field(number, tag, rest, problems)
            if field is not None:
                fields.append(field)
    if leader is None:
        problems.insert(
            0, TextProblem(1, "the leader line (=LDR) is missing", "缺少头标行（=LDR）")
        )
    if not fields:
        problems.append(TextProblem(0, "the record has no fields", "记录中没有任何字段"))
    if problems:
        raise MarcTextError(problems)
    record = pymarc.Record(force_utf8=True)
    record.leader = pymarc.Leader(leader or "")
    for field in fields:
        record.add_field(field)
    return record


def _data_field(
    number: int, tag: str, rest: str, problems: list[TextProblem]
) -> pymarc.Field | None:
    indicators = rest[:2].replace("\\", " ")
    body = rest[2:]
    before = len(problems)
    if len(indicators) != 2 or not all(_INDICATOR.fullmatch(i) for i in indicators):
        problems.append(TextProblem(
            number,
            f"field {tag} needs two indicators (\\ for a blank)",
            f"字段 {tag} 需要两个指示符（空位写作 \\）",
        ))  # fmt: skip
    if not body.startswith("$"):
        problems.append(TextProblem(
            number,
            f"field {tag}: after the indicators comes the first subfield, e.g. $a",
            f"字段 {tag}：指示符之后应是第一个子字段，例如 $a",
        ))  # fmt: skip
        return None
    subfields: list[pymarc.Subfield] = []
    for part in body[1:].split("$"):
        code, value = part[:1], part[1:].replace(DOLLAR, "$")
        if not _CODE.fullmatch(code):
            problems.append(TextProblem(
                number,
                f"field {tag}: a subfield code must follow $ (write a $ in text as {DOLLAR})",
                f"字段 {tag}：$ 之后应是子字段代码；正文中的 $ 请写作 {DOLLAR}",
            ))  # fmt: skip
        else:  # an empty subfield is kept: vendors send them, and ISO 2709 allows them
            subfields.append(pymarc.Subfield(code=code, value=value))
    if len(problems) > before:
        return None
    return pymarc.Field(
        tag=tag, indicators=pymarc.Indicators(indicators[0], indicators[1]), subfields=subfields
    )
