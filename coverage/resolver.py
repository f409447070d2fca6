"""Resolving printed place names to national division codes, in memory.

``RegionIndex`` is built once per import (two queries, or straight from the data files) and
answers every row without touching the database. The rules, in order:

1. the official name (襄阳市);
2. the official name's short form, with suffixes (省, 市, 地区, 盟, 自治州, 县, 区 …) and
   ethnic-group words stripped (延边 = 延边朝鲜族自治州, 广西 = 广西壮族自治区);
3. the alias table (typos, renamed, merged, downgraded, nicknames), which says whether the
   name is historical.

When several divisions share a name, the province printed on the row decides; if it does not,
the precedence is explicit: in a city column a prefecture beats a county-level division,
which beats a province (吉林 = 吉林市, 朝阳 = 朝阳市, 大理 = 大理白族自治州); in a county
column the county of the row's city wins. Anything still ambiguous or unknown is
``unresolved``: never a fuzzy guess.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

Status = Literal["ok", "alias", "historical", "unresolved"]
Column = Literal["province", "city", "county"]

MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})
HISTORICAL_KINDS = frozenset({"renamed", "merged", "downgraded"})
KIND_LABELS = {
    "typo": "笔误",
    "renamed": "已更名",
    "merged": "已撤并",
    "downgraded": "已降级",
    "short_name": "简称",
}

# The 56 nationalities, longest first, each also without 族 (伊犁哈萨克自治州).
NATIONALITIES = (
    "汉 蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 "
    "拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 "
    "怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺"
).split()
_ETHNIC = sorted({n + "族" for n in NATIONALITIES} | set(NATIONALITIES), key=len, reverse=True)
_SUFFIXES = (
    "市辖区",
    "特别行政区",
    "自治区",
    "自治州",
    "自治县",
    "自治旗",
    "地区",
    "林区",
    "省",
    "市",
    "盟",
    "县",
    "区",
    "旗",
)
_SPACES = re.compile(r"\s+")


def normalise(name: str) -> str:
    """Remove spaces the PDF extraction put inside names, and full-width spaces."""
    return _SPACES.sub("", name.replace("\u3000", "")).strip()


def short_form(name: str) -> str:
    """延边朝鲜族自治州 → 延边, 广西壮族自治区 → 广西, 襄阳市 → 襄阳, 伊州区 → 伊州."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            stem = name[: -len(suffix)]
            if suffix.startswith("自治"):
                stripped = True
                while stripped:
                    stripped = False
                    for ethnic in _ETHNIC:
                        if stem.endswith(ethnic) and len(stem) > len(ethnic) + 1:
                            stem = stem[: -len(ethnic)]
                            stripped = True
                            break
            return stem
    return name


@dataclass(frozen=True)
class RegionRecord:
    code: str
    name: str
    level: int  # 1 province, 2 prefecture, 3 county
    parent_code: str | None
    province_code: str

    @property
    def is_municipality(self) -> bool:
        return self.code in MUNICIPALITIES


@dataclass(frozen=True)
class AliasRecord:
    alias: str
    code: str
    kind: str
    valid_to: date | None = None
    source: str = ""


@dataclass(frozen=True)
class Resolution:
    status: Status
    input_name: str
    region: RegionRecord | None = None
    message: str = ""
    # The divisions an ambiguous name could mean, for the caller to offer as suggestions.
    candidates: tuple[RegionRecord, ...] = ()

    @property
    def region_code(self) -> str | None:
        return self.region.code if self.region else None

    @property
    def canonical_name(self) -> str | None:
        return self.region.name if self.region else None


@dataclass(frozen=True)
class _Query:
    """One name to resolve: ``text`` is ``name`` normalised; the rest is the row's context."""

    text: str
    name: str
    column: Column
    province: RegionRecord | None
    city: RegionRecord | None
    county_only: bool  # a county-suffixed name in a county column


