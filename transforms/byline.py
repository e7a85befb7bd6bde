"""Bylines: who wrote, photographed and edited an article, and which outlet it came from.

Grammar (outlets.md, "Article conventions"; docs/cleaning.md):

    lead     := OUTLET [DATE] ("讯" | PLACE DATE "电") [ "(" people ")" ]
    people   := [OUTLET_NAME] (ROLE names)+            e.g. 记者余佳通讯员徐鹏, 渝西都市报记者 肖必胜
    credit   := "(" names ")"  |  [记者] names "摄"  |  names "/文" names "/图"  |  摄影 names
    footer   := ("责任编辑" | "编辑" | "审核" | "终审" | "校对" | "来源" | "作者") ":" value

Names may be unseparated when roles delimit them (`记者余佳通讯员徐鹏`), separated by spaces, `、`
or commas, or padded (`张 玲`: two single characters in a row are one name). Functions here take
Simplified text with either half- or full-width punctuation and never raise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType

# Longest first, so that 见习记者 is not read as 记者.
ROLES: tuple[tuple[str, str], ...] = (
    ("首席记者", "reporters"),
    ("特约记者", "reporters"),
    ("全媒体记者", "reporters"),
    ("融媒体记者", "reporters"),
    ("摄影记者", "photographers"),
    ("见习记者", "trainee_reporters"),
    ("实习记者", "trainee_reporters"),
    ("实习生", "trainee_reporters"),
    ("通讯员", "correspondents"),
    ("评论员", "reporters"),
    ("记者", "reporters"),
    ("摄影", "photographers"),
    ("摄像", "photographers"),
)
_ROLE_RE = "|".join(role for role, _ in ROLES)
_ROLE_FIELD = MappingProxyType(dict(ROLES))

_OPEN, _CLOSE = "(（", ")）"
_HAN = r"\u4e00-\u9fff"

# OUTLET [date] 讯 / OUTLET PLACE date 电, then the optional parenthesised people.
LEAD = re.compile(
    rf"^\s*(?P<head>[{_HAN}A-Za-z·]{{1,24}}?"
    rf"(?:\d{{1,2}}月\d{{1,2}}日(?:\d{{1,2}}时(?:\d{{1,2}}分)?)?)?(?P<kind>讯|电))"
    rf"\s*(?:[{_OPEN}](?P<people>[^{_OPEN}{_CLOSE}]{{1,80}})[{_CLOSE}])?"
)
_WIRE_OUTLET = re.compile(rf"^(?P<outlet>[{_HAN}]{{2,12}}?(?:社|报|网|台|新闻|客户端))")
_LEAD_DATE = re.compile(r"\d{1,2}月\d{1,2}日(?:\d{1,2}时(?:\d{1,2}分)?)?")
_OUTLET_SUFFIX = re.compile(rf"^(?P<outlet>[{_HAN}]{{2,12}}?(?:报|网|社|台|融媒体中心|客户端))(?={_ROLE_RE})")

_NAME_SPLIT = re.compile(r"[\s、,，;；/]+")
_SEPARATED_NAME = re.compile(rf"^[{_HAN}·]{{1,5}}$")

FOOTER = re.compile(
    r"^[\s【\[(（]*(?P<key>责任编辑|责编|编辑|审核|审校|终审|校对|来源|作者|记者|通讯员|摄影|图片)\s*[:：]\s*(?P<value>.*?)[\s】\])）]*$"
)
# Several footer fields on one line: `责任编辑:张三 审核:李四`.
_FOOTER_FIELD = re.compile(
    r"(?P<key>责任编辑|责编|编辑|审核|审校|终审|校对|来源|作者)\s*[:：]\s*(?P<value>[^:：]*?)(?=\s+(?:责任编辑|责编|编辑|审核|审校|终审|校对|来源|作者)\s*[:：]|\s*[】\])）]?\s*$)"
)
_PHOTO_CREDIT = re.compile(
    rf"[{_OPEN}]?\s*(?:(?:{_ROLE_RE})\s*)?(?P<names>[{_HAN}·][{_HAN}·\s、]{{0,30}}?)\s*(?:摄|/摄|供图)\s*[{_CLOSE}]?\s*$"
)
_TEXT_PHOTO_CREDIT = re.compile(rf"^(?P<text>[{_HAN}\s、]{{1,20}}?)\s*/\s*文\s+(?P<photo>[{_HAN}\s、]{{1,20}}?)\s*/\s*图\s*$")
_PAREN_CREDIT = re.compile(rf"^[{_OPEN}](?P<names>[{_HAN}·\s、]{{2,40}})[{_CLOSE}]$")


_CAPTION_CREDIT = re.compile(
    rf"[{_OPEN}]\s*(?:(?:{_ROLE_RE})\s*)?(?P<names>[{_HAN}][{_HAN}\s、]{{0,20}}?)\s*摄\s*[{_CLOSE}]\s*$"
)


# A paragraph that is only a byline: `半月谈记者 史卫燕`, `记者 张三 通讯员 李四`, `本报记者 王五`.
_NAME = rf"(?:[{_HAN}]\s[{_HAN}]|[{_HAN}]{{2,3}})"
_BYLINE_LINE = re.compile(
    rf"^(?P<outlet>[{_HAN}]{{0,8}}?)\s*(?:(?:{_ROLE_RE})\s*{_NAME}(?:[\s、]+{_NAME})*\s*)+$"
)
# A credit glued to the end of the last paragraph: `…英雄的城！（评论员 罗博 萧海川）`.
_GLUED_CREDIT = re.compile(
    rf"[{_OPEN}]\s*(?:(?P<role>{_ROLE_RE})\s*)?(?P<names>[{_HAN}]{{2,4}}(?:[\s、]+[{_HAN}]{{2,4}}){{0,4}})\s*[{_CLOSE}]\s*$"
)
# A caption ending in a bare photo credit: `…正录制视频 李尕 摄`.
_BARE_PHOTO = re.compile(rf"\s(?:(?:{_ROLE_RE})\s*)?(?P<names>[{_HAN}]{{2,4}}(?:\s+[{_HAN}]{{2,4}}){{0,2}})\s+摄\s*$")


_REMARK = re.compile(r"^\s*(?:完|待续|未完待续|全文完|上接|下转|续|图文|本报综合|综合|据新华社|据.{1,8}报道)")


@dataclass
class Byline:
    """People by role and the outlets a byline names. Lists keep first-seen order, no duplicates."""

    source_outlet: str | None = None
    lead: str | None = None
    reporters: list[str] = field(default_factory=list)
    trainee_reporters: list[str] = field(default_factory=list)
    correspondents: list[str] = field(default_factory=list)
    photographers: list[str] = field(default_factory=list)
    editors: list[str] = field(default_factory=list)
    source: str | None = None

    def add(self, role_field: str, names: list[str]) -> None:
        people: list[str] = getattr(self, role_field)
        for name in names:
            if name and name not in people:
                people.append(name)

    def has_authors(self) -> bool:
        return bool(self.reporters or self.trainee_reporters or self.correspondents or self.photographers)


def split_names(text: str) -> list[str]:
    """Names from a run like `谭显全 曹栋`, `张 玲`, `杨琢、李海`: separators split, and two single
    characters in a row are one padded name. Tokens that are not 1–5 Han characters are dropped."""
    tokens = [t for t in _NAME_SPLIT.split(text.strip()) if t]
    names: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if len(token) == 1 and i + 1 < len(tokens) and len(tokens[i + 1]) == 1:
            token = token + tokens[i + 1]
            i += 1
        if _SEPARATED_NAME.match(token) and not any(token == role for role, _ in ROLES):
            names.append(token)
        i += 1
    return names


def parse_people(text: str, byline: Byline) -> None:
    """Read `[OUTLET](ROLE names)+` into `byline` (roles delimit unseparated names)."""
    text = text.strip()
    m = _OUTLET_SUFFIX.match(text)
    if m:
        byline.source_outlet = m.group("outlet")
        text = text[m.end() :]
    parts = re.split(rf"({_ROLE_RE})", text)
    if len(parts) == 1:
        # No role at all: `(杨琢 李海)`-style names are the reporters.
        byline.add("reporters", split_names(text))
        return
    role_field = "reporters"
    for part in parts:
        if part in _ROLE_FIELD:
            role_field = _ROLE_FIELD[part]
        elif part.strip():
            byline.add(role_field, split_names(part))


def parse_lead(paragraph: str, byline: Byline) -> str:
    """Read the lead at the start of the first paragraph into `byline`; return the paragraph's
    text after the lead (the paragraph itself when it has no lead)."""
    m = LEAD.match(paragraph)
    if not m:
        return paragraph
    head, kind = m.group("head"), m.group("kind")
    people = m.group("people")
    if kind == "电":
        wire = _WIRE_OUTLET.match(head)
        if not wire and not people:
            return paragraph
        outlet = wire.group("outlet") if wire else None
    else:
        outlet = _LEAD_DATE.sub("", head[:-1]) or None
        if outlet and len(outlet) > 12:
            return paragraph
    byline.lead = m.group(0).strip()
    if outlet and outlet != "本报":
        byline.source_outlet = outlet
    if people:
        parse_people(people, byline)
    return paragraph[m.end() :]


def parse_author_line(line: str, byline: Byline) -> None:
    """A template's author row (`作者:记者 余佳 通讯员 徐鹏`, `记者 张三`, `张三`)."""
    line = re.sub(r"^\s*作者\s*[:：]\s*", "", line or "").strip()
    if line:
        parse_people(line, byline)


