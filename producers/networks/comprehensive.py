"""综治网格 (``comprehensive``): the 综治中心's older grid system, its grid workers' field reports.

Pinyin-abbreviated fields, as the system's database names them::

    {"sjbh": "ZZ202611250007",          事件编号 (the event id)
     "wgbm": "451002101203",            网格编码: 12 digits, 区划 451002 + 乡镇 101 + 村 2 + 网格 03
     "sjlx": "MD04",                    事件类型: domain letters + number (MD 矛盾纠纷, ZA 治安, AQ 安全…)
     "sjbt": "石门村两户因工钱起争执",  事件标题
     "sjms": "…",                       事件描述
     "fssj": "2026-11-25 08:40:00",     发生时间, Beijing time without an offset
     "jd": 108.2912, "wd": 22.7563,     经度/纬度 from the worker's phone GPS: WGS-84
     "sbr": "韦建国", "sbrdh": "13877001234",   上报人 and his phone (the call-back number)
     "sjly": "网格员上报"}              事件来源 (not used)
"""

from __future__ import annotations

from producers.networks.format import Format
from producers.networks.points import LonLat
from producers.networks.times import LOCAL_SECONDS
from schemas.vocabulary import Datum, SourceNetwork

FORMAT = Format(
    network=SourceNetwork.COMPREHENSIVE,
    name="综治网格",
    event_id="sjbh",
    time="fssj",
    clock=LOCAL_SECONDS,
    text="sjms",
    title="sjbt",
    grid="wgbm",
    category=("sjlx",),
    place=LonLat(lon="jd", lat="wd", datum=Datum.WGS84),
    phone="sbrdh",
    constants={"sjly": "网格员上报"},
)