# Column preference when several divisions share a name: lower ranks first.
_RANK = {
    "province": {1: 0, 2: 1, 3: 2},
    "city": {2: 0, 3: 1, 1: 2},
    "county": {3: 0, 2: 1, 1: 2},
}


class RegionIndex:
    def __init__(self, regions: Iterable[RegionRecord], aliases: Iterable[AliasRecord] = ()):
        self.by_code: dict[str, RegionRecord] = {}
        self._exact: dict[str, list[RegionRecord]] = defaultdict(list)
        self._short: dict[str, list[RegionRecord]] = defaultdict(list)
        for region in regions:
            self.by_code[region.code] = region
            self._exact[region.name].append(region)
            short = short_form(region.name)
            if short != region.name:
                self._short[short].append(region)
        self._aliases: dict[str, list[AliasRecord]] = defaultdict(list)
        for alias in aliases:
            if alias.code in self.by_code:
                self._aliases[normalise(alias.alias)].append(alias)

    # --- public -------------------------------------------------------------------------

    def resolve(
        self,
        name: str,
        *,
        column: Column = "city",
        province: RegionRecord | None = None,
        city: RegionRecord | None = None,
    ) -> Resolution:
        """Resolve one printed name; ``province``/``city`` are the row's context, if known."""
        text = normalise(name)
        if not text:
            return Resolution("unresolved", name, message="名称为空")
        if column == "county" and text.endswith(("县", "区", "旗")):
            # "邢台县" must not fall back to 邢台市: a county-suffixed name matches only
            # county-level divisions (or an alias that says where it went).
            return self._resolve(_Query(text, name, column, province, city, county_only=True))
        return self._resolve(_Query(text, name, column, province, city, county_only=False))

    def _resolve(self, query: _Query) -> Resolution:
        # 1. the official name; 2. a curated alias for exactly this text (it beats the short
        # form: 巢湖 is the abolished prefecture, not only today's county-level 巢湖市);
        # 3. the official short form; 4. an alias of the stem; 5. another suffix.
        text = query.text
        if text in self.by_code:  # a 6-digit division code
            return Resolution("ok", query.name, self.by_code[text])
        found = self._official(query, self._exact.get(text, []))
        if found is not None:
            return found
        stem = short_form(text)
        found = self._alias(text, query.name, text, query.column, query.province, query.city)
        if found is not None:
            return found
        if len(self._levels(query, self._exact.get(text, []))) > 1:
            # Several divisions carry exactly this name (朝阳区: 北京 and 长春) and the row
            # does not say which: another suffix (朝阳市) would be a wrong guess.
            return self._unresolved(query)
        found = self._official(query, self._short.get(text, []))
        if found is not None:
            return found
        if stem != text:
            found = self._alias(stem, query.name, text, query.column, query.province, query.city)
            if found is not None:
                return found
        if stem != text:
            found = self._other_suffix(query, stem)
            if found is not None:
                return found
        found = self._prefecture_short_name(query)
        if found is not None:
            return found
        found = self._compound(query)
        if found is not None:
            return found
        return self._unresolved(query)

    def resolve_province(self, name: str) -> RegionRecord | None:
        """The province a province cell names, or None (group headings, "直辖市")."""
        result = self.resolve(name, column="province")
        if result.region and result.region.level == 1:
            return result.region
        return None

    def full_name(self, region: RegionRecord) -> str:
        """The name with its province and city, as a person writes it (吉林省长春市朝阳区);
        it resolves back to the region."""
        chain = [region]
        while chain[-1].parent_code and chain[-1].parent_code in self.by_code:
            chain.append(self.by_code[chain[-1].parent_code])
        return "".join(r.name for r in reversed(chain))

    def province_name(self, region: RegionRecord) -> str:
        province = self.by_code.get(region.province_code)
        return province.name if province and province.code != region.code else ""

    def city_of(self, region: RegionRecord) -> RegionRecord:
        """The prefecture-level city a county belongs to (itself for a city)."""
        if region.level == 3 and region.parent_code and region.parent_code in self.by_code:
            parent = self.by_code[region.parent_code]
            if parent.level == 2:
                return parent
        return region

    # --- internals ----------------------------------------------------------------------

    def _levels(self, query: _Query, candidates: list[RegionRecord]) -> list[RegionRecord]:
        return [r for r in candidates if r.level == 3] if query.county_only else candidates

    def _official(self, query: _Query, candidates: list[RegionRecord]) -> Resolution | None:
        text, name, province, city = query.text, query.name, query.province, query.city
        chosen = self._choose(self._levels(query, candidates), query.column, province, city)
        if chosen is None:
            return None
        if province is not None and chosen.province_code != province.code:
            return Resolution(
                "alias",
                name,
                chosen,
                f"省份栏为“{province.name}”，“{text}”实属{self.province_name(chosen)}，"
                f"按“{chosen.name}”处理",
            )
        if (
            query.column == "county"
            and city is not None
            and chosen.level == 3
            and chosen.parent_code is not None  # always set on a county
            and chosen.parent_code != city.code
        ):
            return Resolution(
                "alias",
                name,
                chosen,
                f"“{text}”不属{city.name}，实属{self.by_code[chosen.parent_code].name}，"
                f"按“{chosen.name}”处理",
            )
        return Resolution("ok", name, chosen, self._describe(chosen, query.column))

    def _other_suffix(self, query: _Query, stem: str) -> Resolution | None:
        # Same name, another suffix (日喀则地区 for 日喀则市, 阿拉善盟市 for 阿拉善盟):
        # accepted, but named as a reinterpretation.
        chosen = self._choose(
            self._levels(query, self._exact.get(stem, []) + self._short.get(stem, [])),
            query.column,
            query.province,
            query.city,
        )
        if chosen is None:
            return None
        return Resolution(
            "alias",
            query.name,
            chosen,
            f"“{query.text}”与正式名称“{chosen.name}”后缀不同，按“{chosen.name}”处理",
        )

    def _prefecture_short_name(self, query: _Query) -> Resolution | None:
        # 红河州, 大理州: the common short form of an autonomous prefecture.
        text = query.text
        if not (text.endswith("州") and len(text) > 2):
            return None
        prefectures = [
            r
            for r in self._short.get(text[:-1], [])
            if r.name.endswith("自治州") and not query.county_only
        ]
        chosen = self._choose(prefectures, query.column, query.province, query.city)
        if chosen is None:
            return None
        return Resolution("alias", query.name, chosen, f"“{text}”为简称，按“{chosen.name}”处理")

    # --- a name written with its parents (浙江省杭州市上城区, 北京朝阳区) ---------------------

    def _named(self, text: str) -> list[RegionRecord]:
        """Every division this text names by itself: official name, short form or alias."""
        found = self._exact.get(text, []) + self._short.get(text, [])
        found += [self.by_code[a.code] for a in self._aliases.get(text, [])]
        return list(dict.fromkeys(found))

    @staticmethod
    def _is_under(region: RegionRecord, parent: RegionRecord) -> bool:
        if region.code == parent.code:
            return False
        return region.parent_code == parent.code or (
            parent.level == 1 and region.province_code == parent.code
        )

    def _within(self, text: str, parent: RegionRecord) -> list[RegionRecord]:
        """The divisions under ``parent`` that ``text`` names, itself possibly written
        with an intermediate parent (杭州市上城区 under 浙江省)."""
        found = [r for r in self._named(text) if self._is_under(r, parent)]
        if found:
            return found
        for cut in range(2, len(text) - 1):
            for middle in self._named(text[:cut]):
                if middle.level < 3 and self._is_under(middle, parent):
                    found += self._within(text[cut:], middle)
        return list(dict.fromkeys(found))

    def _compound(self, query: _Query) -> Resolution | None:
        # Split the text where a province or city name ends and read the rest inside it;
        # only the divisions' own names are used, so no place is special-cased here.
        text, found = query.text, []
        for cut in range(2, len(text) - 1):
            for parent in self._named(text[:cut]):
                if parent.level < 3:
                    found += self._within(text[cut:], parent)
        found = list(dict.fromkeys(found))
        if query.province is not None:
            found = [r for r in found if r.province_code == query.province.code] or found
        if len(found) == 1:
            return Resolution("ok", query.name, found[0], self._describe(found[0], query.column))
        if found:
            return self._ambiguous(query, found)
        return None

    def _ambiguous(self, query: _Query, candidates: list[RegionRecord]) -> Resolution:
        where = "、".join(self.full_name(r) for r in candidates[:5])
        return Resolution(
            "unresolved",
            query.name,
            message=f"“{query.text}”有多个同名区划（{where}），请注明省份或添加别名",
            candidates=tuple(candidates),
        )

    def _unresolved(self, query: _Query) -> Resolution:
        text = query.text
        ambiguous = list(dict.fromkeys(self._exact.get(text, []) + self._short.get(text, [])))
        if query.province is not None:
            ambiguous = [r for r in ambiguous if r.province_code == query.province.code] or (
                ambiguous
            )
        if len(ambiguous) > 1:
            return self._ambiguous(query, ambiguous)
        return Resolution(
            "unresolved", query.name, message=f"找不到“{text}”，请核对名称或在后台添加别名"
        )

    def _alias(
        self,
        key: str,
        name: str,
        text: str,
        column: Column,
        province: RegionRecord | None,
        city: RegionRecord | None,
    ) -> Resolution | None:
        aliases = self._aliases.get(key, [])
        if not aliases:
            return None
        targets = {a.code: a for a in aliases}
        chosen = self._choose([self.by_code[code] for code in targets], column, province, city)
        if chosen is None:
            return None
        alias = targets[chosen.code]
        status: Status = "historical" if alias.kind in HISTORICAL_KINDS else "alias"
        when = f"（{alias.valid_to:%Y年%m月}起停用）" if alias.valid_to else ""
        parent = self.city_of(chosen)
        belongs = f"（属{parent.name}）" if parent is not chosen else ""
        return Resolution(
            status,
            name,
            chosen,
            f"“{text}”{KIND_LABELS.get(alias.kind, alias.kind)}{when}，"
            f"按“{chosen.name}”{belongs}处理",
        )

    def _choose(
        self,
        candidates: list[RegionRecord],
        column: Column,
        province: RegionRecord | None,
        city: RegionRecord | None,
    ) -> RegionRecord | None:
        if not candidates:
            return None
        pool = list(dict.fromkeys(candidates))
        if column == "county" and city is not None:
            inside = [r for r in pool if r.parent_code == city.code or r.code == city.code]
            if not inside and city.is_municipality:
                inside = [r for r in pool if r.province_code == city.code]
            if inside:
                pool = inside
        if province is not None:
            inside = [r for r in pool if r.province_code == province.code]
            if not inside:
                # The row's province does not hold this name. Only a prefecture-level city,
                # unique in the country, is taken anyway (and the caller names it).
                outside = [r for r in pool if r.level == 2 or r.is_municipality]
                return outside[0] if len(outside) == 1 else None
            pool = inside
        if len(pool) == 1:
            return pool[0]
        ranks = _RANK[column]
        best = min(ranks[r.level] for r in pool)
        top = [r for r in pool if ranks[r.level] == best]
        return top[0] if len(top) == 1 else None

    def _describe(self, region: RegionRecord, column: Column) -> str:
        if column == "city" and region.level == 3:
            city = self.city_of(region)
            belongs = f"，属{city.name}" if city is not region else ""
            return f"县级行政区{belongs}，按县级范围处理"
        if column == "city" and region.level == 1 and not region.is_municipality:
            return "省级名称出现在城市栏"
        return ""
