"""城管网格 (``urban``): 数字城管 cases, 部件 and 事件 in the style of CJ/T 214.

Upper-case fields, as the platform's case table has them; an inspector
(监督员) writes tersely and gives no title and no phone::

    {"TASK_NUM": "2611250042",          任务号 (the event id; a push may send it as a number)
     "CELL_CODE": "CG-XL-0203",         单元网格编码
     "CASE_TYPE": "部件",               部件 (a component: 0103 污水井盖, 0110 路灯…)
     "SUB_TYPE_CODE": "0103",           or 事件 (an event: 0201 暴露垃圾, 0402 占道经营…)
     "SUB_TYPE_NAME": "污水井盖",       the label beside the code (not read)
     "EVENT_DESC": "井盖缺失，有坑",    问题描述
     "ADDRESS": "石门路与岭头路交叉口东",  地址描述, appended to the description
     "DISCOVER_TIME": 1795567200000,    发现时间, epoch milliseconds (an export writes the digits)
     "COORD_X": 108.2961, "COORD_Y": 22.7535,   the platform's map: GCJ-02
     "SUPERVISOR_ID": "JDY-0312", "EVENT_SRC": "监督员上报"}   (not used)

A type code is unique only within its kind (部件 0101 上水井盖, 事件 0101 道路破损),
so the code looked up is the two joined: ``部件/0103``.
"""

from __future__ import annotations

from producers.networks.format import Format
from producers.networks.points import LonLat
from producers.networks.times import EPOCH_MS
from schemas.vocabulary import Datum, SourceNetwork

FORMAT = Format(
    network=SourceNetwork.URBAN,
    name="城管网格",
    event_id="TASK_NUM",
    time="DISCOVER_TIME",
    clock=EPOCH_MS,
    text="EVENT_DESC",
    grid="CELL_CODE",
    category=("CASE_TYPE", "SUB_TYPE_CODE"),
    category_name="SUB_TYPE_NAME",
    place=LonLat(lon="COORD_X", lat="COORD_Y", datum=Datum.GCJ02),
    address="ADDRESS",
    constants={"EVENT_SRC": "监督员上报"},
)
