"""Offline sites at any size: a generated registry and story folder for N outlets.

`generate(n, out_dir)` writes `out_dir/registry.yaml` (use it with `QUXIAN_REGISTRY`) and
`out_dir/content/<district>.yaml` (serve it with `python -m quxian.sites.server --content …`).
Outlet k (1-based) lives in its own district `s<k:04d>` on its own host
`www.s<k:04d>.scale.test`; odd outlets are district 融媒体 portals (`rongmei`), even ones
government portals (`gov_trs`), so both list-page platforms are exercised. Every outlet runs
`STORIES_PER_DAY` stories on each of `DAYS`, and each story runs on one outlet only, so a night's
work grows linearly with N (no cross-outlet duplicates to fold).

Stories are synthetic text assembled from the phrase lists below with a seeded RNG: the same N
always gives the same bytes, and nothing is copied from a real page. They follow
`quxian/sites/content/FORMAT.md`; the sites package's renderers turn them into pages.

    python benchmarks/scale_sites.py 400 /tmp/scale400
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from pathlib import Path

import yaml

DAYS = (date(2025, 11, 13), date(2025, 11, 14), date(2025, 11, 15))
STORIES_PER_DAY = 5
_PLACES = ("城南街道", "双桥镇", "龙水湖", "工业园区", "高新区", "滨江社区", "石马村", "东城片区", "中心城区")
_TOPICS = (
    ("冬季道路交通安全集中整治", "交通"),
    ("老旧小区改造项目", "城建"),
    ("农村人居环境整治", "乡村"),
    ("重点项目建设推进会", "发展"),
    ("冬季消防安全检查", "安全"),
    ("社区养老服务中心", "民生"),
    ("柑橘采摘季", "农业"),
    ("职业技能培训班", "就业"),
    ("河道清漂行动", "生态"),
    ("全民健身运动会", "体育"),
)
_VERBS = ("开展", "启动", "推进", "举行", "完成")
_SENTENCES = (
    "当天，相关部门工作人员深入一线，逐项检查落实情况，并现场协调解决群众反映的问题。",
    "据介绍，此次活动覆盖辖区多个村社，预计惠及群众三千余人，后续还将开展跟踪回访。",
    "现场，工作人员向过往群众发放宣传资料，耐心解答大家关心的政策问题，气氛热烈。",
    "负责人表示，下一步将建立长效机制，定期通报工作进展，确保各项措施落到实处。",
    "不少居民表示，家门口的变化看得见、摸得着，生活越来越方便，幸福感不断提升。",
    "为保障工作顺利开展，当地提前制定实施方案，明确责任分工，细化时间节点。",
    "截至目前，项目已完成总工程量的七成以上，预计将于明年上半年全面投入使用。",
    "活动中，志愿者们分组行动，清理杂物、整理线路、修补设施，赢得群众点赞。",
)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林"
_GIVEN = ("佳", "鹏", "静", "涛", "敏", "磊", "婷", "洋", "勇", "艳", "杰", "娟", "强", "霞", "军")


def outlet_ids(n: int) -> list[str]:
    """The generated outlet ids, in order (a night for the first k outlets uses `[:k]`)."""
    return [f"s{k:04d}_{'rm' if k % 2 else 'gov'}" for k in range(1, n + 1)]


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice((1, 2))))


def _story(rng: random.Random, district: str, outlet_id: str, day: date, slot: int) -> dict:
    event = day - timedelta(days=rng.choice((0, 1)))
    topic, _ = _TOPICS[(slot + rng.randrange(len(_TOPICS))) % len(_TOPICS)]
    place = rng.choice(_PLACES)
    dateline = f"{event.month}月{event.day}日"
    first = f"{dateline}，{district}{place}{rng.choice(_VERBS)}{topic}，{rng.choice(_SENTENCES)}"
    # Figures and names unique to the story, so that near-duplicate detection finds nothing to
    # fold across generated outlets (the shared sentences alone would look alike).
    figures = (
        f"据{district}{place}负责人{_name(rng)}介绍，{topic}共涉及{rng.randrange(3, 90)}个点位、"
        f"{rng.randrange(100, 9000)}户居民，计划投入资金{rng.randrange(20, 900)}万元，"
        f"编号{rng.randrange(10**7, 10**8)}。"
    )
    paragraphs = [first, figures, *rng.sample(_SENTENCES, 2)]
    return {
        "id": f"{outlet_id.replace('_', '-')}-{day:%Y%m%d}-{slot}",
        "event_date": event.isoformat(),
        "dateline": dateline,
        "title": f"{place}{rng.choice(_VERBS)}{topic}（{day.month}月{day.day}日第{slot + 1}条）",
        "reporters": [_name(rng)],
        "correspondents": [_name(rng)] if rng.random() < 0.5 else [],
        "editor": _name(rng),
        "paragraphs": paragraphs,
        "runs": {outlet_id: day.isoformat()},
    }


def registry_doc(n: int) -> dict:
    """The registry mapping (same shape as `quxian/outlets.yaml`) for N generated outlets."""
    districts, outlets = [], []
    for k, oid in enumerate(outlet_ids(n), 1):
        slug = f"s{k:04d}"
        host = f"www.{slug}.scale.test"
        gov = oid.endswith("_gov")
        districts.append({"slug": slug, "name": f"规模测试{k}区", "code": f"9{k:05d}", "type": "区"})
        outlets.append(
            {
                "id": oid,
                "name": f"规模测试{k}区{'人民政府' if gov else '融媒体中心'}",
                "district": slug,
                "kind": "gov" if gov else "portal",
                "platform": "gov_trs" if gov else "rongmei",
                "start_urls": [f"https://{host}/"],
                "allowed_domains": [f"{slug}.scale.test"],
                "encoding": None,
                "verified": False,
                "evidence": "✗",
                "offline": True,
                "enabled": True,
                "note": "Generated for scale benchmarks (benchmarks/scale_sites.py); offline only.",
            }
        )
    return {"districts": districts, "outlets": outlets}


def generate(n: int, out_dir: Path) -> tuple[Path, Path]:
    """Write the registry and story folder for N outlets; returns (registry file, content dir)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    content = out_dir / "content"
    content.mkdir(exist_ok=True)
    registry = out_dir / "registry.yaml"
    registry.write_text(
        yaml.safe_dump(registry_doc(n), allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    for old in content.glob("*.yaml"):
        old.unlink()
    for k, oid in enumerate(outlet_ids(n), 1):
        slug = f"s{k:04d}"
        rng = random.Random(f"quxian-scale-{oid}")
        district_name = f"规模测试{k}区"
        stories = [
            _story(rng, district_name, oid, day, slot) for day in DAYS for slot in range(STORIES_PER_DAY)
        ]
        doc = {"district": slug, "stories": stories}
        (content / f"{slug}.yaml").write_text(
            yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
    return registry, content


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[0].isdigit():
        print("usage: scale_sites.py N OUT_DIR", file=sys.stderr)
        return 2
    registry, content = generate(int(argv[0]), Path(argv[1]))
    print(f"QUXIAN_REGISTRY={registry}")
    print(f"content: {content} (python -m quxian.sites.server --content {content})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
