"""Report sets with known truth for the merge (一事多报): which reports are one incident.

    >>> reports = generate(seed=1, n_reports=50)
    >>> len(reports), reports == generate(seed=1, n_reports=50)
    (50, True)

Each :class:`GeneratedReport` says which incident it is (``incident_id``, the
truth), what the merge sees of it (the :class:`routing.merging.Incident`
fields: network, classification, WGS-84 point or grid, ``occurred_at``,
text), when it arrives (``received_at``: the order the pipeline sees), who
sent it, and when its incident's case is closed (``case_closes_at``), so an
evaluation can drop closed cases the way the pipeline would.

Written apart from the merge: nothing here reads ``merge.yaml``. Whether two
reports are one incident is decided by what happened — one pothole, one fight
— and each network describes and classifies it in its own way: a grid
worker's plain report, a 城管 inspector's terse "井盖缺失，已拍照" with a
GCJ-02 point, a 12345 call-taker's summary with a geocoded point tens of
metres off or only a grid, an officer's wording for emergency and
environment, the 综治 network's nightly export (days late, grid codes).

Besides plain incidents the set holds the hard cases (``story``): the same
problem 300–900 m away at the same time (``far_twin``, a different incident);
a transient event at the same spot on another day (``again_other_day``,
different); a different problem at the same spot and hour
(``other_problem``, different); follow-ups days later of a persistent
problem while its case is open (``follow_up``, same); the same persistent
problem after its case was closed (``after_close``, different).
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from district import Grid, Registry, gcj02_to_wgs84, load_registry, wgs84_to_gcj02
from producers.simulate.texts import (
    CITY_ROADS,
    DEVICE_TZ,
    ESTATE_HEADS,
    ESTATE_TAILS,
    MOBILE_PREFIXES,
    RURAL_ROADS,
)
from routing.merging import Incident
from schemas.vocabulary import SourceNetwork as N

START: Final = datetime(2026, 11, 2, tzinfo=DEVICE_TZ)  # a Monday
REPORTS_PER_DAY: Final = 40  # the horizon grows with the set, so density stays about the same
_M_PER_DEG: Final = 111_195.0

# Shares of primary incidents that get a hard-case sibling.
FAR_TWIN: Final = 0.08
AGAIN_OTHER_DAY: Final = 0.12  # of transient ones
OTHER_PROBLEM: Final = 0.08
AFTER_CLOSE: Final = 0.15  # of persistent ones whose case closes
FOLLOW_UP: Final = 0.35  # of persistent ones: 1–2 reports days later


@dataclass(frozen=True)
class Variant:
    """One thing a problem can be (a missing cover, a loose one), in each network's words."""

    labels: tuple[str, ...]  # terse nouns: titles, an inspector's report
    facts: tuple[str, ...]  # a grid worker's sentence
    calls: tuple[str, ...]  # what a caller says
    formal: tuple[str, ...]  # an officer's sentence


@dataclass(frozen=True)
class Problem:
    """One kind of incident: how it is classified, who reports it, what it can be, when it happens."""

    key: str
    persistent: bool
    classes: tuple[tuple[str, str], ...]  # (category, subcategory): the usual classification first, then others
    networks: tuple[N, ...]  # who reports it, likelier first
    variants: tuple[Variant, ...]
    minutes: int = 0  # how long a transient event lasts
    hours: tuple[int, int] = (7, 20)  # when it starts (local hour range)


def P(key: str, persistent: bool, classes: str, networks: tuple[N, ...], *variants: str, minutes: int = 0,
      hours: tuple[int, int] = (7, 20)) -> Problem:
    """A problem from compact text: classes ``CAT/sub|CAT/sub``; each variant ``labels; facts; calls[; formal]``
    with ``/`` between wordings (one line per variant keeps the table readable)."""
    pairs = tuple((c.partition("/")[0], c.partition("/")[2]) for c in classes.split("|"))
    parsed = []
    for text in variants:
        parts = [tuple(w.strip() for w in part.split("/")) for part in text.split(";")]
        labels, facts, calls = parts[:3]
        parsed.append(Variant(labels, facts, calls, parts[3] if len(parts) > 3 else facts))
    return Problem(key, persistent, pairs, networks, tuple(parsed), minutes, hours)


