"""应急网格 (``emergency``): 应急管理局's hazards, disasters and accidents, in its officers' words.

A newer system with camelCase JSON; its type codes are five digits in the
style of GB/T 35561 (11xxx natural disasters, 12xxx accidents, 13xxx public
health) and its grids are numbered across the district::

    {"eventId": "YJ20261125-0031",     the event id
     "gridNo": "YJWG-0019",            应急网格号: a four-digit serial over the whole district
     "hazardType": "11401",            突发事件/隐患类型 (11401 滑坡, 12301 燃气泄漏…)
     "title": "岭头村后山出现裂缝",
     "content": "…",
     "occurTime": "2026-11-25T08:40:00+08:00",   ISO 8601 with its offset (Beijing time if none)
     "lng": 108.2615, "lat": 22.7702,  GPS: WGS-84
     "reporterName": "蒙志强", "reporterTel": "0771-5521234"}   a landline is no call-back phone
"""

from __future__ import annotations

from producers.networks.format import Format
from producers.networks.points import LonLat
from producers.networks.times import ISO_8601
from schemas.vocabulary import Datum, SourceNetwork

FORMAT = Format(
    network=SourceNetwork.EMERGENCY,
    name="应急网格",
    event_id="eventId",
    time="occurTime",
    clock=ISO_8601,
    text="content",
    title="title",
    grid="gridNo",
    category=("hazardType",),
    place=LonLat(lon="lng", lat="lat", datum=Datum.WGS84),
    phone="reporterTel",
)
