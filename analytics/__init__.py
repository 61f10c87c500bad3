"""Analytics over ClickHouse: the district's indicators (综合评价) and their reports."""