PROBLEMS: Final[tuple[Problem, ...]] = (
    P("manhole", True, "URBAN/manhole_cover|URBAN/road_damage|TRAFFIC/traffic_hazard", (N.URBAN, N.MOBILE, N.HOTLINE),
      "井盖缺失/井盖丢失; 人行道上有个井盖不见了，只剩一个黑洞/井盖被盗，留下一个洞; 路上的井盖没了，晚上走路很危险/有个井盖被人偷了，怕小孩掉下去",
      "井盖破损/雨水井盖破损; 路边雨水井盖破了个大口子/雨水箅子碎了; 路边井盖烂了一个大口子，车压过去很危险",
      "井盖松动/窨井盖松动; 污水井盖松动，车一压就响/井盖不平，翘起来了; 路上井盖松了，车一过就哐哐响"),
    P("pothole", True, "URBAN/road_damage|TRAFFIC/broken_traffic_facility|TRAFFIC/traffic_hazard",
      (N.URBAN, N.HOTLINE, N.MOBILE),
      "路面坑洼/道路破损; 路面有一个大坑，下雨积水看不清/路面破损严重，坑坑洼洼; 路上有个大坑，好几个人骑车摔了/马路烂了一个大洞",
      "路面塌陷/道路塌陷; 道路塌了一块，电动车容易摔/路面下沉开裂; 马路塌下去一块，车子过不去/路面陷下去了"),
    P("streetlight", True, "URBAN/street_light", (N.MOBILE, N.URBAN, N.HOTLINE),
      "路灯不亮/路灯故障; 一排路灯晚上都不亮/路灯坏了好几盏，晚上黑漆漆的; 晚上路灯不亮，走夜路害怕/路灯坏了很久，一到晚上就一片黑",
      "路灯杆倾斜/路灯杆损坏; 路灯杆被撞歪了，随时会倒/灯杆底座松动倾斜; 路灯杆歪了，怕砸到人"),
    P("building", True, "URBAN/illegal_building|SAFETY/construction_site", (N.MOBILE, N.URBAN, N.COMPREHENSIVE, N.HOTLINE),
      "楼顶加盖/违章搭建; 有住户在楼顶加盖彩钢板房/楼顶正在违规加建一层; 邻居在楼顶搞违建，挡住了采光/楼顶有人加盖房子",
      "私搭乱建/违建铁皮棚; 有人私自搭建铁皮棚，占了公共通道/空地上搭了个铁皮棚; 有人晚上偷偷搭棚子/门口被人搭了个棚子"),
    P("sewage", True, "ENVIRONMENT/sewage", (N.ENVIRONMENT, N.MOBILE, N.HOTLINE),
      "污水直排/排污口偷排; 有个排污口往河里直排黑水，臭味很重/管道把生活污水直接排进河里; 河边有个管子一直排臭水，熏得人受不了/河里的水又黑又臭;"
      " 发现一处排污口向河道直排污水，水体发黑发臭/排水口有污水直排，现场已取样",
      "污水外溢/化粪池外溢; 化粪池满了，污水溢到路上/污水从检查井冒出来; 路上一直冒粪水，臭死了/化粪池漏了，到处是污水;"
      " 化粪池污水外溢，流入周边道路"),
    P("garbage", True, "URBAN/garbage|ENVIRONMENT/solid_waste", (N.MOBILE, N.URBAN, N.HOTLINE, N.ENVIRONMENT),
      "垃圾堆积/垃圾未清运; 垃圾堆了好几天没人清运，苍蝇很多/垃圾桶满了溢出来; 垃圾好几天没人拉走，臭得很/垃圾堆成山了;"
      " 现场有生活垃圾大量堆积未清运",
      "乱倒建筑垃圾/建筑垃圾倾倒; 路边有人乱倒建筑垃圾/空地上倒了一大堆装修垃圾; 有人把装修垃圾倒在路边/有车半夜来倒渣土;"
      " 发现建筑垃圾违规倾倒"),
    P("signal", True, "TRAFFIC/broken_traffic_facility|URBAN/road_damage", (N.HOTLINE, N.MOBILE, N.URBAN),
      "红绿灯故障/信号灯不亮; 路口红绿灯不亮了，车辆乱行/信号灯一直黄闪; 红绿灯坏了，过马路很危险/路口的灯不亮了",
      "护栏损坏/隔离护栏倒伏; 道路护栏被撞坏了一段/中间隔离栏倒了一排; 护栏被撞断了没人修/路中间的栏杆倒了"),
    P("charging", True, "SAFETY/ebike_charging|SAFETY/fire_hazard", (N.EMERGENCY, N.MOBILE, N.HOTLINE),
      "楼道充电/电动车违规充电; 有住户在楼道里给电动车充电/楼梯间停满电动车，还在充电; 楼道里天天有人充电动车，怕着火;"
      " 检查发现楼道内有电动车违规充电，存在火灾隐患",
      "飞线充电/私拉电线充电; 电线从楼上拉下来给电动车充电/有人从窗口飞线充电; 楼下有人拉电线给电瓶车充电，太危险了;"
      " 发现飞线充电，电线横跨通道"),
    P("landslide", True, "DISASTER/landslide", (N.EMERGENCY, N.MOBILE, N.HOTLINE),
      "山体滑坡/塌方; 后山下雨后塌方，泥土冲到路上/路边边坡滑下来一大片土石; 山上的土垮下来了，路都堵了/下雨后后山塌了一块;"
      " 边坡出现滑塌，已设置警示/山体局部滑坡，土方堆积占道"),
    P("noise", False, "ENVIRONMENT/noise|DISPUTE/neighbours", (N.HOTLINE, N.MOBILE, N.ENVIRONMENT),
      "夜间施工噪音/施工噪声扰民; 晚上有工地连夜施工，噪音很大/工地半夜还在打桩; 半夜还在施工，吵得小孩没法睡觉/工地晚上太吵了睡不着;"
      " 夜间施工噪声超标",
      "夜宵摊喧哗/酒吧噪音; 夜宵摊到凌晨还在大声喧哗/楼下酒吧音响开得很大; 楼下太吵了睡不着/酒吧音乐声太大，吵到半夜;"
      " 经营场所夜间噪声扰民",
      minutes=180, hours=(21, 24)),
    P("fight", False, "SECURITY/fight_brawl|DISPUTE/neighbours", (N.MOBILE, N.HOTLINE, N.COMPREHENSIVE),
      "打架斗殴/聚众斗殴; 有几个人在打架，有人受伤了/两伙人发生冲突，互相推搡; 有人在打架，还拿了棍子/一群人打起来了，快来人",
      minutes=40, hours=(12, 24)),
    P("gathering", False, "PETITION/collective_incident|DISPUTE/wages", (N.COMPREHENSIVE, N.MOBILE, N.HOTLINE),
      "讨薪聚集/人员聚集; 有二三十名工人聚集讨要工资，情绪激动/工人围堵项目部要工钱; 一大群人堵在门口要工资/很多工人围在那里闹",
      "群众聚集/村民聚集; 村民聚集在工地门口，阻止施工/几十个村民围在村委会门口; 很多村民围在那里，不让施工/村里好多人聚在一起",
      minutes=180, hours=(8, 17)),
    P("vending", False, "URBAN/street_vending|FOOD_DRUG/unlicensed_food", (N.URBAN, N.MOBILE, N.HOTLINE),
      "占道经营/流动摊贩; 流动摊贩摆摊卖水果，把人行道占了/三轮车卖菜堵了半边路; 路边摆摊的太多，人都走不过去/小贩把路占了",
      "店外经营/夜宵摊占道; 夜宵摊把桌椅摆到人行道上/饭店把桌子摆到了路上; 烧烤摊把人行道占满了/店家把桌子摆到马路上",
      minutes=240, hours=(17, 22)),
    P("accident", False, "TRAFFIC/road_accident|DISASTER/sudden_accident", (N.HOTLINE, N.MOBILE, N.EMERGENCY),
      "交通事故/车辆相撞; 两辆车相撞，堵住了路口/电动车和小车撞了，有人受伤; 路口撞车了，有人躺在地上/两台车撞在一起了;"
      " 发生一起交通事故，车辆受损，道路拥堵",
      "货车侧翻/车辆侧翻; 一辆货车侧翻在路边/拉货的车翻了，货撒了一地; 有辆大车翻了/货车翻在路上了; 发生一起货车侧翻事故",
      minutes=30, hours=(6, 23)),
    P("gas", False, "SAFETY/gas|DISASTER/sudden_accident|SAFETY/hazardous_chemicals", (N.EMERGENCY, N.HOTLINE, N.MOBILE),
      "燃气泄漏/煤气味; 闻到很浓的煤气味，怀疑燃气管道泄漏/燃气管道漏气; 楼道里一股煤气味，很害怕/好像有煤气漏了;"
      " 燃气管道疑似泄漏，已疏散周边人员",
      minutes=60, hours=(6, 22)),
    P("flooding", False, "URBAN/waterlogging|DISASTER/flood", (N.URBAN, N.HOTLINE, N.MOBILE),
      "路面积水/积水内涝; 下大雨后路面积水到膝盖，车辆熄火/路面积水排不出去; 雨太大路上全是水，车都淹了/下雨水漫到路上了",
      "涵洞积水/桥洞积水; 涵洞积水很深，车过不去/桥洞下积水半米深; 桥洞下面全是水，车子熄火了/涵洞淹了",
      minutes=240, hours=(5, 20)),
)

