"""Cleaning: from what a page says (`Extracted`) to the fields analysts read.

`clean(ex, *, url=None, published_hint=None, fetched_at=None) -> dict` returns exactly the keys of
docs/design.md ("Cleaning"): `pre_title`, `title`, `sub_title`, `body` (paragraphs joined by `\\n`,
the lead kept at the start of the first), `lead`, `source_outlet`, `reporters`, `trainee_reporters`,
`correspondents`, `photographers`, `editors`, `source`, `published_at` (aware, Asia/Shanghai, or
None), `event_date` (date or None), `repairs` (list of str), `is_mirror_copy`, `is_article`,
`reason`. It never raises on odd text: input it cannot use comes back with `is_article=False` and
a `reason`. Steps (docs/cleaning.md): spam-mirror repair (`transforms.mirror`), Traditional →
Simplified, punctuation (`transforms.punct`), template residue, headers and footers into fields
(`transforms.byline`), headline split, dates (`transforms.dates`).

`parse_plain_text(text) -> Extracted` reads a plain-text article: headline on the first line, with
spam keyword lines above it allowed (dropped; `extractor` says `plain_text:spam=N`).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import opencc

from transforms import byline as bl
from transforms import dates, mirror, punct
from transforms.record import Extracted
from transforms.simplify import to_simplified, traditional_chars

# Beyond this many characters a text is not an article (the longest news stories run to tens of
# thousands; more would only cost time in the repair search).
MAX_TEXT_CHARS = 300_000
# Fewer Han characters than this in the body: not an article.
MIN_BODY_HAN = 10
# Share of Han characters that only Traditional script writes, above which a text is converted.
TRADITIONAL_SHARE = 0.03
# How much of the start of a text the script test reads.
SAMPLE_CHARS = 4000

_T2S = opencc.OpenCC("t2s")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_SPAM_MARK = re.compile(r"plain_text:spam=(\d{1,4})")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ufffe\uffff]")


_TRADITIONAL = re.compile(f"[{re.escape(traditional_chars())}]")

# Template and navigation residue: a whole short line that is only chrome.
_RESIDUE = re.compile(
    r"^(?:网站专栏|发言请遵守新闻跟帖服务协议.*|.{0,10}扫一扫.*|.{0,6}分享到.*|分享|打印|【?打印(?:本页|此文)?】?|"
    r"【?关闭(?:窗口|本页)?】?|返回顶部|收藏|点赞|【?字[体号][:：]?\s*大\s*中\s*小】?.*|上一篇.*|下一篇.*|"
    r"相关(?:新闻|阅读|链接)[:：]?|(?:阅读|浏览)(?:次数|量)[:：]?\s*\d*|网友评论|我要评论|参与评论|"
    r"手机(?:扫码|看新闻).*|微信(?:扫码|分享).*|\[?责任编辑[:：]\s*\]?|.{0,20}版权所有.{0,30}|(?:Copyright|©).*|"
    r"关于我们|联系我们|网站地图|.{0,20}(?:ICP|公网安)备.{0,30}|.{0,20}备案号.{0,30})$",
    re.I,
)
# Residue glued to the end of a paragraph (`…会议还研究了其他事项。网站专栏`).
_RESIDUE_TAIL = re.compile(r"(?:网站专栏|发言请遵守新闻跟帖服务协议)\s*$")
_PAGE_HEADER = re.compile(
    r"^[A-Z]?\d{1,2}\s*[:：]\s*\S{1,8}\s+总第\d+期\s*>?\s*(?P<date>\d{4}-\d{2}-\d{2})\s*编印$"
)
_HEADER_SOURCE = re.compile(r"来源\s*[:：]\s*(?P<source>[^\s:：]{2,30}?)(?=\s|$|发布|浏览|阅读|作者|时间)")
_HEADER_AUTHOR = re.compile(r"作者\s*[:：]\s*(?P<author>[^:：]*?)\s*(?=$|刊发|阅读|浏览|来源|发布)")
_AUTHOR_FIELDS = re.compile(r"^\s*(?:责任编辑|责编|编辑|审核|审校|终审|校对|来源|作者)\s*[:：]")
_KEYWORD_PREFIX = re.compile(r"^(?:关键词|关键字|标签|tags?)\s*[:：]", re.I)
_SENTENCE = re.compile(r"[。，！？；：,.!?;:]")

# Headline parts: signals for the three roles of a joined headline.
_SUB_SIGNAL = re.compile(r"^(?:——|—|-)|主持|讲话|出席|见闻|侧记|纪实|^研究|等工作$")
_PLACE = re.compile(r"区|县|镇|街道|乡|村|市|委|政府|中心|学校|医院|公司|企业|园|局|会$|会议|大会|我区|全区")
_EVENT = re.compile(
    r"举行|召开|开幕|闭幕|开市|开班|开工|投产|发布|启动|完成|举办|开展|亮相|签约|进入|走进|推进会|会议|开赛|通过|印发|揭牌|落地|竣工"
)


def _as_date(value: object) -> date | None:
    """A date from a date or datetime (its Shanghai day); anything else is unknown."""
    if isinstance(value, datetime):
        return dates.to_shanghai(value).date()
    return value if isinstance(value, date) else None


def _has_han(text: str, count: int) -> bool:
    """At least `count` Han characters (stops early: bodies can be long)."""
    for i, _ in enumerate(_HAN.finditer(text), start=1):
        if i >= count:
            return True
    return False


def _is_residue(line: str) -> bool:
    """A line of chrome only: one residue item, or several side by side (`【打印】 【关闭】`).
    Lines longer than 80 characters are text, whatever they start with."""
    if len(line) > 80:
        return False
    if _RESIDUE.match(line):
        return True
    tokens = line.split()
    return len(tokens) > 1 and all(_RESIDUE.match(t) for t in tokens)


def _empty(reason: str | None = None, repairs: list[str] | None = None) -> dict[str, Any]:
    return {
        "pre_title": None,
        "title": None,
        "sub_title": None,
        "body": "",
        "lead": None,
        "source_outlet": None,
        "reporters": [],
        "trainee_reporters": [],
        "correspondents": [],
        "photographers": [],
        "editors": [],
        "source": None,
        "published_at": None,
        "event_date": None,
        "repairs": repairs or [],
        "is_mirror_copy": False,
        "is_article": reason is None,
        "reason": reason,
    }


def is_keyword_line(line: str) -> bool:
    """A spam keyword line: `关键词:…`, or two or more short space-separated tokens, no sentence."""
    line = line.strip()
    if _KEYWORD_PREFIX.match(line):
        return True
    tokens = line.split()
    return len(tokens) >= 2 and all(len(t) <= 8 for t in tokens) and not _SENTENCE.search(line)


def _looks_like_lead(line: str) -> bool:
    return bool(bl.LEAD.match(_T2S.convert(line[:60])))


def _leads(lines: list[str]) -> list[bool]:
    """`_looks_like_lead` of each line (lines hold no line break), with one OpenCC call for all:
    the per-call cost dominates on short strings, and no conversion spans a line break."""
    heads = [line[:60] for line in lines]
    converted = _T2S.convert("\n".join(heads)).split("\n")
    if len(converted) != len(heads):
        converted = [_T2S.convert(head) for head in heads]
    return [bool(bl.LEAD.match(head)) for head in converted]


def parse_plain_text(text: str) -> Extracted:
    """A plain-text article → `Extracted`: the headline is the line above the lead (`…讯(…)`) when
    there is one, else the first line that is not a spam keyword line; lines above the headline
    are spam and dropped (counted in `extractor`); the rest are paragraphs. Never raises."""
    if not isinstance(text, str):
        return Extracted(is_article=False, reason="plain text is not a str", extractor="plain_text")
    if len(text) > MAX_TEXT_CHARS:
        return Extracted(
            is_article=False,
            reason=f"text too long ({len(text)} chars > {MAX_TEXT_CHARS})",
            extractor="plain_text",
        )
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        return Extracted(is_article=False, reason="empty text", extractor="plain_text")
    lead_at = next((i for i, is_lead in enumerate(_leads(lines[:12])) if is_lead), None)
    if lead_at is not None and lead_at >= 1:
        head = lead_at - 1
    else:
        head = next((i for i, line in enumerate(lines) if not is_keyword_line(line)), 0)
        if lead_at == 0:
            head = -1
    extractor = f"plain_text:spam={head}" if head > 0 else "plain_text"
    title = lines[head] if head >= 0 else None
    return Extracted(title=title, paragraphs=lines[head + 1 :], extractor=extractor)


def _han_len(part: str) -> int:
    return len(re.findall(r"[\u4e00-\u9fff0-9A-Za-z]", part))


def _units(parts: list[str]) -> list[list[str]]:
    """Group parts into units: two adjacent short parts of nearly equal length are one parallel
    phrase (`冬菜飘香季 加工正当时`, a couplet), anything else stands alone."""
    units: list[list[str]] = []
    i = 0
    while i < len(parts):
        a = parts[i]
        if i + 1 < len(parts):
            b = parts[i + 1]
            la, lb = _han_len(a), _han_len(b)
            if la <= 10 and lb <= 10 and abs(la - lb) <= 2:
                units.append([a, b])
                i += 2
                continue
        units.append([a])
        i += 1
    return units


def split_headline(line: str) -> tuple[str | None, str, str | None]:
    """(pre_title, title, sub_title) of a headline a copy joined with spaces.

    Parts are grouped into units (a couplet of two short parallel phrases is one unit). One unit is
    one title, kept whole (`家庭医生走进宝顶镇 送健康服务上门`). Otherwise the title is the first
    unit, unless that unit is a couplet or a later unit clearly names a place or body and an event
    (`…举行扩大会议`, `…投产`) while it does not; units before the title are the 引题, after it the
    副题. A unit between the title and a final `X主持会议并讲话`-style 副题 moves to the 引题 when
    there is none (the mirrors put the title first, as the seed shows).
    """
    parts = line.split()
    units = _units(parts)
    if len(units) < 2:
        return None, line, None

    def score(unit: list[str]) -> int:
        text = "".join(unit)
        if _SUB_SIGNAL.search(text):
            return -5
        return len(_PLACE.findall(text)) + 2 * len(_EVENT.findall(text)) + (_han_len(text) >= 8)

    scores = [score(u) for u in units]
    anchor = 0
    if len(units[0]) == 2:
        anchor = 1
    best = max(range(anchor, len(units)), key=lambda i: (scores[i], -i))
    if scores[best] >= scores[anchor] + 2:
        anchor = best
    pre = [p for u in units[:anchor] for p in u]
    sub_units = units[anchor + 1 :]
    if not pre and len(sub_units) >= 2 and _SUB_SIGNAL.search("".join(sub_units[-1])):
        pre = [p for u in sub_units[:-1] for p in u]
        sub_units = sub_units[-1:]
    sub = [p for u in sub_units for p in u]
    return (" ".join(pre) or None), " ".join(units[anchor]), (" ".join(sub) or None)


def _is_traditional(sample: str) -> bool:
    """At least 3 Traditional-only characters, making at least TRADITIONAL_SHARE of the Han ones."""
    traditional = len(_TRADITIONAL.findall(sample))
    if traditional < 3:
        return False
    han = len(_HAN.findall(sample))
    return bool(han) and traditional / han >= TRADITIONAL_SHARE


def _simplify(text: str | None) -> str | None:
    return to_simplified(text) if text else text


def _norm(text: str | None) -> str | None:
    if text is None:
        return None
    text = punct.normalize(text)
    return text or None


def clean(
    ex: Extracted,
    *,
    url: str | None = None,
    published_hint: date | None = None,
    fetched_at: datetime | None = None,
) -> dict[str, Any]:
    """Clean one extracted article (module docstring). Never raises on odd text."""
    repairs: list[str] = []
    if not ex.is_article:
        out = _empty(ex.reason or "not an article")
        # The date still helps whoever reads the quarantine.
        out["published_at"] = dates.resolve_published(
            page=ex.published_at if isinstance(ex.published_at, datetime) else None,
            hint=_as_date(published_hint),
            url=url,
            fetched_at=fetched_at if isinstance(fetched_at, datetime) else None,
        )[0]
        return out
    paragraphs_in = [p for p in (ex.paragraphs or []) if isinstance(p, str)]
    heads = [h if isinstance(h, str) else None for h in (ex.pre_title, ex.title, ex.sub_title)]
    size = sum(len(p) for p in paragraphs_in) + sum(len(h or "") for h in heads)
    if size > MAX_TEXT_CHARS:
        return _empty(f"text too long ({size} chars > {MAX_TEXT_CHARS})")
    spam_lines = 0
    extractor = ex.extractor if isinstance(ex.extractor, str) else ""
    spam = _SPAM_MARK.fullmatch(extractor)
    if spam:
        spam_lines = int(spam.group(1))
        repairs.append(f"spam_lines_dropped:{spam_lines}")

    # Paragraphs may carry line breaks; one line is one paragraph from here on.
    lines = [_CONTROL.sub("", line) for p in paragraphs_in for line in p.split("\n")]
    lines = [line for line in lines if line.strip()]
    pre, title, sub = (_CONTROL.sub("", h).replace("\n", " ") if h else None for h in heads)

    # 1. Spam-mirror repair, on title and body together so that a shifted run crossing a line
    # break stays whole and the evidence of the headline counts.
    # Spam keyword lines above the headline are evidence too: then one mark is enough.
    joined = "\n".join([title or "", *lines])
    report = mirror.repair_text(joined, min_marks=1 if spam_lines else 3)
    is_mirror = report.is_mirror_copy
    if is_mirror:
        repaired = report.text.split("\n")
        title = repaired[0] or None
        lines = [line for line in repaired[1:] if line.strip()]
        pre = mirror.repair_text(pre, force=True).text if pre else pre
        sub = mirror.repair_text(sub, force=True).text if sub else sub
        repairs.append(f"mirror_annotations:{report.annotations}")
        if report.garbles:
            repairs.append(f"mirror_garbles:{report.garbles}")
        if report.lost:
            repairs.append(f"mirror_lost_chars:{report.lost}")
        if report.skipped:
            repairs.append("mirror_repair_skipped")

    # 2. Traditional → Simplified when the text is Traditional (t2s on Simplified text is not the
    # identity for every character, so genuine Simplified text is left alone).
    source = ex.source if isinstance(ex.source, str) else None
    author_line = ex.author_line if isinstance(ex.author_line, str) else None
    if is_mirror or _is_traditional("\n".join([title or "", *lines[:20]])[:SAMPLE_CHARS]):
        pre, title, sub = _simplify(pre), _simplify(title), _simplify(sub)
        lines = to_simplified("\n".join(lines)).split("\n")  # one call: OpenCC's per-call cost
        source, author_line = _simplify(source), _simplify(author_line)
        repairs.append("t2s")

    # 3. Punctuation and whitespace.
    lines = [n for n in (punct.normalize(line) for line in lines) if n]
    pre, title, sub = _norm(pre), _norm(title), _norm(sub)

    # 4. Headers, footers, credits and residue → fields.
    byline = bl.Byline()
    visible_date: datetime | None = None
    dropped = 0
    while lines:  # leading: spam keyword lines (mirrors), template headers, residue
        line = lines[0]
        when = dates.date_line(line)
        page_header = _PAGE_HEADER.match(line)
        if page_header or (when and len(_HAN.sub("", line)) >= len(line) // 2):
            visible_date = visible_date or when or dates.date_line(page_header.group("date") + " ")
            m = _HEADER_SOURCE.search(line)
            if m:
                byline.source = byline.source or m.group("source")
            m = _HEADER_AUTHOR.search(line)
            if m and m.group("author"):
                bl.parse_author_line(m.group("author"), byline)
        elif _is_residue(line) or (is_mirror and is_keyword_line(line) and not _looks_like_lead(line)):
            pass
        elif bl.FOOTER.match(line) and len(line) <= 40:
            bl.parse_footer(line, byline)
        else:
            break
        lines.pop(0)
        dropped += 1
    trailing: list[str] = []
    scratch = bl.Byline()  # only to recognise lines; they are parsed in page order below
    while lines:  # trailing: footers, credits, residue
        line = lines[-1]
        if _is_residue(line) or bl.parse_footer(line, scratch) or bl.parse_credit(line, scratch):
            trailing.insert(0, lines.pop())
            dropped += 1
            continue
        tail = _RESIDUE_TAIL.search(line)
        if tail:
            lines[-1] = line[: tail.start()].rstrip()
            dropped += 1
            continue
        break

    # 5. Lead (or a byline paragraph), author row, then the closing lines, in page order.
    while lines and bl.parse_byline_line(lines[0], byline):
        lines.pop(0)
        repairs.append("byline_line")
    after_lead = bl.parse_lead(lines[0], byline) if lines else ""
    if author_line:
        # A footer-style row (`作者：张三 责任编辑：李四`, what extraction harvests from the page's
        # chrome and meta tags) routes each field: 作者 to people, editors to `editors`.
        if not (_AUTHOR_FIELDS.match(author_line) and bl.parse_footer(author_line, byline)):
            bl.parse_author_line(author_line, byline)
    kept = []
    for line in lines:  # residue in the middle (mirror pages scatter it), caption photo credits
        if _is_residue(line):
            dropped += 1
            continue
        kept.append(bl.strip_bare_photo_credit(bl.strip_trailing_photo_credit(line, byline), byline))
    lines = [line for line in kept if line]
    if lines and not trailing:
        lines[-1] = bl.strip_glued_credit(lines[-1], byline)
    for line in trailing:
        if not _is_residue(line) and not bl.parse_footer(line, byline):
            bl.parse_credit(line, byline)
    if dropped:
        repairs.append(f"residue_lines:{dropped}")
    if source:
        source = re.sub(r"^\s*来源\s*[:：]\s*", "", punct.normalize(source)) or None
    source = source or byline.source

    # 6. Headline.
    if title and not pre and not sub and " " in title and (is_mirror or extractor.startswith("plain_text")):
        split = split_headline(title)
        if split[0] or split[2]:
            pre, title, sub = split
            repairs.append("headline_split")

    # 7. Dates.
    published_at, origin = dates.resolve_published(
        page=ex.published_at if isinstance(ex.published_at, datetime) else None,
        visible=visible_date,
        hint=_as_date(published_hint) or _as_date(ex.edition_date),
        url=url,
        fetched_at=fetched_at if isinstance(fetched_at, datetime) else None,
    )
    if origin and origin != "page":
        repairs.append(f"published_from:{origin}")
    pub_day = published_at.date() if published_at else None
    event = dates.event_date(after_lead, pub_day) if after_lead else None

    body = "\n".join(lines)
    out = _empty(None, repairs)
    out.update(
        pre_title=pre,
        title=title,
        sub_title=sub,
        body=body,
        lead=byline.lead,
        source_outlet=byline.source_outlet,
        reporters=byline.reporters,
        trainee_reporters=byline.trainee_reporters,
        correspondents=byline.correspondents,
        photographers=byline.photographers,
        editors=byline.editors,
        source=source,
        published_at=published_at,
        event_date=event,
        is_mirror_copy=is_mirror,
    )
    if not _has_han(body, MIN_BODY_HAN):
        out.update(is_article=False, reason=f"no article text (fewer than {MIN_BODY_HAN} Han characters)")
    return out
