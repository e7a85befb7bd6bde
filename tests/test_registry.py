from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from quxian.registry import PLATFORMS, RegistryError, load, load_file


def test_every_district_has_its_government_portal():
    reg = load()
    assert len(reg.districts) == 38
    gov = {o.district for o in reg.outlets.values() if o.kind == "gov"}
    assert gov == set(reg.districts)
    assert reg.outlet("dazu_gov").hosts == ("www.dazu.gov.cn",)


def test_county_types_match_outlets_md():
    types = [d.type for d in load().districts.values()]
    assert types.count("区") == 26
    assert types.count("县") == 8
    assert types.count("自治县") == 4


def test_nothing_claims_to_be_verified_live():
    assert not any(o.verified for o in load().outlets.values())


def test_offline_sites_cover_every_platform():
    offline = load().offline_outlets()
    assert {o.platform for o in offline} == set(PLATFORMS)


def test_epaper_start_urls_are_filled_per_day():
    o = load().outlet("ccrb")
    assert o.start_urls_for(date(2025, 11, 4)) == ["https://epaper.ccs.cn/pc/layout/202511/04/node_01.html"]


def test_bad_registry_entries_are_named(tmp_path: Path):
    f = tmp_path / "r.yaml"
    f.write_text(
        "districts: [{slug: dazu, name: 大足区, code: '500111', type: 区}]\n"
        "outlets: [{id: x1, name: X, district: nowhere, kind: paper, platform: xinyubao, start_urls: [u]}]\n",
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match="x1: unknown district 'nowhere'"):
        load_file(f)
    f.write_text(
        "districts: [{slug: ../etc, name: 大足区, code: '500111', type: 区}]\noutlets: []\n", encoding="utf-8"
    )
    with pytest.raises(RegistryError, match="slug"):
        load_file(f)


def test_unknown_outlet_is_a_clear_error():
    with pytest.raises(RegistryError, match="unknown outlet 'nope'"):
        load().outlet("nope")