MOBILE_OPENERS: Final = ("", "巡查发现", "今天巡查时发现", "网格巡查发现，", "接群众反映，", "走访中看到")
MOBILE_TAILS: Final = ("", "，请尽快处理", "，已拍照上传", "，请相关部门处置", "，麻烦派人看看", "，已做临时围挡")
HOTLINE_OPENERS: Final = ("来电人反映：", "市民来电称，", "群众来电反映，", "12345热线转办：来电人称", "来电人称：", "来电人表示，")
HOTLINE_TAILS: Final = ("，来电人要求尽快处理。", "，希望有关部门核实处理。", "。请相关单位按时办理并回复。", "，来电人要求回复。", "。")
OFFICER_OPENERS: Final = ("经现场检查，", "巡查中发现，", "经排查，", "执法检查发现，", "接举报后现场核查，")
OFFICER_TAILS: Final = ("，存在安全隐患，建议尽快整改。", "，已责令整改并拍照取证。", "，已现场设置警示，请相关部门处置。", "。")
COMPREHENSIVE_OPENERS: Final = ("综治网格员走访发现，", "综治网格上报：", "网格员报告：", "")
FOLLOW_UPS: Final = ("{p}{l}还没修好，", "上次反映的{p}{l}到现在还没人处理，", "{p}{l}问题仍未解决，再次反映，",
                     "{p}的{l}好几天了还是没弄好，", "still not fixed: {p}{l}，")