def parse_footer(line: str, byline: Byline) -> bool:
    """If `line` is a footer (`责任编辑:张三`, `来源:新渝报`, several on one line), move it into
    `byline` and return True; otherwise leave `byline` alone and return False."""
    stripped = line.strip()
    fields = list(_FOOTER_FIELD.finditer(stripped))
    if not fields or fields[0].start() > 2:
        m = FOOTER.match(stripped)
        if not m:
            return False
        pairs = [(m.group("key"), m.group("value"))]
    else:
        pairs = [(f.group("key"), f.group("value")) for f in fields]
    for key, value in pairs:
        value = value.strip()
        if key == "来源":
            if value and not byline.source:
                byline.source = value
        elif key in ("作者", "记者", "通讯员", "摄影", "图片"):
            parse_people(value if key == "作者" else key + value, byline)
        else:
            byline.add("editors", split_names(value))
    return True


def parse_credit(line: str, byline: Byline) -> bool:
    """If `line` is a closing credit (`(杨琢 李海)`, `记者 杨文广 摄`, `张 玲/文 刘 灿/图`), move it
    into `byline` and return True."""
    stripped = line.strip()
    m = _TEXT_PHOTO_CREDIT.match(stripped)
    if m:
        byline.add("reporters", split_names(m.group("text")))
        byline.add("photographers", split_names(m.group("photo")))
        return True
    m = _PAREN_CREDIT.match(stripped)
    if m and "摄" not in m.group("names"):
        if re.search(_ROLE_RE, m.group("names")):  # (记者 张三 通讯员 李四)
            found = Byline()
            parse_people(m.group("names"), found)
            if not found.has_authors():
                return False
            for role in ("reporters", "trainee_reporters", "correspondents", "photographers"):
                byline.add(role, getattr(found, role))
            return True
        names = split_names(m.group("names"))
        # Names have two to four characters: `(完)`, `(待续)`-style remarks are not credits.
        if names and all(2 <= len(n) <= 4 for n in names) and not _REMARK.match(m.group("names")):
            byline.add("reporters", names)
            return True
        return False
    if len(stripped) <= 40:
        m = _PHOTO_CREDIT.search(stripped)
        if m and m.start() == 0:
            names = split_names(m.group("names"))
            if names:
                byline.add("photographers", names)
                return True
    return False


