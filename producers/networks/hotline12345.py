"""12345 热线 (``hotline12345``): the city platform's work orders, call-takers' summaries of citizens' calls.

snake_case fields from the platform's open API. The caller rarely knows a
grid: most orders give an address only, some a point the platform geocoded
on its (GCJ-02) map, a few the grid's name path::

    {"work_order_no": "GD2026112500123",     工单编号 (the event id)
     "call_time": "20261125084000",          来电时间, Beijing time, compact
     "appeal_type": "0302",                  诉求类型 code of the platform's tree
     "appeal_type_name": "城乡建设/市政设施/路灯",   its path (not read)
     "title": "石门村村口路灯不亮",          工单标题 (may be empty)
     "summary": "来电人反映：…",             the call-taker's summary
     "caller_phone": "13812341234",          来电号码 (a landline is no call-back phone)
     "caller_address": "西岭镇石门村村口",   来电人地址, appended to the description
     "area_path": "西岭镇/石门村/第三网格",  所属网格, usually empty
     "gcj_lng": 108.2961, "gcj_lat": 22.7535}   geocoded from the address, usually empty
"""

from __future__ import annotations

from producers.networks.format import Format
from producers.networks.points import LonLat
from producers.networks.times import COMPACT_SECONDS
from schemas.vocabulary import Datum, SourceNetwork

FORMAT = Format(
    network=SourceNetwork.HOTLINE,
    name="12345热线",
    event_id="work_order_no",
    time="call_time",
    clock=COMPACT_SECONDS,
    text="summary",
    title="title",
    grid="area_path",
    category=("appeal_type",),
    category_name="appeal_type_name",
    place=LonLat(lon="gcj_lng", lat="gcj_lat", datum=Datum.GCJ02),
    phone="caller_phone",
    address="caller_address",
    address_label="来电人地址",
)
