"""How each outlet dresses a story: lead, author line, credits and footers (outlets.md, "Article
conventions"). Pure functions of the story and the outlet id, so pages are the same on every start.
"""

from __future__ import annotations

from zlib import crc32

from quxian.sites.content import Story

# Paper the government portals republish from (ContentSource) and whose lead they keep.
PAPER_OF_DISTRICT = {"dazu": "xinyubao", "wanzhou": "sxdsb", "changshou": "ccrb"}
PAPER_NAMES = {"xinyubao": "新渝报", "sxdsb": "三峡都市报", "ccrb": "长寿日报"}


def pad(name: str) -> str:
    """Print style of some papers: a two-character name padded with a space (`张 玲`)."""
    return f"{name[0]} {name[1]}" if len(name) == 2 else name


def flip(story: Story, salt: str) -> bool:
    """A stable coin toss per story, so variants spread over stories without randomness."""
    return crc32(f"{story.id}/{salt}".encode()) % 2 == 0


def _roles(story: Story, sep: str, padded: bool) -> str:
    """`记者余佳 通讯员徐鹏` (sep="") or `记者 余佳 通讯员 徐鹏` (sep=" ")."""
    parts = []
    for role, names in (
        ("记者", story.reporters),
        ("见习记者", story.trainee_reporters),
        ("通讯员", story.correspondents),
    ):
        if names:
            shown = [pad(n) if padded else n for n in names]
            parts.append(role + sep + " ".join(shown))
    return " ".join(parts)


def lead(story: Story, outlet_id: str) -> str:
    """The lead the outlet glues in front of the first paragraph ('' when it has none)."""
    if outlet_id in ("xinyubao", "mirror_cqxw"):
        roles = _roles(story, "", False)
        return f"新渝报讯({roles})" if roles else "新渝报讯"
    if outlet_id == "sxdsb":
        roles = _roles(story, " ", True)
        return f"本报讯({roles})" if roles else "本报讯"
    if outlet_id == "ccrb":
        roles = _roles(story, " ", False)
        return f"本报讯({roles})" if roles else "本报讯"
    if outlet_id == "dazuwang":
        if republishes_paper(story, outlet_id):
            return lead(story, "xinyubao")
        roles = _roles(story, " ", False)
        return f"大足网讯({roles})" if roles else ""
    if outlet_id == "bswxw":
        roles = _roles(story, " ", False)
        return f"璧山网讯({roles})" if roles and not end_credit(story, outlet_id) else ""
    if outlet_id.endswith("_gov"):
        paper = PAPER_OF_DISTRICT.get(story.district)
        return lead(story, paper) if paper and paper in story.runs else ""
    return ""


def republishes_paper(story: Story, outlet_id: str) -> bool:
    """Whether the portal runs the paper's text (lead kept, 来源 = the paper) instead of its own."""
    if outlet_id == "dazuwang":
        paper_day = story.runs.get("xinyubao")
        return paper_day is not None and story.runs["dazuwang"] >= paper_day
    if outlet_id.endswith("_gov"):
        return PAPER_OF_DISTRICT.get(story.district, "") in story.runs
    return False


def end_credit(story: Story, outlet_id: str) -> bool:
    """璧山网 credits some stories at the end, `(杨琢 李海)`, instead of a lead."""
    return outlet_id == "bswxw" and flip(story, "credit") and bool(story.reporters or story.correspondents)


def closing_lines(story: Story, outlet_id: str) -> list[str]:
    """Lines after the body: end credits and photo credits (footers are the template's business)."""
    out: list[str] = []
    if end_credit(story, outlet_id):
        out.append("(" + " ".join((*story.reporters, *story.correspondents)) + ")")
    if story.photographers and outlet_id in ("xinyubao", "sxdsb", "ccrb", "dazuwang", "mirror_cqxw"):
        out.append("记者 " + " ".join(pad(p) for p in story.photographers) + " 摄")
    return out


def author_line(story: Story) -> str:
    """The author row of e-paper templates (`table.wz` row 4, `#author`)."""
    return _roles(story, " ", False)


def body(story: Story, outlet_id: str) -> list[str]:
    """The paragraphs as the outlet prints them: lead glued to the first, credits at the end."""
    paras = list(story.paragraphs)
    paras[0] = lead(story, outlet_id) + paras[0]
    return paras + closing_lines(story, outlet_id)


def source_name(story: Story, outlet_id: str, own: str) -> str:
    """来源 / ContentSource: the paper when the outlet republishes it, else the outlet itself."""
    if republishes_paper(story, outlet_id):
        return PAPER_NAMES[PAPER_OF_DISTRICT[story.district]]
    return own
