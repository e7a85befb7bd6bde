"""Story files of the offline outlet sites: `<district>.yaml` read into typed records.

The YAML format is described in `FORMAT.md` beside this file. Stories are fictional, written for
this project; the renderers (`quxian.sites.render_*`) turn each story into one page per outlet that
runs it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml

CONTENT_DIR = Path(__file__).resolve().parent
log = logging.getLogger(__name__)
# libyaml's loader when PyYAML was built with it: the pure-Python one dominates start-up at scale.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StoryError(ValueError):
    """A story file is malformed; the message names the file and the story."""


@dataclass(frozen=True)
class Story:
    """One story as the newsroom wrote it, before any outlet dresses it with a lead or footer."""

    id: str
    district: str
    event_date: date
    dateline: str
    title: str
    paragraphs: tuple[str, ...]
    runs: dict[str, date]
    pre_title: str | None = None
    sub_title: str | None = None
    alt_title: str | None = None
    reporters: tuple[str, ...] = ()
    trainee_reporters: tuple[str, ...] = ()
    correspondents: tuple[str, ...] = ()
    photographers: tuple[str, ...] = ()
    editor: str | None = None
    template: str | None = None


def _as_date(value: object, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise StoryError(f"{where}: expected a YYYY-MM-DD date, got {value!r}") from None


def _names(value: object) -> tuple[str, ...]:
    if not value:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def parse_story(raw: dict, district: str, where: str) -> Story:
    """Validate one YAML story mapping; raises StoryError naming `where` and the story id."""
    sid = raw.get("id")
    if not sid or not raw.get("title") or not raw.get("paragraphs"):
        raise StoryError(f"{where}: story {sid!r} needs id, title and paragraphs")
    runs = raw.get("runs") or {}
    if not isinstance(runs, dict) or not runs:
        raise StoryError(f"{where}: story {sid} has no runs (outlet id -> publication date)")
    return Story(
        id=str(sid),
        district=district,
        event_date=_as_date(raw.get("event_date"), f"{where}: {sid}.event_date"),
        dateline=str(raw.get("dateline") or ""),
        title=str(raw["title"]).strip(),
        paragraphs=tuple(str(p).strip() for p in raw["paragraphs"] if str(p).strip()),
        runs={str(k): _as_date(v, f"{where}: {sid}.runs.{k}") for k, v in runs.items()},
        pre_title=raw.get("pre_title") or None,
        sub_title=raw.get("sub_title") or None,
        alt_title=raw.get("alt_title") or None,
        reporters=_names(raw.get("reporters")),
        trainee_reporters=_names(raw.get("trainee_reporters")),
        correspondents=_names(raw.get("correspondents")),
        photographers=_names(raw.get("photographers")),
        editor=raw.get("editor") or None,
        template=raw.get("template") or None,
    )


def load_file(path: Path) -> list[Story]:
    """Stories of one `<district>.yaml` file, in file order."""
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}  # noqa: S506 (a safe loader)
    district = doc.get("district") or path.stem
    return [parse_story(raw, district, str(path)) for raw in doc.get("stories") or []]


def load_stories(directory: Path | str | None = None) -> list[Story]:
    """All stories of every `*.yaml` file in `directory` (default: this package's folder).

    Sorted by (district, id) so that everything rendered from them is the same on every start.
    Raises StoryError on a malformed file or a story id that appears twice.
    """
    folder = Path(directory) if directory else CONTENT_DIR
    stories: list[Story] = []
    for path in sorted(folder.glob("*.yaml")):
        stories.extend(load_file(path))
    seen: set[str] = set()
    for s in stories:
        if s.id in seen:
            raise StoryError(f"{folder}: story id {s.id!r} appears twice")
        seen.add(s.id)
    return sorted(stories, key=lambda s: (s.district, s.id))
