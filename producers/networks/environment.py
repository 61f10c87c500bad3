"""环保网格 (``environment``): 生态环境分局's pollution and ecology reports from its 三级网格.

Pinyin fields again, but its own; no title, and the point as one text
field, longitude first, from 天地图 in CGCS2000 — which differs from
WGS-84 by centimetres, so it is passed on as WGS-84::

    {"wtbh": "HB20261125-0042",        问题编号 (the event id)
     "wgdm": "XLZ-SM-03",              网格代码: 乡镇 (XLZ 西岭镇, DHJD 东湖街道) - 村 initials - 网格
     "wtlx": "W02",                    问题类型: W 水, A 大气, N 噪声, S 固废, E 生态 + number
     "wtms": "…",                      问题描述
     "fxsj": "2026/11/25 08:40",       发现时间, Beijing time to the minute (exports may drop zeros: 2026/1/5 8:40)
     "zb": "108.291200,22.756300",     坐标 "经度,纬度"
     "lxdh": "13977005678",            联系电话 (often a landline or empty)
     "xcry": "覃丽萍"}                 巡查人员 (not used)
"""

from __future__ import annotations

from producers.networks.format import Format
from producers.networks.points import JoinedLonLat
from producers.networks.times import SLASHED_MINUTES
from schemas.vocabulary import Datum, SourceNetwork

FORMAT = Format(
    network=SourceNetwork.ENVIRONMENT,
    name="环保网格",
    event_id="wtbh",
    time="fxsj",
    clock=SLASHED_MINUTES,
    text="wtms",
    grid="wgdm",
    category=("wtlx",),
    place=JoinedLonLat(field="zb", datum=Datum.WGS84),
    phone="lxdh",
)