FOLLOW_TAILS: Final = ("请尽快处理。", "已经好几天了。", "希望尽快解决。", "")


@dataclass(frozen=True)
class GeneratedReport:
    """One report of a generated set, with its truth."""

    incident_id: uuid.UUID  # the truth: reports with one id are one incident
    report_id: uuid.UUID
    network: str
    category: str
    subcategory: str | None
    lat: float | None  # WGS-84, after the conversion from the network's datum
    lon: float | None
    grid_id: str | None
    occurred_at: datetime
    text: str
    received_at: datetime  # arrival: the order the pipeline sees the reports in
    case_closes_at: datetime | None  # the incident's case is closed then (None: open to the end of the set)
    reporter_id: str
    phone: str | None
    datum: str | None  # the datum the network sent the point in
    story: str  # plain, far_twin, again_other_day, other_problem, follow_up, after_close
    problem: str  # the generator's problem key

    def incident(self) -> Incident:
        """What the merge sees of this report."""
        return Incident(self.report_id, self.network, self.category, self.subcategory, self.lat, self.lon,
                        self.grid_id, self.occurred_at, self.text)

    def as_json(self) -> dict[str, Any]:
        """JSON-ready fields (uuids and times as strings), for hashing a set or feeding a demo."""
        def plain(value: object) -> object:
            return str(value) if isinstance(value, uuid.UUID) else value.isoformat() if isinstance(value, datetime) else value

        return {key: plain(value) for key, value in asdict(self).items()}


@dataclass
class _Plan:
    """An incident being generated."""

    incident_id: uuid.UUID
    problem: Problem
    grid: Grid
    lat: float
    lon: float
    places: tuple[str, ...]  # ways reporters name the spot
    short: str
    start: datetime
    story: str
    closes_at: datetime | None = None
    variant: Variant | None = None  # what it is (picked when the plan is made)


def generate(seed: int, n_reports: int, *, registry: Registry | None = None) -> list[GeneratedReport]:
    """``n_reports`` reports with known truth, in arrival order (``received_at``, then report id)."""
    return _Generator(random.Random(seed), registry or load_registry(), n_reports).run()


