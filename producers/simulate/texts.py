"""Realistic Chinese reports of the demo district, built from parts (deterministic per seed).

    >>> from producers.simulate.texts import ReportGenerator
    >>> gen = ReportGenerator(seed=7)
    >>> r = gen.next()
    >>> {"report_id", "title", "description", "reporter_phone", "occurred_at"} <= set(r.body)
    True
    >>> fixed = lambda: datetime(2026, 11, 25, tzinfo=timezone.utc)
    >>> ReportGenerator(seed=7, clock=fixed).next() == ReportGenerator(seed=7, clock=fixed).next()
    True

A report is what a grid worker types on a phone, or what a former grid
network or the 12345 hotline relays: a short title, one to four sentences
(formal, colloquial, terse, or a hotline operator's summary; some with
typos), a grid id (70 %) or a point inside that grid (30 %, WGS-84 or
GCJ-02), a call-back phone, the device time a few minutes to hours ago, and
zero to three photos (uploaded first, as the phone form does; the report
cites the ids the intake gave them). The subcategory mix follows the weights in
:mod:`producers.simulate.scenarios`: city management and disputes are the
most common, P1 about 3 %.

Everything random comes from one ``random.Random(seed)``, so a seed and a
clock give the same reports every time (report ids included).

NOT TRAINING DATA. The phrases here and in ``scenarios.py`` are the
simulator's own and must never be used as classifier training or
evaluation data, nor as templates for it: the classifier's corpora are
written separately, and sharing templates would make its scores meaningless
on simulated traffic.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from district import Grid, Registry, load_registry, wgs84_to_gcj02
from district.datum import GCJ02, WGS84, to_wgs84
from producers.simulate.scenarios import CONFUSED_WITH, NETWORKS, SCENARIOS, Scenario
from schemas.vocabulary import Category, Severity, SourceNetwork

DEVICE_TZ: Final = timezone(timedelta(hours=8))  # phones in the district run on Beijing time

# -- shares (of all reports) ---------------------------------------------------------
GRID_SHARE: Final = 0.70  # the rest give a point
NETWORK_SHARE: Final = 0.18  # reports relayed by a former network or the 12345 hotline
HINT_MISSING: Final = 0.12  # mobile form: category left empty
HINT_WRONG: Final = 0.05  # mobile form: a neighbouring category picked
SEVERITY_HINT: Final = 0.30  # how often a reporter sets the urgency (P1: far more often)
JPEG_MAGIC: Final = b"\xff\xd8\xff\xe0"  # what the intake checks a JPEG by
PHOTO_BYTES: Final = 512  # the rest of a stand-in photo: random, so every photo is its own

# -- parts shared by every category ------------------------------------------------------------
SURNAMES = (
    "黄黄黄韦韦覃覃李李陈陈梁梁莫蒙农陆王张刘杨赵吴周徐罗林何谢邓卢蓝潘廖"
)
GIVEN = ("建国", "秀英", "桂兰", "志强", "海燕", "春生", "丽萍", "文华", "德明", "美玲", "少华", "金凤", "永福", "小红")
ESTATE_HEADS = ("锦华", "金桂", "阳光", "翠苑", "明珠", "滨江", "华庭", "福安", "盛世", "怡景", "荔园", "邕华")
ESTATE_TAILS = ("小区", "花园", "家园", "苑", "新村", "公寓")
CITY_ROADS = ("建设路", "民主路", "人民路", "解放路", "新华街", "环城东路", "朝阳路", "兴业路", "园湖路", "友谊路")
RURAL_ROADS = ("村道", "进村路", "通组路", "机耕路", "乡道", "县道")
SHOP_HEADS = ("好又多", "鸿运", "兴旺", "佳佳", "金牛", "香满园", "蜀香", "快乐", "家家福", "老友")
SHOP_TAILS = ("超市", "烧烤店", "米粉店", "便利店", "五金店", "饭店", "电动车行", "奶茶店", "小卖部", "粉店")
FIRM_HEADS = ("宏达", "鑫源", "永盛", "华兴", "恒通", "桂南", "金鹏", "顺发", "盛达", "万家")
FIRM_TAILS = ("建材厂", "木材加工厂", "砖厂", "塑料厂", "食品厂", "物流公司", "家具厂", "板材厂", "石材厂")
HILLS = ("大岭", "牛角山", "后背山", "马鞍山", "狮子岭", "茶山", "松树坡")

OPENERS_FORMAL = (
    "今日巡查发现", "网格员巡查时发现", "经入户走访了解到", "接群众反映", "据群众反映", "今天上午走访时发现",
    "下午例行巡查中发现", "根据网格内群众报告", "经现场核实", "日常巡查过程中发现",
)
OPENERS_NETWORK = {
    SourceNetwork.URBAN: ("城管队员巡查发现", "城管网格巡查上报", "数字城管信息采集员发现"),
    SourceNetwork.ENVIRONMENT: ("环保网格员巡查发现", "环保网格巡查上报", "接环保热线转来线索"),
    SourceNetwork.EMERGENCY: ("应急网格员巡查发现", "安全生产检查中发现", "应急信息员报告"),
    SourceNetwork.COMPREHENSIVE: ("综治网格员走访发现", "综治中心收到网格上报", "综治网格员报告"),
}
GREETINGS = ("", "", "", "你好，", "领导好，", "报告，", "各位领导，", "麻烦看一下，")
HOTLINE_OPENERS = ("市民来电反映：", "来电人反映：", "群众来电称：", "12345热线转办：来电人称", "来电人称：")
HOTLINE_TAILS = ("来电人要求尽快处理", "来电人希望有关部门尽快核实处理", "来电人要求回复", "请相关单位按时办理并回复")

SINCE_FORMAL = (
    "该情况已持续{d}天", "已有一周左右", "自昨日起一直如此", "持续近半个月", "今日上午发现", "近期反复出现",
    "问题已存在一段时间", "从{d}天前开始",
)
SINCE_COLLOQUIAL = (
    "都好几天了", "昨晚就这样了", "一个多星期了", "从上个月到现在", "今天早上看到的", "说了好久了", "{d}天了",
    "前两天就有了", "一直没人管",
)
SINCE_TERSE = ("{d}天了", "一周", "昨晚开始", "今早", "半个月", "")
SINCE_URGENT = ("刚刚发生", "十来分钟前发现", "半小时前开始", "就在刚才", "现在还在持续")

ASKS_FORMAL = ("请相关部门尽快处理", "请予以协调解决", "请尽快派员现场核查", "请有关部门跟进处置", "请及时处理")
ASKS_COLLOQUIAL = ("麻烦尽快派人来看看", "赶紧找人来弄一下", "希望早点解决", "搞快点哦", "能不能快点处理", "请帮帮忙")
ASKS_TERSE = ("速处理", "请处理", "急", "", "请派人")
URGENT_MARKS = ("紧急！", "【紧急】", "急！", "")
ENDINGS_COLLOQUIAL = ("", "。", "！", "!!", "。。", "…")
PHOTO_NOTES = ("现场照片已上传", "照片附后", "已拍照", "见照片")

# Slips of a phone keyboard's pinyin input (and of hurry).
TYPOS = (
    ("已经", "以经"), ("反映", "反应"), ("垃圾", "拉圾"), ("现在", "现再"), ("处理", "处里"), ("安排", "按排"),
    ("那边", "哪边"), ("马上", "马尚"), ("厉害", "利害"), ("一下", "以下"), ("的", "得"),
    ("在", "再"), ("做", "作"), ("账", "帐"), ("尽快", "进快"), ("路灯", "路登"),
)

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183",
    "184", "185", "186", "187", "188", "189", "191", "198", "199",
)

STYLES: Final = ("formal", "colloquial", "terse")
STYLE_WEIGHTS: Final = (0.42, 0.40, 0.18)


@dataclass(frozen=True)
class SimulatedReport:
    """A generated report: the wire body plus what it really is (for the simulator's own checks)."""

    body: dict[str, Any]  # JSON-ready body of POST /api/v1/reports (validates as schemas.report.Report)
    category: Category  # the true category (the hint may be missing or wrong)
    sub: str  # the simulator's subcategory label, e.g. "urban.manhole"
    severity: Severity  # the true severity
    grid_id: str  # the grid it happened in, also when the body gives a point
    town: str  # that grid's town code
    style: str  # formal / colloquial / terse / hotline
    photos: tuple[bytes, ...] = ()  # JPEG bytes to upload first; their ids go in body["photo_ids"]

    @property
    def report_id(self) -> str:
        return str(self.body["report_id"])

    @property
    def source(self) -> SourceNetwork:
        return SourceNetwork(self.body["source"])


class _Slots(dict):  # type: ignore[type-arg]
    """The ``{slot}`` values of one report, made on first use and then kept (one place, one person...)."""

    def __init__(self, rng: random.Random, grid: Grid, urban: bool, style: str) -> None:
        super().__init__()
        self.rng = rng
        self.grid = grid
        self.urban = urban
        self.style = style
        self._surnames: list[str] = []

    def _surname(self) -> str:
        while True:
            s = self.rng.choice(SURNAMES)
            if s not in self._surnames:
                self._surnames.append(s)
                return s

    def _person(self) -> str:
        r, s = self.rng, self._surname()
        if self.style in ("formal", "hotline"):
            resident = "居民" if self.urban else "村民"
            return r.choice((
                f"{resident}{s}某", f"{s}某某", f"{s}某（{r.choice('男女')}，{r.randint(23, 80)}岁）",
                f"{resident}{s}某某", f"{s}某",
            ))
        return r.choice((f"老{s}", f"{s}大爷", f"{s}阿姨", f"{s}姐", f"{s}师傅", f"{s}{r.choice(GIVEN)}", f"阿{s}"))

    def __missing__(self, key: str) -> str:
        value = self._make(key)
        self[key] = value
        return value

    def _make(self, key: str) -> str:  # noqa: C901 - one branch per slot
        r, g = self.rng, self.grid
        if key == "v":
            return g.village_name
        if key == "vs":
            return g.village_name.removesuffix("社区").removesuffix("村")
        if key == "town":
            return g.town_name
        if key == "sur":
            return self._surname()
        if key in ("who", "who2"):
            return self._person()
        if key == "n":
            return str(r.randint(2, 9))
        if key == "nn":
            return str(r.randint(1, 6) * 10)
        if key == "age":
            return str(r.randint(72, 93))
        if key == "kid":
            return str(r.randint(6, 14))
        if key == "money":
            return r.choice((
                f"{r.randint(2, 9)}千多块", f"{r.randint(1, 20)}万", f"{r.randint(2, 9)}万多元", "十几万",
                f"{r.randint(3, 9)}千元", f"{r.randint(1, 9)}.{r.randint(1, 9)}万",
            ))
        if key == "estate":
            if self.urban:
                return r.choice(ESTATE_HEADS) + r.choice(ESTATE_TAILS)
            return r.choice((f"{self['vs']}新村点", "安置小区", f"{self['vs']}集镇"))
        if key == "road":
            if self.urban:
                return r.choice((*CITY_ROADS, f"{self['vs']}路", f"{self['vs']}大道", f"{self['vs']}街"))
            return r.choice((*RURAL_ROADS, f"{self['vs']}至镇上的公路", f"{self['vs']}村道"))
        if key == "shop":
            return r.choice((f"{r.choice(SHOP_HEADS)}{r.choice(SHOP_TAILS)}", f"{self['sur']}记{r.choice(SHOP_TAILS)}"))
        if key == "firm":
            head = r.choice((*FIRM_HEADS, self["vs"]))
            return head + r.choice(FIRM_TAILS) + r.choice(("", "", "有限公司"))
        if key == "river":
            if self.urban:
                return r.choice(("东湖", "护城河", f"{self['vs']}河", "排洪沟"))
            return r.choice(("南江", f"{self['vs']}河", "村前的小河", "灌溉渠", f"{self['vs']}水库", "山塘"))
        if key == "school":
            return r.choice((f"{self['vs']}小学", f"{g.town_name.removesuffix('街道').removesuffix('镇')}中学",
                             f"{self['vs']}幼儿园", "中心小学"))
        if key == "hill":
            return r.choice((*HILLS, f"{self['vs']}后山"))
        if key == "spot":
            if self.urban:
                return r.choice((
                    f"{self['estate']}{r.randint(1, 18)}栋", f"{self['estate']}门口", f"{self['road']}{r.randint(1, 300)}号",
                    "农贸市场", f"{self['estate']}地下车库", f"{self['road']}公交站旁", f"{self['school']}门口",
                    f"{self['road']}与{r.choice(CITY_ROADS)}交叉口",
                ))
            return r.choice((
                f"{r.randint(1, 12)}组", "村口", "村委会旁边", "祠堂附近", "晒谷场", "大榕树下", f"{self['school']}门口",
                "鱼塘边", "后山脚下", f"{self['sur']}屋队", "新村点", f"{r.randint(1, 12)}队",
            ))
        if key == "where":
            if r.random() < 0.2:
                return self["spot"] if r.random() < 0.5 else self["v"]
            return self["v"] + self["spot"]
        raise KeyError(key)

    def fill(self, text: str) -> str:
        return text.format_map(self)


class ReportGenerator:
    """Endless, seeded stream of :class:`SimulatedReport`.

    ``clock`` gives "now" for the device times (tests pass a fixed one);
    with ``networks=False`` every report comes from the mobile form.
    """

    def __init__(
        self,
        seed: int | None = None,
        *,
        registry: Registry | None = None,
        clock: Callable[[], datetime] | None = None,
        networks: bool = True,
    ) -> None:
        self.rng = random.Random(seed)
        self.registry = registry or load_registry()
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.networks = networks
        self._scenarios = SCENARIOS
        self._weights = [s.weight for s in SCENARIOS]
        urban = {t.code for t in self.registry.towns if t.kind == "街道"}
        grids = self.registry.grids
        self._grids = {
            "any": grids,
            "urban": [g for g in grids if g.town_code in urban] or grids,
            "rural": [g for g in grids if g.town_code not in urban] or grids,
        }
        self._urban_towns = urban
        # One grid worker per town, each with a phone of his own.
        self.worker_phones = {t.code: self._phone() for t in self.registry.towns}

    # -- the stream ------------------------------------------------------------------
    def __iter__(self) -> Iterator[SimulatedReport]:
        while True:
            yield self.next()

    def take(self, n: int) -> list[SimulatedReport]:
        return [self.next() for _ in range(n)]

    def next(self) -> SimulatedReport:
        r = self.rng
        scenario = r.choices(self._scenarios, weights=self._weights)[0]
        severity = self._pick(scenario.severity)
        grid = r.choice(self._grids[scenario.where])
        urban = grid.town_code in self._urban_towns
        source = SourceNetwork.MOBILE
        if self.networks and r.random() < NETWORK_SHARE:
            source = r.choice(NETWORKS[scenario.category])
        style = "hotline" if source is SourceNetwork.HOTLINE else r.choices(STYLES, weights=STYLE_WEIGHTS)[0]
        if source not in (SourceNetwork.MOBILE, SourceNetwork.HOTLINE):
            style = "formal"  # the former networks' forms are filled in by staff
        slots = _Slots(r, grid, urban, style)
        # small stand-ins for a phone's JPEGs: the driver uploads them and cites the ids the intake gives
        photos = tuple(
            JPEG_MAGIC + r.randbytes(PHOTO_BYTES) for _ in range(r.choices((0, 1, 2, 3), weights=(30, 35, 22, 13))[0])
        )
        description = self._description(scenario, severity, style, source, slots, bool(photos))
        title = self._title(scenario, severity, style, slots, description)

        body: dict[str, Any] = {
            "report_id": str(uuid.UUID(int=r.getrandbits(128), version=4)),
            "source": source.value,
            "title": title,
            "description": description,
            "reporter_phone": self._reporter_phone(source, grid.town_code),
            "occurred_at": self._occurred_at(severity),
            "photo_ids": [],
        }
        hint = self._category_hint(scenario.category, source)
        if hint is not None:
            body["category_hint"] = hint.value
        sev_hint = self._severity_hint(severity)
        if sev_hint is not None:
            body["severity_hint"] = sev_hint.value
        point_share = (1 - GRID_SHARE) * (2.0 if source is SourceNetwork.HOTLINE else 1.0)
        if r.random() < point_share:
            body["location"] = self._point(grid, hotline=source is SourceNetwork.HOTLINE)
        else:
            body["grid_id"] = grid.grid_id
        return SimulatedReport(
            body=body,
            category=scenario.category,
            sub=scenario.sub,
            severity=severity,
            grid_id=grid.grid_id,
            town=grid.town_code,
            style=style,
            photos=photos,
        )

    # -- parts -----------------------------------------------------------------------
    def _pick(self, weighted: tuple[tuple[Any, float], ...]) -> Any:
        return self.rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]

    def _since(self, table: tuple[str, ...]) -> str:
        return self.rng.choice(table).replace("{d}", str(self.rng.randint(2, 9)))

    def _ask(self, scenario: Scenario, generic: tuple[str, ...]) -> str:
        r = self.rng
        if scenario.asks and r.random() < 0.6:
            return r.choice(scenario.asks)
        return r.choice(generic)

    def _description(
        self, sc: Scenario, severity: Severity, style: str, source: SourceNetwork, slots: _Slots, photos: bool
    ) -> str:
        r = self.rng
        fact = slots.fill(r.choice(sc.facts))
        detail = slots.fill(r.choice(sc.details)) if sc.details else ""
        urgent = severity is Severity.P1
        if style == "formal":
            opener = r.choice(OPENERS_NETWORK.get(source, OPENERS_FORMAL))
            first = f"{opener}，{fact}"
            if urgent:
                first += "，" + self._since(SINCE_URGENT)
            elif r.random() < 0.6:
                first += "，" + self._since(SINCE_FORMAL)
            parts = [first]
            if detail and r.random() < 0.6:
                parts.append(detail)
            if photos and r.random() < 0.3:
                parts.append(r.choice(PHOTO_NOTES))
            if r.random() < 0.75 or urgent:
                parts.append(slots.fill(self._ask(sc, ASKS_FORMAL)))
            text = "。".join(parts) + "。"
        elif style == "colloquial":
            bits = [fact]
            if urgent:
                bits.append(self._since(SINCE_URGENT))
            elif r.random() < 0.55:
                bits.append(self._since(SINCE_COLLOQUIAL))
            if detail and r.random() < 0.5:
                bits.append(detail)
            if r.random() < 0.6 or urgent:
                bits.append(slots.fill(self._ask(sc, ASKS_COLLOQUIAL)))
            comma = r.choice(("，", "，", "，", ",", " "))
            text = r.choice(GREETINGS) + comma.join(bits) + r.choice(ENDINGS_COLLOQUIAL)
            if urgent:
                text = text.rstrip("。…") + r.choice(("！", "！！", "!!!"))
        elif style == "terse":
            where = slots["where"]
            label = r.choice(sc.labels)
            since = self._since(SINCE_URGENT if urgent else SINCE_TERSE)
            ask = r.choice(ASKS_TERSE) if not urgent else r.choice(("速派人", "急！", "请立即处置"))
            if r.random() < 0.5:
                text = " ".join(x for x in (where, label, since, ask) if x)
            else:  # the fact itself, without punctuation
                text = " ".join(x for x in (fact.replace("，", " "), since, ask) if x)
        else:  # hotline: the operator's summary of a citizen's call
            opener = r.choice(HOTLINE_OPENERS)
            since = self._since(SINCE_URGENT if urgent else SINCE_FORMAL)
            parts = [f"{opener}{fact}，{since}"]
            if detail and r.random() < 0.5:
                parts.append(detail)
            parts.append(r.choice(HOTLINE_TAILS))
            text = "。".join(parts) + "。"
            if r.random() < 0.15:
                text += "（来电人不愿透露姓名）"
        typo_rate = {"formal": 0.04, "colloquial": 0.25, "terse": 0.3}.get(style, 0.0)
        if r.random() < typo_rate:
            text = self._typo(text)
        return text

    def _typo(self, text: str) -> str:
        present = [(a, b) for a, b in TYPOS if a in text]
        if not present:
            return text
        a, b = self.rng.choice(present)
        return text.replace(a, b, 1)

    def _title(self, sc: Scenario, severity: Severity, style: str, slots: _Slots, description: str) -> str:
        r = self.rng
        label = r.choice(sc.labels)
        if style == "formal":
            title = r.choice((f"{slots['v']}{label}", f"关于{slots['v']}{label}的情况", f"{label}问题", f"{slots['where']}{label}"))
        elif style == "colloquial":
            title = r.choice((f"{slots['vs']}{label}", label, f"{slots['spot']}{label}", description[:12]))
        elif style == "terse":
            title = r.choice((label, f"{slots['vs']}{label}", f"{label}！"))
        else:
            title = r.choice((f"12345转办：{label}", f"{slots['v']}{label}", f"市民反映{label}"))
        if severity is Severity.P1 and r.random() < 0.6:
            title = r.choice(URGENT_MARKS) + title
        title = title.strip()
        return title[:100] if len(title) >= 2 else label

    def _phone(self) -> str:
        r = self.rng
        return r.choice(MOBILE_PREFIXES) + "".join(str(r.randint(0, 9)) for _ in range(8))

    def _reporter_phone(self, source: SourceNetwork, town: str) -> str:
        if source is SourceNetwork.MOBILE and self.rng.random() < 0.65:
            return self.worker_phones[town]  # the worker's own phone; else the resident's
        return self._phone()

    def _occurred_at(self, severity: Severity) -> str:
        r = self.rng
        if severity is Severity.P1:
            minutes = r.uniform(2, 30)
        else:
            minutes = r.choices(
                (r.uniform(3, 60), r.uniform(60, 360), r.uniform(360, 1440)), weights=(55, 35, 10)
            )[0]
        at = self.clock() - timedelta(minutes=minutes)
        return at.astimezone(DEVICE_TZ).replace(microsecond=0).isoformat()

    def _category_hint(self, category: Category, source: SourceNetwork) -> Category | None:
        r = self.rng
        if source is SourceNetwork.HOTLINE:
            missing, wrong = 0.4, 0.05
        elif source is SourceNetwork.MOBILE:
            missing, wrong = HINT_MISSING, HINT_WRONG
        else:  # a former network's own category code, mapped by its adapter
            missing, wrong = 0.05, 0.02
        x = r.random()
        if x < missing:
            return None
        if x < missing + wrong:
            return r.choice(CONFUSED_WITH[category])
        return category

    def _severity_hint(self, severity: Severity) -> Severity | None:
        r = self.rng
        if r.random() >= (0.7 if severity is Severity.P1 else SEVERITY_HINT):
            return None
        if r.random() < 0.8:
            return severity
        levels = list(Severity)
        i = levels.index(severity)
        # Reporters overstate more often than they understate.
        step = -1 if (r.random() < 0.7 and i > 0) or i == len(levels) - 1 else 1
        return levels[i + step]

    def _point(self, grid: Grid, *, hotline: bool) -> dict[str, Any]:
        """A random point inside ``grid``, in WGS-84 (a phone's GPS) or GCJ-02 (a Chinese map picker)."""
        r = self.rng
        datum = GCJ02 if hotline or r.random() < 0.4 else WGS84
        west, south, east, north = grid.bbox
        for _ in range(1000):
            lon, lat = r.uniform(west, east), r.uniform(south, north)
            if not grid.contains(lat, lon):
                continue
            w_lat, w_lon = to_wgs84(lat, lon, self.registry.datum)
            out_lat, out_lon = wgs84_to_gcj02(w_lat, w_lon) if datum == GCJ02 else (w_lat, w_lon)
            out_lat, out_lon = round(out_lat, 6), round(out_lon, 6)
            # Rounded to what a phone reports, it must still fall in this grid.
            if self.registry.locate(out_lat, out_lon, datum) == grid:
                return {"lat": out_lat, "lon": out_lon, "datum": datum}
        lat, lon = grid.centroid  # a very thin grid: its centroid (tested to be inside)
        w_lat, w_lon = to_wgs84(lat, lon, self.registry.datum)
        return {"lat": round(w_lat, 6), "lon": round(w_lon, 6), "datum": WGS84}


def generate(n: int, seed: int | None = None, **kwargs: Any) -> list[SimulatedReport]:
    """``n`` reports from a fresh generator (see :class:`ReportGenerator` for ``kwargs``)."""
    return ReportGenerator(seed, **kwargs).take(n)
