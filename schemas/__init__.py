"""One definition of each record that crosses a boundary.

Each record is a pydantic model. From it follow:

* the wire validation: ``Model.model_json_schema()`` (JSON Schema, also served
  in ``/openapi.json``);
* the Faust record: the model itself travels on its topic through
  :class:`schemas.codec.ModelCodec`, so agents receive the model instance;
* the ClickHouse table: :func:`schemas.clickhouse.columns` derives the column
  list that the hand-written migrations must match (a test checks it).

Fields marked :func:`schemas.pii.personal` hold personal information
(个人信息); only their masked form reaches alerts, ClickHouse and logs.
"""