class _Generator:
    def __init__(self, rng: random.Random, registry: Registry, n_reports: int) -> None:
        self.rng, self.registry, self.n = rng, registry, n_reports
        self.days = max(7, round(n_reports / REPORTS_PER_DAY))
        streets = {t.code for t in registry.towns if t.kind == "街道"}
        self.grids = registry.grids
        self.weights = [2.0 if g.town_code in streets else 1.0 for g in self.grids]
        self.streets = streets
        self.worker_phones: dict[str, str] = {}

    def run(self) -> list[GeneratedReport]:
        out: list[GeneratedReport] = []
        while len(out) < self.n:
            plan = self._primary()
            out += self._reports(plan)
            out += self._siblings(plan)
        out = out[: self.n]
        return sorted(out, key=lambda r: (r.received_at, str(r.report_id)))

    # -- incidents -----------------------------------------------------------------------------
    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _primary(self) -> _Plan:
        r = self.rng
        problem = r.choice(PROBLEMS)
        grid = r.choices(self.grids, weights=self.weights)[0]
        lat, lon = self._inside(grid)
        day = START + timedelta(days=r.randrange(self.days))
        start = day + timedelta(hours=r.uniform(*problem.hours))
        places, short = self._places(grid)
        return _Plan(self._uuid(), problem, grid, lat, lon, places, short, start, "plain", variant=r.choice(problem.variants))

    def _siblings(self, plan: _Plan) -> list[GeneratedReport]:
        """The hard cases built next to ``plan``: each a different incident."""
        r, p, out = self.rng, plan.problem, []
        if r.random() < FAR_TWIN:
            lat, lon = self._away(plan.lat, plan.lon, r.uniform(300, 900))
            grid = self.registry.locate(lat, lon)
            if grid is not None:
                places, short = self._places(grid, road=plan.short if r.random() < 0.3 else None)
                variant = plan.variant if r.random() < 0.5 else r.choice(p.variants)
                twin = _Plan(self._uuid(), p, grid, lat, lon, places, short,
                             plan.start + timedelta(minutes=r.uniform(-60, 60)), "far_twin", variant=variant)
                out += self._reports(twin, most=3)
        if not p.persistent and r.random() < AGAIN_OTHER_DAY:
            later = plan.start + timedelta(days=r.randint(1, 3), minutes=r.uniform(-60, 60))
            out += self._reports(self._same_spot(plan, p, later, "again_other_day"), most=3)
        if r.random() < OTHER_PROBLEM:
            taken = set(p.classes)
            other = r.choice([q for q in PROBLEMS if not taken & set(q.classes)])
            out += self._reports(self._same_spot(plan, other, plan.start + timedelta(minutes=r.uniform(-30, 60)),
                                                 "other_problem"), most=2)
        if p.persistent and plan.closes_at is not None and r.random() < AFTER_CLOSE:
            again = plan.closes_at + timedelta(days=r.uniform(1, 5))
            out += self._reports(self._same_spot(plan, p, again, "after_close"), most=3)
        return out

    def _same_spot(self, plan: _Plan, problem: Problem, start: datetime, story: str) -> _Plan:
        lat, lon = self._away(plan.lat, plan.lon, self.rng.uniform(0, 8))
        variant = plan.variant if problem is plan.problem else self.rng.choice(problem.variants)  # the same bar again
        return _Plan(self._uuid(), problem, plan.grid, lat, lon, plan.places, plan.short, start, story,
                     variant=variant)

    # -- reports -------------------------------------------------------------------------------
    def _reports(self, plan: _Plan, most: int = 7) -> list[GeneratedReport]:
        r, p = self.rng, plan.problem
        count = min(most, r.choices((1, 2, 3, 4, 5, 6, 7), weights=(38, 25, 15, 9, 6, 4, 3))[0])
        stamps = []  # (occurred_at, network, follow-up?)
        for i in range(count):
            late = p.minutes if not p.persistent else r.choice((60, 240, 600))
            at = plan.start if i == 0 else plan.start + timedelta(minutes=r.uniform(0, late))
            stamps.append((at, r.choices(p.networks, weights=(5, 3, 2, 1)[: len(p.networks)])[0], False))
        if p.persistent:
            open_days = r.uniform(2, 9)
            if r.random() < FOLLOW_UP:
                for _ in range(r.randint(1, 2)):
                    at = plan.start + timedelta(days=r.uniform(1, open_days - 0.5))
                    stamps.append((at, r.choice((N.MOBILE, N.HOTLINE)), True))
            closes = None if r.random() < 0.2 else plan.start + timedelta(days=open_days)
        else:
            closes = plan.start + timedelta(hours=r.uniform(6, 72))
        reports = [self._report(plan, at, network, follow) for at, network, follow in stamps]
        if closes is not None:  # a case is closed after the last of its reports came in
            closes = max(closes, max(x.received_at for x in reports) + timedelta(hours=2))
        plan.closes_at = closes
        return [_with_close(x, closes) for x in reports]

    def _report(self, plan: _Plan, at: datetime, network: N, follow_up: bool) -> GeneratedReport:
        r, p = self.rng, plan.problem
        at = at.replace(microsecond=0)
        category, sub = p.classes[0]
        x = r.random()
        if x < 0.17 and len(p.classes) > 1:
            category, sub = r.choice(p.classes[1:])
        sub_or_none = None if x > 0.97 else sub
        lat, lon, grid_id, datum = self._where(plan, network)
        reporter, phone = self._reporter(network, plan.grid)
        text = self._follow_up(plan) if follow_up else self._text(plan, network, placed=lat is not None or grid_id is not None)
        return GeneratedReport(
            incident_id=plan.incident_id, report_id=self._uuid(), network=network.value, category=category,
            subcategory=sub_or_none, lat=lat, lon=lon, grid_id=grid_id, occurred_at=at, text=text,
            received_at=self._arrival(at, network), case_closes_at=None, reporter_id=reporter, phone=phone,
            datum=datum, story="follow_up" if follow_up else plan.story, problem=p.key,
        )

    def _arrival(self, at: datetime, network: N) -> datetime:
        r = self.rng
        if network is N.COMPREHENSIVE:  # the nightly export, sometimes days behind
            night = at.replace(hour=1, minute=0, second=0) + timedelta(days=1 if r.random() < 0.85 else r.randint(2, 3))
            return night + timedelta(minutes=r.randrange(40))
        lo, hi = {N.ENVIRONMENT: (30, 240), N.URBAN: (1, 15), N.EMERGENCY: (5, 40)}.get(network, (2, 40))
        return (at + timedelta(minutes=r.uniform(lo, hi))).replace(microsecond=0)

    def _where(self, plan: _Plan, network: N) -> tuple[float | None, float | None, str | None, str | None]:
        """The point the merge gets (WGS-84, rounded as a device sends it), its grid and the datum it came in."""
        r = self.rng
        point_share = {N.MOBILE: 0.85, N.URBAN: 0.95, N.HOTLINE: 0.55, N.COMPREHENSIVE: 0.35}.get(network, 0.8)
        x = r.random()
        if x >= point_share:
            nothing = network is N.HOTLINE and x > 0.98  # a caller who could not say where (2 %)
            return None, None, None if nothing else plan.grid.grid_id, None
        if network is N.HOTLINE:  # the call-taker's map picks the address it heard: tens of metres off, GCJ-02
            lat, lon = self._away(plan.lat, plan.lon, r.uniform(20, 80))
        else:
            lat, lon = self._away(plan.lat, plan.lon, r.uniform(0, 8 if network is N.URBAN else 15))
        datum = "GCJ-02" if network in (N.URBAN, N.HOTLINE) else "WGS-84"
        if datum == "GCJ-02":  # sent in GCJ-02 at a device's precision, converted back at intake
            g_lat, g_lon = wgs84_to_gcj02(lat, lon)
            lat, lon = gcj02_to_wgs84(round(g_lat, 6), round(g_lon, 6))
        lat, lon = round(lat, 6), round(lon, 6)
        grid = self.registry.locate(lat, lon)
        return lat, lon, grid.grid_id if grid else None, datum

    def _reporter(self, network: N, grid: Grid) -> tuple[str, str | None]:
        r = self.rng
        if network is N.MOBILE:
            phone = self.worker_phones.setdefault(grid.grid_id, self._phone())
            return f"GW-{grid.grid_id}", phone
        if network is N.HOTLINE:
            phone = self._phone()
            return f"12345:{phone[-4:]}", phone
        prefix = {N.URBAN: "CG", N.EMERGENCY: "YJ", N.ENVIRONMENT: "HB", N.COMPREHENSIVE: "ZZ"}[network]
        return f"{prefix}-{r.randint(1, 40):03d}", None

    def _phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    # -- words ---------------------------------------------------------------------------------
    def _words(self, plan: _Plan, part: str) -> str:
        """A wording of the incident's own variant (a bar's music, not a building site)."""
        variant = plan.variant or plan.problem.variants[0]
        return self.rng.choice(getattr(variant, part))

    def _text(self, plan: _Plan, network: N, placed: bool) -> str:
        r = self.rng
        label = self._words(plan, "labels")
        place = r.choices((r.choice(plan.places), plan.short, ""), weights=(60, 25, 15))[0] if placed else "具体位置说不清，"
        if network is N.URBAN:  # the inspector's terse 部件/事件 wording
            title = label
            body = r.choice((f"{label}，已拍照", f"{plan.short}{label}，已拍照上报", f"{label} 请处置",
                             f"发现{label}，位置见坐标", f"{plan.short} {label}"))
        elif network is N.HOTLINE:
            title = r.choice((f"12345转办：{label}", f"市民反映{label}", f"{plan.short if placed else ''}{label}"))
            body = r.choice(HOTLINE_OPENERS) + place + self._words(plan, "calls") + r.choice(HOTLINE_TAILS)
        elif network in (N.EMERGENCY, N.ENVIRONMENT):
            title = f"{plan.short}{label}"
            body = r.choice(OFFICER_OPENERS) + place + self._words(plan, "formal") + r.choice(OFFICER_TAILS)
        elif network is N.COMPREHENSIVE:
            title = f"{plan.grid.village_name}{label}"
            body = r.choice(COMPREHENSIVE_OPENERS) + place + self._words(plan, "facts") + "。"
        else:  # the grid worker's phone form
            title = r.choice((label, f"{plan.short}{label}", f"{plan.grid.village_name}{label}"))
            body = r.choice(MOBILE_OPENERS) + place + self._words(plan, "facts") + r.choice(MOBILE_TAILS)
        return f"{title} {body}"

    def _follow_up(self, plan: _Plan) -> str:
        r = self.rng
        label = self._words(plan, "labels")
        body = r.choice(FOLLOW_UPS).format(p=r.choice((plan.short, *plan.places)), l=label) + r.choice(FOLLOW_TAILS)
        return f"{label}还没处理 {body}"

    def _places(self, grid: Grid, road: str | None = None) -> tuple[tuple[str, ...], str]:
        """Two or three ways to name one spot, and its short name (a road or the village)."""
        r, v = self.rng, grid.village_name
        if grid.town_code in self.streets:
            road = road or r.choice(CITY_ROADS)
            estate = r.choice(ESTATE_HEADS) + r.choice(ESTATE_TAILS)
            cross = r.choice([c for c in CITY_ROADS if c != road])
            forms = (f"{road}{r.randint(1, 300)}号门前", f"{road}与{cross}交叉口", f"{estate}门口", f"{v}{road}公交站旁")
        else:
            road = road or f"{v}{r.choice(RURAL_ROADS)}"
            group = f"{r.randint(1, 12)}组"
            forms = (f"{v}{group}", f"{v}{group}{r.choice(('村口', '祠堂旁', '大榕树下', '晒谷场'))}", f"{road}边")
        return tuple(r.sample(forms, k=r.randint(2, len(forms) - 1))), road

    # -- space ---------------------------------------------------------------------------------
    def _inside(self, grid: Grid) -> tuple[float, float]:
        west, south, east, north = grid.bbox
        while True:
            lat, lon = self.rng.uniform(south, north), self.rng.uniform(west, east)
            if grid.contains(lat, lon):
                return lat, lon

    def _away(self, lat: float, lon: float, metres: float) -> tuple[float, float]:
        """A point ``metres`` from (lat, lon) in a random direction."""
        bearing = self.rng.uniform(0, 2 * math.pi)
        dlat = metres * math.cos(bearing) / _M_PER_DEG
        dlon = metres * math.sin(bearing) / (_M_PER_DEG * math.cos(math.radians(lat)))
        return lat + dlat, lon + dlon


def _with_close(report: GeneratedReport, closes: datetime | None) -> GeneratedReport:
    return replace(report, case_closes_at=closes)
