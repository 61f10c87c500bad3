"""The five former grid networks (多网合一): their own event formats, their mapping tables, and the adapters.

gridflow takes events from each network as the network writes them — its
field names, event ids, grid codes, category codes, time format and datum
— and adapts them into the unified :class:`schemas.report.Report`:

==================  ==============================================================
``adapt.py``        the entry point: ``adapt(network, payload, maps) -> Adapted``
``comprehensive``…  one module per network: its :class:`~producers.networks.format.Format`
``format.py``       what a format declares, and the rules every network shares
``fields.py``       one event's values, read alike from JSON (typed) and CSV (strings)
``times.py``        the networks' time formats; ``points.py`` their coordinate fields
``maps.py``         the tables ``data/<network>.yaml`` (grid and category codes), validated
``errors.py``       ``AdapterError``: the network's field and a Chinese message
``tools/``          ``make_maps`` writes the tables' ``grids`` sections from the registry
==================  ==============================================================

The inverse (a network's payload for a unified grid, category and time) is
``producers.simulate.networks.payload_for``, for the demo and the tests.
"""

from producers.networks.adapt import (
    Adapted,
    AdapterError,
    adapt,
    load_maps,
    report_id_for,
)
from producers.networks.maps import NetworkMaps

__all__ = ["Adapted", "AdapterError", "NetworkMaps", "adapt", "load_maps", "report_id_for"]