def strip_trailing_photo_credit(paragraph: str, byline: Byline) -> str:
    """A caption ending in `(记者 杨文广 摄)` keeps its text; the credit moves to photographers."""
    if "摄" not in paragraph[-30:]:
        return paragraph
    m = _CAPTION_CREDIT.search(paragraph)
    if not m:
        return paragraph
    names = split_names(m.group("names"))
    if not names:
        return paragraph
    byline.add("photographers", names)
    return paragraph[: m.start()].rstrip()


def parse_byline_line(line: str, byline: Byline) -> bool:
    """If the paragraph is only a byline (`半月谈记者 史卫燕`), move it into `byline`; True if so."""
    stripped = line.strip()
    if len(stripped) > 40 or not _BYLINE_LINE.match(stripped):
        return False
    m = _BYLINE_LINE.match(stripped)
    outlet = m.group("outlet") if m else ""
    found = Byline()
    parse_people(stripped[len(outlet) :] if outlet else stripped, found)
    if not found.has_authors():
        return False
    for role in ("reporters", "trainee_reporters", "correspondents", "photographers"):
        byline.add(role, getattr(found, role))
    if outlet and outlet not in ("本报", "本台", "本网"):
        byline.source_outlet = byline.source_outlet or outlet
    return True


def strip_glued_credit(paragraph: str, byline: Byline) -> str:
    """A credit in parentheses at the very end of the last paragraph (`（评论员 罗博 萧海川）`,
    `（杨琢 李海）`) moves to the byline; the paragraph keeps its text. Parentheses holding
    anything else (`（完）`, `（国内生产总值）`) stay."""
    m = _GLUED_CREDIT.search(paragraph)
    if not m or m.start() == 0:
        return paragraph
    names = split_names(m.group("names"))
    role = m.group("role")
    if not names or (not role and len(names) < 2 and " " not in m.group("names")):
        return paragraph  # a single unprefixed word is more likely a remark than a credit
    byline.add(_ROLE_FIELD[role] if role else "reporters", names)
    return paragraph[: m.start()].rstrip()


def strip_bare_photo_credit(paragraph: str, byline: Byline) -> str:
    """A short caption ending in `NAME 摄` without parentheses: the credit moves to photographers."""
    if len(paragraph) > 80 or "摄" not in paragraph[-6:]:
        return paragraph
    m = _BARE_PHOTO.search(paragraph)
    if not m or m.start() == 0:
        return paragraph
    byline.add("photographers", split_names(m.group("names")))
    return paragraph[: m.start()].rstrip()
